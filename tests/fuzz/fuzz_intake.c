/*
 * libFuzzer target for the intake's own code over csvin's output
 * (fcgi/preview.c, fcgi/results.c): every row's messages split and
 * joined again give the message back; for an accepted file, the stored
 * input columns load back as the header was mapped, and the header line
 * and COPY statement of every results variant fit their buffers.
 * Build and run: tests/fuzz/run.sh [seconds] intake.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvin.h"
#include "preview.h"
#include "results.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define JOB	"3f2b8c1e-9a4d-4e2f-8b7c-1d2e3f4a5b6c"

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "intake invariant violated: %s\n", #c);	\
		abort();						\
	}								\
} while (0)

struct join {
	char	 buf[8192];
	size_t	 len;
	int	 over;
};

static void
piece(void *arg, const char *col, const char *msg, size_t len)
{
	struct join *j = arg;

	(void)col;
	if (j->len > 0) {
		if (j->len + 2 >= sizeof(j->buf)) {
			j->over = 1;
			return;
		}
		memcpy(j->buf + j->len, "; ", 2);
		j->len += 2;
	}
	if (j->len + len >= sizeof(j->buf)) {
		j->over = 1;
		return;
	}
	memcpy(j->buf + j->len, msg, len);
	j->len += len;
}

static void
rejoin(const char *msgs)
{
	struct join j;

	if (msgs == NULL)
		return;
	memset(&j, 0, sizeof(j));
	(void)preview_split(msgs, piece, &j);
	if (!j.over)
		CHECK(j.len == strlen(msgs) && memcmp(j.buf, msgs, j.len) == 0);
}

static int
row(void *arg, const struct csvin_row *r)
{
	(void)arg;
	rejoin(r->error);
	rejoin(r->warning);
	return 0;
}

static void
check_results(const struct csvin_summary *sum)
{
	static const char *const qs[] = {
		"", "format=extended", "as=input&rows=failed",
		"format=extended&rows=unprocessed&bom=1"
	};
	static char head[RESULTS_HEADER_MAX], sql[RESULTS_SQL_MAX];
	struct json_object *cols, *hold;
	struct results_cols c;
	struct results_opts o;
	const char *bad;
	size_t i, extras = 0;
	int col;

	cols = results_input_columns(sum);
	CHECK(results_cols_load(json_object_to_json_string(cols), NULL, &c,
	    &hold) == 0);
	CHECK(c.n == sum->ncolumns);
	for (i = 0; i < c.n; i++) {
		CHECK(strcmp(c.col[i].name, sum->header[i]) == 0);
		if (c.col[i].field >= 0)
			CHECK(sum->column_index[c.col[i].field] == (int)i);
		else
			CHECK(c.col[i].extra == (int)extras++ &&
			    sum->extra_index[c.col[i].extra] == (int)i);
	}
	CHECK(extras == sum->nextra);
	for (col = 0; col < CSVIN_COL__MAX; col++)
		CHECK(sum->column_index[col] >= 0);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		CHECK(results_opts_parse(qs[i], &o, &bad) == 0);
		CHECK(results_header(&o, &c, head, sizeof(head)) > 0);
		CHECK(results_sql(&o, &c, JOB, sql, sizeof(sql)) > 0);
	}
	json_object_put(hold);
	json_object_put(cols);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csvin_summary sum;

	if (csvin_parse(data, size, 1000, "2026-01-01", row, NULL, &sum,
	    NULL) == CSVIN_OK)
		check_results(&sum);
	csvin_summary_free(&sum);
	return 0;
}
