/*
 * COPY lines for csv_job_rows: real csvin rows in, the exact text that
 * PostgreSQL's CSV COPY reads out (quoting, NULL versus '', extras,
 * invalid rows), plus the buffer's chunking and failure handling.
 */
#include <stdlib.h>
#include <string.h>

#include "copyrow.h"
#include "tap.h"

#define JOB	"3f2b8c1e-9a4d-4e2f-8b7c-1d2e3f4a5b6c"

struct sink {
	char	buf[256 * 1024];
	size_t	len;
	int	calls;
	int	fail_after;	/* fail the call after this many; -1 never */
};

static int
sink_flush(void *arg, const char *buf, size_t len)
{
	struct sink *s = arg;

	if (s->fail_after >= 0 && s->calls >= s->fail_after)
		return -1;
	s->calls++;
	if (s->len + len >= sizeof(s->buf))
		return -1;
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return 0;
}

struct ctx {
	struct copybuf		*b;
	struct csvin_summary	*sum;
};

static int
row_cb(void *arg, const struct csvin_row *row)
{
	struct ctx *c = arg;

	return copyrow_write(c->b, JOB, row, c->sum) == -1 ? 1 : 0;
}

/* Runs csv through csvin into the COPY text; returns it (static). */
static const char *
run(const char *csv, struct sink *s)
{
	static struct copybuf b;
	struct csvin_summary sum;
	struct ctx c = { &b, &sum };
	enum csvin_err e;

	memset(s, 0, sizeof(*s));
	s->fail_after = -1;
	copybuf_init(&b, sink_flush, s);
	e = csvin_parse(csv, strlen(csv), 0, "2026-11-28", row_cb, &c, &sum,
	    NULL);
	csvin_summary_free(&sum);
	if (e != CSVIN_OK || copybuf_flush(&b) == -1)
		return NULL;
	return s->buf;
}

int
main(void)
{
	static struct sink s;
	static struct copybuf b;
	const char *out;
	struct csvin_row row;
	struct csvin_summary sum;
	char *big;
	int i;

	out = run("claim_number,first_name,last_name,date_of_birth,"
	    "subscriber_id\nZE1,John,Doe,1980-01-15,S1\n", &s);
	ok(out != NULL && strcmp(out, JOB ",1,\"ZE1\",\"John\",\"Doe\","
	    "\"1980-01-15\",\"S1\",,,,,,\n") == 0,
	    "valid row: quoted fields, NULL extra/warning/results: %s", out);

	out = run("claim_number,first_name,last_name,date_of_birth,"
	    "subscriber_id\n\"Z,1\",\"Jo \"\"JJ\"\"\",\"O'Neil\nX\","
	    "1/15/1980,=1+1\n", &s);
	ok(out != NULL && strcmp(out, JOB ",1,\"Z,1\",\"Jo \"\"JJ\"\"\","
	    "\"O'Neil\nX\",\"1980-01-15\",\"=1+1\",,,\"Invalid\",false,"
	    "\"last_name contains a control character\",\"INPUT_INVALID\"\n")
	    == 0, "commas, quotes and newlines quoted; date normalised: %s",
	    out);

	out = run("claim_number,first_name,last_name,date_of_birth,"
	    "subscriber_id\nZE2,,Smith,1980-01-15,S2\n", &s);
	ok(out != NULL && strstr(out, ",\"ZE2\",\"\",\"Smith\"") != NULL,
	    "empty field is '' (quoted), not NULL");
	ok(out != NULL && strstr(out, ",,,\"Invalid\",false,\"first_name is "
	    "empty\",\"INPUT_INVALID\"\n") != NULL,
	    "invalid row stored failed with its error: %s", out);

	out = run("Claim #,Notes,First Name,Last Name,DOB,Member ID,"
	    "\"Extra \"\"Q\"\"\"\n"
	    "ZE3,\"n \"\"1\"\"\",A,B,1980-01-15,S3,x\n"
	    "ZE3,,C,D,1980-01-15,S4,\n", &s);
	ok(out != NULL && strstr(out, ",1,\"ZE3\",\"A\",\"B\",\"1980-01-15\","
	    "\"S3\",\"[[\"\"Notes\"\",\"\"n \\\"\"1\\\"\"\"\"],"
	    "[\"\"Extra \\\"\"Q\\\"\"\"\",\"\"x\"\"]]\",,,,,\n") != NULL,
	    "extras as [name, value] pairs in header order: %s", out);
	ok(out != NULL && strstr(out, ",2,\"ZE3\",\"C\",\"D\",\"1980-01-15\","
	    "\"S4\",\"[[\"\"Notes\"\",\"\"\"\"],[\"\"Extra \\\"\"Q\\\"\"\"\","
	    "\"\"\"\"]]\",\"claim_number: 'ZE3' also appears on row 1\","
	    ",,,\n") != NULL, "warning stored on a valid row");

	/* Chunking: a value bigger than the buffer arrives whole. */
	big = malloc(3 * COPY_BUF_BYTES + 1);
	memset(big, 'a', 3 * COPY_BUF_BYTES);
	big[3 * COPY_BUF_BYTES] = '\0';
	big[7] = '"';
	memset(&row, 0, sizeof(row));
	memset(&sum, 0, sizeof(sum));
	row.row_number = 9;
	for (i = 0; i < CSVIN_COL__MAX; i++)
		row.field[i] = "f";
	row.warning = big;
	memset(&s, 0, sizeof(s));
	s.fail_after = -1;
	copybuf_init(&b, sink_flush, &s);
	ok(copyrow_write(&b, JOB, &row, &sum) == 0 && copybuf_flush(&b) == 0,
	    "long value written");
	ok(s.calls >= 3 && s.len == strlen(JOB) + strlen(",9") +
	    5 * 4 + 2 + (3 * COPY_BUF_BYTES + 1 + 2) + 5,
	    "in %d flushes, %zu bytes, one '\"' doubled", s.calls, s.len);
	ok(s.buf[s.len - 1] == '\n', "line ends in LF");

	/*
	 * Extras are JSON written by hand: every escape json-c would make
	 * (jsonb reads them back), '/' and UTF-8 as they are, and each
	 * '"' of the JSON doubled for the CSV field.
	 */
	{
		static const char *const vals[] = {
		    "a\\b\"c/d\x01\x1f\b\f\n\r\t\xc3\xa9" };
		memset(&s, 0, sizeof(s));
		s.fail_after = -1;
		row.warning = NULL;
		row.nextra = 1;
		row.extra = vals;
		sum.nextra = 1;
		sum.ncolumns = 6;
		sum.extra_index[0] = 5;
		sum.header[5] = "N\"x";
		copybuf_init(&b, sink_flush, &s);
		ok(copyrow_write(&b, JOB, &row, &sum) == 0 &&
		    copybuf_flush(&b) == 0 &&
		    strstr(s.buf, ",\"[[\"\"N\\\"\"x\"\",\"\"a\\\\b\\\"\"c/d"
		    "\\u0001\\u001f\\b\\f\\n\\r\\t\xc3\xa9\"\"]]\",") != NULL,
		    "extra escaped as JSON inside CSV: %s", s.buf);
		row.nextra = 0;
		row.extra = NULL;
		memset(&sum, 0, sizeof(sum));
		row.warning = big;
	}

	/* A failed flush sticks: nothing half-written goes on. */
	memset(&s, 0, sizeof(s));
	s.fail_after = 1;
	copybuf_init(&b, sink_flush, &s);
	ok(copyrow_write(&b, JOB, &row, &sum) == -1 && b.failed,
	    "flush failure reported");
	row.warning = NULL;
	ok(copyrow_write(&b, JOB, &row, &sum) == -1 ||
	    copybuf_flush(&b) == -1, "and every later write or flush fails");
	ok(b.failed && copybuf_flush(&b) == -1, "failure sticks");
	free(big);
	return done_testing();
}
