/*
 * Results CSV variants: the COPY statement and the header line.  The
 * header is written here rather than by COPY's HEADER option because its
 * names come from the user's file: they need the csv_safe() rule too,
 * and may be longer than an SQL identifier (63 bytes).
 */
#include <stdio.h>
#include <string.h>

#include <csv.h>

#include "csvin.h"
#include "query.h"
#include "results.h"
#include "util.h"

/* The compatibility contract's columns, in order, and their SQL. */
static const struct {
	const char *name, *sql;
} contract[] = {
	{ "row", "row_number" },
	{ "claim_number", "csv_safe(claim_number)" },
	/* reliability: rows a cancelled or failed job never reached. */
	{ "status", "csv_safe(CASE WHEN success IS NULL THEN 'Unprocessed'"
	    " ELSE status END)" },
	{ "patient_name", "csv_safe(patient_name)" },
	{ "total_charged", "total_charged" },
	{ "total_paid", "total_paid" },
	{ "processed_date", "to_char(processed_date, 'YYYY-MM-DD')" },
	{ "success", "CASE success WHEN true THEN 'true'"
	    " WHEN false THEN 'false' END" },
	{ "error_message", "csv_safe(CASE WHEN success IS NULL THEN"
	    " 'Not processed: the job ended before this row'"
	    " ELSE error_message END)" },
};

/* ?format=extended: after the input columns. */
static const struct {
	const char *name, *sql;
} extended[] = {
	{ "lookup_result", "csv_safe(lookup_result)" },
	{ "status_category_code", "csv_safe(status_category_code)" },
	{ "status_code", "csv_safe(status_code)" },
	{ "status_description", "csv_safe(status_description)" },
	{ "payer_claim_number", "csv_safe(payer_claim_number)" },
	{ "total_allowed", "total_allowed" },
	{ "patient_responsibility", "patient_responsibility" },
	{ "check_number", "csv_safe(check_number)" },
	{ "check_date", "to_char(check_date, 'YYYY-MM-DD')" },
	{ "attempts", "attempts" },
	{ "checked_at", "to_char(checked_at AT TIME ZONE 'UTC',"
	    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" },
	{ "member_match", "CASE member_match WHEN true THEN 'true'"
	    " WHEN false THEN 'false' END" },
	/* Not-found triage: which attempt found the claim, or why none. */
	{ "found_by", "found_by" },
	{ "not_found_reason", "not_found_reason" },
	{ "matched_claim_number", "csv_safe(matched_claim_number)" },
	{ "triage_calls", "triage_calls" },
};

/*
 * ?format=extended of a job whose workflow asked for details or
 * payments (a status job's extended CSV stays as it was): after the
 * columns above.  The claim's payer number, allowed amount and patient
 * responsibility are already among them.  NULL sql: written by
 * results_sql() (the CARC texts depend on carc_codes being there).
 */
static const struct {
	const char *name, *sql;
} details[] = {
	{ "service_from", "to_char(service_from, 'YYYY-MM-DD')" },
	{ "service_to", "to_char(service_to, 'YYYY-MM-DD')" },
	{ "deductible", "deductible" },
	{ "copay", "copay" },
	{ "coinsurance", "coinsurance" },
	{ "line_count", "line_count" },
	{ "denied_line_count", "denied_line_count" },
	{ "denied_amount", "denied_amount" },
	{ "denial_reasons", NULL },
	{ "rarc_codes", "csv_safe(rarc_codes)" },
	{ "payment_method", "csv_safe(payment_method)" },
	{ "payment_numbers", "csv_safe(payment_numbers)" },
	{ "payment_dates", "csv_safe(payment_dates)" },
	{ "claim_paid_amount", "claim_paid_amount" },
	{ "void_reissue", "CASE void_reissue WHEN true THEN 'true'"
	    " WHEN false THEN 'false' END" },
	{ "details_result", "csv_safe(details_result)" },
	{ "details_note", "csv_safe(details_note)" },
	{ "payments_result", "csv_safe(payments_result)" },
	{ "payments_note", "csv_safe(payments_note)" },
};

#define DENIAL_REASONS_CARC	"csv_safe(" RESULTS_DENIAL_REASONS_CARC ")"
#define DENIAL_REASONS_BARE	"csv_safe(" RESULTS_DENIAL_REASONS_BARE ")"

/*
 * ?format=lines: after the contract's columns, from csv_job_lines
 * joined as LINES_FROM names its columns (l_*, apart from the row's).
 */
static const struct {
	const char *name, *sql;
} lines[] = {
	{ "line", "l_line" },
	{ "procedure_code", "csv_safe(l_procedure_code)" },
	{ "modifiers", "csv_safe(l_modifiers)" },
	{ "units", "l_units" },
	{ "service_date", "to_char(l_service_date, 'YYYY-MM-DD')" },
	{ "charged", "l_charged" },
	{ "allowed", "l_allowed" },
	{ "paid", "l_paid" },
	{ "patient_responsibility", "l_patient_resp" },
	{ "adjustments", "csv_safe(l_adjustments)" },
	{ "remark_codes", "csv_safe(l_remark_codes)" },
	{ "denied", "CASE l_denied WHEN true THEN 'true'"
	    " WHEN false THEN 'false' END" },
	{ "denial_reason", NULL },
};

#define LINES_FROM							\
	" JOIN (SELECT job_id AS l_job, row_number AS l_row,"		\
	" line_number AS l_line, procedure_code AS l_procedure_code,"	\
	" modifiers AS l_modifiers, units AS l_units,"			\
	" service_date AS l_service_date, charged AS l_charged,"	\
	" allowed AS l_allowed, paid AS l_paid,"			\
	" patient_resp AS l_patient_resp, adjustments AS l_adjustments,"\
	" carc_codes AS l_carc_codes, remark_codes AS l_remark_codes,"	\
	" denied AS l_denied FROM csv_job_lines) l"			\
	" ON l_job = job_id AND l_row = row_number"

/* A denied line's first CARC code in plain English. */
#define DENIAL_REASON_CARC						\
	"csv_safe(CASE WHEN l_denied THEN coalesce((SELECT d.description"\
	" FROM carc_codes d WHERE d.code ="				\
	" split_part(l_carc_codes, ';', 1)),"				\
	" nullif(split_part(l_carc_codes, ';', 1), '')) END)"
#define DENIAL_REASON_BARE						\
	"csv_safe(CASE WHEN l_denied THEN"				\
	" nullif(split_part(l_carc_codes, ';', 1), '') END)"

/*
 * ?format=changes: after the contract's columns, the claim's latest
 * earlier check (sql/functions/claims_ledger.sql, the lateral ch); only the
 * rows new or changed since then.
 */
static const struct {
	const char *name, *sql;
} changes[] = {
	{ "previous_status", "csv_safe(ch.previous_status)" },
	{ "previous_paid", "ch.previous_paid" },
	{ "previous_checked_at", "to_char(ch.previous_checked_at AT TIME ZONE"
	    " 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" },
	{ "change", "ch.change" },
};

/*
 * ?format=extended, after the action: the next deadline
 * (sql/functions/claim_deadlines.sql, the lateral dl); empty when none.
 */
static const struct {
	const char *name, *sql;
} deadline[] = {
	{ "next_deadline", "to_char(dl.next_deadline, 'YYYY-MM-DD')" },
	{ "deadline_kind", "dl.deadline_kind" },
	{ "days_left", "dl.days_left" },
};

#define DEADLINE_FROM							\
	" LEFT JOIN LATERAL csv_row_deadline(csv_job_rows) dl ON true"

#define CHANGES_FROM							\
	" JOIN LATERAL csv_row_change(csv_job_rows) ch"			\
	" ON ch.change IN ('new', 'changed')"

/* ?format=payments: after the contract's columns (p_* as joined). */
static const struct {
	const char *name, *sql;
} payments[] = {
	{ "payment_number", "csv_safe(p_payment_number)" },
	{ "payment_method", "csv_safe(p_payment_method)" },
	{ "issue_date", "to_char(p_issue_date, 'YYYY-MM-DD')" },
	{ "payment_amount", "p_payment_amount" },
	{ "claim_paid_amount", "p_claim_paid_amount" },
	{ "payment_status", "csv_safe(p_status)" },
	{ "payee_name", "csv_safe(p_payee_name)" },
};

#define PAYMENTS_FROM							\
	" JOIN (SELECT job_id AS p_job, row_number AS p_row, seq AS p_seq,"\
	" payment_number AS p_payment_number,"				\
	" payment_method AS p_payment_method, issue_date AS p_issue_date,"\
	" payment_amount AS p_payment_amount,"				\
	" claim_paid_amount AS p_claim_paid_amount, status AS p_status,"\
	" payee_name AS p_payee_name FROM csv_job_payments) p"		\
	" ON p_job = job_id AND p_row = row_number"

/*
 * ?format=payments&summary=1: one row per payment number of the job.
 * claims_paid_amount leaves voided payments out, as the rows'
 * claim_paid_amount does.
 */
static const struct {
	const char *name, *sql;
} summary[] = {
	{ "payment_number", "csv_safe(payment_number)" },
	{ "payment_method", "csv_safe(string_agg(DISTINCT payment_method,"
	    " ';'))" },
	{ "issue_date", "to_char(min(issue_date), 'YYYY-MM-DD')" },
	{ "payment_amount", "max(payment_amount)" },
	{ "payment_status", "csv_safe(string_agg(DISTINCT status, ';'))" },
	{ "claims", "count(DISTINCT row_number)" },
	{ "claims_paid_amount", "coalesce(sum(claim_paid_amount) FILTER"
	    " (WHERE upper(status) IS DISTINCT FROM 'VOIDED'), 0)" },
};

const char *const results_actions[RESULTS_NACTIONS] = {
	"paid", "partially_paid", "denied_correctable", "denied_appealable",
	"needs_information", "pending", "pending_long", "rejected",
	"not_found", "input_invalid", "error", "review"
};

int
results_opts_parse(const char *qs, struct results_opts *o, const char **bad)
{
	struct query q;
	const char *v;

	memset(o, 0, sizeof(*o));
	o->rows = RESULTS_ALL;
	if (query_parse(qs, &q) == -1) {
		*bad = "query";
		return -1;
	}
	if ((v = query_get(&q, "format")) != NULL && *v != '\0') {
		if (strcmp(v, "extended") == 0)
			o->extended = 1;
		else if (strcmp(v, "lines") == 0)
			o->lines = 1;
		else if (strcmp(v, "payments") == 0)
			o->payments = 1;
		else if (strcmp(v, "changes") == 0)
			o->changes = 1;
		else if (strcmp(v, "csv") != 0) {
			*bad = "format";
			return -1;
		}
	}
	if ((v = query_get(&q, "summary")) != NULL && *v != '\0') {
		if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
			o->summary = 1;
		else if (strcmp(v, "0") != 0 && strcmp(v, "false") != 0) {
			*bad = "summary";
			return -1;
		}
		if (o->summary && !o->payments) {
			*bad = "summary";
			return -1;
		}
	}
	if ((v = query_get(&q, "rows")) != NULL && *v != '\0') {
		if (strcmp(v, "failed") == 0)
			o->rows = RESULTS_FAILED;
		else if (strcmp(v, "succeeded") == 0)
			o->rows = RESULTS_SUCCEEDED;
		else if (strcmp(v, "unprocessed") == 0)
			o->rows = RESULTS_UNPROCESSED;
		else if (strcmp(v, "all") != 0) {
			*bad = "rows";
			return -1;
		}
	}
	if ((v = query_get(&q, "as")) != NULL && *v != '\0') {
		if (strcmp(v, "input") == 0)
			o->as_input = 1;
		else if (strcmp(v, "results") != 0) {
			*bad = "as";
			return -1;
		}
		/* The input has no lines or payments to show. */
		if (o->as_input && (o->lines || o->payments || o->changes)) {
			*bad = "as";
			return -1;
		}
	}
	if ((v = query_get(&q, "bom")) != NULL && *v != '\0') {
		if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
			o->bom = 1;
		else if (strcmp(v, "0") != 0 && strcmp(v, "false") != 0) {
			*bad = "bom";
			return -1;
		}
	}
	return 0;
}

/* The required column named name, or -1. */
static int
field_of(const char *name)
{
	int col;

	for (col = 0; col < CSVIN_COL__MAX; col++)
		if (strcmp(name, csvin_col_names[col]) == 0)
			return col;
	return -1;
}

/* Appends the extras named in a row's extra ([[name, value], ...]). */
static int
add_extras(struct results_cols *c, struct json_object *extra)
{
	struct json_object *pair, *name;
	size_t i, n;

	if (extra == NULL)
		return 0;
	if (!json_object_is_type(extra, json_type_array))
		return -1;
	n = json_object_array_length(extra);
	for (i = 0; i < n && c->n < CSV_MAX_COLUMNS; i++) {
		pair = json_object_array_get_idx(extra, i);
		if (!json_object_is_type(pair, json_type_array) ||
		    (name = json_object_array_get_idx(pair, 0)) == NULL ||
		    !json_object_is_type(name, json_type_string))
			return -1;
		c->col[c->n].name = json_object_get_string(name);
		c->col[c->n].field = -1;
		c->col[c->n].extra = (int)i;
		c->n++;
	}
	return 0;
}

int
results_cols_load(const char *input_columns, const char *first_extra,
    struct results_cols *c, struct json_object **hold)
{
	struct json_object *arr, *pair, *name, *col, *extra;
	size_t i, n;
	int nextra = 0, field;

	memset(c, 0, sizeof(*c));
	*hold = NULL;
	if (input_columns == NULL) {
		for (field = 0; field < CSVIN_COL__MAX; field++) {
			c->col[c->n].name = csvin_col_names[field];
			c->col[c->n].field = field;
			c->col[c->n].extra = -1;
			c->n++;
		}
		if (first_extra == NULL)
			return 0;
		if ((extra = json_tokener_parse(first_extra)) == NULL)
			return -1;
		*hold = extra;
		return add_extras(c, extra);
	}
	if ((arr = json_tokener_parse(input_columns)) == NULL)
		return -1;
	*hold = arr;
	if (!json_object_is_type(arr, json_type_array))
		return -1;
	n = json_object_array_length(arr);
	for (i = 0; i < n && c->n < CSV_MAX_COLUMNS; i++) {
		pair = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(pair, json_type_array) ||
		    (name = json_object_array_get_idx(pair, 0)) == NULL ||
		    !json_object_is_type(name, json_type_string))
			return -1;
		col = json_object_array_get_idx(pair, 1);
		field = -1;
		if (col != NULL && (!json_object_is_type(col,
		    json_type_string) ||
		    (field = field_of(json_object_get_string(col))) < 0))
			return -1;
		c->col[c->n].name = json_object_get_string(name);
		c->col[c->n].field = field;
		c->col[c->n].extra = field < 0 ? nextra++ : -1;
		c->n++;
	}
	return 0;
}

struct json_object *
results_input_columns(const struct csvin_summary *sum)
{
	struct json_object *a, *pair;
	size_t i;
	int col, mapped;

	a = json_object_new_array();
	for (i = 0; i < sum->ncolumns && i < CSV_MAX_COLUMNS; i++) {
		pair = json_object_new_array();
		json_object_array_add(pair, json_object_new_string(
		    sum->header[i] ? sum->header[i] : ""));
		mapped = -1;
		for (col = 0; col < CSVIN_COL__MAX; col++)
			if (sum->column_index[col] == (int)i)
				mapped = col;
		json_object_array_add(pair, mapped < 0 ? NULL :
		    json_object_new_string(csvin_col_names[mapped]));
		json_object_array_add(a, pair);
	}
	return a;
}

/* Appends s to out at *len; 0 or -1 if it does not fit. */
static int
put(char *out, size_t outsz, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > outsz)
		return -1;
	memcpy(out + *len, s, n + 1);
	*len += n;
	return 0;
}

/* The rows= condition on csv_job_rows, "" for all rows. */
static const char *
rows_where(enum results_rows rows)
{
	switch (rows) {
	case RESULTS_FAILED:
		return " AND success = false";
	case RESULTS_SUCCEEDED:
		return " AND success = true";
	case RESULTS_UNPROCESSED:
		return " AND success IS NULL";
	case RESULTS_ALL:
		break;
	}
	return "";
}

/* The payments summary's statement (see results_sql). */
static int
summary_sql(const struct results_opts *o, const char *job_id, char *out,
    size_t outsz)
{
	size_t len = 0, i;
	int rc = 0;

	rc |= put(out, outsz, &len, "COPY (SELECT ");
	for (i = 0; i < NELEM(summary); i++) {
		rc |= put(out, outsz, &len, i == 0 ? "" : ", ");
		rc |= put(out, outsz, &len, summary[i].sql);
	}
	rc |= put(out, outsz, &len, " FROM csv_job_payments WHERE job_id = '");
	rc |= put(out, outsz, &len, job_id);
	rc |= put(out, outsz, &len, "'");
	if (o->rows != RESULTS_ALL) {
		rc |= put(out, outsz, &len, " AND row_number IN (SELECT"
		    " row_number FROM csv_job_rows WHERE job_id = '");
		rc |= put(out, outsz, &len, job_id);
		rc |= put(out, outsz, &len, "'");
		rc |= put(out, outsz, &len, rows_where(o->rows));
		rc |= put(out, outsz, &len, ")");
	}
	rc |= put(out, outsz, &len, " GROUP BY payment_number"
	    " ORDER BY payment_number) TO STDOUT (FORMAT csv)");
	return rc != 0 ? -1 : (int)len;
}

int
results_sql(const struct results_opts *o, const struct results_cols *c,
    const char *job_id, char *out, size_t outsz)
{
	char buf[128];
	size_t len = 0, i;
	int first = 1, rc = 0;

	if (o->summary)
		return summary_sql(o, job_id, out, outsz);
#define ITEM(s) do {							\
	rc |= put(out, outsz, &len, first ? "" : ", ");			\
	rc |= put(out, outsz, &len, (s));				\
	first = 0;							\
} while (0)

	rc |= put(out, outsz, &len, "COPY (SELECT ");
	if (!o->as_input)
		for (i = 0; i < NELEM(contract); i++)
			ITEM(contract[i].sql);
	if (o->extended || o->as_input)
		for (i = 0; i < c->n; i++) {
			if (c->col[i].field >= 0)
				snprintf(buf, sizeof(buf), "csv_safe(%s)",
				    csvin_col_names[c->col[i].field]);
			else
				snprintf(buf, sizeof(buf),
				    "csv_safe(extra->%d->>1)", c->col[i].extra);
			ITEM(buf);
		}
	if (o->extended && !o->as_input) {
		for (i = 0; i < NELEM(extended); i++)
			ITEM(extended[i].sql);
		if (o->details)
			for (i = 0; i < NELEM(details); i++)
				ITEM(details[i].sql != NULL ? details[i].sql :
				    o->carc ? DENIAL_REASONS_CARC :
				    DENIAL_REASONS_BARE);
		/* Last, for every workflow: what to do with the claim. */
		ITEM(RESULTS_ACTION);
		for (i = 0; i < NELEM(deadline); i++)
			ITEM(deadline[i].sql);
	}
	if (o->lines)
		for (i = 0; i < NELEM(lines); i++)
			ITEM(lines[i].sql != NULL ? lines[i].sql : o->carc ?
			    DENIAL_REASON_CARC : DENIAL_REASON_BARE);
	if (o->payments)
		for (i = 0; i < NELEM(payments); i++)
			ITEM(payments[i].sql);
	if (o->changes)
		for (i = 0; i < NELEM(changes); i++)
			ITEM(changes[i].sql);
	rc |= put(out, outsz, &len, " FROM csv_job_rows");
	if (o->extended && !o->as_input)
		rc |= put(out, outsz, &len, DEADLINE_FROM);
	if (o->changes)
		rc |= put(out, outsz, &len, CHANGES_FROM);
	if (o->lines)
		rc |= put(out, outsz, &len, LINES_FROM);
	if (o->payments)
		rc |= put(out, outsz, &len, PAYMENTS_FROM);
	rc |= put(out, outsz, &len, " WHERE job_id = '");
	rc |= put(out, outsz, &len, job_id);
	rc |= put(out, outsz, &len, "'");
	rc |= put(out, outsz, &len, rows_where(o->rows));
	rc |= put(out, outsz, &len, " ORDER BY row_number");
	if (o->lines)
		rc |= put(out, outsz, &len, ", l_line");
	if (o->payments)
		rc |= put(out, outsz, &len, ", p_seq");
	rc |= put(out, outsz, &len, ") TO STDOUT (FORMAT csv)");
#undef ITEM
	return rc != 0 ? -1 : (int)len;
}

/*
 * Appends one header cell: csv_safe()'s rule (a leading =, +, -, @, tab
 * or CR gets an apostrophe), then quoted by libcsv where PostgreSQL's
 * COPY would quote (a delimiter, quote or line break, or empty).
 */
static int
put_cell(char *out, size_t outsz, size_t *len, const char *name)
{
	char cell[2 * CSV_MAX_FIELD_BYTES + 8];
	size_t n, need;

	n = (size_t)snprintf(cell, sizeof(cell), "%s%s",
	    name[0] != '\0' && strchr("=+-@\t\r", name[0]) != NULL ? "'" : "",
	    name);
	if (n >= sizeof(cell) / 2)
		return -1;
	if (n > 0 && strpbrk(cell, ",\"\r\n") == NULL)
		return put(out, outsz, len, cell);
	need = csv_write(NULL, 0, cell, n);
	if (*len + need + 1 > outsz)
		return -1;
	(void)csv_write(out + *len, outsz - *len, cell, n);
	*len += need;
	out[*len] = '\0';
	return 0;
}

int
results_header(const struct results_opts *o, const struct results_cols *c,
    char *out, size_t outsz)
{
	size_t len = 0, i;
	int first = 1, rc = 0;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
#define CELL(s) do {							\
	rc |= put(out, outsz, &len, first ? "" : ",");			\
	rc |= put_cell(out, outsz, &len, (s));				\
	first = 0;							\
} while (0)
	if (o->summary) {
		for (i = 0; i < NELEM(summary); i++)
			CELL(summary[i].name);
		goto done;
	}
	if (!o->as_input)
		for (i = 0; i < NELEM(contract); i++)
			CELL(contract[i].name);
	if (o->extended || o->as_input)
		for (i = 0; i < c->n; i++)
			CELL(c->col[i].name);
	if (o->extended && !o->as_input) {
		for (i = 0; i < NELEM(extended); i++)
			CELL(extended[i].name);
		if (o->details)
			for (i = 0; i < NELEM(details); i++)
				CELL(details[i].name);
		CELL("action");
		for (i = 0; i < NELEM(deadline); i++)
			CELL(deadline[i].name);
	}
	if (o->lines)
		for (i = 0; i < NELEM(lines); i++)
			CELL(lines[i].name);
	if (o->payments)
		for (i = 0; i < NELEM(payments); i++)
			CELL(payments[i].name);
	if (o->changes)
		for (i = 0; i < NELEM(changes); i++)
			CELL(changes[i].name);
#undef CELL
done:
	rc |= put(out, outsz, &len, "\r\n");
	return rc != 0 ? -1 : (int)len;
}

void
results_filename(const struct results_opts *o, const char *job_id,
    char *out, size_t outsz)
{
	static const char *const rows[] = {
		"", "-failed", "-succeeded", "-unprocessed"
	};

	snprintf(out, outsz, "results-%s%s%s.csv", job_id, rows[o->rows],
	    o->as_input ? "-input" : o->extended ? "-extended" :
	    o->lines ? "-lines" : o->summary ? "-payments-summary" :
	    o->payments ? "-payments" : o->changes ? "-changes" : "");
}
