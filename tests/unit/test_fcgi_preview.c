/*
 * The validate-only preview's message splitting (fcgi/preview.c): one
 * issue per csvin message, with its column, also for messages quoting
 * values that contain "; ", and for csvin's real output.
 */
#include <stdio.h>
#include <string.h>

#include "csvin.h"
#include "preview.h"
#include "tap.h"

struct got {
	size_t	 n;
	char	 col[8][32];
	char	 msg[8][256];
};

static void
collect(void *arg, const char *col, const char *msg, size_t len)
{
	struct got *g = arg;

	if (g->n >= 8)
		return;
	snprintf(g->col[g->n], sizeof(g->col[0]), "%s", col ? col : "-");
	snprintf(g->msg[g->n], sizeof(g->msg[0]), "%.*s", (int)len, msg);
	g->n++;
}

static void
test_split(void)
{
	struct got g;

	memset(&g, 0, sizeof(g));
	ok(preview_split(NULL, collect, &g) == 0 &&
	    preview_split("", collect, &g) == 0 && g.n == 0, "nothing");

	memset(&g, 0, sizeof(g));
	ok(preview_split("first_name is empty", collect, &g) == 1 &&
	    strcmp(g.col[0], "first_name") == 0 &&
	    strcmp(g.msg[0], "first_name is empty") == 0, "one message");

	memset(&g, 0, sizeof(g));
	ok(preview_split("first_name is empty; last_name is longer than 60 "
	    "characters; date_of_birth: '13/13/1980' is not a date "
	    "(YYYY-MM-DD or MM/DD/YYYY)", collect, &g) == 3, "three messages");
	ok(strcmp(g.col[0], "first_name") == 0 &&
	    strcmp(g.col[1], "last_name") == 0 &&
	    strcmp(g.col[2], "date_of_birth") == 0, "their columns");
	ok(strcmp(g.msg[1], "last_name is longer than 60 characters") == 0 &&
	    strncmp(g.msg[2], "date_of_birth: '13/13/1980'", 27) == 0,
	    "their texts: %s | %s", g.msg[1], g.msg[2]);

	memset(&g, 0, sizeof(g));
	ok(preview_split("date_of_birth: 'a; b' is not a date; subscriber_id "
	    "is empty", collect, &g) == 2 &&
	    strcmp(g.msg[0], "date_of_birth: 'a; b' is not a date") == 0 &&
	    strcmp(g.col[1], "subscriber_id") == 0,
	    "'; ' inside a quoted value does not split: %s", g.msg[0]);

	memset(&g, 0, sizeof(g));
	ok(preview_split("something else; claim_numberish", collect, &g) == 1 &&
	    strcmp(g.col[0], "-") == 0, "no known column: one message, "
	    "column NULL");
	ok(preview_column("claim_number: 'x' also appears on row 1", 39) !=
	    NULL && preview_column("claim_numbers", 13) == NULL &&
	    preview_column("claim_number", 12) == NULL, "column prefix rules");
}

/* csvin's own messages split back into their columns. */
struct rows {
	struct got errors, warnings;
};

static int
row_cb(void *arg, const struct csvin_row *row)
{
	struct rows *r = arg;

	if (row->error != NULL)
		(void)preview_split(row->error, collect, &r->errors);
	if (row->warning != NULL)
		(void)preview_split(row->warning, collect, &r->warnings);
	return 0;
}

static void
test_csvin_messages(void)
{
	static const char csv[] =
	    "claim_number,first_name,last_name,date_of_birth,subscriber_id\n"
	    "A1,,Doe,13/45/1980,1.23E+12\n"
	    "A1,John,Doe,1980-01-01,S2\n";
	struct csvin_summary sum;
	struct rows r;

	memset(&r, 0, sizeof(r));
	ok(csvin_parse(csv, sizeof(csv) - 1, 0, "2026-01-01", row_cb, &r, &sum,
	    NULL) == CSVIN_OK, "parsed");
	ok(r.errors.n == 2 && strcmp(r.errors.col[0], "first_name") == 0 &&
	    strcmp(r.errors.col[1], "date_of_birth") == 0,
	    "errors: %zu (%s, %s)", r.errors.n, r.errors.col[0],
	    r.errors.col[1]);
	ok(r.warnings.n == 2 && strcmp(r.warnings.col[0],
	    "subscriber_id") == 0 && strcmp(r.warnings.col[1],
	    "claim_number") == 0, "warnings: scientific, duplicate");
	csvin_summary_free(&sum);
}

int
main(void)
{
	test_split();
	test_csvin_messages();
	return done_testing();
}
