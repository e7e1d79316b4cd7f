/*
 * POST claims/bulk/validate/: the upload's checks without a job, so the
 * browser can show a preview (rows, column mapping, warnings, the first
 * row errors) before the user commits.  The same multipart input and
 * the same structural errors as the upload (upload_read,
 * upload_reject_csv); nothing is stored.
 *
 * GET claims/bulk/template/: a CSV template to start from.
 *
 * Messages quote uploaded values (patient data): they go to the
 * uploader only, never to the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "csvin.h"
#include "handlers.h"
#include "log.h"
#include "preview.h"
#include "upload.h"
#include "util.h"

/* What the row callback collects. */
struct preview {
	struct json_object *errors;	/* first VALIDATE_MAX_ISSUES */
	struct json_object *warnings;	/* first VALIDATE_MAX_ISSUES */
	long		 nerrors;	/* all error messages */
	long		 nwarnings;	/* all warning messages */
};

/* The row being split, for issue(). */
struct split {
	struct json_object *arr;
	const struct csvin_row *row;
};

/* preview_issue_fn: one {row, line, column, message}, up to the cap. */
static void
issue(void *arg, const char *col, const char *msg, size_t len)
{
	struct split *sp = arg;
	struct json_object *o;

	if (json_object_array_length(sp->arr) >= VALIDATE_MAX_ISSUES)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "row",
	    json_object_new_int64(sp->row->row_number));
	json_object_object_add(o, "line", json_object_new_int64(sp->row->line));
	json_object_object_add(o, "column", col != NULL ?
	    json_object_new_string(col) : NULL);
	json_object_object_add(o, "message",
	    json_object_new_string_len(msg, (int)len));
	json_object_array_add(sp->arr, o);
}

/* Adds a row's messages to arr (up to the cap), counts all in *count. */
static void
add_messages(struct json_object *arr, long *count, const struct csvin_row *row,
    const char *msgs)
{
	struct split sp = { arr, row };

	*count += (long)preview_split(msgs, issue, &sp);
}

static int
preview_row(void *arg, const struct csvin_row *row)
{
	struct preview *pv = arg;

	if (row->error != NULL)
		add_messages(pv->errors, &pv->nerrors, row, row->error);
	if (row->warning != NULL)
		add_messages(pv->warnings, &pv->nwarnings, row, row->warning);
	return 0;
}

/* The 200 answer: counts, columns, mapping, issues. */
static struct json_object *
preview_json(const struct csvin_summary *sum, struct preview *pv)
{
	struct json_object *o, *found, *map, *extra;
	size_t i;
	int col;

	found = json_object_new_array();
	for (i = 0; i < sum->ncolumns && i < CSV_MAX_COLUMNS; i++)
		json_object_array_add(found, json_object_new_string(
		    sum->header[i] ? sum->header[i] : ""));
	map = json_object_new_object();
	for (col = 0; col < CSVIN_COL__MAX; col++)
		if (sum->column_index[col] >= 0 &&
		    (size_t)sum->column_index[col] < sum->ncolumns)
			json_object_object_add(map, csvin_col_names[col],
			    json_object_new_string(
			    sum->header[sum->column_index[col]]));
	extra = json_object_new_array();
	for (i = 0; i < sum->nextra; i++)
		json_object_array_add(extra, json_object_new_string(
		    sum->header[sum->extra_index[i]] ?
		    sum->header[sum->extra_index[i]] : ""));

	o = json_object_new_object();
	json_object_object_add(o, "total_rows",
	    json_object_new_int64(sum->rows));
	json_object_object_add(o, "columns_found", found);
	json_object_object_add(o, "column_mapping", map);
	json_object_object_add(o, "extra_columns", extra);
	json_object_object_add(o, "warnings", pv->warnings);
	json_object_object_add(o, "row_errors", pv->errors);
	json_object_object_add(o, "invalid_rows",
	    json_object_new_int64(sum->invalid_rows));
	json_object_object_add(o, "converted_from_cp1252",
	    json_object_new_boolean(sum->converted_from_cp1252));
	/* Beyond the brief's shape, for the curious (additive). */
	json_object_object_add(o, "warning_rows",
	    json_object_new_int64(sum->warnings));
	json_object_object_add(o, "duplicate_rows",
	    json_object_new_int64(sum->duplicate_rows));
	json_object_object_add(o, "blank_rows",
	    json_object_new_int64(sum->blank_rows));
	json_object_object_add(o, "header_line",
	    json_object_new_int64(sum->header_line));
	json_object_object_add(o, "max_issues",
	    json_object_new_int64(VALIDATE_MAX_ISSUES));
	pv->warnings = NULL;
	pv->errors = NULL;
	return o;
}

void
validate_handle(struct req *r)
{
	struct csvin_summary sum;
	struct json_object *o;
	struct upload_in in;
	struct preview pv;
	struct errbuf err;
	enum csvin_err e;
	long long t0 = util_mono_ms();

	if (upload_read(r, &in) == -1) {
		upload_in_free(&in);
		return;
	}
	memset(&pv, 0, sizeof(pv));
	pv.errors = json_object_new_array();
	pv.warnings = json_object_new_array();
	err.msg[0] = '\0';
	e = csvin_parse(in.data, in.len, r->app->max_rows, NULL, preview_row,
	    &pv, &sum, &err);
	if (e != CSVIN_OK)
		upload_reject_csv(r, e, &sum, &err);
	else {
		r->rows = sum.rows;
		log_info("validate rows=%ld invalid=%ld bytes=%zu ms=%lld",
		    sum.rows, sum.invalid_rows, in.len, util_mono_ms() - t0);
		o = preview_json(&sum, &pv);
		/* The workflow an upload of this form would run. */
		json_object_object_add(o, "workflow",
		    json_object_new_string(in.workflow));
		resp_json(r, 200, o, NULL);
	}
	json_object_put(pv.errors);
	json_object_put(pv.warnings);
	csvin_summary_free(&sum);
	upload_in_free(&in);
}

void
template_handle(struct req *r)
{
	size_t len = strlen(csvin_template);

	if (resp_headers(r, 200, "text/csv; charset=utf-8", (long long)len,
	    "Content-Disposition: attachment;"
	    " filename=\"claims-template.csv\"\r\n") == 0)
		resp_write(r, csvin_template, len);
}
