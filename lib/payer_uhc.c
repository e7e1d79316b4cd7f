/*
 * Adapter UHC / CLAIM_STATUS (see docs/payer-adapters.md).
 *
 * Request: a GraphQL envelope whose variables carry the claim number and
 * the member; the TIN travels in the providerTaxId header.
 * Response: data.searchClaim.claims[], empty when the claim is unknown.
 * The output columns: status is the payer's claimStatus,
 * patient_name is the CSV's name (set by the engine), amounts and dates
 * are normalised to "1500.00" and YYYY-MM-DD.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "date.h"
#include "payer_int.h"
#include "payer_uhc.h"

static int
uhc_build(const struct payer_endpoint *ep, const struct payer_credential *cred,
    const struct payer_claim *claim, struct payer_request *req,
    struct errbuf *err)
{
	struct json_object *root, *vars, *in;
	char dob[11];

	if (payer_request_check(cred, claim, err) == -1)
		return -1;
	/* spec section 2: the payer wants MM/DD/YYYY */
	if (date_to_us(claim->date_of_birth, dob) == -1)
		return errbuf_set(err,
		    "date_of_birth is not a YYYY-MM-DD date");

	root = json_object_new_object();
	vars = json_object_new_object();
	in = json_object_new_object();
	json_object_object_add(root, "operationName",
	    json_object_new_string("SearchClaim"));
	json_object_object_add(root, "query",
	    json_object_new_string(PAYER_UHC_QUERY));
	json_object_object_add(in, "payerId", json_object_new_string(
	    ep->payer_id != NULL ? ep->payer_id : "87726"));
	json_object_object_add(in, "claimNumber",
	    json_object_new_string(claim->claim_number));
	json_object_object_add(in, "memberId", json_object_new_string(
	    claim->subscriber_id != NULL ? claim->subscriber_id : ""));
	json_object_object_add(in, "memberFirstName", json_object_new_string(
	    claim->first_name != NULL ? claim->first_name : ""));
	json_object_object_add(in, "memberLastName", json_object_new_string(
	    claim->last_name != NULL ? claim->last_name : ""));
	json_object_object_add(in, "memberDateOfBirth",
	    json_object_new_string(dob));
	json_object_object_add(vars, "searchClaimInput", in);
	json_object_object_add(root, "variables", vars);

	if (payer_request_body(req, root, err) == -1)
		return -1;
	snprintf(req->headers[0], PAYER_REQ_HEADER_MAX, "providerTaxId: %s",
	    cred->tin);
	req->nheaders = 1;
	return 0;
}

static enum payer_verdict
uhc_parse(long http_status, const void *buf, size_t len,
    const struct payer_claim *claim, struct payer_result *res)
{
	struct json_object *root, *claims, *c, *sub, *arr;

	if ((root = payer_json_parse(buf, len)) == NULL) {
		payer_result_error(res, "payer returned malformed JSON");
		return PAYER_FAIL;
	}
	claims = payer_json_get(payer_json_get(payer_json_get(root, "data",
	    json_type_object), "searchClaim", json_type_object), "claims",
	    json_type_array);
	if (claims == NULL) {
		payer_result_no_data(res, root, "data.searchClaim.claims");
		json_object_put(root);
		return PAYER_FAIL;
	}
	c = payer_json_pick(claims, "claimNumber", claim->claim_number);
	if (c == NULL) {
		json_object_put(root);
		payer_result_not_found(res);
		return PAYER_DONE;
	}

	if (payer_result_found(res, c) == -1) {
		json_object_put(root);
		return PAYER_FAIL;
	}
	res->error_message[0] = '\0';
	payer_copy_safe(res->payer_claim_number,
	    sizeof(res->payer_claim_number), payer_json_str(c, "claimNumber"));

	sub = payer_json_get(c, "claimLevelTotalAmount", json_type_object);
	payer_json_amount(res->total_charged, sizeof(res->total_charged), sub,
	    "totalBilledChargeAmount");
	payer_json_amount(res->total_paid, sizeof(res->total_paid), sub,
	    "totalPaidAmount");
	payer_json_amount(res->total_allowed, sizeof(res->total_allowed), sub,
	    "totalAllowedAmount");
	payer_json_amount(res->patient_responsibility,
	    sizeof(res->patient_responsibility), sub,
	    "totalPatientResponsibilityAmount");

	sub = payer_json_get(c, "claimEvents", json_type_object);
	payer_json_date(res->processed_date, sub, "processedDate");

	if ((arr = payer_json_get(c, "payments", json_type_array)) != NULL &&
	    json_object_array_length(arr) > 0) {
		sub = json_object_array_get_idx(arr, 0);
		payer_copy_safe(res->check_number, sizeof(res->check_number),
		    payer_json_str(sub, "paymentNumber"));
		payer_json_date(res->check_date, sub, "paymentIssueDate");
	}

	if ((arr = payer_json_get(c, "claimStatusCrosswalkData",
	    json_type_array)) != NULL && json_object_array_length(arr) > 0) {
		const char *d;

		sub = json_object_array_get_idx(arr, 0);
		payer_copy_safe(res->status_category_code,
		    sizeof(res->status_category_code),
		    payer_json_str(sub, "claim507Code"));
		payer_copy_safe(res->status_code, sizeof(res->status_code),
		    payer_json_str(sub, "claim508Code"));
		/* the 508 text is the more specific; fall back to 507's */
		if ((d = payer_json_str(sub, "claim508CodeDesc")) == NULL)
			d = payer_json_str(sub, "claim507CodeDesc");
		payer_copy_safe(res->status_description,
		    sizeof(res->status_description), d);
	}

	payer_result_member(res, claim, payer_json_get(c, "member",
	    json_type_object), "subscriberId");
	json_object_put(root);
	(void)http_status;
	return PAYER_DONE;
}

const struct payer_adapter payer_uhc_adapter = {
	.provider_code = "UHC",
	.transaction_code = "CLAIM_STATUS",
	.build_request = uhc_build,
	.parse_response = uhc_parse,
	.classify_error = payer_classify_http,
};
