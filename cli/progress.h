/*
 * The text of bulkclaims --wait: a progress bar for a terminal and one
 * line per status for a pipe or a log.  Pure functions (no I/O), so the
 * unit test checks every width and value.
 */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <stddef.h>

/* What the progress endpoint says; a negative rate or eta is unknown. */
struct prog {
	const char	*status;	/* PENDING, PROCESSING, ... */
	long long	 total, done, ok, failed;
	double		 rate;		/* rows per second */
	double		 eta;		/* seconds */
	int		 waiting;	/* paused by a payer outage */
};

/*
 * Formats secs as "M:SS" or "H:MM:SS" (capped at 99:59:59), or "--:--"
 * when secs is negative or not a number.  out holds at least 12 bytes.
 */
void	 prog_eta(double secs, char *out, size_t outsz);

/* Whole percent of done in total, 0..100 (100 only when all are done). */
int	 prog_percent(long long done, long long total);

/*
 * One frame of the bar, at most width - 1 columns (so the terminal never
 * wraps it) and at least 20:
 * "[#####.....]  45%  450/1000 rows  123 rows/s  ETA 0:05  ok 440  failed 10".
 * The bar is dropped first, then the trailing fields, when width is
 * small.  Plain ASCII, no control characters.  Returns the length.
 */
size_t	 prog_bar(const struct prog *p, int width, char *out, size_t outsz);

/*
 * The line for a pipe: "job ID: STATUS 450/1000 rows, 440 succeeded,
 * 10 failed" (and ", waiting for the payer" while paused).  Returns the
 * length.
 */
size_t	 prog_line(const char *id, const struct prog *p, char *out,
	    size_t outsz);

#endif
