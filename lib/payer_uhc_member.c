/*
 * Adapter UHC / MEMBER_SEARCH (see docs/payer-adapters.md, "Not-found
 * triage"): the claims the payer lists for a member, asked when a claim
 * is not found by its number.
 *
 * Request: {"payerId", "memberId", "memberDateOfBirth"} (MM/DD/YYYY, as
 * the claim inquiry), the TIN in the providerTaxId header.  Response:
 * {"claims": [{"claimNumber", "claimStatus", "serviceDate"}]}, empty
 * when the payer knows no claim of that member and date of birth under
 * the TIN.  The claim is found when a listed number has the normal form
 * (claimnum.h) of the one asked; the row then gets the listed status and
 * number, and no amounts (the search has none).  res->member_claims says
 * how many claims were listed, so the caller can tell "member unknown"
 * from "member known, claim not listed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "claimnum.h"
#include "date.h"
#include "payer_int.h"
#include "payer_uhc.h"

static int
uhcm_build(const struct payer_endpoint *ep,
    const struct payer_credential *cred, const struct payer_claim *claim,
    struct payer_request *req, struct errbuf *err)
{
	struct json_object *root;
	char dob[11];

	if (payer_request_check(cred, claim, err) == -1)
		return -1;
	if (claim->subscriber_id == NULL || claim->subscriber_id[0] == '\0')
		return errbuf_set(err, "no subscriber id for a member search");
	if (date_to_us(claim->date_of_birth, dob) == -1)
		return errbuf_set(err,
		    "date_of_birth is not a YYYY-MM-DD date");
	root = json_object_new_object();
	json_object_object_add(root, "payerId", json_object_new_string(
	    ep->payer_id != NULL && ep->payer_id[0] != '\0' ? ep->payer_id :
	    "87726"));
	json_object_object_add(root, "memberId",
	    json_object_new_string(claim->subscriber_id));
	json_object_object_add(root, "memberDateOfBirth",
	    json_object_new_string(dob));
	if (payer_request_body(req, root, err) == -1)
		return -1;
	snprintf(req->headers[0], PAYER_REQ_HEADER_MAX, "providerTaxId: %s",
	    cred->tin);
	req->nheaders = 1;
	return 0;
}

/* Whether the listed number s is the claim asked (normal forms equal). */
static int
same_claim(const char *s, const char *asked)
{
	char a[CLAIMNUM_MAX + 1], b[CLAIMNUM_MAX + 1];

	if (s == NULL)
		return 0;
	if (strcmp(s, asked) == 0)
		return 1;
	if (!claimnum_normalise(s, strlen(s), CLAIMNUM_UHC_LEN, a, sizeof(a)))
		snprintf(a, sizeof(a), "%s", s);
	if (!claimnum_normalise(asked, strlen(asked), CLAIMNUM_UHC_LEN, b,
	    sizeof(b)))
		snprintf(b, sizeof(b), "%s", asked);
	return strcmp(a, b) == 0;
}

static enum payer_verdict
uhcm_parse(long http_status, const void *buf, size_t len,
    const struct payer_claim *claim, struct payer_result *res)
{
	struct json_object *root, *claims, *c = NULL;
	size_t i, n;

	(void)http_status;
	if ((claims = payer_json_body(buf, len, "claims", json_type_array,
	    &root, res)) == NULL)
		return PAYER_FAIL;
	n = json_object_array_length(claims);
	for (i = 0; i < n && c == NULL; i++)
		if (same_claim(payer_json_str(json_object_array_get_idx(claims,
		    i), "claimNumber"), claim->claim_number))
			c = json_object_array_get_idx(claims, i);
	if (c == NULL) {
		payer_result_not_found(res);
		res->member_claims = (int)(n > 999 ? 999 : n);
		json_object_put(root);
		return PAYER_DONE;
	}
	if (payer_result_found(res, c) == -1) {
		json_object_put(root);
		return PAYER_FAIL;
	}
	res->member_claims = (int)(n > 999 ? 999 : n);
	res->error_message[0] = '\0';
	payer_copy_safe(res->payer_claim_number,
	    sizeof(res->payer_claim_number), payer_json_str(c, "claimNumber"));
	/* the payer matched the member on id and date of birth */
	res->member_match = 1;
	json_object_put(root);
	return PAYER_DONE;
}

const struct payer_adapter payer_uhc_member_adapter = {
	.provider_code = "UHC",
	.transaction_code = "MEMBER_SEARCH",
	.build_request = uhcm_build,
	.parse_response = uhcm_parse,
	.classify_error = payer_classify_http,
};
