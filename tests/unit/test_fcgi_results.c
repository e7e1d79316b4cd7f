/*
 * Results CSV variants (fcgi/results.c): query options, the input
 * columns stored with a job, the COPY statement and the header line
 * (csv_safe rule and RFC 4180 quoting of header names).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "tap.h"

#define JOB	"3f2b8c1e-9a4d-4e2f-8b7c-1d2e3f4a5b6c"
#define CONTRACT "row,claim_number,status,patient_name,total_charged," \
		"total_paid,processed_date,success,error_message"
#define EXT_TAIL "lookup_result,status_category_code,status_code," \
		"status_description,payer_claim_number,total_allowed," \
		"patient_responsibility,check_number,check_date,attempts," \
		"checked_at,member_match,found_by,not_found_reason," \
		"matched_claim_number,triage_calls"

static void
test_opts(void)
{
	struct results_opts o;
	const char *bad = NULL;

	ok(results_opts_parse(NULL, &o, &bad) == 0 && !o.extended &&
	    o.rows == RESULTS_ALL && !o.as_input && !o.bom, "defaults");
	ok(results_opts_parse("format=extended&rows=failed&bom=1", &o,
	    &bad) == 0 && o.extended && o.rows == RESULTS_FAILED && o.bom,
	    "extended failed bom");
	ok(results_opts_parse("rows=succeeded&as=input", &o, &bad) == 0 &&
	    o.rows == RESULTS_SUCCEEDED && o.as_input, "succeeded as input");
	ok(results_opts_parse("rows=unprocessed&format=&bom=0", &o,
	    &bad) == 0 && o.rows == RESULTS_UNPROCESSED && !o.bom,
	    "unprocessed, empty format");
	ok(results_opts_parse("rows=broken", &o, &bad) == -1 &&
	    strcmp(bad, "rows") == 0, "bad rows named");
	ok(results_opts_parse("format=xlsx", &o, &bad) == -1 &&
	    strcmp(bad, "format") == 0, "bad format named");
	ok(results_opts_parse("as=json", &o, &bad) == -1 &&
	    strcmp(bad, "as") == 0, "bad as named");
	ok(results_opts_parse("bom=yes", &o, &bad) == -1 &&
	    strcmp(bad, "bom") == 0, "bad bom named");
	ok(results_opts_parse("format=lines&rows=failed", &o, &bad) == 0 &&
	    o.lines && !o.payments && !o.extended && o.rows == RESULTS_FAILED,
	    "lines");
	ok(results_opts_parse("format=payments&summary=1", &o, &bad) == 0 &&
	    o.payments && o.summary && !o.lines, "payments summary");
	ok(results_opts_parse("summary=1", &o, &bad) == -1 &&
	    strcmp(bad, "summary") == 0, "summary without payments named");
	ok(results_opts_parse("format=payments&summary=2", &o, &bad) == -1 &&
	    strcmp(bad, "summary") == 0, "bad summary named");
	ok(results_opts_parse("format=lines&as=input", &o, &bad) == -1 &&
	    strcmp(bad, "as") == 0, "lines as input refused");
}

/* The claim details formats: columns after the contract's, joins. */
static void
test_details(void)
{
	struct results_opts o;
	struct results_cols c;
	struct json_object *hold;
	char *head, sql[RESULTS_SQL_MAX];
	const char *bad;

	head = malloc(RESULTS_HEADER_MAX);
	(void)results_cols_load(NULL, NULL, &c, &hold);

	(void)results_opts_parse("format=extended", &o, &bad);
	o.details = 1;
	ok(results_header(&o, &c, head, RESULTS_HEADER_MAX) > 0 &&
	    strstr(head, EXT_TAIL ",service_from,service_to,deductible,"
	    "copay,coinsurance,line_count,denied_line_count,denied_amount,"
	    "denial_reasons,rarc_codes,payment_method,payment_numbers,"
	    "payment_dates,claim_paid_amount,void_reissue,details_result,"
	    "details_note,payments_result,payments_note,action,"
	    "next_deadline,deadline_kind,days_left\r\n") != NULL,
	    "extended with details: the details after the payer's: %s", head);
	ok(results_sql(&o, &c, JOB, sql, sizeof(sql)) > 0 &&
	    strstr(sql, "csv_safe(replace(csv_job_rows.carc_codes") != NULL &&
	    strstr(sql, "carc_codes d") == NULL, "no carc_codes: codes only");
	o.carc = 1;
	ok(results_sql(&o, &c, JOB, sql, sizeof(sql)) > 0 &&
	    strstr(sql, "LEFT JOIN carc_codes d ON d.code = c.code") != NULL,
	    "carc_codes: texts joined");
	o.details = 0;
	ok(results_header(&o, &c, head, RESULTS_HEADER_MAX) > 0 &&
	    strstr(head, EXT_TAIL ",action,next_deadline,deadline_kind,"
	    "days_left\r\n") != NULL,
	    "status workflow: extended as before, the action, the deadline");
	ok(results_sql(&o, &c, JOB, sql, sizeof(sql)) > 0 &&
	    strstr(sql, "member_match WHEN true THEN 'true' WHEN false THEN"
	    " 'false' END, found_by, not_found_reason,"
	    " csv_safe(matched_claim_number), triage_calls, " RESULTS_ACTION
	    ", to_char(dl.next_deadline, 'YYYY-MM-DD'), dl.deadline_kind,"
	    " dl.days_left FROM csv_job_rows LEFT JOIN LATERAL"
	    " csv_row_deadline(csv_job_rows) dl ON true") != NULL,
	    "status workflow: the action, then the deadline joined");

	(void)results_opts_parse("format=lines&rows=failed", &o, &bad);
	ok(results_header(&o, &c, head, RESULTS_HEADER_MAX) > 0 &&
	    strcmp(head, CONTRACT ",line,procedure_code,modifiers,units,"
	    "service_date,charged,allowed,paid,patient_responsibility,"
	    "adjustments,remark_codes,denied,denial_reason\r\n") == 0,
	    "lines header: %s", head);
	ok(results_sql(&o, &c, JOB, sql, sizeof(sql)) > 0 &&
	    strstr(sql, "csv_safe(l_procedure_code)") != NULL &&
	    strstr(sql, " FROM csv_job_lines) l ON") != NULL &&
	    strstr(sql, " AND success = false ORDER BY row_number, l_line)")
	    != NULL, "lines sql: %s", sql);
	results_filename(&o, JOB, sql, sizeof(sql));
	ok(strcmp(sql, "results-" JOB "-failed-lines.csv") == 0, "%s", sql);

	(void)results_opts_parse("format=payments", &o, &bad);
	ok(results_header(&o, &c, head, RESULTS_HEADER_MAX) > 0 &&
	    strcmp(head, CONTRACT ",payment_number,payment_method,issue_date,"
	    "payment_amount,claim_paid_amount,payment_status,payee_name\r\n")
	    == 0, "payments header: %s", head);
	ok(results_sql(&o, &c, JOB, sql, sizeof(sql)) > 0 &&
	    strstr(sql, "csv_safe(p_payee_name)") != NULL &&
	    strstr(sql, "ORDER BY row_number, p_seq)") != NULL,
	    "payments sql");

	(void)results_opts_parse("format=payments&summary=1&rows=succeeded",
	    &o, &bad);
	ok(results_header(&o, &c, head, RESULTS_HEADER_MAX) > 0 &&
	    strcmp(head, "payment_number,payment_method,issue_date,"
	    "payment_amount,payment_status,claims,claims_paid_amount\r\n")
	    == 0, "summary header: %s", head);
	ok(results_sql(&o, &c, JOB, sql, sizeof(sql)) > 0 &&
	    strstr(sql, "FROM csv_job_payments WHERE job_id = '" JOB "' AND"
	    " row_number IN (SELECT row_number FROM csv_job_rows WHERE"
	    " job_id = '" JOB "' AND success = true) GROUP BY payment_number")
	    != NULL, "summary sql: %s", sql);
	results_filename(&o, JOB, sql, sizeof(sql));
	ok(strcmp(sql, "results-" JOB "-succeeded-payments-summary.csv") == 0,
	    "%s", sql);
	json_object_put(hold);
	free(head);
}

static void
test_cols(void)
{
	struct results_cols c;
	struct json_object *hold;

	ok(results_cols_load("[[\"Claim #\",\"claim_number\"],[\"Notes\","
	    "null],[\"DOB\",\"date_of_birth\"],[\"=x\",null]]", NULL, &c,
	    &hold) == 0, "input_columns parsed");
	ok(c.n == 4 && strcmp(c.col[0].name, "Claim #") == 0 &&
	    c.col[0].field == 0 && c.col[0].extra == -1, "mapped column");
	ok(c.col[1].field == -1 && c.col[1].extra == 0 &&
	    c.col[3].extra == 1 && c.col[2].field == 3,
	    "extras numbered in file order");
	json_object_put(hold);

	ok(results_cols_load(NULL, "[[\"Notes\",\"a\"],[\"Ref\",\"b\"]]", &c,
	    &hold) == 0 && c.n == 7 && strcmp(c.col[0].name,
	    "claim_number") == 0 && strcmp(c.col[6].name, "Ref") == 0 &&
	    c.col[6].extra == 1, "old job: canonical five then extras");
	json_object_put(hold);
	ok(results_cols_load(NULL, NULL, &c, &hold) == 0 && c.n == 5,
	    "old job without extras");
	json_object_put(hold);
	ok(results_cols_load("[[\"a\",\"bogus\"]]", NULL, &c, &hold) == -1,
	    "unknown column name refused");
	json_object_put(hold);
	ok(results_cols_load("{", NULL, &c, &hold) == -1, "malformed JSON");
	json_object_put(hold);
}

static void
test_sql_and_header(void)
{
	struct results_opts o;
	struct results_cols c;
	struct json_object *hold;
	const char *bad;
	char sql[RESULTS_SQL_MAX], *head;

	head = malloc(RESULTS_HEADER_MAX);
	ok(head != NULL, "header buffer");
	if (head == NULL)
		return;
	(void)results_cols_load("[[\"Claim #\",\"claim_number\"],"
	    "[\"First\",\"first_name\"],[\"Last\",\"last_name\"],"
	    "[\"DOB\",\"date_of_birth\"],[\"Member ID\",\"subscriber_id\"],"
	    "[\"Notes, misc\",null],[\"-cost\",null],[\"say \\\"hi\\\"\","
	    "null]]", NULL, &c, &hold);

	(void)results_opts_parse("", &o, &bad);
	ok(results_header(&o, &c, head, RESULTS_HEADER_MAX) > 0 &&
	    strcmp(head, CONTRACT "\r\n") == 0, "default header: %s", head);
	ok(results_sql(&o, &c, JOB, sql, sizeof(sql)) > 0, "default sql");
	ok(strstr(sql, "csv_safe(claim_number)") != NULL &&
	    strstr(sql, "csv_safe(total_charged)") == NULL &&
	    strstr(sql, "job_id = '" JOB "'") != NULL &&
	    strstr(sql, "success =") == NULL &&
	    strstr(sql, "ORDER BY row_number) TO STDOUT (FORMAT csv)") != NULL,
	    "default: amounts raw, whole job, ordered");

	(void)results_opts_parse("format=extended", &o, &bad);
	ok(results_header(&o, &c, head, RESULTS_HEADER_MAX) > 0 &&
	    strcmp(head, CONTRACT ",Claim #,First,Last,DOB,Member ID,"
	    "\"Notes, misc\",'-cost,\"say \"\"hi\"\"\","
	    EXT_TAIL ",action,next_deadline,deadline_kind,days_left\r\n") == 0,
	    "extended header: names as given, neutralised, quoted: %s", head);
	ok(results_sql(&o, &c, JOB, sql, sizeof(sql)) > 0 &&
	    strstr(sql, "csv_safe(extra->0->>1), csv_safe(extra->1->>1),"
	    " csv_safe(extra->2->>1), csv_safe(lookup_result)") != NULL &&
	    strstr(sql, "csv_safe(subscriber_id)") != NULL &&
	    strstr(sql, "patient_responsibility, csv_safe(check_number)") !=
	    NULL, "extended sql: extras by index, then the payer columns");

	(void)results_opts_parse("rows=failed&as=input", &o, &bad);
	ok(results_header(&o, &c, head, RESULTS_HEADER_MAX) > 0 &&
	    strcmp(head, "Claim #,First,Last,DOB,Member ID,\"Notes, misc\","
	    "'-cost,\"say \"\"hi\"\"\"\r\n") == 0,
	    "as=input header: the input's only: %s", head);
	ok(results_sql(&o, &c, JOB, sql, sizeof(sql)) > 0 &&
	    strncmp(sql, "COPY (SELECT csv_safe(claim_number), "
	    "csv_safe(first_name)", 38) == 0 &&
	    strstr(sql, "row_number,") == NULL &&
	    strstr(sql, " AND success = false ORDER") != NULL,
	    "as=input sql: input columns, failed rows: %s", sql);

	(void)results_opts_parse("rows=succeeded", &o, &bad);
	ok(results_sql(&o, &c, JOB, sql, sizeof(sql)) > 0 &&
	    strstr(sql, " AND success = true ORDER") != NULL, "succeeded");
	(void)results_opts_parse("rows=unprocessed", &o, &bad);
	ok(results_sql(&o, &c, JOB, sql, sizeof(sql)) > 0 &&
	    strstr(sql, " AND success IS NULL ORDER") != NULL, "unprocessed");
	ok(results_sql(&o, &c, JOB, sql, 40) == -1, "too small: -1");
	ok(results_header(&o, &c, head, 10) == -1, "header too small: -1");

	results_filename(&o, JOB, sql, sizeof(sql));
	ok(strcmp(sql, "results-" JOB "-unprocessed.csv") == 0, "filename %s",
	    sql);
	(void)results_opts_parse("rows=failed&as=input", &o, &bad);
	results_filename(&o, JOB, sql, sizeof(sql));
	ok(strcmp(sql, "results-" JOB "-failed-input.csv") == 0, "filename %s",
	    sql);
	json_object_put(hold);
	free(head);
}

/* Every header cell that could start a formula is neutralised. */
static void
test_header_injection(void)
{
	static const char *const names[] = {
		"=HYPERLINK(\"http://x\")", "+1", "-2", "@x", "\tt", "\rr"
	};
	static const char *const want[] = {
		"\"'=HYPERLINK(\"\"http://x\"\")\"", "'+1", "'-2", "'@x",
		"'\tt", "\"'\rr\""
	};
	struct results_opts o;
	struct results_cols c;
	char head[4096], buf[256];
	const char *bad;
	size_t i;

	(void)results_opts_parse("as=input", &o, &bad);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.n = 1;
		c.col[0].name = names[i];
		c.col[0].field = -1;
		c.col[0].extra = 0;
		snprintf(buf, sizeof(buf), "%s\r\n", want[i]);
		ok(results_header(&o, &c, head, sizeof(head)) > 0 &&
		    strcmp(head, buf) == 0, "header cell %zu neutralised", i);
	}
	c.col[0].name = "";
	ok(results_header(&o, &c, head, sizeof(head)) > 0 &&
	    strcmp(head, "\"\"\r\n") == 0, "empty name quoted");
}

static int
no_row(void *arg, const struct csvin_row *row)
{
	(void)arg;
	(void)row;
	return 0;
}

/* The header csvin mapped, stored and loaded back (upload -> results). */
static void
test_input_columns_round_trip(void)
{
	static const char csv[] = "Notes,Claim #,First Name,Last Name,DOB,"
	    "Member ID,Ref,,\r\nn,A1,J,D,1980-01-01,S1,r,,\r\n";
	struct csvin_summary sum;
	struct json_object *cols, *hold;
	struct results_cols c;
	const char *text;

	ok(csvin_parse(csv, sizeof(csv) - 1, 0, NULL, no_row, NULL, &sum,
	    NULL) == CSVIN_OK, "parsed");
	cols = results_input_columns(&sum);
	text = json_object_to_json_string_ext(cols, JSON_C_TO_STRING_PLAIN);
	ok(strcmp(text, "[[\"Notes\",null],[\"Claim #\",\"claim_number\"],"
	    "[\"First Name\",\"first_name\"],[\"Last Name\",\"last_name\"],"
	    "[\"DOB\",\"date_of_birth\"],[\"Member ID\",\"subscriber_id\"],"
	    "[\"Ref\",null]]") == 0, "stored: %s", text);
	ok(results_cols_load(text, NULL, &c, &hold) == 0 && c.n == 7 &&
	    c.col[0].extra == 0 && c.col[6].extra == 1 &&
	    c.col[5].field == CSVIN_SUBSCRIBER_ID, "loaded back");
	json_object_put(hold);
	json_object_put(cols);
	csvin_summary_free(&sum);
}

int
main(void)
{
	test_input_columns_round_trip();
	test_opts();
	test_cols();
	test_sql_and_header();
	test_header_injection();
	test_details();
	return done_testing();
}
