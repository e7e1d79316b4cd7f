/*
 * bulkclaims --wait's text (cli/progress.c): the ETA, the percentage,
 * the bar at every terminal width, and the line for a pipe.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "progress.h"
#include "tap.h"

/* 1 if s holds only printable ASCII (no \r, no ESC). */
static int
plain(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < ' ' || *s > '~')
			return 0;
	return 1;
}

static void
test_eta(void)
{
	char b[16];

	prog_eta(0, b, sizeof(b));
	ok(strcmp(b, "0:00") == 0, "eta 0: %s", b);
	prog_eta(65, b, sizeof(b));
	ok(strcmp(b, "1:05") == 0, "eta 65 s: %s", b);
	prog_eta(59.6, b, sizeof(b));
	ok(strcmp(b, "1:00") == 0, "eta rounds to the second: %s", b);
	prog_eta(3723, b, sizeof(b));
	ok(strcmp(b, "1:02:03") == 0, "eta over an hour: %s", b);
	prog_eta(1e12, b, sizeof(b));
	ok(strcmp(b, "99:59:59") == 0, "eta capped: %s", b);
	prog_eta(-1, b, sizeof(b));
	ok(strcmp(b, "--:--") == 0, "eta unknown: %s", b);
	prog_eta(NAN, b, sizeof(b));
	ok(strcmp(b, "--:--") == 0, "eta NaN: %s", b);
	prog_eta(INFINITY, b, sizeof(b));
	ok(strcmp(b, "--:--") == 0, "eta infinite: %s", b);
}

static void
test_percent(void)
{
	ok(prog_percent(0, 0) == 0, "0 of 0 rows");
	ok(prog_percent(0, 10) == 0, "0 of 10");
	ok(prog_percent(5, 10) == 50, "5 of 10");
	ok(prog_percent(999, 1000) == 99, "999 of 1000 floors to 99");
	ok(prog_percent(1000, 1000) == 100, "all done");
	ok(prog_percent(1001, 1000) == 100, "never over 100");
	ok(prog_percent(-3, 10) == 0, "never under 0");
	ok(prog_percent(199999, 200000) == 99, "the row limit floors");
}

static void
test_bar(void)
{
	struct prog p = { "PROCESSING", 1000, 450, 440, 10, 123.4, 5, 0 };
	char b[512];
	size_t n;
	int w, fits = 1, clean = 1, hasbar = 1;

	n = prog_bar(&p, 120, b, sizeof(b));
	ok(n == strlen(b) && n < 120, "bar at 120 columns: %zu", n);
	ok(b[0] == '[' && strstr(b, "#") != NULL && strstr(b, ".") != NULL,
	    "bar drawn: %s", b);
	ok(strstr(b, " 45%") != NULL, "percent: %s", b);
	ok(strstr(b, "450/1000 rows") != NULL, "rows: %s", b);
	ok(strstr(b, "123 rows/s") != NULL, "rate: %s", b);
	ok(strstr(b, "ETA 0:05") != NULL, "eta: %s", b);
	ok(strstr(b, "ok 440  failed 10") != NULL, "counts: %s", b);
	for (w = 1; w <= 300; w++) {
		n = prog_bar(&p, w, b, sizeof(b));
		if (n != strlen(b) || n > (size_t)(w < 21 ? 20 : w - 1))
			fits = 0;
		if (!plain(b))
			clean = 0;
		if (w >= 80 && b[0] != '[')
			hasbar = 0;
	}
	ok(fits, "every width: the frame stays within width - 1");
	ok(clean, "every width: printable ASCII only");
	ok(hasbar, "80 columns and more: a bar");
	n = prog_bar(&p, 80, b, sizeof(b));
	ok(strstr(b, "failed 10") != NULL, "80 columns keep the counts: %s",
	    b);
	n = prog_bar(&p, 40, b, sizeof(b));
	ok(strstr(b, "450/1000 rows") != NULL && n <= 39,
	    "40 columns keep the rows: %s", b);
	n = prog_bar(&p, 80, b, 16);
	ok(n == 15 && strlen(b) == 15, "a small buffer truncates");

	p.done = p.total = 1000;
	p.eta = 0;
	prog_bar(&p, 100, b, sizeof(b));
	ok(strstr(b, "100%") != NULL && strchr(b, '.') == NULL,
	    "complete: a full bar: %s", b);
	p.done = 0;
	p.rate = -1;
	p.eta = -1;
	prog_bar(&p, 100, b, sizeof(b));
	ok(strstr(b, "  0%") != NULL && strstr(b, "-- rows/s") != NULL &&
	    strstr(b, "ETA --:--") != NULL && strchr(b, '#') == NULL,
	    "nothing yet: unknown rate and eta: %s", b);
	p.waiting = 1;
	prog_bar(&p, 100, b, sizeof(b));
	ok(strstr(b, "payer paused") != NULL, "payer outage: %s", b);
}

static void
test_line(void)
{
	struct prog p = { "PROCESSING", 3, 1, 1, 0, 2, 1, 0 };
	char b[256];
	size_t n;

	n = prog_line("ab12", &p, b, sizeof(b));
	ok(n == strlen(b) && strcmp(b, "job ab12: PROCESSING 1/3 rows, "
	    "1 succeeded, 0 failed") == 0, "line: %s", b);
	p.waiting = 1;
	prog_line("ab12", &p, b, sizeof(b));
	ok(strstr(b, ", waiting for the payer") != NULL, "paused: %s", b);
	ok(plain(b), "line: printable ASCII only");
	n = prog_line("ab12", &p, b, 10);
	ok(n == 9 && strlen(b) == 9, "a small buffer truncates");
}

int
main(void)
{
	test_eta();
	test_percent();
	test_bar();
	test_line();
	return done_testing();
}
