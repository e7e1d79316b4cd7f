/*
 * Unit tests for csvin (claims CSV intake) and textenc.  Every input is
 * built here; "today" is fixed at 2026-11-28 so dates are stable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csvin.h"
#include "csvin_check.h"
#include "tap.h"
#include "corpus.h"
#include "textenc.h"

#ifndef CSVIN_CORPUS_DIR
#define CSVIN_CORPUS_DIR	"tests/fuzz/corpus/csvin"
#endif

#define TODAY	"2026-11-28"
#define HDR	"claim_number,first_name,last_name,date_of_birth," \
		"subscriber_id\n"
#define MAXGOT	16

struct got_row {
	long	 row, line, dup;
	char	 f[CSVIN_COL__MAX][256];
	char	 err[512], warn[512];
	int	 has_err, has_warn;
	size_t	 nextra;
	char	 extra[4][64];
};

struct got {
	int		n;
	int		stop_at;	/* return non-zero on this row */
	struct got_row	r[MAXGOT];
};

static int
collect(void *arg, const struct csvin_row *row)
{
	struct got *g = arg;
	struct got_row *r;
	size_t i;
	int c;

	g->n++;
	if (g->n <= MAXGOT) {
		r = &g->r[g->n - 1];
		memset(r, 0, sizeof(*r));
		r->row = row->row_number;
		r->line = row->line;
		r->dup = row->duplicate_of;
		for (c = 0; c < CSVIN_COL__MAX; c++)
			snprintf(r->f[c], sizeof(r->f[c]), "%s", row->field[c]);
		if ((r->has_err = row->error != NULL))
			snprintf(r->err, sizeof(r->err), "%s", row->error);
		if ((r->has_warn = row->warning != NULL))
			snprintf(r->warn, sizeof(r->warn), "%s", row->warning);
		r->nextra = row->nextra;
		for (i = 0; i < row->nextra && i < 4; i++)
			snprintf(r->extra[i], sizeof(r->extra[i]), "%s",
			    row->extra[i]);
	}
	return g->stop_at != 0 && g->n == g->stop_at;
}

static enum csvin_err
parse_n(const char *s, size_t n, long max, struct got *g,
    struct csvin_summary *sum, struct errbuf *e)
{
	int stop = g->stop_at;

	csvin_summary_free(sum);
	memset(g, 0, sizeof(*g));
	g->stop_at = stop;
	memset(e, 0, sizeof(*e));
	return csvin_parse(s, n, max, TODAY, collect, g, sum, e);
}

static enum csvin_err
parse(const char *s, struct got *g, struct csvin_summary *sum,
    struct errbuf *e)
{
	return parse_n(s, strlen(s), 0, g, sum, e);
}

/* Parses HDR + "C1,John,Doe,<dob>,S1\n" and returns the row. */
static struct got_row *
one_dob(const char *dob, struct got *g, struct csvin_summary *sum,
    struct errbuf *e)
{
	char buf[512];

	snprintf(buf, sizeof(buf), HDR "C1,John,Doe,%s,S1\n", dob);
	if (parse(buf, g, sum, e) != CSVIN_OK || g->n != 1)
		return NULL;
	return &g->r[0];
}

static void
test_tables(void)
{
	int i, j, okk = 1;

	for (i = 0; i < CSVIN_COL__MAX; i++)
		okk &= csvin_col_names[i] != NULL;
	ok(okk, "no NULL column name");
	okk = 1;
	for (i = 0; i < CSVIN_ERR__MAX; i++) {
		okk &= csvin_err_codes[i] != NULL;
		for (j = 0; j < i && okk; j++)
			okk &= strcmp(csvin_err_codes[i],
			    csvin_err_codes[j]) != 0;
	}
	ok(okk, "error codes are non-NULL and distinct");
	ok(strcmp(csvin_err_codes[CSVIN_MISSING_COLUMNS],
	    "missing_columns") == 0, "missing_columns code");
	ok(strcmp(csvin_col_names[CSVIN_DATE_OF_BIRTH], "date_of_birth") == 0,
	    "date_of_birth name");
}

static void
test_design_example(struct got *g, struct csvin_summary *sum, struct errbuf *e)
{
	enum csvin_err r;

	r = parse(HDR "ZE59426195,John,Doe,1980-01-15,ABC123456\n", g, sum, e);
	ok(r == CSVIN_OK, "DESIGN example parses (%s)", e->msg);
	ok(g->n == 1 && sum->rows == 1 && sum->invalid_rows == 0,
	    "one valid row");
	ok(strcmp(g->r[0].f[CSVIN_CLAIM_NUMBER], "ZE59426195") == 0 &&
	    strcmp(g->r[0].f[CSVIN_FIRST_NAME], "John") == 0 &&
	    strcmp(g->r[0].f[CSVIN_LAST_NAME], "Doe") == 0 &&
	    strcmp(g->r[0].f[CSVIN_DATE_OF_BIRTH], "1980-01-15") == 0 &&
	    strcmp(g->r[0].f[CSVIN_SUBSCRIBER_ID], "ABC123456") == 0,
	    "fields as given");
	ok(g->r[0].row == 1 && g->r[0].line == 2, "row 1 on line 2");
	ok(!g->r[0].has_err && !g->r[0].has_warn && g->r[0].nextra == 0,
	    "no error, no warning, no extras");
	ok(sum->ncolumns == 5 && sum->header_line == 1 &&
	    sum->column_index[CSVIN_SUBSCRIBER_ID] == 4 &&
	    strcmp(sum->header[3], "date_of_birth") == 0, "summary header");
	ok(sum->converted_from_cp1252 == 0 && sum->error == CSVIN_OK &&
	    sum->error_line == 0, "summary flags");
	r = parse(csvin_template, g, sum, e);
	ok(r == CSVIN_OK && g->n == 1 && !g->r[0].has_err &&
	    !g->r[0].has_warn, "the template is a valid file");
	csvin_summary_free(sum);
	r = csvin_parse("claim_number,first_name,last_name,date_of_birth,"
	    "subscriber_id\nA,B,C,1980-01-15,D", 80, 0, NULL, NULL, NULL, sum,
	    NULL);
	ok(r == CSVIN_OK && sum->rows == 1,
	    "no callback, no errbuf, real date, no final newline");
}

static void
test_header_forms(struct got *g, struct csvin_summary *sum, struct errbuf *e)
{
	enum csvin_err r;

	r = parse("\xEF\xBB\xBF" HDR "C1,A,B,1980-01-15,S\n", g, sum, e);
	ok(r == CSVIN_OK && strcmp(sum->header[0], "claim_number") == 0,
	    "UTF-8 BOM stripped");
	r = parse("\xEF\xBB\xBF\"claim_number\",\"first_name\",\"last_name\","
	    "\"date_of_birth\",\"subscriber_id\"\r\nC1,A,B,1980-01-15,S\r\n",
	    g, sum, e);
	ok(r == CSVIN_OK, "BOM before a quoted header (%s)", e->msg);
	r = parse("claim_number,first_name,last_name,date_of_birth,"
	    "subscriber_id\r\nC1,A,B,1980-01-15,S\r\n\r\nC2,A,B,1980-01-15,"
	    "S\r\n\r\n\r\n", g, sum, e);
	ok(r == CSVIN_OK && g->n == 2, "CRLF and blank lines");
	ok(g->n == 2 && g->r[1].line == 4 && g->r[1].row == 2,
	    "CRLF: row 2 on line 4 (got %ld)", g->r[1].line);
	ok(strcmp(g->r[0].f[CSVIN_SUBSCRIBER_ID], "S") == 0, "CR not in data");
	r = parse("claim_number,first_name,last_name,date_of_birth,"
	    "subscriber_id\rC1,A,B,1980-01-15,S\rC2,A,B,1980-01-15,S\r",
	    g, sum, e);
	ok(r == CSVIN_OK && g->n == 2 && g->r[1].line == 3,
	    "old Mac CR line ends");
	r = parse("Claim #, First Name ,LNAME,D.O.B.,Member ID\n"
	    "C1,A,B,1980-01-15,S\n", g, sum, e);
	ok(r == CSVIN_OK, "aliases (%s)", e->msg);
	ok(sum->column_index[CSVIN_CLAIM_NUMBER] == 0 &&
	    sum->column_index[CSVIN_FIRST_NAME] == 1 &&
	    sum->column_index[CSVIN_LAST_NAME] == 2 &&
	    sum->column_index[CSVIN_DATE_OF_BIRTH] == 3 &&
	    sum->column_index[CSVIN_SUBSCRIBER_ID] == 4, "aliases mapped");
	ok(strcmp(sum->header[1], "First Name") == 0, "header names trimmed");

	ok(csvin_match_column("member id", 9) == CSVIN_SUBSCRIBER_ID &&
	    csvin_match_column("subscriber id", 13) == CSVIN_SUBSCRIBER_ID &&
	    csvin_match_column("MEMBER_ID", 9) == CSVIN_SUBSCRIBER_ID &&
	    csvin_match_column("Subscriber #", 12) == CSVIN_SUBSCRIBER_ID,
	    "subscriber_id aliases");
	ok(csvin_match_column("dob", 3) == CSVIN_DATE_OF_BIRTH &&
	    csvin_match_column("Birth Date", 10) == CSVIN_DATE_OF_BIRTH &&
	    csvin_match_column("birthdate", 9) == CSVIN_DATE_OF_BIRTH &&
	    csvin_match_column("Date of Birth (MM/DD/YYYY)", 26) ==
	    CSVIN_DATE_OF_BIRTH, "date_of_birth aliases");
	ok(csvin_match_column("claim no", 8) == CSVIN_CLAIM_NUMBER &&
	    csvin_match_column("Claim Number", 12) == CSVIN_CLAIM_NUMBER &&
	    csvin_match_column("claim_no", 8) == CSVIN_CLAIM_NUMBER &&
	    csvin_match_column("CLAIM-NUMBER", 12) == CSVIN_CLAIM_NUMBER,
	    "claim_number aliases");
	ok(csvin_match_column("fname", 5) == CSVIN_FIRST_NAME &&
	    csvin_match_column("first name", 10) == CSVIN_FIRST_NAME &&
	    csvin_match_column("lname", 5) == CSVIN_LAST_NAME &&
	    csvin_match_column("Last Name", 9) == CSVIN_LAST_NAME,
	    "name aliases");
	ok(csvin_match_column("notes", 5) == -1 &&
	    csvin_match_column("", 0) == -1 &&
	    csvin_match_column("claim numbers", 13) == -1 &&
	    csvin_match_column("date", 4) == -1, "non-matches");

	r = parse("notes,claim_number,first_name,last_name,date_of_birth,"
	    "subscriber_id,ref\nhello,C1,A,B,1980-01-15,S,R-1\n", g, sum, e);
	ok(r == CSVIN_OK && sum->nextra == 2 && sum->extra_index[0] == 0 &&
	    sum->extra_index[1] == 6 &&
	    sum->column_index[CSVIN_CLAIM_NUMBER] == 1, "extra columns mapped");
	ok(g->n == 1 && g->r[0].nextra == 2 &&
	    strcmp(g->r[0].extra[0], "hello") == 0 &&
	    strcmp(g->r[0].extra[1], "R-1") == 0, "extra values in order");
	ok(strcmp(g->r[0].f[CSVIN_CLAIM_NUMBER], "C1") == 0,
	    "required values found past extras");

	r = parse("claim_number,first_name,last_name,date_of_birth,"
	    "subscriber_id,,\nC1,A,B,1980-01-15,S,,\nC2,A,B,1980-01-15,S\n"
	    "C3,A,B,1980-01-15,S,,,,\n", g, sum, e);
	ok(r == CSVIN_OK && sum->ncolumns == 5 && g->n == 3,
	    "trailing empty header names and fields tolerated (%s)", e->msg);
}

static void
test_header_errors(struct got *g, struct csvin_summary *sum, struct errbuf *e)
{
	enum csvin_err r;
	char big[1024];
	int i;

	r = parse("claim_number,first_name,last_name,dob2\nC1,A,B,x\n",
	    g, sum, e);
	ok(r == CSVIN_MISSING_COLUMNS, "missing columns");
	ok(strcmp(e->msg, "line 1: missing required columns: date_of_birth, "
	    "subscriber_id (columns found: claim_number, first_name, "
	    "last_name, dob2)") == 0, "message lists missing and found: %s",
	    e->msg);
	ok(strcmp(sum->error_detail, e->msg) == 0 && sum->error_line == 1 &&
	    g->n == 0, "detail, line, no rows passed");
	ok(sum->column_index[CSVIN_DATE_OF_BIRTH] == -1 &&
	    sum->column_index[CSVIN_LAST_NAME] == 2, "found columns indexed");
	r = parse("ZE1,John,Doe,1980-01-15,S1\n", g, sum, e);
	ok(r == CSVIN_MISSING_COLUMNS && strstr(e->msg, "the first line must "
	    "be the header") != NULL, "no header: hint (%s)", e->msg);
	r = parse("\n\nclaim_number,first_name,last_name\n", g, sum, e);
	ok(r == CSVIN_MISSING_COLUMNS && sum->error_line == 3 &&
	    strncmp(e->msg, "line 3: ", 8) == 0, "header after blank lines");

	r = parse("claim_number,first_name,last_name,dob,member_id,"
	    "subscriber_id\n", g, sum, e);
	ok(r == CSVIN_DUPLICATE_COLUMN, "duplicated column");
	ok(strcmp(e->msg, "line 1: columns 5 ('member_id') and 6 "
	    "('subscriber_id') are both subscriber_id; keep one of them") == 0,
	    "duplicate message: %s", e->msg);
	r = parse("claim_number,member_id,subscriber_id,first_name,last_name,"
	    "dob,x\n", g, sum, e);
	ok(r == CSVIN_DUPLICATE_COLUMN && sum->ncolumns == 7 &&
	    sum->column_index[CSVIN_DATE_OF_BIRTH] == 5 &&
	    sum->column_index[CSVIN_SUBSCRIBER_ID] == 1 &&
	    strcmp(sum->header[6], "x") == 0,
	    "duplicate: the whole header is still mapped");
	r = parse("notes,claim_number,first_name,last_name,dob,notes,"
	    "subscriber_id\nA,C,F,L,1980-01-15,B,S\n", g, sum, e);
	ok(r == CSVIN_OK, "a duplicated extra column is fine");

	big[0] = '\0';
	for (i = 0; i < CSV_MAX_COLUMNS + 1; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big),
		    "c%d,", i);
	big[strlen(big) - 1] = '\n';
	r = parse(big, g, sum, e);
	ok(r == CSVIN_FIELD_COUNT && sum->error_line == 1,
	    "header wider than CSV_MAX_COLUMNS (%s)", e->msg);

	r = parse(HDR, g, sum, e);
	ok(r == CSVIN_NO_ROWS && g->n == 0, "header only: no rows (%s)",
	    e->msg);
	r = parse(HDR "\r\n,,,,\n\n", g, sum, e);
	ok(r == CSVIN_NO_ROWS && sum->blank_rows == 1,
	    "header and blank rows: no rows");
	r = parse("", g, sum, e);
	ok(r == CSVIN_EMPTY && strcmp(e->msg, "the file is empty") == 0,
	    "empty file");
	r = parse("\xEF\xBB\xBF", g, sum, e);
	ok(r == CSVIN_EMPTY, "BOM only: empty");
	r = parse("\r\n \r\n\n", g, sum, e);
	ok(r == CSVIN_EMPTY, "blank lines only: empty");
}

static void
test_encoding(struct got *g, struct csvin_summary *sum, struct errbuf *e)
{
	static const char nul[] = HDR "C1,Jo\0hn,Doe,1980-01-15,S\n";
	static const char zip[] = "PK\003\004\024\0\006\0\010\0\0\0!\0";
	enum csvin_err r;

	r = parse_n(nul, sizeof(nul) - 1, 0, g, sum, e);
	ok(r == CSVIN_NOT_TEXT && sum->error_line == 2, "NUL byte: not text");
	ok(strcmp(e->msg, "line 2: the file is not CSV text (it contains the "
	    "binary byte 0x00)") == 0, "NUL message: %s", e->msg);
	r = parse_n(zip, sizeof(zip) - 1, 0, g, sum, e);
	ok(r == CSVIN_NOT_TEXT && strstr(e->msg, "this looks like an Excel "
	    "workbook (.xlsx); save it as CSV") != NULL, "xlsx hint: %s",
	    e->msg);
	r = parse("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 rest", g, sum, e);
	ok(r == CSVIN_NOT_TEXT && strstr(e->msg, ".xls)") != NULL, "xls hint");
	r = parse("\xFF\xFE" "c\0l\0", g, sum, e);
	ok(r == CSVIN_BAD_ENCODING && strstr(e->msg, "UTF-16") != NULL,
	    "UTF-16: bad encoding");
	r = parse_n("c\0l\0a\0i\0", 8, 0, g, sum, e);
	ok(r == CSVIN_BAD_ENCODING && strstr(e->msg, "UTF-16") != NULL,
	    "UTF-16 without BOM: bad encoding (%s)", e->msg);
	r = parse(HDR "C1,A\x01,B,1980-01-15,S\n", g, sum, e);
	ok(r == CSVIN_NOT_TEXT, "control byte: not text");
	r = parse(HDR "C1,A,B,1980-01-15,S\r\n\x1A", g, sum, e);
	ok(r == CSVIN_OK && g->n == 1, "trailing Ctrl-Z ignored");

	r = parse(HDR "C1,Jos\xE9,M\x9Aller,1980-01-15,S\nC2,A,B,1980-01-15,"
	    "\x80" "5\n", g, sum, e);
	ok(r == CSVIN_OK && sum->converted_from_cp1252 == 1,
	    "Windows-1252 converted (%s)", e->msg);
	ok(g->n == 2 && strcmp(g->r[0].f[CSVIN_FIRST_NAME], "Jos\xC3\xA9") == 0
	    && strcmp(g->r[0].f[CSVIN_LAST_NAME], "M\xC5\xA1ller") == 0 &&
	    strcmp(g->r[1].f[CSVIN_SUBSCRIBER_ID], "\xE2\x82\xAC" "5") == 0,
	    "converted to UTF-8");
	r = parse(HDR "C1,A,B,1980-01-15,S\nC2,Jos\x81,B,1980-01-15,S\n",
	    g, sum, e);
	ok(r == CSVIN_BAD_ENCODING && sum->error_line == 3 && g->n == 0,
	    "0x81: neither UTF-8 nor Windows-1252, line 3");
	ok(strcmp(e->msg, "line 3: the file is neither UTF-8 nor Windows-1252 "
	    "text (byte 0x81); save it as \"CSV UTF-8\"") == 0,
	    "message: %s", e->msg);
	r = parse(HDR "C1,Jos\xC3\xA9,B,1980-01-15,S\nC2,Jos\xE9,B,1980-01-15,"
	    "S\n", g, sum, e);
	ok(r == CSVIN_BAD_ENCODING && sum->error_line == 3,
	    "mixed UTF-8 and Latin bytes rejected on line 3 (%s)", e->msg);
	r = parse("\xEF\xBB\xBF" HDR "C1,Jos\xE9,B,1980-01-15,S\n", g, sum, e);
	ok(r == CSVIN_BAD_ENCODING, "BOM then Latin bytes rejected");
	r = parse(HDR "C1,Jos\xC3\xA9,B,1980-01-15,S\n", g, sum, e);
	ok(r == CSVIN_OK && sum->converted_from_cp1252 == 0 &&
	    strcmp(g->r[0].f[CSVIN_FIRST_NAME], "Jos\xC3\xA9") == 0,
	    "UTF-8 kept");
	r = parse(HDR "C1,\xED\xA0\x80,B,1980-01-15,S\n", g, sum, e);
	ok(r == CSVIN_OK && sum->converted_from_cp1252 == 1,
	    "UTF-8 surrogate is not UTF-8 (read as Windows-1252)");
}

static void
test_textenc(void)
{
	struct textenc_scan sc;
	char out[16];
	size_t n;

	textenc_utf8_scan("abc\xC3\xA9\xF0\x9F\x98\x80", 9, &sc);
	ok(sc.ninvalid == 0 && sc.nmultibyte == 2 && sc.first_bad == 9,
	    "utf8 scan: valid");
	textenc_utf8_scan("abcdefgh\xC0\xAF", 10, &sc);
	ok(sc.ninvalid == 2 && sc.first_bad == 8, "overlong rejected");
	textenc_utf8_scan("\xF4\x90\x80\x80", 4, &sc);
	ok(sc.ninvalid > 0 && sc.first_bad == 0, "above U+10FFFF rejected");
	textenc_utf8_scan("\xE2\x82", 2, &sc);
	ok(sc.ninvalid > 0, "truncated sequence rejected");
	n = textenc_cp1252_to_utf8("a\x93\x81", 3, out);
	ok(n == 7 && memcmp(out, "a\xE2\x80\x9C\xEF\xBF\xBD", 7) == 0,
	    "cp1252: quote and undefined byte");
}

static void
test_quotes(struct got *g, struct csvin_summary *sum, struct errbuf *e)
{
	enum csvin_err r;
	char *buf;
	size_t i, n;

	r = parse(HDR "C1,A,B,1980-01-15,S\n\"C2,A,B,1980-01-15,S\n",
	    g, sum, e);
	ok(r == CSVIN_UNBALANCED_QUOTE && sum->error_line == 3,
	    "unclosed quote at EOF: line 3 (%s)", e->msg);
	ok(strcmp(e->msg, "line 3: a quoted field starts here and is never "
	    "closed (unbalanced quote)") == 0, "message: %s", e->msg);
	ok(g->n == 1, "rows before it were passed");
	r = parse(HDR "C1,\"A,B,1980-01-15,S\nC2,\"Jane\",B,1980-01-15,S\n",
	    g, sum, e);
	ok(r == CSVIN_UNBALANCED_QUOTE && sum->error_line == 2,
	    "unclosed quote found later: reported on line 2 (%s)", e->msg);
	r = parse(HDR "C1,A,B,1980-01-15,S\nC2,Jo\"hn,B,1980-01-15,S\n",
	    g, sum, e);
	ok(r == CSVIN_UNBALANCED_QUOTE && sum->error_line == 3,
	    "stray quote: line 3 (%s)", e->msg);
	r = parse(HDR "C1,\"A\"x,B,1980-01-15,S\n", g, sum, e);
	ok(r == CSVIN_UNBALANCED_QUOTE && sum->error_line == 2,
	    "text after closing quote");

	/* An unclosed quote followed by much data: no field-too-long. */
	buf = malloc(200000);
	n = (size_t)snprintf(buf, 200000, HDR "C1,\"A,B,1980-01-15,S\n");
	for (i = 0; i < 2000; i++)
		n += (size_t)snprintf(buf + n, 200000 - n,
		    "C2,A,B,1980-01-15,S\n");
	r = parse_n(buf, n, 0, g, sum, e);
	ok(r == CSVIN_UNBALANCED_QUOTE && sum->error_line == 2,
	    "long unclosed quote: line 2 (%s)", e->msg);
	free(buf);

	r = parse("notes,claim_number,first_name,last_name,date_of_birth,"
	    "subscriber_id\n\"two\nlines\",C1,A,B,1980-01-15,S\n"
	    "x,C2,A,B,1980-01-15,S\n\"say \"\"hi\"\"\",C3,\"  A \",B,"
	    "1980-01-15,S\n", g, sum, e);
	ok(r == CSVIN_OK && g->n == 3, "quoted newline and quotes (%s)",
	    e->msg);
	ok(g->r[0].line == 2 && g->r[1].line == 4 && g->r[2].line == 5,
	    "lines counted across a quoted newline");
	ok(strcmp(g->r[0].extra[0], "two\nlines") == 0 &&
	    strcmp(g->r[2].extra[0], "say \"hi\"") == 0, "quoted values");
	ok(strcmp(g->r[2].f[CSVIN_FIRST_NAME], "A") == 0,
	    "required values trimmed inside quotes");
	r = parse("claim_number,first_name,last_name,date_of_birth,"
	    "subscriber_id\n\"C1\nX\",A,B,1980-01-15,S\nC2,A,B,1980-01-15,S\n",
	    g, sum, e);
	ok(r == CSVIN_OK && g->n == 2 && g->r[0].line == 2 &&
	    g->r[1].line == 4, "row starting with a multi-line field");
	ok(strcmp(g->r[0].err, "claim_number contains a control "
	    "character") == 0, "control character error: %s", g->r[0].err);
}

static void
test_field_count(struct got *g, struct csvin_summary *sum, struct errbuf *e)
{
	enum csvin_err r;

	r = parse(HDR "C1,A,B,1980-01-15,S\nC2,A,B,1980-01-15\n"
	    "C3,A,B,1980-01-15,S\n", g, sum, e);
	ok(r == CSVIN_FIELD_COUNT && sum->error_line == 3 && g->n == 1,
	    "short row: line 3");
	ok(strcmp(e->msg, "line 3: the row has 4 fields, the header has 5 "
	    "columns") == 0, "message: %s", e->msg);
	r = parse(HDR "C1,A,B,1980-01-15,S,extra\n", g, sum, e);
	ok(r == CSVIN_FIELD_COUNT && sum->error_line == 2 &&
	    strstr(e->msg, "6 fields") != NULL, "long row: %s", e->msg);
	r = parse(HDR "C1,Doe, Jr.,B,1980-01-15,S\n", g, sum, e);
	ok(r == CSVIN_FIELD_COUNT, "unquoted comma in a name");
}

static void
test_row_errors(struct got *g, struct csvin_summary *sum, struct errbuf *e)
{
	enum csvin_err r;
	char buf[1024], name[256];
	int i;

	r = parse(HDR "C1,,Doe,1980-01-15,S\n"
	    "C2,John,Doe,13/45/1980,S\n"
	    "C3,John,Doe,2030-01-01,S\n"
	    "C4,John,Doe,1899-12-31,S\n"
	    ",,Doe,x,\n"
	    "C6,John,Doe,1980-01-15,S\n", g, sum, e);
	ok(r == CSVIN_OK && g->n == 6, "row errors do not reject the file");
	ok(sum->rows == 6 && sum->invalid_rows == 5, "invalid rows counted");
	ok(strcmp(g->r[0].err, "first_name is empty") == 0, "empty: %s",
	    g->r[0].err);
	ok(strcmp(g->r[1].err, "date_of_birth: '13/45/1980' is not a date "
	    "(YYYY-MM-DD or MM/DD/YYYY)") == 0, "not a date: %s", g->r[1].err);
	ok(strcmp(g->r[1].f[CSVIN_DATE_OF_BIRTH], "13/45/1980") == 0,
	    "an invalid date is passed as given");
	ok(strcmp(g->r[2].err, "date_of_birth: '2030-01-01' is in the "
	    "future") == 0, "future: %s", g->r[2].err);
	ok(strcmp(g->r[3].err, "date_of_birth: '1899-12-31' is before "
	    "1900") == 0, "before 1900: %s", g->r[3].err);
	ok(strcmp(g->r[4].err, "claim_number is empty; first_name is empty; "
	    "date_of_birth: 'x' is not a date (YYYY-MM-DD or MM/DD/YYYY); "
	    "subscriber_id is empty") == 0, "several errors: %s", g->r[4].err);
	ok(!g->r[5].has_err && g->r[5].row == 6 && g->r[5].line == 7,
	    "valid row after invalid ones");

	memset(name, 'x', 61);
	name[61] = '\0';
	snprintf(buf, sizeof(buf), HDR "C1,A,%s,1980-01-15,S\n"
	    "C2,A,%.60s,1980-01-15,S\n", name, name);
	r = parse(buf, g, sum, e);
	ok(r == CSVIN_OK && g->n == 2 && strcmp(g->r[0].err, "last_name is "
	    "longer than 60 characters") == 0, "length cap: %s", g->r[0].err);
	ok(!g->r[1].has_err, "at the cap is fine");
	for (i = 0; i < 35; i++)
		memcpy(name + 2 * i, "\xC3\xA9", 2);
	name[70] = '\0';
	snprintf(buf, sizeof(buf), HDR "C1,%s,B,1980-01-15,S\n", name);
	r = parse(buf, g, sum, e);
	ok(r == CSVIN_OK && !g->r[0].has_err,
	    "caps count characters, not bytes");

	r = parse(HDR " ZE1 , John ,Doe  ,1980-01-15 , S1 \n", g, sum, e);
	ok(r == CSVIN_OK && strcmp(g->r[0].f[CSVIN_CLAIM_NUMBER], "ZE1") == 0
	    && strcmp(g->r[0].f[CSVIN_FIRST_NAME], "John") == 0 &&
	    strcmp(g->r[0].f[CSVIN_SUBSCRIBER_ID], "S1") == 0 &&
	    !g->r[0].has_err, "surrounding spaces trimmed");
	r = parse(HDR "\"\xC2\xA0ZE1\",A,B,1980-01-15,S\n", g, sum, e);
	ok(r == CSVIN_OK && strcmp(g->r[0].f[CSVIN_CLAIM_NUMBER], "ZE1") == 0,
	    "no-break space trimmed");

	r = parse(HDR "1.23E+12,A,B,1980-01-15,4.5e+10\n"
	    "00123,A,B,1980-01-15,1E5X\n12E4567,A,B,1980-01-15,1E+\n"
	    "1E+1234,A,B,1980-01-15,1.E+12\n", g, sum, e);
	ok(r == CSVIN_OK && !g->r[0].has_err && sum->warnings == 1,
	    "scientific notation: warning only");
	ok(strcmp(g->r[0].warn, "claim_number: '1.23E+12' looks like a number "
	    "Excel turned into scientific notation; the original identifier "
	    "is lost; subscriber_id: '4.5e+10' looks like a number Excel "
	    "turned into scientific notation; the original identifier is "
	    "lost") == 0, "warning text: %s", g->r[0].warn);
	ok(!g->r[1].has_warn && strcmp(g->r[1].f[CSVIN_CLAIM_NUMBER],
	    "00123") == 0, "leading zeros kept, no false warning");
	ok(!g->r[2].has_warn && !g->r[3].has_warn,
	    "identifiers like 12E4567 or 1E+1234 do not warn");
	r = parse(HDR "1E+11,A,B,1980-01-15,S\n", g, sum, e);
	ok(r == CSVIN_OK && g->r[0].has_warn, "1E+11 warns");

	r = parse(HDR "ZE1,A,B,1980-01-15,S\nZE2,A,B,1980-01-15,S\n"
	    "ze1,A,B,1980-01-15,S\n,A,B,1980-01-15,S\n,A,B,1980-01-15,S\n",
	    g, sum, e);
	ok(r == CSVIN_OK && g->r[2].dup == 1 && g->r[0].dup == 0 &&
	    g->r[1].dup == 0 && sum->duplicate_rows == 1,
	    "duplicate claim number, case-insensitive");
	ok(strcmp(g->r[2].warn, "claim_number: 'ze1' also appears on row 1")
	    == 0 && !g->r[2].has_err, "duplicate warning: %s", g->r[2].warn);
	ok(g->r[4].dup == 0, "empty claim numbers are not duplicates");

	r = parse(HDR "C1,A,B,1980-01-15,S\n,,,,\n  ,\t, ,,\nC2,A,B,1980-01-15,"
	    "S\n", g, sum, e);
	ok(r == CSVIN_OK && g->n == 2 && g->r[1].row == 2 &&
	    g->r[1].line == 5 && sum->blank_rows == 2,
	    "all-empty rows skipped (line %ld)", g->r[1].line);
}

static void
test_dates(struct got *g, struct csvin_summary *sum, struct errbuf *e)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "1980-01-15", "1980-01-15" }, { "1980-1-5", "1980-01-05" },
		{ "01/15/1980", "1980-01-15" }, { "1/5/1980", "1980-01-05" },
		{ "1/5/80", "1980-01-05" }, { "01-15-1980", "1980-01-15" },
		{ "1980/01/15", "1980-01-15" }, { "11/28/26", "2026-11-28" },
		{ "11/29/26", "1926-11-29" }, { "1/1/00", "2000-01-01" },
		{ "2/29/2024", "2024-02-29" }, { "2000-02-29", "2000-02-29" },
		{ "1/15/1980 0:00", "1980-01-15" },
		{ "1980-01-15 00:00:00", "1980-01-15" },
		{ "2026-11-28", "2026-11-28" }, { "1900-01-01", "1900-01-01" },
		{ "12/31/99", "1999-12-31" },
	};
	static const char *bad[] = {
		"2/29/2023", "2/29/1900", "1980-13-01", "1980-00-10",
		"1980-01-32", "19800115", "15.01.1980", "1/15/1980 13:00",
		"1980-01/15", "1/15/198", "Jan 15 1980", "1980-01-15T00:00",
		"4/31/1980", "0/1/1980", "29236", "1/1/1", "-1/1/1980",
	};
	struct got_row *row;
	size_t i;
	int okk;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		row = one_dob(good[i].in, g, sum, e);
		ok(row != NULL && !row->has_err &&
		    strcmp(row->f[CSVIN_DATE_OF_BIRTH], good[i].out) == 0,
		    "date '%s' -> %s (got %s)", good[i].in, good[i].out,
		    row ? row->f[CSVIN_DATE_OF_BIRTH] : "-");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		row = one_dob(bad[i], g, sum, e);
		okk = row != NULL && row->has_err &&
		    strstr(row->err, "is not a date") != NULL;
		ok(okk, "date '%s' rejected (%s)", bad[i],
		    row ? row->err : "-");
	}
	row = one_dob("2026-11-29", g, sum, e);
	ok(row != NULL && strstr(row->err, "in the future") != NULL,
	    "tomorrow is in the future");
}

static void
test_limits(struct got *g, struct csvin_summary *sum, struct errbuf *e)
{
	enum csvin_err r;
	char *buf;
	size_t n;

	r = parse_n(HDR "C1,A,B,1980-01-15,S\nC2,A,B,1980-01-15,S\n",
	    strlen(HDR) + 40, 2, g, sum, e);
	ok(r == CSVIN_OK && g->n == 2, "max_rows rows accepted");
	buf = HDR "C1,A,B,1980-01-15,S\nC2,A,B,1980-01-15,S\n"
	    "C3,A,B,1980-01-15,S\n";
	r = parse_n(buf, strlen(buf), 2, g, sum, e);
	ok(r == CSVIN_TOO_MANY_ROWS && sum->error_line == 4 && g->n == 2,
	    "too many rows: line 4");
	ok(strcmp(e->msg, "line 4: the file has more than 2 data rows; split "
	    "it into smaller files") == 0, "message: %s", e->msg);

	buf = malloc(300000);
	n = (size_t)snprintf(buf, 300000, "notes," HDR "%0*d,C1,A,B,1980-01-15,"
	    "S\n", CSV_MAX_FIELD_BYTES, 7);
	r = parse_n(buf, n, 0, g, sum, e);
	ok(r == CSVIN_OK, "a field of CSV_MAX_FIELD_BYTES is fine (%s)",
	    e->msg);
	n = (size_t)snprintf(buf, 300000, "notes," HDR "x,C0,A,B,1980-01-15,"
	    "S\n%0*d,C1,A,B,1980-01-15,S\n", CSV_MAX_FIELD_BYTES + 1, 7);
	r = parse_n(buf, n, 0, g, sum, e);
	ok(r == CSVIN_FIELD_TOO_LONG && sum->error_line == 3,
	    "field too long: line 3");
	ok(strcmp(e->msg, "line 3: a field is longer than 1024 bytes") == 0,
	    "message: %s", e->msg);
	n = (size_t)snprintf(buf, 300000, "notes," HDR "%0*d", 250000, 7);
	r = parse_n(buf, n, 0, g, sum, e);
	ok(r == CSVIN_FIELD_TOO_LONG && sum->error_line == 2,
	    "a 250 KB field stops early");
	free(buf);

	g->stop_at = 2;
	r = parse(HDR "C1,A,B,1980-01-15,S\nC2,A,B,1980-01-15,S\n"
	    "C3,A,B,1980-01-15,S\n", g, sum, e);
	g->stop_at = 0;
	ok(r == CSVIN_ABORTED && g->n == 2 && sum->error_line == 3,
	    "callback abort");
	ok(strcmp(e->msg, "line 3: stopped by the caller") == 0, "message: %s",
	    e->msg);
}

/* Many rows: duplicate set growth, and the speed figure. */
static void
test_bulk(struct got *g, struct csvin_summary *sum, struct errbuf *e)
{
	enum csvin_err r;
	struct timespec t0, t1;
	size_t cap = 16 * 1024 * 1024, n;
	char *buf;
	double s;
	long i;

	buf = malloc(cap);
	n = (size_t)snprintf(buf, cap, "claim_number,first_name,last_name,"
	    "date_of_birth,subscriber_id,notes\n");
	for (i = 0; i < 150000; i++)
		n += (size_t)snprintf(buf + n, cap - n, "ZE%08ld,Johnathan,"
		    "Doe-Smithington,%02ld/%02ld/19%02ld,ABC%09ld,\"Some note, "
		    "with a comma\"\n", i, i % 12 + 1, i % 28 + 1, i % 100,
		    i * 7);
	n += (size_t)snprintf(buf + n, cap - n, "ZE00100000,A,B,1980-01-15,S,"
	    "n\n");
	csvin_summary_free(sum);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = csvin_parse(buf, n, 200000, TODAY, NULL, NULL, sum, e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(r == CSVIN_OK && sum->rows == 150001, "150,001 rows (%s)", e->msg);
	ok(sum->invalid_rows == 0 && sum->duplicate_rows == 1 &&
	    sum->warnings == 1, "one duplicate among them");
	printf("# %zu bytes, %ld rows in %.3f s: %.0f rows/s, %.1f MB/s\n", n,
	    sum->rows, s, sum->rows / s, n / s / 1e6);
	ok(s < 5.0, "parsed in %.3f s (well under 1 s without sanitizers)", s);
	free(buf);
	(void)g;
}

static void
replay_one(const char *name, const uint8_t *data, size_t len, void *arg)
{
	int *nbad = arg;
	const char *bad;

	if ((bad = csvincheck_one(data, len)) != NULL) {
		(*nbad)++;
		printf("# corpus %s: %s\n", name, bad);
	}
}

/* Replays the fuzzing corpus through the fuzz target's invariants. */
static void
test_corpus(void)
{
	const char *dir;
	int nfiles, nbad = 0;

	if ((dir = getenv("CSVIN_CORPUS_DIR")) == NULL)
		dir = CSVIN_CORPUS_DIR;
	if ((nfiles = corpus_each(dir, replay_one, &nbad)) == -1)
		return;
	ok(nfiles >= 10 && nbad == 0, "corpus replay: %d files, %d bad",
	    nfiles, nbad);
}

int
main(void)
{
	struct csvin_summary sum;
	struct errbuf e;
	struct got *g;

	g = calloc(1, sizeof(*g));
	memset(&sum, 0, sizeof(sum));
	test_tables();
	test_textenc();
	test_design_example(g, &sum, &e);
	test_header_forms(g, &sum, &e);
	test_header_errors(g, &sum, &e);
	test_encoding(g, &sum, &e);
	test_quotes(g, &sum, &e);
	test_field_count(g, &sum, &e);
	test_row_errors(g, &sum, &e);
	test_dates(g, &sum, &e);
	test_limits(g, &sum, &e);
	test_bulk(g, &sum, &e);
	test_corpus();
	csvin_summary_free(&sum);
	csvin_summary_free(&sum);
	free(g);
	return done_testing();
}
