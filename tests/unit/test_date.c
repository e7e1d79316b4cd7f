/*
 * Unit tests of lib/date.c: the forms people type into a CSV, the fixed
 * forms payers send, two-digit years, leap years and formatting.
 */
#include <string.h>
#include <time.h>

#include "date.h"
#include "tap.h"

#define TODAY	20261128L

/* date_parse() of a C string; -1 or the YYYYMMDD. */
static long
p(const char *s)
{
	long ymd;

	if (date_parse(s, strlen(s), TODAY, &ymd) == -1)
		return -1;
	return ymd;
}

/* date_parse_exact(); -1 or the YYYYMMDD. */
static long
px(const char *s)
{
	long ymd;

	if (date_parse_exact(s, &ymd) == -1)
		return -1;
	return ymd;
}

static void
test_parse(void)
{
	long ymd = 42;

	ok(p("1980-01-15") == 19800115, "YYYY-MM-DD");
	ok(p("01/15/1980") == 19800115, "MM/DD/YYYY");
	ok(p("1/5/1980") == 19800105, "M/D/YYYY");
	ok(p("1-5-1980") == 19800105 && p("1980/01/15") == 19800115,
	    "either separator");
	ok(p("1980-1-5") == 19800105, "ISO with one-digit fields");
	ok(p("1/15/1980 0:00") == 19800115 &&
	    p("1980-01-15 00:00:00") == 19800115 &&
	    p("1/15/1980   00:00") == 19800115, "Excel midnight times");
	ok(p("1/15/1980 0:01") == -1 && p("1/15/1980 12:00") == -1 &&
	    p("1/15/1980 0") == -1 && p("1/15/1980 ") == -1 &&
	    p("1/15/1980 0:00:0") == -1, "other times refused");
	ok(p("1980-01/15") == -1, "mixed separators refused");
	ok(p("01/15/80") == 19800115, "two-digit year: 80 is 1980");
	ok(p("11/28/26") == 20261128, "two-digit year: today is this century");
	ok(p("11/29/26") == 19261129, "two-digit year: tomorrow is 1926");
	ok(p("02/29/28") == 19280229, "two-digit leap day, a century back");
	ok(p("02/29/27") == -1, "two-digit non-leap Feb 29 refused");
	ok(p("1980-15-01") == -1, "month 15 refused");
	ok(p("02/30/2024") == -1 && p("04/31/2024") == -1, "day past month");
	ok(p("2024-02-29") == 20240229 && p("2023-02-29") == -1 &&
	    p("1900-02-29") == -1 && p("2000-02-29") == 20000229,
	    "leap years (by 4, not 100, but 400)");
	ok(p("12/31/9999") == 99991231, "the parser has no year cap");
	ok(p("0000-01-01") == -1 && p("00/01/1980") == -1 &&
	    p("01/00/1980") == -1, "zero fields refused");
	ok(p("") == -1 && p("1980") == -1 && p("1980-01") == -1 &&
	    p("1980-01-") == -1 && p("-01-15") == -1, "incomplete refused");
	ok(p("19800115") == -1 && p("1980-001-15") == -1 &&
	    p("01/15/19800") == -1 && p("01/15/198") == -1 &&
	    p("1980-01-015") == -1, "wrong widths refused");
	ok(p("Jan 15 1980") == -1 && p("1980-01-15x") == -1 &&
	    p("+1/15/1980") == -1, "words and signs refused");
	ok(date_parse("1980-01-15junk", 10, TODAY, &ymd) == 0 &&
	    ymd == 19800115, "reads only n bytes");
}

static void
test_exact(void)
{
	ok(px("1980-01-15") == 19800115, "exact: YYYY-MM-DD");
	ok(px("01/15/1980") == 19800115, "exact: MM/DD/YYYY");
	ok(px("19800115") == 19800115, "exact: YYYYMMDD (X12 D8)");
	ok(px("1980-1-15") == -1 && px("1/15/1980") == -1 &&
	    px("800115") == -1, "exact: short fields refused");
	ok(px("1980/01/15") == -1 && px("01-15-1980") == -1,
	    "exact: other separators refused");
	ok(px("2024-02-29") == 20240229 && px("2023-02-29") == -1,
	    "exact: leap day");
	ok(px("1850-01-01") == 18500101 && px("2200-12-31") == 22001231,
	    "exact: 1850 and 2200 accepted");
	ok(px("1849-12-31") == -1 && px("2201-01-01") == -1 &&
	    px("0001-01-01") == -1 && px("9999-12-31") == -1,
	    "exact: placeholders and far years refused");
	ok(px("1980-0a-15") == -1 && px("1980-01-1 ") == -1 &&
	    px("+980-01-15") == -1, "exact: non-digits refused");
	ok(px(NULL) == -1 && px("") == -1, "exact: NULL and empty");
}

static void
test_format(void)
{
	char d[DATE_STR_SIZE];

	date_fmt_iso(19800105, d);
	ok(strcmp(d, "1980-01-05") == 0, "fmt iso");
	date_fmt_us(19800105, d);
	ok(strcmp(d, "01/05/1980") == 0, "fmt us");
	date_fmt_iso(9991231, d);
	ok(strcmp(d, "0999-12-31") == 0, "fmt iso pads the year");
	ok(date_to_iso("01/15/1980", d) == 0 && strcmp(d, "1980-01-15") == 0,
	    "US to ISO");
	ok(date_to_iso("19800115", d) == 0 && strcmp(d, "1980-01-15") == 0,
	    "X12 to ISO");
	ok(date_to_us("2025-10-10", d) == 0 && strcmp(d, "10/10/2025") == 0,
	    "ISO to US");
	memcpy(d, "untouched", 10);
	ok(date_to_iso("2023-02-29", d) == -1 &&
	    date_to_us("x", d) == -1 && strcmp(d, "untouched") == 0,
	    "no date: -1, out untouched");
}

/* YYYYMMDD of t in UTC. */
static long
ymd_of(time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	return (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday;
}

static void
test_misc(void)
{
	time_t t0, t1;
	long today;
	int m, sum = 0;

	for (m = 1; m <= 12; m++)
		sum += date_days_in_month(2023, m);
	ok(sum == 365 && date_days_in_month(2024, 2) == 29,
	    "days in month: 365 in 2023, Feb 2024 has 29");
	/* Read the clock on both sides, in case midnight passes between. */
	t0 = time(NULL);
	today = date_today_utc();
	t1 = time(NULL);
	ok(today == ymd_of(t0) || today == ymd_of(t1), "today in UTC");
}

int
main(void)
{
	test_parse();
	test_exact();
	test_format();
	test_misc();
	return done_testing();
}
