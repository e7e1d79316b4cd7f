/*
 * cp1252-bench: Windows-1252 to UTF-8 conversion of a generated claims
 * CSV, by textenc_cp1252_to_utf8() (a table) and by glibc iconv(3).
 *
 *   cp1252-bench [MB] [RUNS]        (default 10 MB, best of 5)
 *
 * Each way converts the file whole and line by line (csvin feeds libcsv
 * one line, or CSVIN_FEED_BYTES, per call) and checks that both give the
 * same bytes; then times csvin_parse() of the whole file, to put the
 * conversion in proportion.  Prints MB/s of input; not a test, figures
 * for the decision to keep the table.  Build without sanitizers to
 * measure.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csvin.h"
#include "errbuf.h"
#include "limits.h"
#include "textenc.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Claims rows with the accents, curly quotes and dashes Excel writes. */
static size_t
make_csv(char *buf, size_t size)
{
	static const char *const first[] = {
		"Jos\xE9", "Ren\xE9" "e", "Zo\xEB", "Mar\xED" "a", "John",
		"Fran\xE7" "ois"
	};
	static const char *const last[] = {
		"M\xFCller", "O\x92" "Brien", "Smith\x96Jones", "Nu\xF1" "ez",
		"Lee", "\x84Quoted\x93"
	};
	size_t n = 0;
	long i = 0;
	int k;

	n += (size_t)snprintf(buf, size, "claim_number,first_name,last_name,"
	    "date_of_birth,subscriber_id\r\n");
	for (;;) {
		if (size - n < 128)
			break;
		k = snprintf(buf + n, size - n, "CLM%07ld,%s,%s,"
		    "%02ld/%02ld/19%02ld,W%09ld\r\n", i, first[i % 6],
		    last[i / 6 % 6], i % 12 + 1, i % 28 + 1, i % 100,
		    i * 7919 % 1000000000);
		n += (size_t)k;
		i++;
	}
	return n;
}

/*
 * iconv of in[0..len) into out; returns bytes written or (size_t)-1.  in
 * is not const because iconv(3) takes a char ** (it does not write).
 */
static size_t
conv_iconv(iconv_t cd, char *in, size_t len, char *out, size_t outsz)
{
	char *ip = in, *op = out;
	size_t il = len, ol = outsz;

	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
		return (size_t)-1;
	return (size_t)(op - out);
}

/* Line ends of buf, as csvin splits it, into ends[]; returns the count. */
static size_t
line_ends(const char *buf, size_t len, size_t *ends)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (buf[i] == '\n')
			ends[n++] = i + 1;
	if (n == 0 || ends[n - 1] != len)
		ends[n++] = len;
	return n;
}

int
main(int argc, char **argv)
{
	size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 10;
	int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5, r;
	size_t size = mb * 1024 * 1024, len, nl, i, o = 0, k, start, w;
	char *in, *a, *b;
	size_t *ends;
	double t, best[4] = { 1e9, 1e9, 1e9, 1e9 };
	iconv_t cd;

	in = malloc(size);
	a = malloc(size * TEXTENC_CP1252_MAXGROW);
	b = malloc(size * TEXTENC_CP1252_MAXGROW);
	ends = malloc(size / 8 * sizeof(*ends));
	if (in == NULL || a == NULL || b == NULL || ends == NULL)
		return 1;
	len = make_csv(in, size);
	nl = line_ends(in, len, ends);
	if ((cd = iconv_open("UTF-8", "WINDOWS-1252")) == (iconv_t)-1) {
		perror("iconv_open");
		return 1;
	}
	for (r = 0; r < runs; r++) {
		/* Whole file. */
		t = now();
		o = textenc_cp1252_to_utf8(in, len, a);
		t = now() - t;
		best[0] = t < best[0] ? t : best[0];
		t = now();
		w = conv_iconv(cd, in, len, b, size * TEXTENC_CP1252_MAXGROW);
		t = now() - t;
		best[1] = t < best[1] ? t : best[1];
		if (w != o || memcmp(a, b, o) != 0) {
			fprintf(stderr, "whole file: outputs differ\n");
			return 1;
		}
		/* Line by line, at most CSVIN_FEED_BYTES a call, as csvin. */
		t = now();
		for (i = 0, start = 0, o = 0; i < nl; start = ends[i++])
			for (k = start; k < ends[i]; k += w) {
				w = ends[i] - k < CSVIN_FEED_BYTES ?
				    ends[i] - k : CSVIN_FEED_BYTES;
				o += textenc_cp1252_to_utf8(in + k, w, a + o);
			}
		t = now() - t;
		best[2] = t < best[2] ? t : best[2];
		t = now();
		for (i = 0, start = 0, w = 0; i < nl; start = ends[i++]) {
			k = conv_iconv(cd, in + start, ends[i] - start, b + w,
			    size * TEXTENC_CP1252_MAXGROW - w);
			if (k == (size_t)-1) {
				fprintf(stderr, "iconv: %s\n", strerror(errno));
				return 1;
			}
			w += k;
		}
		t = now() - t;
		best[3] = t < best[3] ? t : best[3];
		if (w != o || memcmp(a, b, o) != 0) {
			fprintf(stderr, "by line: outputs differ\n");
			return 1;
		}
	}
	printf("input %.1f MB, %zu lines, output %.1f MB, best of %d\n",
	    (double)len / 1e6, nl, (double)o / 1e6, runs);
	printf("whole file:   table %7.1f MB/s (%6.2f ms)   iconv %7.1f MB/s "
	    "(%6.2f ms)\n", len / best[0] / 1e6, best[0] * 1e3,
	    len / best[1] / 1e6, best[1] * 1e3);
	printf("line by line: table %7.1f MB/s (%6.2f ms)   iconv %7.1f MB/s "
	    "(%6.2f ms)\n", len / best[2] / 1e6, best[2] * 1e3,
	    len / best[3] / 1e6, best[3] * 1e3);
	best[0] = 1e9;
	for (r = 0; r < runs; r++) {
		struct csvin_summary sum;
		struct errbuf err;

		t = now();
		if (csvin_parse(in, len, 1000000, "2026-12-07", NULL, NULL,
		    &sum, &err) != CSVIN_OK) {
			fprintf(stderr, "csvin: %s\n", err.msg);
			return 1;
		}
		t = now() - t;
		best[0] = t < best[0] ? t : best[0];
		if (!sum.converted_from_cp1252) {
			fprintf(stderr, "csvin: not read as Windows-1252\n");
			return 1;
		}
		csvin_summary_free(&sum);
	}
	printf("csvin_parse of the file (table): %7.1f ms\n", best[0] * 1e3);
	iconv_close(cd);
	free(in);
	free(a);
	free(b);
	free(ends);
	return 0;
}
