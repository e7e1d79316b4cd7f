/*
 * Invariants of csvin on arbitrary input, shared by the libFuzzer target
 * (fuzz_csvin.c) and the corpus replay in tests/unit/test_csvin.c, so
 * both check the same promises of csvin.h.  csvincheck_one() returns
 * NULL, or a description of the first invariant that does not hold.
 */
#ifndef CSVIN_CHECK_H
#define CSVIN_CHECK_H

#include <stdint.h>
#include <string.h>

#include "csvin.h"
#include "textenc.h"

struct csvincheck {
	long		 n, last_line, stop_at;
	const struct csvin_summary *sum;
	const char	*bad;
};

static int
csvincheck_row(void *arg, const struct csvin_row *r)
{
	struct csvincheck *k = arg;
	struct textenc_scan sc;
	const char *v;
	size_t i, len;
	int c;

	if (k->bad != NULL)
		return 1;
	k->n++;
	if (r->row_number != k->n)
		k->bad = "row numbers are not 1, 2, 3, ...";
	else if (r->line < 1 || r->line <= k->last_line)
		k->bad = "row lines do not increase";
	else if (r->nextra != k->sum->nextra || (r->nextra > 0 &&
	    r->extra == NULL))
		k->bad = "extra columns do not match the header";
	else if (r->duplicate_of < 0 || r->duplicate_of >= r->row_number)
		k->bad = "duplicate_of out of range";
	else if (r->error != NULL && r->error[0] == '\0')
		k->bad = "empty error string";
	k->last_line = r->line;
	for (c = 0; c < CSVIN_COL__MAX + (int)r->nextra && !k->bad; c++) {
		v = c < CSVIN_COL__MAX ? r->field[c] :
		    r->extra[c - CSVIN_COL__MAX];
		if (v == NULL) {
			k->bad = "NULL value";
			break;
		}
		len = strlen(v);
		textenc_utf8_scan(v, len, &sc);
		if (len > CSV_MAX_FIELD_BYTES)
			k->bad = "value longer than CSV_MAX_FIELD_BYTES";
		else if (sc.ninvalid > 0)
			k->bad = "value is not UTF-8";
		else if (c < CSVIN_COL__MAX && r->error == NULL && len == 0)
			k->bad = "valid row with an empty required value";
		else if (c < CSVIN_COL__MAX && len > 0 && (v[0] == ' ' ||
		    v[len - 1] == ' '))
			k->bad = "required value not trimmed";
	}
	v = r->field[CSVIN_DATE_OF_BIRTH];
	if (!k->bad && r->error == NULL) {
		if (strlen(v) != 10 || v[4] != '-' || v[7] != '-' ||
		    strcmp(v, "1900-01-01") < 0 || strcmp(v, "2026-11-28") > 0)
			k->bad = "valid row without a YYYY-MM-DD date";
		for (i = 0; i < 10 && !k->bad; i++)
			if (i != 4 && i != 7 && (v[i] < '0' || v[i] > '9'))
				k->bad = "date is not digits";
	}
	return k->stop_at != 0 && k->n == k->stop_at;
}

/* Parses data with a few max_rows / abort settings and checks. */
static const char *
csvincheck_one(const uint8_t *data, size_t size)
{
	static const long maxes[] = { 0, 3 }, stops[] = { 0, 2 };
	struct csvin_summary sum;
	struct csvincheck k;
	struct errbuf err;
	enum csvin_err r;
	size_t m, i;
	int c;

	for (m = 0; m < 2; m++) {
		memset(&k, 0, sizeof(k));
		k.sum = &sum;
		k.stop_at = stops[m];
		memset(&err, 0, sizeof(err));
		r = csvin_parse(data, size, maxes[m], "2026-11-28",
		    csvincheck_row, &k, &sum, &err);
		if (k.bad == NULL) {
			if ((int)r < 0 || r >= CSVIN_ERR__MAX)
				k.bad = "result out of range";
			else if (r != sum.error)
				k.bad = "sum.error differs from the result";
			else if (r == CSVIN_OK && (sum.rows < 1 ||
			    sum.rows != k.n || sum.error_detail[0] != '\0'))
				k.bad = "OK without rows, or with a message";
			else if (r != CSVIN_OK && (sum.error_detail[0] == '\0'
			    || strcmp(err.msg, sum.error_detail) != 0))
				k.bad = "error without the same message";
			else if (sum.invalid_rows > sum.rows ||
			    sum.warnings > sum.rows ||
			    sum.ncolumns > CSV_MAX_COLUMNS ||
			    sum.nextra > sum.ncolumns)
				k.bad = "summary counts out of range";
			else if (maxes[m] > 0 && sum.rows > maxes[m])
				k.bad = "more rows than max_rows";
		}
		for (c = 0; c < CSVIN_COL__MAX && !k.bad && r == CSVIN_OK;
		    c++)
			if (sum.column_index[c] < 0 ||
			    (size_t)sum.column_index[c] >= sum.ncolumns)
				k.bad = "required column index out of range";
		for (i = 0; i < sum.ncolumns && !k.bad; i++)
			if (sum.header[i] == NULL)
				k.bad = "NULL header name";
		csvin_summary_free(&sum);
		if (k.bad != NULL)
			return k.bad;
	}
	return NULL;
}

#endif
