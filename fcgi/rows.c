/*
 * GET claims/csv-jobs/{id}/rows/: a job's rows as JSON for the browser's
 * results table, DRF PageNumberPagination ({count, next, previous,
 * results}), filtered by ?status= (the row's status text, exactly),
 * ?success=true|false and ?q= (claim number prefix, any case).  Values
 * are raw (JSON needs no formula neutralising; the browser shows text).
 * Another organisation's job answers 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "db.h"
#include "drf.h"
#include "handlers.h"
#include "log.h"
#include "query.h"

/* The columns row_json() reads, in this order. */
#define ROW_COLS							\
	"row_number, claim_number, status, patient_name,"		\
	" total_charged::text, total_paid::text,"			\
	" to_char(processed_date, 'YYYY-MM-DD'), success, error_message," \
	" warning, lookup_result, attempts"
enum {
	RC_ROW, RC_CLAIM, RC_STATUS, RC_PATIENT, RC_CHARGED, RC_PAID,
	RC_PROCESSED, RC_SUCCESS, RC_ERROR, RC_WARNING, RC_LOOKUP, RC_ATTEMPTS
};

/* $1 job, $2 status, $3 success, $4 claim number prefix. */
#define ROW_WHERE							\
	" WHERE job_id = $1 AND ($2::text IS NULL OR status = $2)"	\
	" AND ($3::boolean IS NULL OR success = $3)"			\
	" AND ($4::text IS NULL OR"					\
	"  starts_with(upper(claim_number), upper($4)))"

/* o[key] = the text of column col, or null. */
static void
add_text(struct json_object *o, const char *key, const PGresult *res,
    int row, int col)
{
	json_object_object_add(o, key, PQgetisnull(res, row, col) ? NULL :
	    json_object_new_string(PQgetvalue(res, row, col)));
}

static struct json_object *
row_json(const PGresult *res, int row)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "row", json_object_new_int64(
	    strtoll(PQgetvalue(res, row, RC_ROW), NULL, 10)));
	add_text(o, "claim_number", res, row, RC_CLAIM);
	add_text(o, "status", res, row, RC_STATUS);
	add_text(o, "patient_name", res, row, RC_PATIENT);
	/* DRF renders DecimalField as a string ("1500.00"). */
	add_text(o, "total_charged", res, row, RC_CHARGED);
	add_text(o, "total_paid", res, row, RC_PAID);
	add_text(o, "processed_date", res, row, RC_PROCESSED);
	json_object_object_add(o, "success", PQgetisnull(res, row, RC_SUCCESS) ?
	    NULL : json_object_new_boolean(
	    PQgetvalue(res, row, RC_SUCCESS)[0] == 't'));
	add_text(o, "error_message", res, row, RC_ERROR);
	add_text(o, "warning", res, row, RC_WARNING);
	add_text(o, "lookup_result", res, row, RC_LOOKUP);
	json_object_object_add(o, "attempts", json_object_new_int64(
	    strtoll(PQgetvalue(res, row, RC_ATTEMPTS), NULL, 10)));
	return o;
}

void
rows_list(struct req *r)
{
	static const char sql_job[] = "SELECT 1 FROM csv_jobs"
	    " WHERE organization_id = $1 AND id = $2";
	static const char sql_count[] = "SELECT count(*) FROM csv_job_rows"
	    ROW_WHERE;
	static const char sql_page[] = "SELECT " ROW_COLS
	    " FROM csv_job_rows" ROW_WHERE
	    " ORDER BY row_number LIMIT $5 OFFSET $6";
	struct query q;
	const char *params[6], *v;
	char org[24];
	long count, size;
	struct errbuf err;
	PGresult *res;
	PGconn *db;
	int n;

	if (resp_job_id(r) == -1)
		return;
	if (query_parse(r->query, &q) == -1) {
		resp_error(r, 400, "invalid_query",
		    "The query string is malformed or too long.", NULL, NULL);
		return;
	}
	params[0] = r->job_id;
	params[1] = NULL;
	params[2] = NULL;
	params[3] = NULL;
	if ((v = query_get(&q, "status")) != NULL && *v != '\0')
		params[1] = v;
	if ((v = query_get(&q, "success")) != NULL && *v != '\0') {
		if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
			params[2] = "true";
		else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
			params[2] = "false";
		else {
			resp_field_error(r, 400, "invalid_query", "success",
			    "success must be true or false.");
			return;
		}
	}
	if ((v = query_get(&q, "q")) != NULL && *v != '\0') {
		if (strlen(v) > CSVIN_MAX_CLAIM_NUMBER) {
			resp_field_error(r, 400, "invalid_query", "q",
			    "q is longer than a claim number.");
			return;
		}
		params[3] = v;
	}

	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	snprintf(org, sizeof(org), "%lld", r->org_id);
	{
		const char *jp[2] = { org, r->job_id };

		if ((res = db_exec(db, &err, sql_job, 2, jp)) == NULL) {
			resp_db_error(r, &err);
			return;
		}
		if (PQntuples(res) != 1) {
			PQclear(res);
			resp_job_not_found(r);
			return;
		}
		PQclear(res);
	}
	if ((res = db_exec(db, &err, sql_count, 4, params)) == NULL) {
		resp_db_error(r, &err);
		return;
	}
	count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);

	size = drf_page_size(query_get(&q, "page_size"));
	if ((n = resp_page(r, db, &q, count, size, sql_page, 6, params,
	    row_json)) >= 0)
		r->rows = n;
}
