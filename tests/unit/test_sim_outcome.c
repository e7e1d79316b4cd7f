/*
 * Unit tests of the simulator's outcome rule (payer-sim/outcome.c) and
 * wire format (payer-sim/respond.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "errbuf.h"
#include "outcome.h"
#include "remit.h"
#include "respond.h"
#include "state.h"
#include "tap.h"

#define N_CLAIMS	10000

static long
date_num(const struct sim_date *d)
{
	return d->y * 10000L + d->m * 100L + d->d;
}

static int
date_valid(const struct sim_date *d)
{
	return d->y >= 2024 && d->y <= 2026 && d->m >= 1 && d->m <= 12 &&
	    d->d >= 1 && d->d <= 31;
}

static void
test_hash(void)
{
	ok(outcome_hash("", 0) == 2166136261u, "FNV-1a of empty string");
	ok(outcome_hash("a", 1) == 0xe40c292cu, "FNV-1a of \"a\"");
	ok(outcome_hash("foobar", 6) == 0xbf9cf968u, "FNV-1a of \"foobar\"");
}

static void
test_tables(void)
{
	int i, bad = 0;

	for (i = 0; i < SIM_STATUS__MAX; i++)
		if (strcmp(outcome_status_name(i), "?") == 0)
			bad++;
	for (i = 0; i < SIM_FORCE__MAX; i++)
		if (strcmp(outcome_force_name(i), "?") == 0)
			bad++;
	ok(bad == 0, "every status and force has a name");
	ok(strcmp(outcome_status_name(SIM_STATUS__MAX), "?") == 0,
	    "out-of-range status is \"?\"");
}

static void
test_distribution(void)
{
	/* Expected shares (percent) of enum sim_status, from outcome.c. */
	static const int expect[SIM_STATUS__MAX] = { 65, 8, 7, 5, 5, 5, 5 };
	struct sim_outcome o, o2;
	long n[SIM_STATUS__MAX] = { 0 };
	char claim[32];
	int i, same = 1, consistent = 1, dates = 1, forced = 0;

	for (i = 0; i < N_CLAIMS; i++) {
		snprintf(claim, sizeof(claim), "ZE%08d", 59426195 + i * 7);
		outcome_for(claim, strlen(claim), &o);
		outcome_for(claim, strlen(claim), &o2);
		if (memcmp(&o, &o2, sizeof(o)) != 0)
			same = 0;
		if (o.force != SIM_FORCE_NONE)
			forced++;
		n[o.status]++;
		switch (o.status) {
		case SIM_PROCESSED:
			if (o.paid <= 0 || o.paid != o.allowed - o.patresp ||
			    o.allowed > o.billed || !o.has_processed ||
			    !o.has_payment)
				consistent = 0;
			break;
		case SIM_FINALIZED:
			if (o.paid != 0 || o.patresp != o.allowed ||
			    !o.has_processed || o.has_payment)
				consistent = 0;
			break;
		case SIM_DENIED:
		case SIM_REJECTED:
			if (o.paid != 0 || o.allowed != 0 || !o.has_processed)
				consistent = 0;
			break;
		case SIM_PENDING:
		case SIM_IN_REVIEW:
			if (o.paid != 0 || o.has_processed || o.has_payment)
				consistent = 0;
			break;
		case SIM_NOT_FOUND:
			if (o.billed != 0 || o.paid != 0)
				consistent = 0;
			break;
		default:
			consistent = 0;
		}
		if (o.status != SIM_NOT_FOUND) {
			if (o.billed < 10000 || o.billed > 500000)
				consistent = 0;
			if (!date_valid(&o.received) ||
			    !date_valid(&o.service_start) ||
			    date_num(&o.service_start) >=
			    date_num(&o.received) ||
			    date_num(&o.service_end) <
			    date_num(&o.service_start))
				dates = 0;
			if (o.has_processed && (!date_valid(&o.processed) ||
			    date_num(&o.processed) <= date_num(&o.received)))
				dates = 0;
		}
	}
	ok(same, "outcome is deterministic");
	ok(forced == 0, "ordinary claim numbers are not forced");
	ok(consistent, "amounts are consistent with the status");
	ok(dates, "dates are valid and ordered");
	for (i = 0; i < SIM_STATUS__MAX; i++) {
		double share = 100.0 * (double)n[i] / N_CLAIMS;

		ok(share > expect[i] - 1.5 && share < expect[i] + 1.5,
		    "%s: %.2f %% of %d (expected %d %%)",
		    outcome_status_name(i), share, N_CLAIMS, expect[i]);
	}
}

static void
test_forced(void)
{
	struct sim_outcome o;

#define OUT(s)	outcome_for(s, strlen(s), &o)
	OUT("ERR5033ABC");
	ok(o.force == SIM_FORCE_ERR5XX && o.force_code == 503 &&
	    o.force_n == 3 && o.status == SIM_PROCESSED,
	    "ERR5033: 503 three times, then Processed");
	OUT("ERR5021X");
	ok(o.force == SIM_FORCE_ERR5XX && o.force_code == 502 &&
	    o.force_n == 1, "ERR5021: 502 once");
	OUT("ERR5093X");
	ok(o.force == SIM_FORCE_NONE, "ERR509 is no forced code");
	OUT("ERR5030X");
	ok(o.force == SIM_FORCE_NONE, "ERR5030: N must be 1..9");
	OUT("RL12345");
	ok(o.force == SIM_FORCE_RATELIMIT && o.status == SIM_PROCESSED,
	    "RL: rate limited, then Processed");
	OUT("SLOW1");
	ok(o.force == SIM_FORCE_SLOW && o.status == SIM_PROCESSED, "SLOW");
	OUT("BADJSON1");
	ok(o.force == SIM_FORCE_BADJSON, "BADJSON");
	OUT("MISMATCH1");
	ok(o.force == SIM_FORCE_MISMATCH && o.status == SIM_PROCESSED,
	    "MISMATCH is Processed");
	OUT("NOTFOUND1");
	ok(o.force == SIM_FORCE_NOTFOUND && o.status == SIM_NOT_FOUND,
	    "NOTFOUND is Not Found");
	OUT("DENY1");
	ok(o.force == SIM_FORCE_DENY && o.status == SIM_DENIED &&
	    o.paid == 0 && strcmp(o.c507, "F2") == 0, "DENY is Denied, F2");
	OUT("E4011");
	ok(o.force == SIM_FORCE_E401 && o.status == SIM_PROCESSED, "E401");
	OUT("BUSY2X");
	ok(o.force == SIM_FORCE_BUSY && o.force_n == 2 &&
	    o.status == SIM_PROCESSED, "BUSY2: busy twice, then Processed");
	OUT("BUSYX");
	ok(o.force == SIM_FORCE_NONE, "BUSY needs N");
	OUT("BADREQ1");
	ok(o.force == SIM_FORCE_BADREQ, "BADREQ");
	OUT("deny1");
	ok(o.force == SIM_FORCE_NONE, "prefixes are case-sensitive");
#undef OUT
}

static void
test_csv(void)
{
	struct sim_outcome o;
	struct sim_csv c;
	char amt[24], date[16];

	outcome_for("NOTFOUND7", 9, &o);
	outcome_csv(&o, &c);
	ok(strcmp(c.status, "Not Found") == 0 && !c.success &&
	    strcmp(c.error_message, "Claim not found in system") == 0 &&
	    c.total_charged[0] == '\0' && c.total_paid[0] == '\0' &&
	    c.processed_date[0] == '\0',
	    "Not Found: no amounts, no date, the fixed message");

	outcome_for("RL7", 3, &o);
	outcome_csv(&o, &c);
	outcome_fmt_amount(o.billed, amt, sizeof(amt));
	outcome_fmt_date(&o.processed, SIM_DATE_ISO, date, sizeof(date));
	ok(strcmp(c.status, "Processed") == 0 && c.success &&
	    strcmp(c.total_charged, amt) == 0 &&
	    strcmp(c.processed_date, date) == 0 && c.error_message[0] == '\0',
	    "Processed maps to billed, paid, ISO date, success");

	outcome_for("DENY7", 5, &o);
	outcome_csv(&o, &c);
	ok(strcmp(c.status, "Denied") == 0 && c.success &&
	    strcmp(c.total_paid, "0.00") == 0,
	    "Denied is a successful look-up with 0.00 paid");

	outcome_for("MISMATCH7", 9, &o);
	outcome_csv(&o, &c);
	ok(!c.success && strstr(c.error_message, "mismatch") != NULL,
	    "MISMATCH fails with a mismatch error");

	outcome_for("SLOW7", 5, &o);
	outcome_csv(&o, &c);
	ok(!c.success && strcmp(c.status, "Error") == 0, "SLOW is an error");

	outcome_for("BADREQ7", 7, &o);
	outcome_csv(&o, &c);
	ok(!c.success && strcmp(c.status, "Error") == 0, "BADREQ is an error");

	outcome_fmt_amount(123456, amt, sizeof(amt));
	ok(strcmp(amt, "1234.56") == 0, "amount format");
	outcome_fmt_amount(5, amt, sizeof(amt));
	ok(strcmp(amt, "0.05") == 0, "amount format, cents only");
}

static struct json_object *
path(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, k1, &v))
		return NULL;
	if (k2 != NULL && !json_object_object_get_ex(v, k2, &v))
		return NULL;
	return v;
}

static const char *
str(struct json_object *o)
{
	return o ? json_object_get_string(o) : "";
}

static void
test_inquiry(void)
{
	static const char body[] = "{\"operationName\": \"SearchClaim\", "
	    "\"query\": \"query ...\", \"variables\": {\"searchClaimInput\": "
	    "{\"payerId\": \"87726\", \"claimNumber\": \"ZE59426195\", "
	    "\"memberId\": \"ABC123456\", \"memberFirstName\": \"John\", "
	    "\"memberLastName\": \"Doe\", \"memberDateOfBirth\": "
	    "\"01/15/1980\"}}}";
	struct sim_request q;
	struct sim_outcome o;
	struct sim_csv c;
	struct errbuf err;
	struct json_object *r, *claims, *cl;
	char *s, amt[24];

	ok(respond_parse_inquiry(body, sizeof(body) - 1, &q, &err) == 0 &&
	    strcmp(q.claim, "ZE59426195") == 0 &&
	    strcmp(q.member.last, "Doe") == 0 &&
	    strcmp(q.member.dob, "01/15/1980") == 0,
	    "the documented example parses");
	ok(respond_parse_inquiry("{\"variables\":{}}", 16, &q, &err) == -1,
	    "missing searchClaimInput is an error");
	ok(respond_parse_inquiry("{\"variables\":{\"searchClaimInput\":"
	    "{\"claimNumber\":\"\"}}}", 50, &q, &err) == -1,
	    "empty claimNumber is an error");
	ok(respond_parse_inquiry("{\"variables\"", 12, &q, &err) == -1,
	    "truncated JSON is an error");
	ok(respond_parse_inquiry(body, sizeof(body) - 2, &q, &err) == -1,
	    "JSON cut before its last brace is an error");
	{
		char two[sizeof(body) + 8];

		snprintf(two, sizeof(two), "%s {}", body);
		ok(respond_parse_inquiry(two, strlen(two), &q, &err) == -1,
		    "trailing data after the JSON value is an error");
		snprintf(two, sizeof(two), "%s \r\n", body);
		ok(respond_parse_inquiry(two, strlen(two), &q, &err) == 0,
		    "trailing white space is fine");
	}

	respond_parse_inquiry(body, sizeof(body) - 1, &q, &err);
	outcome_for(q.claim, strlen(q.claim), &o);
	outcome_csv(&o, &c);
	s = respond_inquiry(&o, &q);
	r = s ? json_tokener_parse(s) : NULL;
	ok(r != NULL, "inquiry answer is JSON");
	claims = path(path(r, "data", "searchClaim"), "claims", NULL);
	cl = claims ? json_object_array_get_idx(claims, 0) : NULL;
	if (o.status == SIM_NOT_FOUND)
		ok(json_object_array_length(claims) == 0, "no claim");
	else {
		ok(cl != NULL && strcmp(str(path(cl, "claimStatus", NULL)),
		    c.status) == 0, "claimStatus is the outcome's");
		ok(strcmp(str(path(cl, "member", "lastName")), "DOE") == 0 &&
		    strcmp(str(path(cl, "member", "firstName")), "JOHN") == 0,
		    "member names upper-cased");
		outcome_fmt_amount(o.billed, amt, sizeof(amt));
		ok(strcmp(str(path(cl, "claimLevelTotalAmount",
		    "totalBilledChargeAmount")), amt) == 0, "billed amount");
	}
	json_object_put(r);
	free(s);

	snprintf(q.claim, sizeof(q.claim), "MISMATCH1");
	outcome_for(q.claim, strlen(q.claim), &o);
	s = respond_inquiry(&o, &q);
	r = s ? json_tokener_parse(s) : NULL;
	cl = json_object_array_get_idx(path(path(r, "data", "searchClaim"),
	    "claims", NULL), 0);
	ok(strcmp(str(path(cl, "member", "lastName")), "DOE") != 0 &&
	    strcmp(str(path(cl, "member", "dateOfBirth")), "01/15/1980") != 0 &&
	    strcmp(str(path(cl, "member", "firstName")), "JOHN") == 0,
	    "MISMATCH: last name and date of birth differ");
	json_object_put(r);
	free(s);

	s = respond_badjson("BADJSON1");
	r = s ? json_tokener_parse(s) : NULL;
	ok(s != NULL && r == NULL, "BADJSON body does not parse");
	json_object_put(r);
	free(s);
}

static void
test_x12(void)
{
	static const char body[] = "{\"controlNumber\":\"123456789\","
	    "\"tradingPartnerServiceId\":\"87726\",\"providers\":[{"
	    "\"providerType\":\"BillingProvider\",\"organizationName\":\"X\","
	    "\"taxId\":\"123456789\",\"npi\":\"1234567893\"}],\"subscriber\":{"
	    "\"memberId\":\"ABC1\",\"firstName\":\"jane\",\"lastName\":"
	    "\"roe\",\"dateOfBirth\":\"19800115\"},\"encounter\":{"
	    "\"tradingPartnerClaimNumber\":\"DENY42\"}}";
	struct sim_request q;
	struct sim_outcome o;
	struct errbuf err;
	struct json_object *r, *st;
	char *s;

	ok(respond_parse_x12(body, sizeof(body) - 1, &q, &err) == 0 &&
	    strcmp(q.claim, "DENY42") == 0 && strcmp(q.tin, "123456789") == 0,
	    "276 parses (claim number, TIN)");
	outcome_for(q.claim, strlen(q.claim), &o);
	s = respond_x12(&o, &q);
	r = s ? json_tokener_parse(s) : NULL;
	st = path(json_object_array_get_idx(path(r, "claims", NULL), 0),
	    "claimStatus", NULL);
	ok(strcmp(str(path(st, "statusCategoryCode", NULL)), "F2") == 0 &&
	    strcmp(str(path(st, "amountPaid", NULL)), "0.00") == 0,
	    "277 for DENY: F2, nothing paid");
	ok(strcmp(str(path(r, "subscriber", "lastName")), "ROE") == 0,
	    "277 subscriber echoed upper-cased");
	json_object_put(r);
	free(s);
	s = respond_x12_system(&q, 1);
	r = s ? json_tokener_parse(s) : NULL;
	st = path(json_object_array_get_idx(path(r, "claims", NULL), 0),
	    "claimStatus", NULL);
	ok(strcmp(str(path(st, "statusCategoryCode", NULL)), "E1") == 0 &&
	    path(st, "amountPaid", NULL) == NULL, "277 busy: E1, no amounts");
	json_object_put(r);
	free(s);
	ok(respond_parse_x12("{\"subscriber\":{}}", 17, &q, &err) == -1,
	    "276 without controlNumber is an error");
}

static void
test_token(void)
{
	static const char form[] = "grant_type=client_credentials&"
	    "client_id=a%40b+c&client_secret=s%3Ds";
	static const char json[] = "{\"client_id\":\"x\",\"client_secret\":"
	    "\"y\"}";
	struct sim_token_request t;
	struct errbuf err;

	ok(respond_parse_token(form, sizeof(form) - 1, 0, &t, &err) == 0 &&
	    strcmp(t.grant_type, "client_credentials") == 0 &&
	    strcmp(t.client_id, "a@b c") == 0 &&
	    strcmp(t.client_secret, "s=s") == 0, "form body decodes");
	ok(respond_parse_token("client_id=%4", 12, 0, &t, &err) == -1,
	    "truncated escape is an error");
	ok(respond_parse_token(json, strlen(json), 1, &t, &err) == 0 &&
	    strcmp(t.client_secret, "y") == 0,
	    "JSON body decodes");
}

static void
test_explain(void)
{
	struct json_object *r;
	char *s;
	int i, agree = 1;
	char claim[32];

	s = respond_explain("NOTFOUND1", "Jane", "Smith");
	r = s ? json_tokener_parse(s) : NULL;
	ok(strcmp(str(path(r, "status", NULL)), "Not Found") == 0 &&
	    strcmp(str(path(r, "patient_name", NULL)), "Jane Smith") == 0 &&
	    !json_object_get_boolean(path(r, "success", NULL)) &&
	    strcmp(str(path(r, "error_message", NULL)),
	    "Claim not found in system") == 0, "explain of a Not Found");
	json_object_put(r);
	free(s);

	for (i = 0; i < 200; i++) {
		struct sim_outcome o;
		struct sim_csv c;

		snprintf(claim, sizeof(claim), "XC%06d", i * 31);
		outcome_for(claim, strlen(claim), &o);
		outcome_csv(&o, &c);
		s = respond_explain(claim, "A", "B");
		r = s ? json_tokener_parse(s) : NULL;
		if (strcmp(str(path(r, "status", NULL)), c.status) != 0 ||
		    strcmp(str(path(r, "total_paid", NULL)), c.total_paid) ||
		    json_object_get_boolean(path(r, "success", NULL)) !=
		    c.success)
			agree = 0;
		json_object_put(r);
		free(s);
	}
	ok(agree, "explain agrees with outcome_csv for 200 claims");
}

static void
test_state(void)
{
	struct json_object *r;
	char tok[65], bad[65], *s;
	long long t0 = 100000;
	int ra = 0;

	ok(state_init() == 0, "state_init");
	ok(state_claim_attempt("A1", TXN_STATUS) == 1 &&
	    state_claim_attempt("A1", TXN_STATUS) == 2 &&
	    state_claim_attempt("B1", TXN_STATUS) == 1,
	    "attempts counted per claim");
	ok(state_claim_count("A1", TXN_STATUS) == 2 &&
	    state_claim_count("C1", TXN_STATUS) == 0,
	    "attempt counts read back");
	ok(state_claim_attempt("A1", TXN_DETAILS) == 1 &&
	    state_claim_attempt("A1", TXN_PAYMENT) == 1 &&
	    state_claim_attempt("A1", TXN_PAYMENT) == 2 &&
	    state_claim_count("A1", TXN_STATUS) == 2,
	    "attempts counted per claim and transaction");

	state_token_issue(60, t0, tok);
	ok(strlen(tok) == 64 && state_token_check(tok, t0 + 59999) == 0,
	    "token valid within its lifetime");
	ok(state_token_check(tok, t0 + 60000) == -1, "token expires");
	memcpy(bad, tok, sizeof(bad));
	bad[63] = bad[63] == '0' ? '1' : '0';
	ok(state_token_check(bad, t0) == -1 &&
	    state_token_check("zz", t0) == -1, "unknown tokens refused");
	state_token_revoke(tok);
	ok(state_token_check(tok, t0) == -1, "revoked token refused");

	ok(state_rate_admit(2, t0, &ra) && state_rate_admit(2, t0 + 10, &ra),
	    "rate 2/s admits two");
	ok(!state_rate_admit(2, t0 + 500, &ra) && ra == 1,
	    "third in the second: 429, Retry-After 1");
	ok(state_rate_admit(2, t0 + 1000, &ra), "next second admits");
	t0 += 10000;
	ok(state_rate_admit(0.25, t0, &ra) &&
	    !state_rate_admit(0.25, t0 + 1000, &ra) && ra == 3 &&
	    state_rate_admit(0.25, t0 + 4000, &ra),
	    "rate 0.25/s: one per 4 s, Retry-After 3");

	state_count(ROUTE_INQUIRY, 200);
	state_count(ROUTE_INQUIRY, 200);
	state_count(ROUTE_TOKEN, 401);
	state_inflight(1);
	state_inflight(-1);
	s = state_stats_json("A1", t0);
	r = s ? json_tokener_parse(s) : NULL;
	ok(json_object_get_int(path(r, "requests_total", NULL)) == 3 &&
	    json_object_get_int(path(path(r, "requests",
	    "/oihub/claim/inquiry/v1"), "200", NULL)) == 2 &&
	    json_object_get_int(path(r, "claim", "requests")) == 2 &&
	    json_object_get_int(path(r, "claims_repeated", NULL)) == 1 &&
	    json_object_get_int(path(r, "max_in_flight", NULL)) == 1,
	    "stats report counts");
	ok(json_object_get_int(path(r, "claim", "payment_requests")) == 2 &&
	    json_object_get_int(path(r, "claim", "details_requests")) == 1 &&
	    json_object_get_int(path(path(r, "claims_by_transaction",
	    "payment"), "repeated", NULL)) == 1 &&
	    json_object_get_int(path(path(r, "claims_by_transaction",
	    "details"), "distinct", NULL)) == 1,
	    "stats count a claim's requests per transaction");
	json_object_put(r);
	free(s);
	state_reset();
	ok(state_claim_count("A1", TXN_STATUS) == 0 &&
	    state_claim_count("A1", TXN_PAYMENT) == 0 &&
	    state_claim_attempt("A1", TXN_STATUS) == 1,
	    "reset forgets attempts");
	state_free();
}

/* "1234.56" -> 123456; -1 if not an amount. */
static long
cents(struct json_object *o)
{
	const char *s = o ? json_object_get_string(o) : NULL;
	long whole, frac;
	char tail;

	if (s == NULL || sscanf(s, "%ld.%2ld%c", &whole, &frac, &tail) != 2 ||
	    strlen(strchr(s, '.')) != 3)
		return -1;
	return whole * 100 + frac;
}

static struct json_object *
idx(struct json_object *arr, size_t i)
{
	if (arr == NULL || !json_object_is_type(arr, json_type_array) ||
	    i >= json_object_array_length(arr))
		return NULL;
	return json_object_array_get_idx(arr, i);
}

/* Payments seen for one payment number over the claims tested. */
struct seen_pay {
	char	 number[16];
	long	 amount, sum;
	int	 claims, expect;
};

/*
 * Claim details and payments of 10,000 consecutive claim numbers (100
 * whole buckets of 100): the line arithmetic of claim details (see
 * payer-sim/README-outcomes.md), the same totals on every route, and
 * payments that add up, read from the answers the server sends.
 */
static void
test_remit(long epoch)
{
	static const char *denials[] = { "50", "97", "16", "29", "197" };
	static struct seen_pay seen[N_CLAIMS];
	struct sim_outcome o;
	struct sim_request q;
	struct json_object *inq, *det, *pay, *c, *tot, *lines, *l, *adjs, *a;
	struct json_object *pays, *y;
	char *s1, *s2, *s3, *x;
	const char *rc;
	long billed, allowed, paid, presp, sum[4], pr[3], ladj, lpr, v;
	long nproc = 0, nreissue = 0, nbatch = 0, nseen = 0, maxexplain = 0;
	int i, j, k, arith = 1, totals = 1, cross = 1, denial = 1;
	int pending = 1, count = 1, shape = 1, voids = 1, groups = 1;
	size_t nl, na, np;

	memset(&q, 0, sizeof(q));
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < N_CLAIMS; i++) {
		snprintf(q.claim, sizeof(q.claim), "ZE%08d", 59420000 + i);
		outcome_for_epoch(q.claim, strlen(q.claim), epoch, &o);
		x = respond_explain_epoch(q.claim, "A", "B", epoch);
		if (x != NULL && (long)strlen(x) > maxexplain)
			maxexplain = (long)strlen(x);
		free(x);
		if (o.status == SIM_NOT_FOUND)
			continue;
		s1 = respond_inquiry(&o, &q);
		s2 = respond_details(&o, &q);
		s3 = respond_payment(&o, &q, "123456789");
		inq = s1 ? json_tokener_parse(s1) : NULL;
		det = s2 ? json_tokener_parse(s2) : NULL;
		pay = s3 ? json_tokener_parse(s3) : NULL;
		free(s1);
		free(s2);
		free(s3);
		c = idx(path(path(inq, "data", "searchClaim"), "claims", NULL),
		    0);
		tot = path(c, "claimLevelTotalAmount", NULL);
		billed = cents(path(tot, "totalBilledChargeAmount", NULL));
		allowed = cents(path(tot, "totalAllowedAmount", NULL));
		paid = cents(path(tot, "totalPaidAmount", NULL));
		presp = cents(path(tot, "totalPatientResponsibilityAmount",
		    NULL));

		/* Details: the same claim, status and totals. */
		tot = path(path(det, "claim", NULL), "totals", NULL);
		if (strcmp(str(path(path(det, "claim", NULL), "claimStatus",
		    NULL)), outcome_status_name(o.status)) != 0 ||
		    strcmp(str(path(path(det, "claim", NULL), "claimNumber",
		    NULL)), q.claim) != 0 ||
		    cents(path(tot, "totalChargedAmt", NULL)) != billed ||
		    cents(path(tot, "totalAllowdAmt", NULL)) != allowed ||
		    cents(path(tot, "totalPaidAmt", NULL)) != paid ||
		    cents(path(tot, "totalPtntRespAmt", NULL)) != presp ||
		    billed < 0)
			cross = 0;
		if (cents(path(tot, "deductibleAmt", NULL)) +
		    cents(path(tot, "copayAmt", NULL)) +
		    cents(path(tot, "coinsuranceAmt", NULL)) != presp)
			totals = 0;
		lines = path(path(det, "claim", NULL), "lines", NULL);
		nl = lines ? json_object_array_length(lines) : 0;
		if (nl < 1 || nl > 6)
			count = 0;
		memset(sum, 0, sizeof(sum));
		memset(pr, 0, sizeof(pr));
		for (j = 0; j < (int)nl; j++) {
			l = idx(lines, (size_t)j);
			adjs = path(l, "adjustments", NULL);
			na = adjs ? json_object_array_length(adjs) : 0;
			ladj = lpr = 0;
			if (json_object_get_int(path(l, "lineNumber", NULL)) !=
			    j + 1 || str(path(l, "procedureCode", NULL))[0] ==
			    '\0' || json_object_get_int(path(l, "units",
			    NULL)) < 1 || path(l, "remarkCodes", NULL) == NULL)
				shape = 0;
			for (k = 0; k < (int)na; k++) {
				a = idx(adjs, (size_t)k);
				v = cents(path(a, "amount", NULL));
				if (v <= 0)
					arith = 0;
				if (strcmp(str(path(a, "groupCode", NULL)),
				    "PR") != 0) {
					ladj += v;
					continue;
				}
				lpr += v;
				rc = str(path(a, "reasonCode", NULL));
				if (strcmp(rc, "1") == 0)
					pr[0] += v;
				else if (strcmp(rc, "2") == 0)
					pr[1] += v;
				else if (strcmp(rc, "3") == 0)
					pr[2] += v;
				else
					arith = 0;
			}
			v = cents(path(l, "chargedAmt", NULL));
			sum[0] += v;
			sum[1] += cents(path(l, "allowedAmt", NULL));
			sum[2] += cents(path(l, "paidAmt", NULL));
			sum[3] += cents(path(l, "ptntRespAmt", NULL));
			if (o.status == SIM_PENDING ||
			    o.status == SIM_IN_REVIEW) {
				/* Not adjudicated: charged only. */
				if (na != 0 || cents(path(l, "paidAmt",
				    NULL)) != 0 || v <= 0)
					pending = 0;
				continue;
			}
			if (v <= 0 || v != cents(path(l, "allowedAmt",
			    NULL)) + ladj ||
			    cents(path(l, "allowedAmt", NULL)) !=
			    cents(path(l, "paidAmt", NULL)) + lpr ||
			    cents(path(l, "ptntRespAmt", NULL)) != lpr ||
			    cents(path(l, "paidAmt", NULL)) < 0)
				arith = 0;
			if (o.status == SIM_DENIED) {
				int ok1 = 0;

				for (k = 0; k < 5; k++)
					if (strcmp(str(path(idx(adjs, 0),
					    "reasonCode", NULL)),
					    denials[k]) == 0)
						ok1 = 1;
				if (!ok1 || json_object_array_length(path(l,
				    "remarkCodes", NULL)) != 1)
					denial = 0;
			}
		}
		if (sum[0] != billed || sum[1] != allowed || sum[2] != paid ||
		    sum[3] != presp ||
		    cents(path(tot, "deductibleAmt", NULL)) != pr[0] ||
		    cents(path(tot, "coinsuranceAmt", NULL)) != pr[1] ||
		    cents(path(tot, "copayAmt", NULL)) != pr[2])
			totals = 0;

		/* Payments: the non-voided shares make the paid total. */
		pays = path(pay, "payments", NULL);
		np = pays ? json_object_array_length(pays) : 0;
		v = 0;
		for (j = 0; j < (int)np; j++) {
			y = idx(pays, (size_t)j);
			if (strcmp(str(path(y, "status", NULL)), "Voided") != 0)
				v += cents(path(y, "claimPaidAmount", NULL));
		}
		if (v != paid || strcmp(str(path(pay, "claimNumber", NULL)),
		    q.claim) != 0 || (o.status != SIM_PROCESSED && np != 0) ||
		    (o.status == SIM_PROCESSED && np == 0))
			cross = 0;
		if ((o.status == SIM_PENDING || o.status == SIM_IN_REVIEW) &&
		    (np != 0 || paid != 0))
			pending = 0;
		if (o.status == SIM_PROCESSED) {
			nproc++;
			/* The inquiry's payment is the one that counts. */
			y = idx(pays, np - 1);
			if (strcmp(str(path(idx(path(c, "payments", NULL), 0),
			    "paymentNumber", NULL)),
			    str(path(y, "paymentNumber", NULL))) != 0 ||
			    json_object_array_length(path(c, "payments",
			    NULL)) != 1)
				cross = 0;
		}
		if (o.pay_kind == SIM_PAY_REISSUE) {
			nreissue++;
			if (np != 2 || strcmp(str(path(idx(pays, 0), "status",
			    NULL)), "Voided") != 0 ||
			    strcmp(str(path(idx(pays, 1), "status", NULL)),
			    "Reissued") != 0 ||
			    strcmp(str(path(idx(pays, 0), "paymentMethod",
			    NULL)), o.void_epoch ? "ACH" : "CHK") != 0 ||
			    strcmp(str(path(idx(pays, 0), "paymentNumber",
			    NULL)), str(path(idx(pays, 1), "paymentNumber",
			    NULL))) == 0)
				voids = 0;
		} else if (np > 1)
			voids = 0;
		if (o.pay_kind == SIM_PAY_BATCH) {
			nbatch++;
			y = idx(pays, 0);
			for (j = 0; j < nseen; j++)
				if (strcmp(seen[j].number, str(path(y,
				    "paymentNumber", NULL))) == 0)
					break;
			if (j == nseen) {
				nseen++;
				snprintf(seen[j].number, sizeof(seen[j].number),
				    "%s", str(path(y, "paymentNumber", NULL)));
				seen[j].amount = cents(path(y, "paymentAmount",
				    NULL));
				seen[j].expect = o.batch_claims;
			}
			if (seen[j].amount != cents(path(y, "paymentAmount",
			    NULL)) || seen[j].expect != o.batch_claims)
				groups = 0;
			seen[j].sum += cents(path(y, "claimPaidAmount", NULL));
			seen[j].claims++;
		} else if (o.pay_kind == SIM_PAY_SINGLE && cents(path(idx(pays,
		    0), "paymentAmount", NULL)) != paid)
			groups = 0;
		json_object_put(inq);
		json_object_put(det);
		json_object_put(pay);
	}
	for (j = 0; j < nseen; j++)
		if (seen[j].sum != seen[j].amount ||
		    seen[j].claims != seen[j].expect || seen[j].claims < 2)
			groups = 0;
	if (epoch != 0)
		printf("# claim details and payments at epoch %ld\n", epoch);
	ok(cross, "details and payment agree with the claim inquiry");
	ok(count, "1 to 6 lines per claim");
	ok(shape, "lines are numbered, coded, with units and remark codes");
	ok(arith, "every adjudicated line: charged = allowed + CO/OA/PI, "
	    "allowed = paid + PR");
	ok(totals, "lines add up to the totals; deductible + copay + "
	    "coinsurance = patient responsibility");
	ok(denial, "denied lines carry a denial reason and a remark code");
	ok(pending, "pending and in-review claims: lines without payment");
	ok(voids, "a voided check comes with its reissue, and only then");
	ok(groups, "a shared EFT pays the sum of its claims' shares, seen "
	    "from each of them (%ld EFTs)", nseen);
	if (epoch != 0) {
		/* The epoch shares are tested in test_epoch_moves(). */
		ok(maxexplain < 4000, "--explain stays under 4 KB (%ld bytes)",
		    maxexplain);
		return;
	}
	ok(nreissue * 100 > nproc * 3 && nreissue * 100 < nproc * 7,
	    "void and reissue: %ld of %ld paid claims (5 %% documented)",
	    nreissue, nproc);
	ok(nbatch * 100 > nproc * 20 && nbatch * 100 < nproc * 34,
	    "shared EFT: %ld of %ld paid claims (about 27 %% documented)",
	    nbatch, nproc);
	/* test_payer_engine reads --explain through a 4 KB buffer. */
	ok(maxexplain < 4000, "--explain stays under 4 KB (%ld bytes)",
	    maxexplain);
}

/* FNV-1a over the fields the routes show, for the epoch 0 digest. */
static uint32_t
digest_feed(uint32_t dg, const char *s)
{
	dg ^= outcome_hash(s, strlen(s));
	return dg * 16777619u;
}

static uint32_t
digest_outcome(uint32_t dg, const struct sim_outcome *o)
{
	struct sim_remit r;
	struct sim_csv c;
	char b[512];
	int i, j;

	outcome_csv(o, &c);
	snprintf(b, sizeof(b), "%u|%d|%d|%s|%s|%s|%s|%d|%s|%ld|%ld|%ld|%ld|"
	    "%d%d|%d-%d-%d|%d-%d-%d|%d|%ld|%d|%s|%d-%d-%d",
	    o->hash, o->status, o->force, c.status, c.total_charged,
	    c.total_paid, c.processed_date, c.success, c.error_message,
	    o->billed, o->allowed, o->paid, o->patresp, o->has_processed,
	    o->has_payment, o->payment_date.y, o->payment_date.m,
	    o->payment_date.d, o->processed.y, o->processed.m, o->processed.d,
	    o->pay_kind, o->batch_amount, o->batch_claims, o->payment_number,
	    o->void_date.y, o->void_date.m, o->void_date.d);
	dg = digest_feed(dg, b);
	dg = digest_feed(dg, o->void_number);
	dg = digest_feed(dg, o->c507);
	dg = digest_feed(dg, o->c508);
	remit_for(o, &r);
	dg = digest_feed(dg, r.control);
	for (i = 0; i < r.nlines; i++) {
		const struct sim_line *l = &r.lines[i];

		snprintf(b, sizeof(b), "%s|%s|%d|%ld|%ld|%ld|%ld|%s", l->code,
		    l->modifier, l->units, l->charged, l->allowed, l->paid,
		    l->patresp, l->remark);
		dg = digest_feed(dg, b);
		for (j = 0; j < l->nadj; j++) {
			snprintf(b, sizeof(b), "%s%s%ld", l->adj[j].group,
			    l->adj[j].reason, l->adj[j].amount);
			dg = digest_feed(dg, b);
		}
	}
	for (i = 0; i < r.npayments; i++) {
		const struct sim_payment *y = &r.payments[i];

		snprintf(b, sizeof(b), "%s|%s|%s|%ld|%ld", y->number,
		    y->method, y->status, y->amount, y->claim_paid);
		dg = digest_feed(dg, b);
	}
	return dg;
}

/* The claim numbers of the epoch 0 digest: ZE... and 9-digit numbers. */
static void
digest_claim(int i, char *buf, size_t sz)
{
	if (i % 4 == 3)
		snprintf(buf, sz, "%d", 100000000 + i * 7919);
	else
		snprintf(buf, sz, "ZE%08d", 59420000 + i);
}

/*
 * Epoch 0 is the simulator as it was before epochs: the digest of
 * outcome and remittance of 10,000 claims was taken from the simulator
 * without epochs (3022788962).
 */
static void
test_epoch_zero(void)
{
	struct sim_outcome o, o2;
	char claim[32], *a, *b;
	uint32_t dg = 2166136261u;
	int i, same = 1, explain_same = 1;

	for (i = 0; i < N_CLAIMS; i++) {
		digest_claim(i, claim, sizeof(claim));
		outcome_for_epoch(claim, strlen(claim), 0, &o);
		outcome_for(claim, strlen(claim), &o2);
		if (memcmp(&o, &o2, sizeof(o)) != 0)
			same = 0;
		dg = digest_outcome(dg, &o);
		if (i % 10 == 0) {
			a = respond_explain(claim, "A", "B");
			b = respond_explain_epoch(claim, "A", "B", 0);
			if (a == NULL || b == NULL || strcmp(a, b) != 0 ||
			    strstr(a, "\"epoch\"") != NULL)
				explain_same = 0;
			free(a);
			free(b);
		}
	}
	ok(dg == 3022788962u, "epoch 0: 10,000 claims answer as before "
	    "epochs (digest %u)", dg);
	ok(same, "outcome_for() is epoch 0");
	ok(explain_same, "--explain at epoch 0 is unchanged (1,000 claims)");
}

/* o and p equal but for the epoch they are for. */
static int
same_but_epoch(const struct sim_outcome *o, const struct sim_outcome *p)
{
	struct sim_outcome a = *o, b = *p;

	a.epoch = b.epoch = 0;
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/*
 * Epochs 1..3 over 10,000 claims: the documented shares settle and get
 * voided, nothing else moves, and what moved stays moved.
 */
static void
test_epoch_moves(void)
{
	struct sim_outcome o0, prev, oe;
	char claim[32];
	long pend0 = 0, single0 = 0, settled[4] = { 0 }, voided[4] = { 0 };
	long spaid = 0, sdenied = 0;
	int i, e, still = 1, keep = 1, settle_ok = 1, void_ok = 1;

	for (i = 0; i < N_CLAIMS; i++) {
		snprintf(claim, sizeof(claim), "ZE%08d", 59420000 + i);
		outcome_for_epoch(claim, strlen(claim), 0, &o0);
		if (o0.force == SIM_FORCE_NONE && (o0.status == SIM_PENDING ||
		    o0.status == SIM_IN_REVIEW))
			pend0++;
		if (o0.force == SIM_FORCE_NONE && o0.pay_kind == SIM_PAY_SINGLE)
			single0++;
		prev = o0;
		for (e = 1; e <= 3; e++) {
			outcome_for_epoch(claim, strlen(claim), e, &oe);
			if (oe.epoch != e)
				still = 0;
			/* Only pending claims and paid-alone claims move. */
			if (oe.settled_epoch == 0 && oe.void_epoch == 0 &&
			    !same_but_epoch(&oe, &o0))
				still = 0;
			if ((o0.force != SIM_FORCE_NONE || (o0.pay_kind !=
			    SIM_PAY_SINGLE && o0.status != SIM_PENDING &&
			    o0.status != SIM_IN_REVIEW)) &&
			    !same_but_epoch(&oe, &o0))
				still = 0;
			/* Once moved, a claim stays where it went. */
			if (prev.void_epoch && !same_but_epoch(&oe, &prev))
				keep = 0;
			if (prev.settled_epoch && (oe.settled_epoch !=
			    prev.settled_epoch || oe.status != prev.status ||
			    oe.paid != prev.paid || oe.billed != prev.billed ||
			    outcome_days(&oe.processed) !=
			    outcome_days(&prev.processed)))
				keep = 0;
			if (oe.settled_epoch == e) {
				settled[e]++;
				if (oe.status == SIM_PROCESSED) {
					spaid++;
					if (oe.paid <= 0 || oe.paid !=
					    oe.allowed - oe.patresp ||
					    !oe.has_payment ||
					    outcome_days(&oe.processed) <=
					    outcome_days(&oe.received) ||
					    oe.billed != o0.billed)
						settle_ok = 0;
				} else if (oe.status == SIM_DENIED) {
					sdenied++;
					if (oe.paid != 0 || oe.has_payment ||
					    !oe.has_processed)
						settle_ok = 0;
				} else
					settle_ok = 0;
			}
			if (oe.void_epoch == e) {
				if (oe.settled_epoch == 0)
					voided[e]++;
				if (oe.void_epoch <= oe.settled_epoch ||
				    prev.pay_kind != SIM_PAY_SINGLE ||
				    oe.pay_kind != SIM_PAY_REISSUE ||
				    strcmp(oe.void_number,
				    prev.payment_number) != 0 ||
				    strncmp(oe.payment_number, "CHK", 3) != 0 ||
				    outcome_days(&oe.payment_date) <=
				    outcome_days(&oe.void_date) ||
				    oe.paid != prev.paid)
					void_ok = 0;
			}
			prev = oe;
		}
	}
	ok(still, "epochs 1..3: only pending and paid-alone claims move");
	ok(keep, "epochs 1..3: a settled or voided claim stays so");
	ok(settle_ok, "settled claims: paid (amounts as section 7) or denied");
	ok(void_ok, "voids: the EFT paid before, reissued as a later check");
	for (e = 1; e <= 3; e++) {
		ok(settled[e] * 100 >= pend0 * 15 &&
		    settled[e] * 100 <= pend0 * 25,
		    "epoch %d: %ld of %ld Pending/In Review settle "
		    "(20 %% documented)", e, settled[e], pend0);
		ok(voided[e] * 100 >= single0 * 3 &&
		    voided[e] * 100 <= single0 * 7,
		    "epoch %d: %ld of %ld claims paid alone voided "
		    "(5 %% documented)", e, voided[e], single0);
	}
	ok(spaid * 100 >= (spaid + sdenied) * 68 &&
	    spaid * 100 <= (spaid + sdenied) * 82,
	    "settled: %ld paid, %ld denied (75 %% paid documented)", spaid,
	    sdenied);
}

/* Not-found triage: normalised spellings and member-only claims. */
static void
test_triage(void)
{
	static const struct {
		const char	*raw;
		int		 norm;
	} cases[] = {
		{ "87123456", 1 }, { "087123456", 1 }, { "0087 123 456", 1 },
		{ "0087-123-456", 1 }, { "UHC0087123456", 1 },
		{ "uhc-87123456", 1 }, { "0087123456", 0 }, { "12345678", 0 },
		{ "8712345", 0 }, { "ZE59426195", 0 }, { "00871234567", 0 },
		{ "UHC", 0 },
	};
	struct sim_outcome o, m[SIM_MEMBER_MAX];
	struct sim_request q;
	struct sim_date dob;
	struct errbuf err;
	struct json_object *r, *c;
	char claim[32], canon[32], out[24], *s;
	size_t i;
	int good = 1, found = 0, hidden = 1, msearch = 1, n, e;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (outcome_normalise(cases[i].raw, strlen(cases[i].raw), out,
		    sizeof(out)) != cases[i].norm ||
		    (cases[i].norm && strcmp(out, "0087123456") != 0))
			good = 0;
	ok(good, "normalisation: spaces, dashes, UHC, lost leading zeros");

	/* Excel's spelling of 1,000 claims known as 0087dddddd. */
	good = 1;
	for (i = 0; i < 1000; i++) {
		snprintf(canon, sizeof(canon), "00%08zu", 87000000 + i * 997);
		snprintf(claim, sizeof(claim), "%zu", 87000000 + i * 997);
		outcome_for(claim, strlen(claim), &o);
		if (o.status != SIM_NOT_FOUND)
			good = 0;
		outcome_for(canon, strlen(canon), &m[0]);
		if ((m[0].status != SIM_NOT_FOUND) !=
		    (o.lookup == SIM_LOOKUP_NORMALISED) ||
		    (o.lookup == SIM_LOOKUP_NORMALISED &&
		    strcmp(o.found_as, canon) != 0))
			good = 0;
		found += m[0].status != SIM_NOT_FOUND;
	}
	ok(good && found > 900, "lost leading zeros: not found, found as the "
	    "10-digit number (%d of 1,000)", found);
	s = respond_explain("87123456", NULL, NULL);
	r = s ? json_tokener_parse(s) : NULL;
	ok(strcmp(str(path(r, "status", NULL)), "Not Found") == 0 &&
	    strcmp(str(path(r, "how_found", NULL)),
	    "found only as 0087123456") == 0 &&
	    strcmp(str(path(r, "found_by", NULL)), "normalised") == 0,
	    "explain: found only as 0087123456");
	json_object_put(r);
	free(s);
	{
		/* found_by: which triage attempt finds a claim, for all */
		static const char *const fb[][2] = {
			{ "0087123456", "as_sent" }, { "NOTFOUND1", "none" },
			{ "ZE59426196", "as_sent" }, { "DENY1", "as_sent" },
			{ "MS12345678", "member_search" },
		};
		int fgood = 1;

		for (i = 0; i < sizeof(fb) / sizeof(fb[0]); i++) {
			s = respond_explain(fb[i][0], NULL, NULL);
			r = s ? json_tokener_parse(s) : NULL;
			if (strcmp(str(path(r, "found_by", NULL)), fb[i][1]))
				fgood = 0;
			json_object_put(r);
			free(s);
		}
		ok(fgood, "explain: found_by of every kind of claim");
	}

	/* Member-only claims: MS + digits, member W + digits. */
	for (i = 0; i < 1000; i++) {
		snprintf(claim, sizeof(claim), "MS%08zu", 10000000 + i * 7);
		outcome_for(claim, strlen(claim), &o);
		if (o.status != SIM_NOT_FOUND ||
		    o.lookup != SIM_LOOKUP_MEMBER ||
		    strcmp(o.member_id + 1, claim + 2) != 0 ||
		    o.member_id[0] != 'W')
			hidden = 0;
		for (e = 0; e <= 3; e++) {
			n = outcome_member_search(o.member_id, &o.member_dob, e,
			    m);
			if (n != 1 || strcmp(m[0].found_as, claim) != 0 ||
			    m[0].member_status == SIM_NOT_FOUND ||
			    m[0].status != m[0].member_status)
				msearch = 0;
		}
		dob = o.member_dob;
		dob.d = dob.d == 1 ? 2 : 1;
		if (outcome_member_search(o.member_id, &dob, 0, m) != 0)
			msearch = 0;
	}
	ok(hidden, "member-only claims: not found by number");
	ok(msearch, "member search finds them with the right date of birth "
	    "only, at every epoch");
	dob.y = 1970;
	dob.m = dob.d = 1;
	ok(outcome_member_search("ABC123456", &dob, 0, m) == 0 &&
	    outcome_member_search("W12", &dob, 0, m) == 0 &&
	    outcome_member_search("", &dob, 0, m) == 0,
	    "member search: nothing for unknown members");

	s = respond_explain("MS12345678", NULL, NULL);
	r = s ? json_tokener_parse(s) : NULL;
	ok(strcmp(str(path(r, "how_found", NULL)),
	    "found only by member search") == 0 &&
	    strcmp(str(path(r, "member_id", NULL)), "W12345678") == 0,
	    "explain: found only by member search");
	json_object_put(r);
	free(s);

	s = "{\"payerId\":\"87726\",\"memberId\":\"W12345678\","
	    "\"memberDateOfBirth\":\"08/01/1968\"}";
	n = respond_parse_member_search(s, strlen(s), &q, &dob, &err) == 0 ?
	    outcome_member_search(q.member.id, &dob, 0, m) : -1;
	s = respond_member_search(m, n);
	r = s ? json_tokener_parse(s) : NULL;
	c = idx(path(r, "claims", NULL), 0);
	ok(n == 1 && strcmp(str(path(c, "claimNumber", NULL)),
	    "MS12345678") == 0 && strcmp(str(path(c, "claimStatus", NULL)),
	    "Rejected") == 0 && strcmp(str(path(c, "serviceDate", NULL)),
	    "04/26/2025") == 0, "member search answer: %s", s ? s : "NULL");
	json_object_put(r);
	free(s);
	s = respond_member_search(m, 0);
	ok(s != NULL && strcmp(s, "{\"claims\":[]}") == 0,
	    "member search with no claim: {\"claims\":[]}");
	free(s);
	s = "{\"memberId\":\"W1\",\"memberDateOfBirth\":\"1968-13-01\"}";
	ok(respond_parse_member_search(s, strlen(s), &q, &dob, &err) == -1,
	    "member search: a bad date is refused");
	s = "{\"memberId\":\"W1\"}";
	ok(respond_parse_member_search(s, strlen(s), &q, &dob, &err) == -1,
	    "member search: the date of birth is required");
}

int
main(void)
{
	int i;
	if (sodium_init() < 0)
		return 1;
	test_hash();
	test_tables();
	test_distribution();
	test_forced();
	test_csv();
	test_inquiry();
	test_x12();
	test_token();
	test_explain();
	test_remit(0);
	test_epoch_zero();
	test_epoch_moves();
	for (i = 1; i <= 3; i++)
		test_remit(i);
	test_triage();
	test_state();
	return done_testing();
}
