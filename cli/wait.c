/*
 * Following a job to its end by polling the progress endpoint the
 * browser polls (GET claims/csv-jobs/{id}/progress/; nginx answers a
 * token client from a 1 s cache while the job runs, so polling faster
 * than once a second gains nothing).  The bar goes to stderr, so stdout
 * stays the job id and whatever a script reads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"

/* Consecutive failed polls tolerated (server restarting, 503, network). */
#define WAIT_MAX_FAILURES	30

struct draw {
	int	 tty;
	size_t	 shown;		/* length of the frame on screen */
	char	 last[64];	/* status line last printed (pipe) */
};

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

static int
finished(const char *status)
{
	return strcmp(status, "COMPLETED") == 0 ||
	    strcmp(status, "FAILED") == 0 || strcmp(status, "CANCELLED") == 0;
}

/* Redraws the bar in place: \r, the frame, blanks over a longer one. */
static void
draw_bar(struct draw *d, const struct prog *p)
{
	char frame[512];
	size_t n;

	n = prog_bar(p, term_width(), frame, sizeof(frame));
	fprintf(stderr, "\r%s", frame);
	if (d->shown > n)
		fprintf(stderr, "%*s", (int)(d->shown - n), "");
	d->shown = n;
	fflush(stderr);
}

static void
draw_line(struct draw *d, const char *id, const struct prog *p)
{
	char key[64], line[512];

	snprintf(key, sizeof(key), "%s%s", p->status, p->waiting ? "+w" : "");
	if (strcmp(key, d->last) == 0 && !finished(p->status))
		return;
	snprintf(d->last, sizeof(d->last), "%s", key);
	prog_line(id, p, line, sizeof(line));
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

int
wait_job(struct cli *c, const char *id, long interval_ms)
{
	struct draw d = { 0, 0, "" };
	struct cli_resp r;
	struct prog p;
	char path[128], status[32];
	int rv, failures = 0;
	const char *term = getenv("TERM");

	d.tty = isatty(STDERR_FILENO) &&
	    !(term != NULL && strcmp(term, "dumb") == 0);
	snprintf(path, sizeof(path), "claims/csv-jobs/%s/progress/", id);
	for (;;) {
		rv = http_do(c, "GET", path, NULL, NULL, &r);
		if (rv == CLI_OK && (r.status / 100 == 5 || r.status == 429))
			rv = CLI_EFAIL;
		if (rv != CLI_OK) {
			/* A restart of the server or a network blip must not
			 * end a long wait; the message was printed. */
			if (rv != CLI_EFAIL && rv != CLI_ENET)
				break;
			if (r.status != 0)
				(void)http_check(&r, "progress");
			cli_resp_free(&r);
			if (++failures > WAIT_MAX_FAILURES)
				break;
			if (d.tty)
				d.shown = 0, fputc('\n', stderr);
			sleep_ms(interval_ms * 2);
			continue;
		}
		if ((rv = http_check(&r, "progress")) != CLI_OK ||
		    json_str(r.json, "status") == NULL) {
			if (rv == CLI_OK) {
				fprintf(stderr, "bulkclaims: progress: not "
				    "the expected answer\n");
				rv = CLI_EFAIL;
			}
			cli_resp_free(&r);
			break;
		}
		failures = 0;
		snprintf(status, sizeof(status), "%s",
		    json_str(r.json, "status"));
		p.status = status;
		p.total = json_int(r.json, "total_rows", 0);
		p.done = json_int(r.json, "processed_rows", 0);
		p.ok = json_int(r.json, "success_count", 0);
		p.failed = json_int(r.json, "failure_count", 0);
		p.rate = json_num(r.json, "rows_per_second", -1);
		p.eta = json_num(r.json, "eta_seconds", -1);
		p.waiting = json_object_get_boolean(json_object_object_get(
		    r.json, "waiting_for_payer"));
		cli_resp_free(&r);
		if (d.tty)
			draw_bar(&d, &p);
		else
			draw_line(&d, id, &p);
		if (finished(status)) {
			if (d.tty) {
				fputc('\n', stderr);
				if (strcmp(status, "COMPLETED") != 0)
					draw_line(&d, id, &p);
			}
			return strcmp(status, "COMPLETED") == 0 ?
			    CLI_OK : CLI_EJOB;
		}
		sleep_ms(interval_ms);
	}
	if (d.tty && d.shown > 0)
		fputc('\n', stderr);
	return rv;
}
