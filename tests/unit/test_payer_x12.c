/*
 * Adapter X12/CLAIM_STATUS (see docs/payer-adapters.md): the 276 body
 * built exactly, each 277 category mapped to the output columns, retry
 * and permanent categories classified.  No network.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "payer_int.h"
#include "payer_x12.h"
#include "payer_case.h"
#include "tap.h"

static struct payer_endpoint ep = {
	"X12", "CLAIM_STATUS", "http://127.0.0.1:1", "/apip/auth/v2/token",
	"/medicalnetwork/claimstatus/v2/", "87726"
};

/* A 277 answer in the simulator's shape. */
static char *
answer(const char *cat, const char *code, const char *last, int found)
{
	char *out;

	if (asprintf(&out, "{\"controlNumber\":\"123456789\","
	    "\"tradingPartnerServiceId\":\"87726\",\"payer\":{"
	    "\"organizationName\":\"UnitedHealthcare\"},"
	    "\"subscriber\":{\"memberId\":\"ABC123456\",\"firstName\":\"JOHN\","
	    "\"lastName\":\"%s\",\"dateOfBirth\":\"19800115\"},"
	    "\"claims\":[{\"claimStatus\":{\"statusCategoryCode\":\"%s\","
	    "\"statusCategoryCodeValue\":\"x\",\"statusCode\":\"%s\","
	    "\"statusCodeValue\":\"Claim/line has been paid.\","
	    "\"entityCode\":\"PR\"%s},"
	    "\"tradingPartnerClaimNumber\":\"ZE59426195\"}]}", last, cat, code,
	    found ? ",\"effectiveDate\":\"20251010\",\"submittedAmount\":"
	    "\"1500.00\",\"amountPaid\":\"1200\",\"paidDate\":\"20251012\","
	    "\"checkIssueDate\":\"20251012\",\"checkNumber\":\"EFT0001234\"" :
	    "") == -1)
		return NULL;
	return out;
}

static void
test_build(const struct payer_adapter *ad)
{
	struct payer_request req;
	struct errbuf err;
	struct json_object *root, *p0, *sub;
	const char *s;

	memset(&req, 0, sizeof(req));
	ok(ad->build_request(&ep, &cred, &john, &req, &err) == 0 &&
	    (root = payer_json_parse(req.body, req.body_len)) != NULL,
	    "276 body is JSON");
	ok((s = payer_json_str(root, "controlNumber")) && strlen(s) == 9 &&
	    strspn(s, "0123456789") == 9, "controlNumber is 9 digits");
	ok((s = payer_json_str(root, "tradingPartnerServiceId")) &&
	    !strcmp(s, "87726"), "tradingPartnerServiceId");
	p0 = json_object_array_get_idx(payer_json_get(root, "providers",
	    json_type_array), 0);
	ok(p0 && !strcmp(payer_json_str(p0, "providerType"), "BillingProvider")
	    && !strcmp(payer_json_str(p0, "taxId"), "123456789") &&
	    !strcmp(payer_json_str(p0, "npi"), "1234567890") &&
	    !strcmp(payer_json_str(p0, "organizationName"), "Demo Practice"),
	    "billing provider");
	sub = payer_json_get(root, "subscriber", json_type_object);
	ok(sub && !strcmp(payer_json_str(sub, "memberId"), "ABC123456") &&
	    !strcmp(payer_json_str(sub, "firstName"), "John") &&
	    !strcmp(payer_json_str(sub, "lastName"), "Doe"), "subscriber");
	ok(sub && !strcmp(payer_json_str(sub, "dateOfBirth"), "19800115"),
	    "dateOfBirth is YYYYMMDD");
	ok((s = payer_json_str(payer_json_get(root, "encounter",
	    json_type_object), "tradingPartnerClaimNumber")) &&
	    !strcmp(s, "ZE59426195"), "claim number in encounter");
	ok(req.nheaders == 0, "no extra headers");
	json_object_put(root);
	free(req.body);
}

static void
test_categories(const struct payer_adapter *ad)
{
	static const struct {
		const char *cat, *code, *status;
		int final;
	} t[] = {
		{ "F1", "65", "Processed", 1 },
		{ "F2", "88", "Denied", 1 },
		{ "P1", "20", "Pending", 0 },
		{ "P2", "20", "In Review", 0 },
		{ "A7", "21", "Rejected", 1 },
		{ "F4", "1", "Finalized", 1 },
		{ "R3", "0", "Pending", 0 },
	};
	struct payer_result r;
	size_t i;
	char *b;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		b = answer(t[i].cat, t[i].code, "DOE", 1);
		ok(parse(ad, b, &john, &r) == PAYER_DONE && r.success == 1 &&
		    !strcmp(r.status, t[i].status) &&
		    !strcmp(r.lookup_result, "FOUND"), "%s: %s", t[i].cat,
		    r.status);
		ok(!strcmp(r.total_charged, "1500.00") &&
		    !strcmp(r.total_paid, "1200.00"), "%s: amounts", t[i].cat);
		ok(!strcmp(r.processed_date, t[i].final ? "2025-10-10" : ""),
		    "%s: processed_date \"%s\"", t[i].cat, r.processed_date);
		ok(!strcmp(r.status_category_code, t[i].cat) &&
		    !strcmp(r.status_code, t[i].code), "%s: codes kept",
		    t[i].cat);
		ok(r.member_match == 1, "%s: member matches", t[i].cat);
		free(b);
	}
	b = answer("F1", "65", "DOE", 1);
	parse(ad, b, &john, &r);
	ok(!strcmp(r.check_number, "EFT0001234") &&
	    !strcmp(r.check_date, "2025-10-12") &&
	    !strcmp(r.payer_claim_number, "ZE59426195"),
	    "check and claim number");
	free(b);
}

static void
test_outcomes(const struct payer_adapter *ad)
{
	struct payer_result r;
	char *b;

	b = answer("D0", "35", "DOE", 0);
	ok(parse(ad, b, &john, &r) == PAYER_DONE && r.success == 0 &&
	    !strcmp(r.status, "Not Found") &&
	    !strcmp(r.lookup_result, "NOT_FOUND") &&
	    !strcmp(r.error_message, "Claim not found in system"),
	    "D0: not found");
	free(b);
	b = answer("A1", "35", "DOE", 0);
	ok(parse(ad, b, &john, &r) == PAYER_DONE &&
	    !strcmp(r.status, "Not Found"),
	    "status 35 is not found whatever the category");
	free(b);
	b = answer("E1", "484", "DOE", 0);
	ok(parse(ad, b, &john, &r) == PAYER_RETRY &&
	    !strcmp(r.error_message, "busy (277 E1/484)"),
	    "E1: retry later (%s)", r.error_message);
	free(b);
	b = answer("E2", "", "DOE", 0);
	ok(parse(ad, b, &john, &r) == PAYER_RETRY, "E2: retry later");
	free(b);
	b = answer("E0", "21", "DOE", 0);
	ok(parse(ad, b, &john, &r) == PAYER_FAIL && r.success == 0 &&
	    !strcmp(r.error_message, "payer rejected the request (277 E0/21)")
	    && !strcmp(r.lookup_result, "PAYER_ERROR"), "E0: permanent (%s)",
	    r.error_message);
	free(b);
	b = answer("A3", "21", "DOE", 0);
	ok(parse(ad, b, &john, &r) == PAYER_FAIL, "A3: permanent");
	free(b);
	b = answer("ZZ", "1", "DOE", 0);
	ok(parse(ad, b, &john, &r) == PAYER_FAIL &&
	    strstr(r.error_message, "category ZZ") != NULL,
	    "unknown category: %s", r.error_message);
	free(b);
	b = answer("F1", "65", "MISMATCHSON", 1);
	ok(parse(ad, b, &john, &r) == PAYER_DONE && r.member_match == 0 &&
	    r.success == 0 && !strcmp(r.status, "Processed") &&
	    !strcmp(r.error_message, "Member data mismatch (last name)"),
	    "member mismatch: %s", r.error_message);
	free(b);
	ok(parse(ad, "{\"claims\":[", &john, &r) == PAYER_FAIL &&
	    !strcmp(r.error_message, "payer returned malformed JSON"),
	    "malformed JSON");
	ok(parse(ad, "{\"claims\":[]}", &john, &r) == PAYER_DONE &&
	    !strcmp(r.status, "Not Found"), "no claims: not found");
	ok(parse(ad, "{\"errors\":[{\"code\":\"BAD\"}]}", &john, &r) ==
	    PAYER_FAIL && !strcmp(r.error_message, "payer error BAD"),
	    "errors body");
}

int
main(void)
{
	const struct payer_adapter *ad;

	ad = payer_adapter_find("X12", "CLAIM_STATUS");
	ok(ad == &payer_x12_adapter, "X12 adapter registered");
	if (ad == NULL)
		return done_testing();
	test_build(ad);
	test_categories(ad);
	test_outcomes(ad);
	return done_testing();
}
