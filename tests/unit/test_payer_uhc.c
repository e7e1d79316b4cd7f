/*
 * Adapter UHC/CLAIM_STATUS on example claim inquiry exchanges:
 * the request body built exactly, responses mapped to the output columns,
 * errors classified.  No network.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "payer_int.h"
#include "payer_uhc.h"
#include "payer_case.h"
#include "tap.h"

/* An example claim inquiry answer (found), verbatim but for layout. */
static const char found_json[] =
    "{\"data\": {\"searchClaim\": {\"claims\": [{\n"
    "  \"claimNumber\": \"ZE59426195\",\n"
    "  \"claimStatus\": \"Processed\",\n"
    "  \"member\": {\"subscriberId\": \"ABC123456\", "
    "\"firstName\": \"JOHN\",\n"
    "    \"lastName\": \"DOE\", \"dateOfBirth\": \"01/15/1980\"},\n"
    "  \"claimEvents\": {\"receivedDate\": \"09/28/2025\", "
    "\"processedDate\": \"10/10/2025\",\n"
    "    \"serviceStartDate\": \"09/20/2025\", "
    "\"serviceEndDate\": \"09/20/2025\"},\n"
    "  \"claimLevelTotalAmount\": {\"totalBilledChargeAmount\": "
    "\"1500.00\",\n"
    "    \"totalAllowedAmount\": \"1300.00\", "
    "\"totalPaidAmount\": \"1200.00\",\n"
    "    \"totalPatientResponsibilityAmount\": \"100.00\"},\n"
    "  \"payments\": [{\"paymentNumber\": \"EFT0001234\", "
    "\"paymentIssueDate\": \"10/12/2025\",\n"
    "    \"paymentAmount\": \"1200.00\"}],\n"
    "  \"claimStatusCrosswalkData\": [{\"claim507Code\": \"F1\", "
    "\"claim507CodeDesc\": \"Finalized/Payment\",\n"
    "    \"claim508Code\": \"65\", "
    "\"claim508CodeDesc\": \"Claim/line has been paid\"}]\n"
    "}], \"pagination\": {\"hasMoreRecords\": false}}}}\n";

static const char notfound_json[] =
    "{\"data\": {\"searchClaim\": {\"claims\": [], "
    "\"pagination\": {\"hasMoreRecords\": false}}}}";

static struct payer_endpoint ep = {
	"UHC", "CLAIM_STATUS", "http://127.0.0.1:1", "/apip/auth/v2/token",
	"/oihub/claim/inquiry/v1", "87726"
};

static const char *
var(struct json_object *root, const char *key)
{
	struct json_object *v, *in;

	v = payer_json_get(root, "variables", json_type_object);
	in = payer_json_get(v, "searchClaimInput", json_type_object);
	return payer_json_str(in, key);
}

static void
test_build(const struct payer_adapter *ad)
{
	struct payer_request req;
	struct errbuf err;
	struct json_object *root;
	struct payer_claim c;
	const char *s;

	memset(&req, 0, sizeof(req));
	ok(ad->build_request(&ep, &cred, &john, &req, &err) == 0,
	    "build_request succeeds");
	ok(req.body != NULL && req.body_len == strlen(req.body),
	    "body and its length");
	root = payer_json_parse(req.body, req.body_len);
	ok(root != NULL, "body is JSON");
	ok((s = payer_json_str(root, "operationName")) && !strcmp(s,
	    "SearchClaim"), "operationName");
	ok((s = payer_json_str(root, "query")) && !strcmp(s, PAYER_UHC_QUERY),
	    "query text");
	ok((s = var(root, "payerId")) && !strcmp(s, "87726"), "payerId");
	ok((s = var(root, "claimNumber")) && !strcmp(s, "ZE59426195"),
	    "claimNumber");
	ok((s = var(root, "memberId")) && !strcmp(s, "ABC123456"), "memberId");
	ok((s = var(root, "memberFirstName")) && !strcmp(s, "John"),
	    "memberFirstName");
	ok((s = var(root, "memberLastName")) && !strcmp(s, "Doe"),
	    "memberLastName");
	ok((s = var(root, "memberDateOfBirth")) && !strcmp(s, "01/15/1980"),
	    "memberDateOfBirth is MM/DD/YYYY");
	ok(json_object_object_length(payer_json_get(payer_json_get(root,
	    "variables", json_type_object), "searchClaimInput",
	    json_type_object)) == 6, "exactly six input variables");
	json_object_put(root);
	ok(req.nheaders == 1 && !strcmp(req.headers[0],
	    "providerTaxId: 123456789"), "providerTaxId header");
	free(req.body);

	/* names with quotes and non-ASCII survive JSON escaping */
	c = john;
	c.last_name = "O\"Brien-M\xc3\xbcller";
	memset(&req, 0, sizeof(req));
	ok(ad->build_request(&ep, &cred, &c, &req, &err) == 0 &&
	    (root = payer_json_parse(req.body, req.body_len)) != NULL,
	    "escaped name builds valid JSON");
	ok((s = var(root, "memberLastName")) && !strcmp(s, c.last_name),
	    "escaped name round-trips");
	json_object_put(root);
	free(req.body);

	c = john;
	c.date_of_birth = "15/01/1980";
	memset(&req, 0, sizeof(req));
	err.msg[0] = '\0';
	ok(ad->build_request(&ep, &cred, &c, &req, &err) == -1 &&
	    req.body == NULL, "bad date of birth refused");
	ok(strstr(err.msg, "1980") == NULL && err.msg[0] != '\0',
	    "error names the field, not the value: %s", err.msg);
	c.date_of_birth = "1980-02-30";
	ok(ad->build_request(&ep, &cred, &c, &req, &err) == -1,
	    "impossible date refused");
	{
		struct payer_credential bad = cred;

		bad.tin = "12345";
		ok(ad->build_request(&ep, &bad, &john, &req, &err) == -1,
		    "short TIN refused");
	}
}

static void
test_found(const struct payer_adapter *ad)
{
	struct payer_result r;

	ok(parse(ad, found_json, &john, &r) == PAYER_DONE, "found: DONE");
	ok(r.success == 1, "found: success");
	ok(!strcmp(r.status, "Processed"), "found: status %s", r.status);
	ok(!strcmp(r.lookup_result, "FOUND"), "found: lookup_result");
	ok(!strcmp(r.total_charged, "1500.00"), "total_charged");
	ok(!strcmp(r.total_paid, "1200.00"), "total_paid");
	ok(!strcmp(r.total_allowed, "1300.00"), "total_allowed");
	ok(!strcmp(r.patient_responsibility, "100.00"),
	    "patient_responsibility");
	ok(!strcmp(r.processed_date, "2025-10-10"), "processed_date ISO");
	ok(!strcmp(r.check_number, "EFT0001234"), "check_number");
	ok(!strcmp(r.check_date, "2025-10-12"), "check_date");
	ok(!strcmp(r.status_category_code, "F1") &&
	    !strcmp(r.status_code, "65"), "507/508 codes");
	ok(!strcmp(r.status_description, "Claim/line has been paid"),
	    "status_description");
	ok(!strcmp(r.payer_claim_number, "ZE59426195"), "payer_claim_number");
	ok(r.error_message[0] == '\0', "no error message");
	ok(r.member_match == 1, "member matches case-insensitively");
}

static void
test_notfound(const struct payer_adapter *ad)
{
	struct payer_result r;

	ok(parse(ad, notfound_json, &john, &r) == PAYER_DONE,
	    "not found: DONE");
	ok(r.success == 0 && !strcmp(r.status, "Not Found"),
	    "not found: status");
	ok(!strcmp(r.lookup_result, "NOT_FOUND"), "not found: lookup_result");
	ok(!strcmp(r.error_message, "Claim not found in system"),
	    "not found: message");
	ok(r.total_charged[0] == '\0' && r.processed_date[0] == '\0',
	    "not found: no amounts");
}

/* The found example with claimStatus, codes and payments replaced. */
static char *
variant(const char *status, const char *c507, const char *c508,
    int payment)
{
	char *out;

	if (asprintf(&out, "{\"data\":{\"searchClaim\":{\"claims\":[{"
	    "\"claimNumber\":\"ZE59426195\",\"claimStatus\":\"%s\","
	    "\"member\":{\"subscriberId\":\"ABC123456\",\"firstName\":\"John\","
	    "\"lastName\":\"Doe\",\"dateOfBirth\":\"01/15/1980\"},"
	    "\"claimEvents\":{\"receivedDate\":\"09/28/2025\"%s},"
	    "\"claimLevelTotalAmount\":{\"totalBilledChargeAmount\":\"250.5\","
	    "\"totalPaidAmount\":\"%s\"},"
	    "\"payments\":[%s],"
	    "\"claimStatusCrosswalkData\":[{\"claim507Code\":\"%s\","
	    "\"claim508Code\":\"%s\"}]}],\"pagination\":{\"hasMoreRecords\":"
	    "false}}}}", status, payment ? ",\"processedDate\":\"10/10/2025\"" :
	    "", payment ? "200.00" : "0.00", payment ?
	    "{\"paymentNumber\":\"CHK1\",\"paymentIssueDate\":\"10/12/2025\"}" :
	    "", c507, c508) == -1)
		return NULL;
	return out;
}

static void
test_statuses(const struct payer_adapter *ad)
{
	static const struct {
		const char *status, *c507, *c508;
		int paid;
	} t[] = {
		{ "Processed", "F1", "65", 1 },
		{ "Denied", "F2", "", 0 },
		{ "Pending", "P1", "20", 0 },
		{ "In Review", "P2", "", 0 },
		{ "Rejected", "A7", "21", 0 },
		{ "Finalized", "F4", "", 0 },
	};
	struct payer_result r;
	size_t i;
	char *b;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		b = variant(t[i].status, t[i].c507, t[i].c508, t[i].paid);
		ok(b != NULL && parse(ad, b, &john, &r) == PAYER_DONE,
		    "%s: DONE", t[i].status);
		ok(!strcmp(r.status, t[i].status) && r.success == 1 &&
		    !strcmp(r.lookup_result, "FOUND"), "%s: status",
		    t[i].status);
		ok(!strcmp(r.status_category_code, t[i].c507) &&
		    !strcmp(r.status_code, t[i].c508), "%s: codes",
		    t[i].status);
		ok(!strcmp(r.total_charged, "250.50"), "%s: charged normalised",
		    t[i].status);
		ok(!strcmp(r.total_paid, t[i].paid ? "200.00" : "0.00"),
		    "%s: paid", t[i].status);
		ok(!strcmp(r.processed_date, t[i].paid ? "2025-10-10" : ""),
		    "%s: processed_date", t[i].status);
		ok(!strcmp(r.check_number, t[i].paid ? "CHK1" : ""),
		    "%s: check", t[i].status);
		free(b);
	}
}

static void
test_member(const struct payer_adapter *ad)
{
	struct payer_result r;
	struct payer_claim c;
	char *b;

	c = john;
	c.first_name = "Johnny";
	parse(ad, found_json, &c, &r);
	ok(r.member_match == 0 && r.success == 0 &&
	    !strcmp(r.status, "Processed") && !strcmp(r.lookup_result, "FOUND"),
	    "first name differs: mismatch recorded, status kept, failed");
	ok(!strcmp(r.error_message, "Member data mismatch (first name)"),
	    "mismatch message: %s", r.error_message);
	c.last_name = "MISMATCHSON";
	c.date_of_birth = "1901-01-01";
	parse(ad, found_json, &c, &r);
	ok(!strcmp(r.error_message,
	    "Member data mismatch (first name, last name, date of birth)"),
	    "mismatch fields in order: %s", r.error_message);
	c = john;
	c.date_of_birth = "1980-01-16";
	parse(ad, found_json, &c, &r);
	ok(r.member_match == 0, "date of birth differs: mismatch");
	c = john;
	c.subscriber_id = "XYZ";
	parse(ad, found_json, &c, &r);
	ok(r.member_match == 0, "subscriber id differs: mismatch");
	b = strdup(found_json);
	*strstr(b, "\"member\"") = 'x';	/* renames the key: no member */
	parse(ad, b, &john, &r);
	ok(r.member_match == -1, "no member data: unknown");
	free(b);
}

static void
test_errors(const struct payer_adapter *ad)
{
	static const char *bad[] = {
		"", "{", "{\"data\": {\"searchClaim\": {\"claims\": [",
		"<html>502</html>", "{\"data\":{}} trailing", "null",
		"{\"data\": {\"searchClaim\": "
		    "{\"claims\": [{\"claimNumber\":1}]}}}",
	};
	const char *e400 = "{\"errors\":[{\"code\":\"INVALID_INPUT\","
	    "\"description\":\"memberId ABC123456 is bad\"}]}";
	struct payer_result r;
	char why[160];
	size_t i;

	ok(parse(ad, bad[0], &john, &r) == PAYER_FAIL &&
	    !strcmp(r.error_message, "payer returned malformed JSON") &&
	    !strcmp(r.lookup_result, "PAYER_ERROR") && r.success == 0,
	    "empty body: malformed JSON");
	for (i = 1; i < 5; i++)
		ok(parse(ad, bad[i], &john, &r) == PAYER_FAIL &&
		    !strcmp(r.error_message, "payer returned malformed JSON"),
		    "malformed body %zu", i);
	ok(parse(ad, bad[5], &john, &r) == PAYER_FAIL && r.success == 0,
	    "JSON null: failed");
	ok(parse(ad, bad[6], &john, &r) == PAYER_FAIL &&
	    strstr(r.error_message, "claimStatus") != NULL,
	    "claim without claimStatus: failed (%s)", r.error_message);
	ok(parse(ad, e400, &john, &r) == PAYER_FAIL &&
	    !strcmp(r.error_message, "payer error INVALID_INPUT"),
	    "errors inside a 200: code only (%s)", r.error_message);

	ok(ad->classify_error(400, e400, strlen(e400), why, sizeof(why)) ==
	    PAYER_FAIL, "400 is permanent");
	ok(!strcmp(why, "rejected the request (400 INVALID_INPUT)") &&
	    strstr(why, "ABC") == NULL, "400 cause without PHI: %s", why);
	ok(ad->classify_error(401, "", 0, why, sizeof(why)) == PAYER_REAUTH,
	    "401 asks for a new token");
	ok(ad->classify_error(429, "", 0, why, sizeof(why)) == PAYER_RETRY &&
	    !strcmp(why, "rate limit (429)"), "429 retried");
	ok(ad->classify_error(500, "", 0, why, sizeof(why)) == PAYER_RETRY &&
	    !strcmp(why, "error 500"), "500 retried");
	ok(ad->classify_error(502, "x", 1, why, sizeof(why)) == PAYER_RETRY,
	    "502 retried");
	ok(ad->classify_error(503, "", 0, why, sizeof(why)) == PAYER_RETRY &&
	    !strcmp(why, "error 503"), "503 retried");
	ok(ad->classify_error(504, "", 0, why, sizeof(why)) == PAYER_RETRY,
	    "504 retried");
	ok(ad->classify_error(404, "", 0, why, sizeof(why)) == PAYER_FAIL,
	    "404 permanent");
	ok(ad->classify_error(403, "", 0, why, sizeof(why)) == PAYER_FAIL,
	    "403 permanent");
}

static void
test_helpers(void)
{
	char a[24], s[8];

	ok(payer_amount_norm("1500", a, sizeof(a)) == 0 &&
	    !strcmp(a, "1500.00"), "amount without decimals");
	ok(payer_amount_norm("-3.5", a, sizeof(a)) == 0 && !strcmp(a, "-3.50"),
	    "negative amount");
	ok(payer_amount_norm("1e5", a, sizeof(a)) == -1 &&
	    payer_amount_norm("1.234", a, sizeof(a)) == -1 &&
	    payer_amount_norm("", a, sizeof(a)) == -1 &&
	    payer_amount_norm(".5", a, sizeof(a)) == -1, "bad amounts refused");
	payer_copy_safe(s, sizeof(s), "ab\ncd\xc3\xa9xyz");
	ok(!strcmp(s, "ab cd\xc3\xa9"), "control chars replaced");
	payer_copy_safe(s, sizeof(s), "abcdef\xc3\xa9");
	ok(!strcmp(s, "abcdef"), "no half UTF-8 sequence at the cut");
	ok(payer_adapter_find("uhc", "claim_status") == &payer_uhc_adapter,
	    "adapter lookup is case-insensitive");
	ok(payer_adapter_find("UHC", "ELIGIBILITY") == NULL &&
	    payer_adapter_find(NULL, "CLAIM_STATUS") == NULL,
	    "unknown adapter: NULL");
}

static void
test_config(void)
{
	struct payer_options o;

	setenv("BULKCLAIMS_PAYER_CONCURRENCY", "64", 1);
	setenv("BULKCLAIMS_PAYER_RATE_LIMIT", "12.5", 1);
	setenv("BULKCLAIMS_PAYER_CA_FILE", "/etc/ssl/x.pem", 1);
	setenv("BULKCLAIMS_PAYER_MAX_IN_FLIGHT", "100", 1);
	memset(&o, 0, sizeof(o));
	payer_options_load(&o);
	ok(o.concurrency == 64 && o.rate_limit == 12.5 &&
	    o.max_in_flight == 100 && o.ca_file != NULL &&
	    !strcmp(o.ca_file, "/etc/ssl/x.pem"), "options from config keys");
	ok(o.max_attempts == 0 && o.timeout_ms == 0,
	    "unset keys give 0 (engine default)");
	setenv("BULKCLAIMS_PAYER_RATE_LIMIT", "fast", 1);
	payer_options_load(&o);
	ok(o.rate_limit == 0, "a rate that is not a number means no limit");
}

/* The latency histogram helpers behind GET /metrics. */
static void
test_metrics(void)
{
	unsigned long long b[PAYER_LAT_NBUCKETS];
	struct payer_stats st;
	char out[1024], cause[8];
	size_t n;
	int i;

	ok(payer_latency_bucket(0) == 0 && payer_latency_bucket(50000) == 0,
	    "0 and 50 ms: first bucket (le 0.05)");
	ok(payer_latency_bucket(50001) == 1, "50.001 ms: le 0.1");
	ok(payer_latency_bucket(999999) == 4 &&
	    payer_latency_bucket(1000000) == 4, "1 s: le 1");
	ok(payer_latency_bucket(10000001) == PAYER_LAT_NBUCKETS - 1 &&
	    strcmp(payer_latency_le(PAYER_LAT_NBUCKETS - 1), "+Inf") == 0,
	    "over 10 s: +Inf");
	ok(strcmp(payer_latency_le(2), "0.25") == 0, "le of bucket 2");

	memset(&st, 0, sizeof(st));
	payer_stats_latency(&st, 30000);
	payer_stats_latency(&st, 300000);
	payer_stats_latency(&st, 20000000);
	ok(st.lat_count == 3 && st.lat_sum_us == 20330000 &&
	    st.lat_bucket[0] == 1 && st.lat_bucket[3] == 1 &&
	    st.lat_bucket[PAYER_LAT_NBUCKETS - 1] == 1, "stats histogram");
	for (i = 0; i < PAYER_LAT_NBUCKETS; i++)
		b[i] = st.lat_bucket[i];
	n = payer_latency_render("x", b, st.lat_sum_us, out, sizeof(out));
	ok(n == strlen(out), "render length %zu", n);
	ok(strstr(out, "x_bucket{le=\"0.05\"} 1\n"
	    "x_bucket{le=\"0.1\"} 1\nx_bucket{le=\"0.25\"} 1\n"
	    "x_bucket{le=\"0.5\"} 2\n") != NULL &&
	    strstr(out, "x_bucket{le=\"10\"} 2\nx_bucket{le=\"+Inf\"} 3\n"
	    "x_sum 20.330000\nx_count 3\n") != NULL,
	    "cumulative buckets, sum in seconds, count = +Inf");
	ok(payer_latency_render("x", b, st.lat_sum_us, out, 10) == n &&
	    strlen(out) == 9, "truncated render says what it needed");
	memset(b, 0, sizeof(b));
	payer_latency_render("y", b, 0, out, sizeof(out));
	ok(strstr(out, "y_bucket{le=\"+Inf\"} 0\ny_sum 0.000000\n"
	    "y_count 0\n") != NULL, "no data: zero buckets");

	payer_stats_error(&st, "503");
	payer_stats_error(&st, "timeout");
	payer_stats_error(&st, "503");
	ok(st.nerr == 2 && strcmp(st.err[0].cause, "503") == 0 &&
	    st.err[0].n == 2 && st.err[1].n == 1, "errors by cause");
	for (i = 0; i < 40; i++) {
		snprintf(cause, sizeof(cause), "%d", 400 + i);
		payer_stats_error(&st, cause);
	}
	ok(st.nerr == PAYER_ERR_CAUSES && strcmp(st.err[PAYER_ERR_CAUSES -
	    1].cause, "other") == 0, "causes capped, the rest as other");
}

int
main(void)
{
	const struct payer_adapter *ad;

	ad = payer_adapter_find("UHC", "CLAIM_STATUS");
	ok(ad != NULL, "UHC adapter registered");
	if (ad == NULL)
		return done_testing();
	test_build(ad);
	test_found(ad);
	test_notfound(ad);
	test_statuses(ad);
	test_member(ad);
	test_errors(ad);
	test_helpers();
	test_config();
	test_metrics();
	return done_testing();
}
