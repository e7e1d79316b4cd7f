/*
 * Adapter X12 / CLAIM_STATUS: the JSON form of the X12 276/277 claim
 * status exchange (see docs/payer-adapters.md; shapes as Optum Medical
 * Network Claim Status v2 and Stedi publish them).
 *
 * Business outcomes come inside an HTTP 200 as a 277 status category
 * (X12 code list 507) and status code (list 508).  The category decides
 * the output status, using the same names as the claim inquiry route so
 * both adapters fill the results CSV alike (payer-sim/README-outcomes.md):
 *
 *   F1 Processed, F2 Denied, F0/F4 Finalized, F3 Processed (revised),
 *   P2 In Review, other P* and A0-A2/A5 and R* Pending, A7 Rejected,
 *   D0 / A4 / status 35 Not Found,
 *   E1/E2 retry later, E0/E3/A3/A6/A8 the request is wrong (not retried).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <sodium.h>

#include "date.h"
#include "payer_int.h"
#include "payer_x12.h"

static int
x12_build(const struct payer_endpoint *ep, const struct payer_credential *cred,
    const struct payer_claim *claim, struct payer_request *req,
    struct errbuf *err)
{
	struct json_object *root, *provs, *prov, *sub, *enc;
	char dob[11], ymd[9], control[10];

	if (payer_request_check(cred, claim, err) == -1)
		return -1;
	if (date_to_iso(claim->date_of_birth, dob) == -1 ||
	    strlen(claim->date_of_birth) != 10)
		return errbuf_set(err,
		    "date_of_birth is not a YYYY-MM-DD date");
	/* 276 dates are D8: CCYYMMDD */
	memcpy(ymd, dob, 4);
	memcpy(ymd + 4, dob + 5, 2);
	memcpy(ymd + 6, dob + 8, 2);
	ymd[8] = '\0';
	/* a fresh 9-digit control number per request (ISA13 style) */
	snprintf(control, sizeof(control), "%09u",
	    (unsigned)randombytes_uniform(1000000000u));

	root = json_object_new_object();
	json_object_object_add(root, "controlNumber",
	    json_object_new_string(control));
	json_object_object_add(root, "tradingPartnerServiceId",
	    json_object_new_string(ep->payer_id != NULL ? ep->payer_id :
	    "87726"));
	provs = json_object_new_array();
	prov = json_object_new_object();
	json_object_object_add(prov, "providerType",
	    json_object_new_string("BillingProvider"));
	json_object_object_add(prov, "organizationName", json_object_new_string(
	    cred->practice_name != NULL ? cred->practice_name : ""));
	json_object_object_add(prov, "taxId",
	    json_object_new_string(cred->tin));
	if (cred->npi != NULL && cred->npi[0] != '\0')
		json_object_object_add(prov, "npi",
		    json_object_new_string(cred->npi));
	json_object_array_add(provs, prov);
	json_object_object_add(root, "providers", provs);
	sub = json_object_new_object();
	json_object_object_add(sub, "memberId", json_object_new_string(
	    claim->subscriber_id != NULL ? claim->subscriber_id : ""));
	json_object_object_add(sub, "firstName", json_object_new_string(
	    claim->first_name != NULL ? claim->first_name : ""));
	json_object_object_add(sub, "lastName", json_object_new_string(
	    claim->last_name != NULL ? claim->last_name : ""));
	json_object_object_add(sub, "dateOfBirth", json_object_new_string(ymd));
	json_object_object_add(root, "subscriber", sub);
	/* the CSV has no service dates: the claim number alone identifies it */
	enc = json_object_new_object();
	json_object_object_add(enc, "tradingPartnerClaimNumber",
	    json_object_new_string(claim->claim_number));
	json_object_object_add(root, "encounter", enc);

	if (payer_request_body(req, root, err) == -1)
		return -1;
	req->nheaders = 0;
	return 0;
}

/* What a 277 category means for the row. */
enum x12_kind {
	X12_FOUND,
	X12_NOT_FOUND,
	X12_BUSY,	/* E1, E2: try again later */
	X12_BAD_REQUEST,	/* E0, E3, A3, A6, A8: the request is wrong */
	X12_UNKNOWN,
};

struct x12_category {
	const char	*code;
	enum x12_kind	 kind;
	const char	*status;	/* output status for X12_FOUND */
	int		 final;		/* processed_date from effectiveDate */
};

static const struct x12_category categories[] = {
	{ "F0", X12_FOUND, "Finalized", 1 },
	{ "F1", X12_FOUND, "Processed", 1 },
	{ "F2", X12_FOUND, "Denied", 1 },
	{ "F3", X12_FOUND, "Processed", 1 },
	{ "F3F", X12_FOUND, "Processed", 1 },
	{ "F3N", X12_FOUND, "Finalized", 1 },
	{ "F4", X12_FOUND, "Finalized", 1 },
	{ "P0", X12_FOUND, "Pending", 0 },
	{ "P1", X12_FOUND, "Pending", 0 },
	{ "P2", X12_FOUND, "In Review", 0 },
	{ "P3", X12_FOUND, "Pending", 0 },
	{ "P4", X12_FOUND, "Pending", 0 },
	{ "P5", X12_FOUND, "Pending", 0 },
	{ "A0", X12_FOUND, "Pending", 0 },
	{ "A1", X12_FOUND, "Pending", 0 },
	{ "A2", X12_FOUND, "Pending", 0 },
	{ "A5", X12_FOUND, "Pending", 0 },
	{ "A7", X12_FOUND, "Rejected", 1 },
	{ "A4", X12_NOT_FOUND, NULL, 0 },
	{ "D0", X12_NOT_FOUND, NULL, 0 },
	{ "E1", X12_BUSY, NULL, 0 },
	{ "E2", X12_BUSY, NULL, 0 },
	{ "E4", X12_BUSY, NULL, 0 },
	{ "E0", X12_BAD_REQUEST, NULL, 0 },
	{ "E3", X12_BAD_REQUEST, NULL, 0 },
	{ "A3", X12_BAD_REQUEST, NULL, 0 },
	{ "A6", X12_BAD_REQUEST, NULL, 0 },
	{ "A8", X12_BAD_REQUEST, NULL, 0 },
};

static const struct x12_category request_info = {
	"R", X12_FOUND, "Pending", 0
};

static const struct x12_category *
category_find(const char *code)
{
	size_t i;

	if (code == NULL)
		return NULL;
	for (i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
		if (strcasecmp(categories[i].code, code) == 0)
			return &categories[i];
	/* R0-R16: the payer asks for more information; still open */
	if ((code[0] == 'R' || code[0] == 'r') && code[1] >= '0' &&
	    code[1] <= '9')
		return &request_info;
	return NULL;
}

static enum payer_verdict
x12_parse(long http_status, const void *buf, size_t len,
    const struct payer_claim *claim, struct payer_result *res)
{
	struct json_object *root, *claims, *c, *st;
	const struct x12_category *cat;
	const char *cc, *sc;
	char msg[160];

	(void)http_status;
	if ((root = payer_json_parse(buf, len)) == NULL) {
		payer_result_error(res, "payer returned malformed JSON");
		return PAYER_FAIL;
	}
	claims = payer_json_get(root, "claims", json_type_array);
	if (claims == NULL) {
		payer_result_no_data(res, root, "claims");
		json_object_put(root);
		return PAYER_FAIL;
	}
	c = payer_json_pick(claims, "tradingPartnerClaimNumber",
	    claim->claim_number);
	if (c == NULL) {
		json_object_put(root);
		payer_result_not_found(res);
		return PAYER_DONE;
	}
	st = payer_json_get(c, "claimStatus", json_type_object);
	cc = payer_json_str(st, "statusCategoryCode");
	sc = payer_json_str(st, "statusCode");
	payer_copy_safe(res->status_category_code,
	    sizeof(res->status_category_code), cc);
	payer_copy_safe(res->status_code, sizeof(res->status_code), sc);
	payer_copy_safe(res->status_description,
	    sizeof(res->status_description),
	    payer_json_str(st, "statusCodeValue"));
	cat = category_find(cc);
	/* status 35 "claim/encounter not found" whatever the category */
	if (cat != NULL && cat->kind == X12_FOUND && sc != NULL &&
	    strcmp(sc, "35") == 0)
		cat = category_find("D0");
	if (cat == NULL) {
		snprintf(msg, sizeof(msg), "invalid payer response: status "
		    "category %s", res->status_category_code[0] ?
		    res->status_category_code : "missing");
		json_object_put(root);
		payer_result_error(res, msg);
		return PAYER_FAIL;
	}
	switch (cat->kind) {
	case X12_NOT_FOUND:
		json_object_put(root);
		payer_result_not_found(res);
		return PAYER_DONE;
	case X12_BUSY:
		/* the engine adds "payer " and, if spent, "after N attempts" */
		snprintf(res->error_message, sizeof(res->error_message),
		    "busy (277 %s%s%s)", res->status_category_code,
		    res->status_code[0] ? "/" : "", res->status_code);
		json_object_put(root);
		return PAYER_RETRY;
	case X12_BAD_REQUEST:
		snprintf(msg, sizeof(msg), "payer rejected the request "
		    "(277 %s%s%s)", res->status_category_code,
		    res->status_code[0] ? "/" : "", res->status_code);
		json_object_put(root);
		payer_result_error(res, msg);
		return PAYER_FAIL;
	default:
		break;
	}

	res->success = 1;
	snprintf(res->status, sizeof(res->status), "%s", cat->status);
	snprintf(res->lookup_result, sizeof(res->lookup_result), "FOUND");
	res->error_message[0] = '\0';
	payer_json_amount(res->total_charged, sizeof(res->total_charged), st,
	    "submittedAmount");
	payer_json_amount(res->total_paid, sizeof(res->total_paid), st,
	    "amountPaid");
	if (cat->final)
		payer_json_date(res->processed_date, st, "effectiveDate");
	payer_json_date(res->check_date, st, "checkIssueDate");
	payer_copy_safe(res->check_number, sizeof(res->check_number),
	    payer_json_str(st, "checkNumber"));
	cc = payer_json_str(c, "payerClaimControlNumber");
	payer_copy_safe(res->payer_claim_number,
	    sizeof(res->payer_claim_number), cc != NULL ? cc :
	    payer_json_str(c, "tradingPartnerClaimNumber"));

	/* the 277 names the subscriber once, beside the claims */
	payer_result_member(res, claim, payer_json_get(root, "subscriber",
	    json_type_object), "memberId");
	json_object_put(root);
	return PAYER_DONE;
}

const struct payer_adapter payer_x12_adapter = {
	.provider_code = "X12",
	.transaction_code = "CLAIM_STATUS",
	.build_request = x12_build,
	.parse_response = x12_parse,
	.classify_error = payer_classify_http,
};
