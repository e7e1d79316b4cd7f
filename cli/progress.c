/*
 * Progress text for bulkclaims --wait (see progress.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "progress.h"

void
prog_eta(double secs, char *out, size_t outsz)
{
	long s;

	if (!(secs >= 0) || !isfinite(secs)) {
		snprintf(out, outsz, "--:--");
		return;
	}
	s = secs > 359999 ? 359999 : (long)(secs + 0.5);
	if (s >= 3600)
		snprintf(out, outsz, "%ld:%02ld:%02ld", s / 3600,
		    s / 60 % 60, s % 60);
	else
		snprintf(out, outsz, "%ld:%02ld", s / 60, s % 60);
}

int
prog_percent(long long done, long long total)
{
	if (total <= 0)
		return 0;
	if (done >= total)
		return 100;
	if (done <= 0)
		return 0;
	/* Floor, so 99.9 % shows 99 and 100 % means every row. */
	return (int)((double)done * 100.0 / (double)total);
}

/* The bar's text fields, each starting with two spaces. */
static size_t
fields(const struct prog *p, int nfields, char *out, size_t outsz)
{
	char eta[16], rate[32];
	int n;

	if (p->rate >= 0 && isfinite(p->rate))
		snprintf(rate, sizeof(rate), "%.0f rows/s", p->rate);
	else
		snprintf(rate, sizeof(rate), "-- rows/s");
	if (p->waiting)
		snprintf(eta, sizeof(eta), "payer paused");
	else {
		memcpy(eta, "ETA ", 4);
		prog_eta(p->eta, eta + 4, sizeof(eta) - 4);
	}
	n = snprintf(out, outsz, "%3d%%  %lld/%lld rows", prog_percent(
	    p->done, p->total), p->done, p->total);
	if (nfields > 1 && n >= 0 && (size_t)n < outsz)
		n += snprintf(out + n, outsz - (size_t)n, "  %s", rate);
	if (nfields > 2 && n >= 0 && (size_t)n < outsz)
		n += snprintf(out + n, outsz - (size_t)n, "  %s", eta);
	if (nfields > 3 && n >= 0 && (size_t)n < outsz)
		n += snprintf(out + n, outsz - (size_t)n,
		    "  ok %lld  failed %lld", p->ok, p->failed);
	if (n < 0)
		return 0;
	return (size_t)n < outsz ? (size_t)n : outsz - 1;
}

size_t
prog_bar(const struct prog *p, int width, char *out, size_t outsz)
{
	char text[256];
	size_t tlen, max, cells, full, i, len = 0;
	int nf;

	if (outsz == 0)
		return 0;
	if (width < 21)
		width = 21;
	max = (size_t)width - 1;
	if (max > outsz - 1)
		max = outsz - 1;
	/* Drop fields from the end until the text fits beside a bar. */
	for (nf = 4; nf > 1; nf--)
		if (fields(p, nf, text, sizeof(text)) + 12 <= max)
			break;
	tlen = fields(p, nf, text, sizeof(text));
	if (tlen + 12 <= max) {
		/* "[" + cells + "] " + text */
		cells = max - tlen - 3;
		if (cells > 50)
			cells = 50;
		full = cells * (size_t)prog_percent(p->done, p->total) / 100;
		out[len++] = '[';
		for (i = 0; i < cells; i++)
			out[len++] = i < full ? '#' : '.';
		out[len++] = ']';
		out[len++] = ' ';
	}
	if (tlen > max - len)
		tlen = max - len;
	memcpy(out + len, text, tlen);
	len += tlen;
	out[len] = '\0';
	return len;
}

size_t
prog_line(const char *id, const struct prog *p, char *out, size_t outsz)
{
	int n;

	n = snprintf(out, outsz, "job %s: %s %lld/%lld rows, %lld succeeded, "
	    "%lld failed%s", id, p->status, p->done, p->total, p->ok,
	    p->failed, p->waiting ? ", waiting for the payer" : "");
	if (n < 0 || outsz == 0)
		return 0;
	return (size_t)n < outsz ? (size_t)n : outsz - 1;
}
