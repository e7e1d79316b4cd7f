/*
 * GET claims/{claim_number}/history/: the caller's organisation's
 * checks of one claim from the claims ledger (sql/011_claims_ledger.sql),
 * newest first, DRF PageNumberPagination with the claim number first:
 * {claim_number, count, next, previous, results: [{job_id, row,
 * checked_at, status, lookup_result, total_charged, total_allowed,
 * total_paid, payment_numbers, carc_codes, action, change}]}, change
 * as the job's rows say it (new, changed or unchanged against the
 * latest earlier check of another job).  A claim this
 * organisation never checked answers 404, whoever else checked it.
 * The claim number is patient data: it is neither logged nor audited
 * (dispatch.c logs this route's path without it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "drf.h"
#include "handlers.h"
#include "limits.h"
#include "pgjson.h"
#include "query.h"

/* $1 organisation, $2 claim number. */
#define HISTORY_WHERE							\
	" WHERE l.organization_id = $1 AND l.claim_number = $2"

enum {
	HC_JOB, HC_ROW, HC_CHECKED, HC_STATUS, HC_LOOKUP, HC_CHARGED,
	HC_ALLOWED, HC_PAID, HC_PAY_NUMBERS, HC_CARC, HC_ACTION, HC_CHANGE
};

static struct json_object *
entry_json(const PGresult *res, int row)
{
	struct json_object *o = json_object_new_object();
	char when[DRF_TEXT_MAX];

	pgjson_text(o, "job_id", res, row, HC_JOB);
	pgjson_int(o, "row", res, row, HC_ROW);
	drf_datetime(strtoll(PQgetvalue(res, row, HC_CHECKED), NULL, 10),
	    when, sizeof(when));
	json_object_object_add(o, "checked_at", json_object_new_string(when));
	pgjson_text(o, "status", res, row, HC_STATUS);
	pgjson_text(o, "lookup_result", res, row, HC_LOOKUP);
	pgjson_text(o, "total_charged", res, row, HC_CHARGED);
	pgjson_text(o, "total_allowed", res, row, HC_ALLOWED);
	pgjson_text(o, "total_paid", res, row, HC_PAID);
	pgjson_text(o, "payment_numbers", res, row, HC_PAY_NUMBERS);
	pgjson_text(o, "carc_codes", res, row, HC_CARC);
	pgjson_text(o, "action", res, row, HC_ACTION);
	pgjson_text(o, "change", res, row, HC_CHANGE);
	return o;
}

void
history_claim(struct req *r)
{
	static const char sql_count[] = "SELECT count(*) FROM claim_ledger l"
	    HISTORY_WHERE;
	/*
	 * The page's entries first (the index gives them in order), then
	 * each one's row, action and change: those cost tens of
	 * microseconds an entry, so only the page's entries pay them.
	 */
	static const char sql_page[] = "SELECT l.job_id, l.row_number,"
	    " (extract(epoch FROM l.checked_at) * 1000000)::bigint,"
	    " l.status, l.lookup_result, l.total_charged::text,"
	    " l.total_allowed::text, l.total_paid::text, l.payment_numbers,"
	    " l.carc_codes, CASE WHEN r.job_id IS NOT NULL"
	    " THEN csv_row_action(r) END, c.change"
	    " FROM (SELECT * FROM claim_ledger l" HISTORY_WHERE
	    " ORDER BY l.checked_at DESC, l.job_id, l.row_number"
	    " LIMIT $3 OFFSET $4) l"
	    " LEFT JOIN csv_job_rows r"
	    " ON r.job_id = l.job_id AND r.row_number = l.row_number"
	    " LEFT JOIN LATERAL csv_row_change(r) c ON r.job_id IS NOT NULL"
	    " ORDER BY l.checked_at DESC, l.job_id, l.row_number";
	struct json_object *head;
	const char *params[4];
	char org[24];
	struct query q;
	struct errbuf err;
	PGresult *res;
	PGconn *db;
	long count;
	int n;

	/* Too long for the router's buffer, or for a claim number. */
	if (r->route.seg[0] == '\0' ||
	    strlen(r->route.seg) > CSVIN_MAX_CLAIM_NUMBER) {
		resp_error(r, 404, "not_found", "No such claim.", NULL, NULL);
		return;
	}
	if (query_parse(r->query, &q) == -1) {
		resp_error(r, 400, "invalid_query",
		    "The query string is malformed or too long.", NULL, NULL);
		return;
	}
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	snprintf(org, sizeof(org), "%lld", r->org_id);
	params[0] = org;
	params[1] = r->route.seg;
	if ((res = db_exec_prepared(db, &err, "history_count", sql_count, 2,
	    params)) == NULL) {
		resp_db_error(r, &err);
		return;
	}
	count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (count == 0) {
		resp_error(r, 404, "not_found", "No such claim.", NULL, NULL);
		return;
	}
	head = json_object_new_object();
	json_object_object_add(head, "claim_number",
	    json_object_new_string(r->route.seg));
	if ((n = resp_page_head(r, db, &q, head, count,
	    drf_page_size(query_get(&q, "page_size")), sql_page, 4, params,
	    entry_json)) >= 0)
		r->rows = n;
}
