/*
 * GET claims/csv-jobs/{id}/rows/: a job's rows as JSON for the browser's
 * results table, DRF PageNumberPagination ({count, next, previous,
 * results}), filtered by ?status= (the row's status text, exactly),
 * ?success=true|false, ?q= (claim number prefix, any case) and
 * ?action= (the row's action bucket, sql/functions/claim_actions.sql) and
 * ?change= (new, changed, unchanged: sql/functions/claims_ledger.sql).  Values
 * are raw (JSON needs no formula neutralising; the browser shows text).
 * Another organisation's job answers 404.
 *
 * GET claims/csv-jobs/{id}/rows/{row}/: one row, the same object, with
 * its service lines and payments (claim details).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "db.h"
#include "drf.h"
#include "handlers.h"
#include "log.h"
#include "pgjson.h"
#include "query.h"
#include "results.h"

/*
 * The columns row_json() reads, in this order; denial is the SQL of
 * denial_reasons (RESULTS_DENIAL_REASONS_*: carc_codes may not exist).
 */
#define ROW_COLS(denial)						\
	"row_number, claim_number, status, patient_name,"		\
	" total_charged::text, total_paid::text,"			\
	" to_char(processed_date, 'YYYY-MM-DD'), success, error_message," \
	" warning, lookup_result, attempts,"				\
	" payer_claim_number, total_allowed::text,"			\
	" patient_responsibility::text,"				\
	" to_char(service_from, 'YYYY-MM-DD'),"				\
	" to_char(service_to, 'YYYY-MM-DD'), deductible::text,"	\
	" copay::text, coinsurance::text, line_count, denied_line_count,"\
	" denied_amount::text, carc_codes, " denial ", rarc_codes,"	\
	" payment_method, payment_numbers, payment_dates,"		\
	" claim_paid_amount::text, void_reissue, details_result,"	\
	" details_note, payments_result, payments_note, " RESULTS_ACTION ","\
	" " ROW_CHANGE_COLS ","						\
	" to_char(dl.next_deadline, 'YYYY-MM-DD'), dl.deadline_kind,"	\
	" dl.days_left,"						\
	" found_by, not_found_reason, matched_claim_number, triage_calls"
/*
 * Run-to-run changes (sql/functions/claims_ledger.sql), from ROW_FROM's
 * lateral c: previous_checked_at in microseconds since the epoch.
 */
#define ROW_CHANGE_COLS							\
	"c.change, c.previous_status, c.previous_paid::text,"		\
	" (extract(epoch FROM c.previous_checked_at) * 1000000)::bigint"
/* The next deadline: sql/functions/claim_deadlines.sql. */
#define ROW_FROM							\
	" FROM csv_job_rows LEFT JOIN LATERAL"				\
	" csv_row_change(csv_job_rows) c ON true"			\
	" LEFT JOIN LATERAL csv_row_deadline(csv_job_rows) dl ON true"
enum {
	RC_ROW, RC_CLAIM, RC_STATUS, RC_PATIENT, RC_CHARGED, RC_PAID,
	RC_PROCESSED, RC_SUCCESS, RC_ERROR, RC_WARNING, RC_LOOKUP, RC_ATTEMPTS,
	/* claim details */
	RC_PAYER_CLAIM, RC_ALLOWED, RC_PATIENT_RESP, RC_SERVICE_FROM,
	RC_SERVICE_TO, RC_DEDUCTIBLE, RC_COPAY, RC_COINSURANCE, RC_LINES,
	RC_DENIED_LINES, RC_DENIED_AMOUNT, RC_CARC, RC_DENIAL, RC_RARC,
	RC_PAY_METHOD, RC_PAY_NUMBERS, RC_PAY_DATES, RC_CLAIM_PAID, RC_VOID,
	RC_DETAILS_RESULT, RC_DETAILS_NOTE, RC_PAYMENTS_RESULT,
	RC_PAYMENTS_NOTE, RC_ACTION,
	/* claims ledger */
	RC_CHANGE, RC_PREV_STATUS, RC_PREV_PAID, RC_PREV_CHECKED,
	/* deadlines */
	RC_DEADLINE, RC_DEADLINE_KIND, RC_DAYS_LEFT,
	/* not-found triage */
	RC_FOUND_BY, RC_NOT_FOUND_REASON, RC_MATCHED, RC_TRIAGE_CALLS
};

/* Text columns of the claim details, keyed as in the results CSV. */
static const struct {
	const char	*key;
	int		 col;
} detail_text[] = {
	{ "payer_claim_number", RC_PAYER_CLAIM },
	{ "total_allowed", RC_ALLOWED },
	{ "patient_responsibility", RC_PATIENT_RESP },
	{ "service_from", RC_SERVICE_FROM },
	{ "service_to", RC_SERVICE_TO },
	{ "deductible", RC_DEDUCTIBLE },
	{ "copay", RC_COPAY },
	{ "coinsurance", RC_COINSURANCE },
	{ "denied_amount", RC_DENIED_AMOUNT },
	{ "carc_codes", RC_CARC },
	{ "denial_reasons", RC_DENIAL },
	{ "rarc_codes", RC_RARC },
	{ "payment_method", RC_PAY_METHOD },
	{ "payment_numbers", RC_PAY_NUMBERS },
	{ "payment_dates", RC_PAY_DATES },
	{ "claim_paid_amount", RC_CLAIM_PAID },
	{ "details_result", RC_DETAILS_RESULT },
	{ "details_note", RC_DETAILS_NOTE },
	{ "payments_result", RC_PAYMENTS_RESULT },
	{ "payments_note", RC_PAYMENTS_NOTE },
	{ "action", RC_ACTION },
};

/*
 * A row's lines and payments as two JSON arrays ($1 job, $2 row).
 * Amounts are strings, as DRF renders decimals; an adjustment
 * "CO-45-70.00" becomes {group, reason, amount, description}.
 */
#define PARTS_SQL(adj_desc, adj_join, line_reason)			\
	"SELECT (SELECT coalesce(json_agg(json_build_object("		\
	"'line', line_number, 'procedure_code', procedure_code,"	\
	" 'modifiers', modifiers, 'units', units::text,"		\
	" 'service_date', to_char(service_date, 'YYYY-MM-DD'),"	\
	" 'charged', charged::text, 'allowed', allowed::text,"		\
	" 'paid', paid::text, 'patient_responsibility', patient_resp::text,"\
	" 'adjustments', (SELECT coalesce(json_agg(json_build_object("	\
	"'group', split_part(a.s, '-', 1), 'reason', split_part(a.s, '-', 2),"\
	" 'amount', substring(a.s from '^[^-]*-[^-]*-(.*)$'),"		\
	" 'description', " adj_desc ") ORDER BY a.n), '[]')"		\
	" FROM unnest(string_to_array(adjustments, ';'))"		\
	" WITH ORDINALITY AS a(s, n)" adj_join "),"			\
	" 'carc_codes', carc_codes, 'remark_codes', remark_codes,"	\
	" 'denied', denied, 'denial_reason', " line_reason ")"		\
	" ORDER BY line_number), '[]')::text FROM csv_job_lines"	\
	" WHERE job_id = $1 AND row_number = $2),"			\
	" (SELECT coalesce(json_agg(json_build_object("			\
	"'seq', seq, 'payment_number', payment_number,"			\
	" 'payment_method', payment_method,"				\
	" 'issue_date', to_char(issue_date, 'YYYY-MM-DD'),"		\
	" 'payment_amount', payment_amount::text,"			\
	" 'claim_paid_amount', claim_paid_amount::text,"		\
	" 'status', status, 'payee_name', payee_name)"			\
	" ORDER BY seq), '[]')::text FROM csv_job_payments"		\
	" WHERE job_id = $1 AND row_number = $2)"

/* A denied line's first CARC code, in plain English if known. */
#define LINE_REASON_CARC						\
	"CASE WHEN denied THEN coalesce((SELECT r.description"		\
	" FROM carc_codes r WHERE r.code ="				\
	" split_part(csv_job_lines.carc_codes, ';', 1)),"		\
	" nullif(split_part(csv_job_lines.carc_codes, ';', 1), '')) END"
#define LINE_REASON_BARE						\
	"CASE WHEN denied THEN"						\
	" nullif(split_part(csv_job_lines.carc_codes, ';', 1), '') END"

/*
 * Checks that r->job_id is the caller's job.  Returns whether the
 * reference table carc_codes exists (1 or 0), or -1 after answering.
 */
static int
job_check(struct req *r, PGconn *db)
{
	static const char sql[] = "SELECT to_regclass('carc_codes')"
	    " IS NOT NULL FROM csv_jobs WHERE organization_id = $1 AND id = $2";
	const char *params[2];
	char org[24];
	struct errbuf err;
	PGresult *res;
	int carc;

	snprintf(org, sizeof(org), "%lld", r->org_id);
	params[0] = org;
	params[1] = r->job_id;
	if ((res = db_exec(db, &err, sql, 2, params)) == NULL) {
		resp_db_error(r, &err);
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_job_not_found(r);
		return -1;
	}
	carc = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return carc;
}

/* ?ordering=days_left: the most urgent first, rows without a deadline last. */
#define ROW_BY_DAYS_LEFT	"dl.days_left NULLS LAST, row_number"

/*
 * $1 job, $2 status, $3 success, $4 claim number prefix, $5 action,
 * $6 change (new, changed, unchanged).
 */
#define ROW_WHERE							\
	" WHERE job_id = $1 AND ($2::text IS NULL OR status = $2)"	\
	" AND ($3::boolean IS NULL OR success = $3)"			\
	" AND ($4::text IS NULL OR"					\
	"  starts_with(upper(claim_number), upper($4)))"		\
	" AND ($5::text IS NULL OR " RESULTS_ACTION " = $5)"		\
	" AND ($6::text IS NULL OR (SELECT x.change"			\
	"  FROM csv_row_change(csv_job_rows) x) = $6)"

static struct json_object *
row_json(const PGresult *res, int row)
{
	struct json_object *o = json_object_new_object();
	char when[DRF_TEXT_MAX];
	size_t i;

	pgjson_int(o, "row", res, row, RC_ROW);
	pgjson_text(o, "claim_number", res, row, RC_CLAIM);
	pgjson_text(o, "status", res, row, RC_STATUS);
	pgjson_text(o, "patient_name", res, row, RC_PATIENT);
	/* DRF renders DecimalField as a string ("1500.00"). */
	pgjson_text(o, "total_charged", res, row, RC_CHARGED);
	pgjson_text(o, "total_paid", res, row, RC_PAID);
	pgjson_text(o, "processed_date", res, row, RC_PROCESSED);
	pgjson_bool(o, "success", res, row, RC_SUCCESS);
	pgjson_text(o, "error_message", res, row, RC_ERROR);
	pgjson_text(o, "warning", res, row, RC_WARNING);
	pgjson_text(o, "lookup_result", res, row, RC_LOOKUP);
	pgjson_int(o, "attempts", res, row, RC_ATTEMPTS);
	/* Claim details: null until the workflow stored them. */
	for (i = 0; i < sizeof(detail_text) / sizeof(detail_text[0]); i++)
		pgjson_text(o, detail_text[i].key, res, row,
		    detail_text[i].col);
	pgjson_int(o, "line_count", res, row, RC_LINES);
	pgjson_int(o, "denied_line_count", res, row, RC_DENIED_LINES);
	pgjson_bool(o, "void_reissue", res, row, RC_VOID);
	/* Compared with the claim's latest earlier check. */
	pgjson_text(o, "change", res, row, RC_CHANGE);
	pgjson_text(o, "previous_status", res, row, RC_PREV_STATUS);
	pgjson_text(o, "previous_paid", res, row, RC_PREV_PAID);
	if (PQgetisnull(res, row, RC_PREV_CHECKED))
		json_object_object_add(o, "previous_checked_at", NULL);
	else {
		drf_datetime(strtoll(PQgetvalue(res, row, RC_PREV_CHECKED),
		    NULL, 10), when, sizeof(when));
		json_object_object_add(o, "previous_checked_at",
		    json_object_new_string(when));
	}
	/* What is due next, and when (null: nothing, or date unknown). */
	pgjson_text(o, "next_deadline", res, row, RC_DEADLINE);
	pgjson_text(o, "deadline_kind", res, row, RC_DEADLINE_KIND);
	pgjson_int(o, "days_left", res, row, RC_DAYS_LEFT);
	/* Not-found triage: which attempt found it, or why none did. */
	pgjson_text(o, "found_by", res, row, RC_FOUND_BY);
	pgjson_text(o, "not_found_reason", res, row, RC_NOT_FOUND_REASON);
	pgjson_text(o, "matched_claim_number", res, row, RC_MATCHED);
	pgjson_int(o, "triage_calls", res, row, RC_TRIAGE_CALLS);
	return o;
}

void
rows_list(struct req *r)
{
	static const char sql_count[] = "SELECT count(*) FROM csv_job_rows"
	    ROW_WHERE;
	/* [carc table][ordering=days_left] */
	static const char *const sql_page[2][2] = {
		{ "SELECT " ROW_COLS(RESULTS_DENIAL_REASONS_BARE) ROW_FROM
		    ROW_WHERE " ORDER BY row_number LIMIT $7 OFFSET $8",
		  "SELECT " ROW_COLS(RESULTS_DENIAL_REASONS_BARE) ROW_FROM
		    ROW_WHERE " ORDER BY " ROW_BY_DAYS_LEFT
		    " LIMIT $7 OFFSET $8" },
		{ "SELECT " ROW_COLS(RESULTS_DENIAL_REASONS_CARC) ROW_FROM
		    ROW_WHERE " ORDER BY row_number LIMIT $7 OFFSET $8",
		  "SELECT " ROW_COLS(RESULTS_DENIAL_REASONS_CARC) ROW_FROM
		    ROW_WHERE " ORDER BY " ROW_BY_DAYS_LEFT
		    " LIMIT $7 OFFSET $8" },
	};
	struct query q;
	const char *params[8], *v;
	long count, size;
	struct errbuf err;
	PGresult *res;
	PGconn *db;
	int i, n, carc, by_days = 0;

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
	params[4] = NULL;
	params[5] = NULL;
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
	if ((v = query_get(&q, "action")) != NULL && *v != '\0') {
		for (i = 0; i < RESULTS_NACTIONS; i++)
			if (strcmp(v, results_actions[i]) == 0)
				params[4] = results_actions[i];
		if (params[4] == NULL) {
			resp_field_error(r, 400, "invalid_query", "action",
			    "action must be one of the action buckets.");
			return;
		}
	}
	if ((v = query_get(&q, "change")) != NULL && *v != '\0') {
		if (strcmp(v, "new") == 0 || strcmp(v, "changed") == 0 ||
		    strcmp(v, "unchanged") == 0)
			params[5] = v;
		else {
			resp_field_error(r, 400, "invalid_query", "change",
			    "change must be new, changed or unchanged.");
			return;
		}
	}

	if ((v = query_get(&q, "ordering")) != NULL && *v != '\0') {
		if (strcmp(v, "days_left") == 0)
			by_days = 1;
		else if (strcmp(v, "row") != 0) {
			resp_field_error(r, 400, "invalid_query", "ordering",
			    "ordering must be row or days_left.");
			return;
		}
	}

	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	if ((carc = job_check(r, db)) == -1)
		return;
	if ((res = db_exec(db, &err, sql_count, 6, params)) == NULL) {
		resp_db_error(r, &err);
		return;
	}
	count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);

	size = drf_page_size(query_get(&q, "page_size"));
	if ((n = resp_page(r, db, &q, count, size, sql_page[carc][by_days],
	    8, params, row_json)) >= 0)
		r->rows = n;
}

/* Parses the {row} segment: 1 to INT_MAX in decimal, else -1. */
static long
row_number_of(const char *s)
{
	char *ep;
	long n;

	if (*s < '0' || *s > '9' || strlen(s) > 10)
		return -1;
	n = strtol(s, &ep, 10);
	return *ep != '\0' || n < 1 || n > INT_MAX ? -1 : n;
}

void
rows_detail(struct req *r)
{
	static const char sql_row[] = "SELECT "
	    ROW_COLS(RESULTS_DENIAL_REASONS_CARC)
	    ROW_FROM " WHERE job_id = $1 AND row_number = $2";
	static const char sql_row_bare[] = "SELECT "
	    ROW_COLS(RESULTS_DENIAL_REASONS_BARE)
	    ROW_FROM " WHERE job_id = $1 AND row_number = $2";
	static const char sql_parts[] = PARTS_SQL("d.description",
	    " LEFT JOIN carc_codes d ON d.code = split_part(a.s, '-', 2)",
	    LINE_REASON_CARC);
	static const char sql_parts_bare[] = PARTS_SQL("NULL::text", "",
	    LINE_REASON_BARE);
	struct json_object *o, *lines, *payments;
	const char *params[2];
	char rowbuf[24];
	struct errbuf err;
	PGresult *res;
	PGconn *db;
	long rownum;
	int carc;

	if (resp_job_id(r) == -1)
		return;
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	if ((carc = job_check(r, db)) == -1)
		return;
	/* Like DRF: another segment than a row number finds no row. */
	if ((rownum = row_number_of(r->route.row)) == -1) {
		resp_error(r, 404, "not_found", "No row with this number.",
		    NULL, NULL);
		return;
	}
	snprintf(rowbuf, sizeof(rowbuf), "%ld", rownum);
	params[0] = r->job_id;
	params[1] = rowbuf;
	if ((res = db_exec(db, &err, carc ? sql_row : sql_row_bare, 2,
	    params)) == NULL) {
		resp_db_error(r, &err);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 404, "not_found", "No row with this number.",
		    NULL, NULL);
		return;
	}
	o = row_json(res, 0);
	PQclear(res);
	if ((res = db_exec(db, &err, carc ? sql_parts : sql_parts_bare, 2,
	    params)) == NULL) {
		json_object_put(o);
		resp_db_error(r, &err);
		return;
	}
	lines = json_tokener_parse(PQgetvalue(res, 0, 0));
	payments = json_tokener_parse(PQgetvalue(res, 0, 1));
	PQclear(res);
	if (lines == NULL || payments == NULL) {
		json_object_put(lines);
		json_object_put(payments);
		json_object_put(o);
		errbuf_set(&err, "job=%s row=%ld: malformed parts JSON",
		    r->job_id, rownum);
		resp_db_error(r, &err);
		return;
	}
	json_object_object_add(o, "lines", lines);
	json_object_object_add(o, "payments", payments);
	r->rows = 1;
	resp_json(r, 200, o, NULL);
}
