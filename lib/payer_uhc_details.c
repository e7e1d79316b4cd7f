/*
 * Adapters UHC / CLAIM_DETAILS and UHC / CLAIM_PAYMENT (see
 * docs/payer-adapters.md).
 *
 * Request (both): {"payerId", "claimNumber"}, the TIN in the
 * providerTaxId header.  Response: {"claim": {...}} with totals and
 * service lines, or {"claimNumber", "payments": [...]}.  A claim the payer
 * does not know is a 404 CLAIM_NOT_FOUND, which classify_error turns into
 * PAYER_DONE (the engine records "Not Found").  The wire names of these
 * routes are not public; all of their mapping is here, so a correction is
 * a change to this file only.  Amounts become "1500.00", dates YYYY-MM-DD.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "payer_int.h"
#include "payer_uhc.h"

/* More than any real claim has; a larger answer keeps the first ones. */
#define DETAILS_MAX_LINES	999
#define PAYMENTS_MAX		64

static int
uhcd_build(const struct payer_endpoint *ep,
    const struct payer_credential *cred, const struct payer_claim *claim,
    struct payer_request *req, struct errbuf *err)
{
	struct json_object *root;

	if (payer_request_check(cred, claim, err) == -1)
		return -1;
	root = json_object_new_object();
	json_object_object_add(root, "payerId", json_object_new_string(
	    ep->payer_id != NULL && ep->payer_id[0] != '\0' ? ep->payer_id :
	    "87726"));
	json_object_object_add(root, "claimNumber",
	    json_object_new_string(claim->claim_number));
	if (payer_request_body(req, root, err) == -1)
		return -1;
	snprintf(req->headers[0], PAYER_REQ_HEADER_MAX, "providerTaxId: %s",
	    cred->tin);
	req->nheaders = 1;
	return 0;
}

/*
 * 404 with CLAIM_NOT_FOUND is the payer's "no such claim"; a 404 without
 * it (a path the host does not serve) and everything else as for claim
 * status.
 */
static enum payer_verdict
uhcd_classify(long http_status, const void *buf, size_t len, char *why,
    size_t whysz)
{
	struct json_object *root;
	char code[64];

	if (http_status == 404) {
		code[0] = '\0';
		if ((root = payer_json_parse(buf, len)) != NULL) {
			payer_json_error_code(root, code, sizeof(code));
			json_object_put(root);
		}
		if (strcmp(code, "CLAIM_NOT_FOUND") == 0) {
			snprintf(why, whysz, "claim not found (404)");
			return PAYER_DONE;
		}
	}
	return payer_classify_http(http_status, buf, len, why, whysz);
}

/* A number or numeric string as text ("1", "1.5") in dst, else "". */
static void
json_number_text(char *dst, size_t dstsz, struct json_object *v)
{
	const char *s;
	size_t i;

	dst[0] = '\0';
	if (v == NULL || (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_string)))
		return;
	s = json_object_get_string(v);
	if (s == NULL || s[0] == '\0' || strlen(s) >= dstsz)
		return;
	for (i = 0; s[i] != '\0'; i++)
		if (!isdigit((unsigned char)s[i]) && s[i] != '.' &&
		    !(i == 0 && s[i] == '-'))
			return;
	snprintf(dst, dstsz, "%s", s);
}

/*
 * Joins the strings of array arr with ';' into dst; elements that are
 * not short identifier-like strings are skipped, and so is what does not
 * fit.  Codes are upper-cased.
 */
static void
json_join_codes(char *dst, size_t dstsz, struct json_object *arr)
{
	struct json_object *v;
	const char *s;
	size_t i, j, n, len = 0;

	dst[0] = '\0';
	if (arr == NULL)
		return;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if (v == NULL || !json_object_is_type(v, json_type_string))
			continue;
		s = json_object_get_string(v);
		for (j = 0; s[j] != '\0'; j++)
			if (!isalnum((unsigned char)s[j]))
				break;
		if (j == 0 || s[j] != '\0' || len + (len > 0) + j + 1 > dstsz)
			continue;
		if (len > 0)
			dst[len++] = ';';
		for (j = 0; s[j] != '\0'; j++)
			dst[len++] = (char)toupper((unsigned char)s[j]);
		dst[len] = '\0';
	}
}

/* A short code (group, reason) from obj.key: letters and digits only. */
static void
json_code(char *dst, size_t dstsz, struct json_object *obj, const char *key)
{
	struct json_object *v;
	const char *s;
	size_t i;

	dst[0] = '\0';
	/* some payers send reason codes as numbers */
	if ((v = payer_json_get(obj, key, json_type_int)) != NULL)
		s = json_object_get_string(v);
	else
		s = payer_json_str(obj, key);
	if (s == NULL || strlen(s) >= dstsz)
		return;
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]))
			return;
	for (i = 0; s[i] != '\0'; i++)
		dst[i] = (char)toupper((unsigned char)s[i]);
	dst[i] = '\0';
}

/* The answer names another claim than the one asked for. */
static int
other_claim(struct json_object *obj, const struct payer_claim *claim)
{
	const char *cn = payer_json_str(obj, "claimNumber");

	return cn != NULL && claim->claim_number != NULL &&
	    strcasecmp(cn, claim->claim_number) != 0;
}

/* Maps one element of lines[]; -1 if it is not an object. */
static int
map_line(struct payer_line *l, struct json_object *o, int index)
{
	struct json_object *v, *adj, *a;
	size_t i, n;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return -1;
	memset(l, 0, sizeof(*l));
	v = payer_json_get(o, "lineNumber", json_type_int);
	l->line_number = v != NULL && json_object_get_int(v) > 0 ?
	    json_object_get_int(v) : index + 1;
	payer_copy_safe(l->procedure_code, sizeof(l->procedure_code),
	    payer_json_str(o, "procedureCode"));
	json_join_codes(l->modifiers, sizeof(l->modifiers),
	    payer_json_get(o, "modifiers", json_type_array));
	v = NULL;
	json_object_object_get_ex(o, "units", &v);
	json_number_text(l->units, sizeof(l->units), v);
	payer_json_date(l->service_date, o, "serviceDate");
	payer_json_amount(l->charged, sizeof(l->charged), o, "chargedAmt");
	payer_json_amount(l->allowed, sizeof(l->allowed), o, "allowedAmt");
	payer_json_amount(l->paid, sizeof(l->paid), o, "paidAmt");
	payer_json_amount(l->patient_resp, sizeof(l->patient_resp), o,
	    "ptntRespAmt");
	if ((adj = payer_json_get(o, "adjustments", json_type_array)) !=
	    NULL) {
		n = json_object_array_length(adj);
		for (i = 0; i < n && l->nadj < PAYER_LINE_MAX_ADJ; i++) {
			struct payer_adjustment *pa = &l->adj[l->nadj];

			a = json_object_array_get_idx(adj, i);
			if (a == NULL ||
			    !json_object_is_type(a, json_type_object))
				continue;
			json_code(pa->group, sizeof(pa->group), a,
			    "groupCode");
			json_code(pa->reason, sizeof(pa->reason), a,
			    "reasonCode");
			payer_json_amount(pa->amount, sizeof(pa->amount), a,
			    "amount");
			/* an adjustment without its reason says nothing */
			if (pa->reason[0] != '\0')
				l->nadj++;
			else
				memset(pa, 0, sizeof(*pa));
		}
	}
	json_join_codes(l->remark_codes, sizeof(l->remark_codes),
	    payer_json_get(o, "remarkCodes", json_type_array));
	return 0;
}

static enum payer_verdict
invalid(struct payer_result *res, struct json_object *root, const char *msg)
{
	json_object_put(root);
	payer_result_error(res, msg);
	return PAYER_FAIL;
}

static enum payer_verdict
uhcd_parse(long http_status, const void *buf, size_t len,
    const struct payer_claim *claim, struct payer_result *res)
{
	struct json_object *root, *c, *sub, *lines;
	struct payer_details *d;
	const char *st;
	size_t i, n = 0;

	(void)http_status;
	if ((c = payer_json_body(buf, len, "claim", json_type_object, &root,
	    res)) == NULL)
		return PAYER_FAIL;
	if (other_claim(c, claim))
		return invalid(res, root,
		    "invalid payer response: another claim number");
	if ((st = payer_json_str(c, "claimStatus")) == NULL || st[0] == '\0')
		return invalid(res, root,
		    "invalid payer response: no claimStatus");
	lines = NULL;
	json_object_object_get_ex(c, "lines", &lines);
	if (lines != NULL && !json_object_is_type(lines, json_type_array))
		return invalid(res, root,
		    "invalid payer response: lines is not an array");
	if (lines != NULL)
		n = json_object_array_length(lines);
	if (n > DETAILS_MAX_LINES)
		n = DETAILS_MAX_LINES;
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (n > 0 && (d->lines = calloc(n, sizeof(*d->lines))) == NULL)) {
		free(d);
		return invalid(res, root, "out of memory");
	}
	res->details = d;
	for (i = 0; i < n; i++)
		if (map_line(&d->lines[i], json_object_array_get_idx(lines, i),
		    (int)i) == -1)
			return invalid(res, root,
			    "invalid payer response: a line is not an object");
	d->nlines = (int)n;

	/* the payer's own number for the claim (ICN), else the one asked */
	payer_copy_safe(d->payer_claim_number, sizeof(d->payer_claim_number),
	    payer_json_str(c, "payerClaimControlNumber") != NULL ?
	    payer_json_str(c, "payerClaimControlNumber") :
	    payer_json_str(c, "claimNumber"));
	payer_copy_safe(d->claim_status, sizeof(d->claim_status), st);
	payer_copy_safe(d->frequency_code, sizeof(d->frequency_code),
	    payer_json_str(c, "claimFrequencyCode"));
	sub = payer_json_get(c, "serviceDates", json_type_object);
	payer_json_date(d->service_from, sub, "from");
	payer_json_date(d->service_to, sub, "to");
	sub = payer_json_get(c, "totals", json_type_object);
	payer_json_amount(d->charged, sizeof(d->charged), sub,
	    "totalChargedAmt");
	/* "totalAllowdAmt" is what a deployment saw; accept the spelling */
	payer_json_amount(d->allowed, sizeof(d->allowed), sub,
	    "totalAllowdAmt");
	if (d->allowed[0] == '\0')
		payer_json_amount(d->allowed, sizeof(d->allowed), sub,
		    "totalAllowedAmt");
	payer_json_amount(d->paid, sizeof(d->paid), sub, "totalPaidAmt");
	payer_json_amount(d->patient_resp, sizeof(d->patient_resp), sub,
	    "totalPtntRespAmt");
	payer_json_amount(d->deductible, sizeof(d->deductible), sub,
	    "deductibleAmt");
	payer_json_amount(d->copay, sizeof(d->copay), sub, "copayAmt");
	payer_json_amount(d->coinsurance, sizeof(d->coinsurance), sub,
	    "coinsuranceAmt");

	/* the row's status columns, as a claim-status answer fills them */
	res->success = 1;
	snprintf(res->lookup_result, sizeof(res->lookup_result), "FOUND");
	res->error_message[0] = '\0';
	snprintf(res->status, sizeof(res->status), "%s", d->claim_status);
	snprintf(res->payer_claim_number, sizeof(res->payer_claim_number),
	    "%s", d->payer_claim_number);
	snprintf(res->total_charged, sizeof(res->total_charged), "%s",
	    d->charged);
	snprintf(res->total_paid, sizeof(res->total_paid), "%s", d->paid);
	snprintf(res->total_allowed, sizeof(res->total_allowed), "%s",
	    d->allowed);
	snprintf(res->patient_responsibility,
	    sizeof(res->patient_responsibility), "%s", d->patient_resp);
	payer_json_date(res->processed_date, c, "processedDate");
	json_object_put(root);
	return PAYER_DONE;
}

static enum payer_verdict
uhcp_parse(long http_status, const void *buf, size_t len,
    const struct payer_claim *claim, struct payer_result *res)
{
	struct json_object *root, *arr, *o;
	struct payer_payments *pp;
	struct payer_payment *p;
	size_t i, n;

	(void)http_status;
	if ((arr = payer_json_body(buf, len, "payments", json_type_array,
	    &root, res)) == NULL)
		return PAYER_FAIL;
	if (other_claim(root, claim))
		return invalid(res, root,
		    "invalid payer response: another claim number");
	n = json_object_array_length(arr);
	if (n > PAYMENTS_MAX)
		n = PAYMENTS_MAX;
	if ((pp = calloc(1, sizeof(*pp))) == NULL ||
	    (n > 0 && (pp->payments = calloc(n, sizeof(*p))) == NULL)) {
		free(pp);
		return invalid(res, root, "out of memory");
	}
	res->payments = pp;
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(arr, i);
		if (o == NULL || !json_object_is_type(o, json_type_object))
			return invalid(res, root, "invalid payer response: "
			    "a payment is not an object");
		p = &pp->payments[i];
		payer_copy_safe(p->payment_number, sizeof(p->payment_number),
		    payer_json_str(o, "paymentNumber"));
		json_code(p->method, sizeof(p->method), o, "paymentMethod");
		payer_json_date(p->issue_date, o, "paymentIssueDate");
		payer_json_amount(p->payment_amount, sizeof(p->payment_amount),
		    o, "paymentAmount");
		payer_json_amount(p->claim_paid_amount,
		    sizeof(p->claim_paid_amount), o, "claimPaidAmount");
		payer_copy_safe(p->status, sizeof(p->status),
		    payer_json_str(o, "status"));
		payer_copy_safe(p->payee_name, sizeof(p->payee_name),
		    payer_json_str(o, "payeeName"));
		payer_copy_safe(p->payee_npi, sizeof(p->payee_npi),
		    payer_json_str(o, "payeeNpi"));
	}
	pp->npayments = (int)n;

	/*
	 * The claim is known; its status columns come from the claim-status
	 * call.  check_number/check_date: the first payment not voided.
	 */
	res->success = 1;
	snprintf(res->lookup_result, sizeof(res->lookup_result), "FOUND");
	res->error_message[0] = '\0';
	for (i = 0; i < n; i++) {
		p = &pp->payments[i];
		if (strcasecmp(p->status, "Voided") == 0)
			continue;
		snprintf(res->check_number, sizeof(res->check_number), "%s",
		    p->payment_number);
		snprintf(res->check_date, sizeof(res->check_date), "%s",
		    p->issue_date);
		break;
	}
	json_object_put(root);
	return PAYER_DONE;
}

const struct payer_adapter payer_uhc_details_adapter = {
	.provider_code = "UHC",
	.transaction_code = "CLAIM_DETAILS",
	.build_request = uhcd_build,
	.parse_response = uhcd_parse,
	.classify_error = uhcd_classify,
};

const struct payer_adapter payer_uhc_payment_adapter = {
	.provider_code = "UHC",
	.transaction_code = "CLAIM_PAYMENT",
	.build_request = uhcd_build,
	.parse_response = uhcp_parse,
	.classify_error = uhcd_classify,
};
