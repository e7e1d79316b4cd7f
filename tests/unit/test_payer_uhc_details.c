/*
 * Adapters UHC/CLAIM_DETAILS and UHC/CLAIM_PAYMENT on the shapes of
 * docs/payer-adapters.md and payer-sim/README-outcomes.md: request bodies
 * built exactly, answers mapped into payer_details / payer_payments and
 * the row's columns, not-found and errors classified, malformed bodies
 * refused.  No network.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "payer_int.h"
#include "payer_uhc.h"
#include "payer_case.h"
#include "tap.h"

/* Section 5's example, verbatim but for layout. */
static const char details_json[] =
    "{\"claim\": {\n"
    "  \"claimNumber\": \"ZE59426195\", "
    "\"payerClaimControlNumber\": \"2025101000123\",\n"
    "  \"claimStatus\": \"Processed\", \"claimFrequencyCode\": \"1\",\n"
    "  \"serviceDates\": {\"from\": \"09/20/2025\", \"to\": \"09/20/2025\"},\n"
    "  \"totals\": {\"totalChargedAmt\": \"1500.00\", "
    "\"totalAllowdAmt\": \"1300.00\", \"totalPaidAmt\": \"1200.00\",\n"
    "             \"totalPtntRespAmt\": \"100.00\", \"deductibleAmt\": "
    "\"0.00\", \"copayAmt\": \"30.00\", \"coinsuranceAmt\": \"70.00\"},\n"
    "  \"lines\": [{\"lineNumber\": 1, \"procedureCode\": \"99214\", "
    "\"modifiers\": [\"25\"], \"units\": 1,\n"
    "             \"serviceDate\": \"09/20/2025\", \"chargedAmt\": "
    "\"250.00\", \"allowedAmt\": \"180.00\",\n"
    "             \"paidAmt\": \"150.00\", \"ptntRespAmt\": \"30.00\",\n"
    "             \"adjustments\": [{\"groupCode\": \"CO\", \"reasonCode\": "
    "\"45\", \"amount\": \"70.00\"},\n"
    "                             {\"groupCode\": \"PR\", \"reasonCode\": "
    "\"3\", \"amount\": \"30.00\"}],\n"
    "             \"remarkCodes\": []}]\n"
    "}}\n";

/* A denied claim: two lines cut with CARC 50 and 97 and their RARCs. */
static const char denied_json[] =
    "{\"claim\": {\"claimNumber\": \"ZE59426195\", "
    "\"payerClaimControlNumber\": \"2025101000999\", "
    "\"claimStatus\": \"Denied\", \"claimFrequencyCode\": \"7\", "
    "\"serviceDates\": {\"from\": \"2025-09-20\", \"to\": \"20250921\"}, "
    "\"totals\": {\"totalChargedAmt\": \"395\", \"totalAllowdAmt\": \"0\", "
    "\"totalPaidAmt\": \"0.00\", \"totalPtntRespAmt\": \"0.00\"}, "
    "\"lines\": ["
    "{\"lineNumber\": 1, \"procedureCode\": \"20610\", "
    "\"modifiers\": [\"lt\", \"59\"], \"units\": \"2\", "
    "\"serviceDate\": \"09/20/2025\", \"chargedAmt\": \"300.00\", "
    "\"allowedAmt\": \"0.00\", \"paidAmt\": \"0.00\", "
    "\"ptntRespAmt\": \"0.00\", \"adjustments\": [{\"groupCode\": \"CO\", "
    "\"reasonCode\": \"50\", \"amount\": \"300.00\"}], "
    "\"remarkCodes\": [\"N130\", \"m15\"]},"
    "{\"lineNumber\": 2, \"procedureCode\": \"97110\", "
    "\"modifiers\": [], \"units\": 1.5, "
    "\"serviceDate\": \"09/21/2025\", \"chargedAmt\": \"95.00\", "
    "\"allowedAmt\": \"0.00\", \"paidAmt\": \"0.00\", "
    "\"ptntRespAmt\": \"0.00\", \"adjustments\": [{\"groupCode\": \"OA\", "
    "\"reasonCode\": 97, \"amount\": \"95.00\"}, {\"groupCode\": \"CO\", "
    "\"amount\": \"1.00\"}], \"remarkCodes\": [\"M15\", \"bad code\"]}"
    "]}}";

/* Section 6's example. */
static const char payment_json[] =
    "{\"claimNumber\": \"ZE59426195\", \"payments\": [\n"
    "  {\"paymentNumber\": \"EFT0001234\", \"paymentMethod\": \"ACH\", "
    "\"paymentIssueDate\": \"10/12/2025\",\n"
    "   \"paymentAmount\": \"1200.00\", \"claimPaidAmount\": \"1200.00\", "
    "\"payeeName\": \"DEMO MEDICAL GROUP\",\n"
    "   \"payeeNpi\": \"1234567893\", \"payeeTaxId\": \"123456789\", "
    "\"draftNumber\": \"0001234\",\n"
    "   \"status\": \"Issued\"}]}\n";

/* A voided check and its reissue. */
static const char reissue_json[] =
    "{\"claimNumber\": \"ZE59426195\", \"payments\": ["
    "{\"paymentNumber\": \"CHK0000777\", \"paymentMethod\": \"CHK\", "
    "\"paymentIssueDate\": \"10/12/2025\", \"paymentAmount\": \"480.00\", "
    "\"claimPaidAmount\": \"480.00\", \"status\": \"Voided\"},"
    "{\"paymentNumber\": \"CHK0000901\", \"paymentMethod\": \"CHK\", "
    "\"paymentIssueDate\": \"10/26/2025\", \"paymentAmount\": \"480.00\", "
    "\"claimPaidAmount\": \"480.00\", \"status\": \"Reissued\"}]}";

/* One EFT paying several claims: the claim's share is smaller. */
static const char eft_json[] =
    "{\"claimNumber\": \"ZE59426195\", \"payments\": ["
    "{\"paymentNumber\": \"EFT0005000\", \"paymentMethod\": \"ach\", "
    "\"paymentIssueDate\": \"11/02/2025\", \"paymentAmount\": \"5321.5\", "
    "\"claimPaidAmount\": \"1200.00\", \"status\": \"Cleared\", "
    "\"payeeName\": \"DEMO\\nGROUP\"}]}";

static struct payer_endpoint ep = {
	"UHC", "CLAIM_DETAILS", "http://127.0.0.1:1", "/apip/auth/v2/token",
	"/oihub/claim/detail/v1", "87726"
};

static void
test_build(const struct payer_adapter *ad, const char *what)
{
	struct payer_request req;
	struct payer_credential c = cred;
	struct payer_claim k = john;
	struct errbuf err;

	memset(&req, 0, sizeof(req));
	ok(ad->build_request(&ep, &cred, &john, &req, &err) == 0 &&
	    req.body != NULL && strcmp(req.body, "{\"payerId\":\"87726\","
	    "\"claimNumber\":\"ZE59426195\"}") == 0 &&
	    req.body_len == strlen(req.body), "%s: body exact (%s)", what,
	    req.body ? req.body : "NULL");
	ok(req.nheaders == 1 && strcmp(req.headers[0],
	    "providerTaxId: 123456789") == 0, "%s: providerTaxId header", what);
	free(req.body);

	memset(&req, 0, sizeof(req));
	c.tin = "12345";
	ok(ad->build_request(&ep, &c, &john, &req, &err) == -1 &&
	    strstr(err.msg, "TIN") != NULL, "%s: bad TIN refused (%s)", what,
	    err.msg);
	free(req.body);
	memset(&req, 0, sizeof(req));
	k.claim_number = "";
	ok(ad->build_request(&ep, &cred, &k, &req, &err) == -1,
	    "%s: empty claim number refused", what);
	free(req.body);
}

static void
test_details(const struct payer_adapter *ad)
{
	struct payer_result r;
	const struct payer_details *d = NULL;
	const struct payer_line *l;

	ok(parse(ad, details_json, &john, &r) == PAYER_DONE &&
	    (d = r.details) != NULL && r.payments == NULL,
	    "details example: done, details set");
	if (r.details == NULL)
		return;
	ok(!strcmp(d->payer_claim_number, "2025101000123") &&
	    !strcmp(d->claim_status, "Processed") &&
	    !strcmp(d->frequency_code, "1") &&
	    !strcmp(d->service_from, "2025-09-20") &&
	    !strcmp(d->service_to, "2025-09-20"), "claim header mapped");
	ok(!strcmp(d->charged, "1500.00") && !strcmp(d->allowed, "1300.00") &&
	    !strcmp(d->paid, "1200.00") && !strcmp(d->patient_resp, "100.00") &&
	    !strcmp(d->deductible, "0.00") && !strcmp(d->copay, "30.00") &&
	    !strcmp(d->coinsurance, "70.00"), "totals mapped");
	ok(d->nlines == 1, "one line");
	l = &d->lines[0];
	ok(l->line_number == 1 && !strcmp(l->procedure_code, "99214") &&
	    !strcmp(l->modifiers, "25") && !strcmp(l->units, "1") &&
	    !strcmp(l->service_date, "2025-09-20"), "line identity mapped");
	ok(!strcmp(l->charged, "250.00") && !strcmp(l->allowed, "180.00") &&
	    !strcmp(l->paid, "150.00") && !strcmp(l->patient_resp, "30.00"),
	    "line amounts mapped");
	ok(l->nadj == 2 && !strcmp(l->adj[0].group, "CO") &&
	    !strcmp(l->adj[0].reason, "45") &&
	    !strcmp(l->adj[0].amount, "70.00") &&
	    !strcmp(l->adj[1].group, "PR") && !strcmp(l->adj[1].reason, "3") &&
	    !strcmp(l->adj[1].amount, "30.00") && l->remark_codes[0] == '\0',
	    "adjustments mapped, no remark codes");
	ok(r.success == 1 && !strcmp(r.lookup_result, "FOUND") &&
	    !strcmp(r.status, "Processed") && r.error_message[0] == '\0' &&
	    !strcmp(r.total_charged, "1500.00") &&
	    !strcmp(r.total_paid, "1200.00") &&
	    !strcmp(r.total_allowed, "1300.00") &&
	    !strcmp(r.patient_responsibility, "100.00") &&
	    !strcmp(r.payer_claim_number, "2025101000123") &&
	    r.processed_date[0] == '\0', "row status columns from the details");
	payer_result_clear(&r);
	ok(r.details == NULL && r.payments == NULL, "payer_result_clear");

	ok(parse(ad, denied_json, &john, &r) == PAYER_DONE &&
	    (d = r.details) != NULL && d->nlines == 2, "denied claim: 2 lines");
	if (r.details == NULL)
		return;
	ok(!strcmp(r.status, "Denied") && r.success == 1 &&
	    !strcmp(r.total_charged, "395.00") &&
	    !strcmp(r.total_paid, "0.00") && !strcmp(d->frequency_code, "7") &&
	    !strcmp(d->service_from, "2025-09-20") &&
	    !strcmp(d->service_to, "2025-09-21") && d->deductible[0] == '\0',
	    "denied header: dates in any form, absent amounts empty");
	l = &d->lines[0];
	ok(!strcmp(l->modifiers, "LT;59") && !strcmp(l->units, "2") &&
	    l->nadj == 1 && !strcmp(l->adj[0].group, "CO") &&
	    !strcmp(l->adj[0].reason, "50") &&
	    !strcmp(l->adj[0].amount, "300.00") &&
	    !strcmp(l->remark_codes, "N130;M15") && !strcmp(l->paid, "0.00"),
	    "line 1: CARC 50, RARC N130;M15, modifiers joined (%s, %s)",
	    l->modifiers, l->remark_codes);
	l = &d->lines[1];
	ok(l->modifiers[0] == '\0' && !strcmp(l->units, "1.5") &&
	    l->nadj == 1 && !strcmp(l->adj[0].group, "OA") &&
	    !strcmp(l->adj[0].reason, "97") && !strcmp(l->remark_codes, "M15"),
	    "line 2: numeric CARC 97, adjustment without reason and bad "
	    "remark dropped (%d, %s)", l->nadj, l->remark_codes);
	payer_result_clear(&r);
}

static void
test_payments(const struct payer_adapter *ad)
{
	struct payer_result r;
	const struct payer_payment *p;

	ok(parse(ad, payment_json, &john, &r) == PAYER_DONE &&
	    r.payments != NULL && r.details == NULL &&
	    r.payments->npayments == 1, "payment example: one payment");
	if (r.payments == NULL)
		return;
	p = &r.payments->payments[0];
	ok(!strcmp(p->payment_number, "EFT0001234") &&
	    !strcmp(p->method, "ACH") && !strcmp(p->issue_date, "2025-10-12") &&
	    !strcmp(p->payment_amount, "1200.00") &&
	    !strcmp(p->claim_paid_amount, "1200.00") &&
	    !strcmp(p->status, "Issued") &&
	    !strcmp(p->payee_name, "DEMO MEDICAL GROUP") &&
	    !strcmp(p->payee_npi, "1234567893"), "payment mapped");
	ok(r.success == 1 && !strcmp(r.lookup_result, "FOUND") &&
	    r.status[0] == '\0' && !strcmp(r.check_number, "EFT0001234") &&
	    !strcmp(r.check_date, "2025-10-12"),
	    "row: found, check number and date of the payment");
	payer_result_clear(&r);

	ok(parse(ad, reissue_json, &john, &r) == PAYER_DONE &&
	    r.payments != NULL && r.payments->npayments == 2,
	    "void and reissue: two payments");
	if (r.payments == NULL)
		return;
	ok(!strcmp(r.payments->payments[0].status, "Voided") &&
	    !strcmp(r.payments->payments[0].method, "CHK") &&
	    !strcmp(r.payments->payments[1].status, "Reissued") &&
	    !strcmp(r.payments->payments[1].payment_number, "CHK0000901"),
	    "in the payer's order, statuses kept");
	ok(!strcmp(r.check_number, "CHK0000901") &&
	    !strcmp(r.check_date, "2025-10-26"),
	    "row's check is the reissue, not the voided one");
	payer_result_clear(&r);

	ok(parse(ad, eft_json, &john, &r) == PAYER_DONE &&
	    r.payments != NULL && r.payments->npayments == 1,
	    "multi-claim EFT");
	if (r.payments == NULL)
		return;
	p = &r.payments->payments[0];
	ok(!strcmp(p->payment_amount, "5321.50") &&
	    !strcmp(p->claim_paid_amount, "1200.00") &&
	    !strcmp(p->method, "ACH") && !strcmp(p->status, "Cleared") &&
	    !strcmp(p->payee_name, "DEMO GROUP"),
	    "paymentAmount is the EFT, claimPaidAmount the claim's share");
	payer_result_clear(&r);

	ok(parse(ad, "{\"claimNumber\": \"ZE59426195\", \"payments\": []}",
	    &john, &r) == PAYER_DONE && r.success == 1 &&
	    !strcmp(r.lookup_result, "FOUND") && r.payments != NULL &&
	    r.payments->npayments == 0 && r.check_number[0] == '\0',
	    "found, not paid: no payments");
	payer_result_clear(&r);
}

/* Classifies a non-2xx answer as the engine would. */
static enum payer_verdict
classify(const struct payer_adapter *ad, long code, const char *body,
    char *why, size_t whysz)
{
	why[0] = '\0';
	return ad->classify_error(code, body, strlen(body), why, whysz);
}

static void
test_errors(const struct payer_adapter *ad, const char *what)
{
	char why[256];

	ok(classify(ad, 404, "{\"errors\":[{\"code\":\"CLAIM_NOT_FOUND\","
	    "\"description\":\"no such claim\"}]}", why, sizeof(why)) ==
	    PAYER_DONE, "%s: 404 CLAIM_NOT_FOUND is a final answer", what);
	ok(classify(ad, 404, "<html>not here</html>", why, sizeof(why)) ==
	    PAYER_FAIL && !strcmp(why, "error 404"),
	    "%s: 404 without the code fails the row (%s)", what, why);
	ok(classify(ad, 503, "", why, sizeof(why)) == PAYER_RETRY &&
	    classify(ad, 429, "", why, sizeof(why)) == PAYER_RETRY &&
	    classify(ad, 401, "", why, sizeof(why)) == PAYER_REAUTH,
	    "%s: 503/429 retry, 401 re-authenticates", what);
	ok(classify(ad, 400, "{\"errors\":[{\"code\":\"INVALID_INPUT\"}]}",
	    why, sizeof(why)) == PAYER_FAIL && !strcmp(why,
	    "rejected the request (400 INVALID_INPUT)"),
	    "%s: 400 fails with its code (%s)", what, why);
}

/* A 200 body the adapter must refuse with msg in error_message. */
static void
refused(const struct payer_adapter *ad, const char *body, const char *msg)
{
	struct payer_result r;
	enum payer_verdict v;

	v = parse(ad, body, &john, &r);
	ok(v == PAYER_FAIL && r.success == 0 &&
	    !strcmp(r.lookup_result, "PAYER_ERROR") &&
	    !strcmp(r.error_message, msg), "refused: %.40s (%s)", body,
	    r.error_message);
	payer_result_clear(&r);
}

int
main(void)
{
	const struct payer_adapter *det, *pay;

	det = payer_adapter_find("UHC", "CLAIM_DETAILS");
	pay = payer_adapter_find("uhc", "claim_payment");
	ok(det == &payer_uhc_details_adapter && pay ==
	    &payer_uhc_payment_adapter, "both adapters registered");
	ok(payer_adapter_find("X12", "CLAIM_DETAILS") == NULL,
	    "no X12 details adapter");
	ok(payer_txn_from_code("claim_details") == PAYER_TXN_DETAILS &&
	    payer_txn_from_code("CLAIM_PAYMENT") == PAYER_TXN_PAYMENT &&
	    payer_txn_from_code("CLAIM_STATUS") == PAYER_TXN_STATUS &&
	    payer_txn_from_code("ELIGIBILITY") == -1 &&
	    payer_txn_from_code(NULL) == -1 &&
	    !strcmp(payer_txn_code(PAYER_TXN_PAYMENT), "CLAIM_PAYMENT") &&
	    payer_txn_code(PAYER_TXN__MAX) == NULL, "transaction codes");
	if (det == NULL || pay == NULL)
		return done_testing();
	test_build(det, "details");
	test_build(pay, "payment");
	test_details(det);
	test_payments(pay);
	test_errors(det, "details");
	test_errors(pay, "payment");

	refused(det, "{\"claim\": {\"claimStatus\": \"Proc",
	    "payer returned malformed JSON");
	refused(det, "{}", "invalid payer response: no claim");
	refused(det, "{\"errors\":[{\"code\":\"SERVICE_FAULT\"}]}",
	    "payer error SERVICE_FAULT");
	refused(det, "{\"claim\": {\"claimNumber\": \"ZE59426195\"}}",
	    "invalid payer response: no claimStatus");
	refused(det, "{\"claim\": {\"claimNumber\": \"XX1\", "
	    "\"claimStatus\": \"Processed\"}}",
	    "invalid payer response: another claim number");
	refused(det, "{\"claim\": {\"claimStatus\": \"Processed\", "
	    "\"lines\": {}}}", "invalid payer response: lines is not an array");
	refused(det, "{\"claim\": {\"claimStatus\": \"Processed\", "
	    "\"lines\": [{\"lineNumber\": 1}, 7]}}",
	    "invalid payer response: a line is not an object");
	refused(pay, "{\"claimNumber\": \"ZE59426195\", \"paym",
	    "payer returned malformed JSON");
	refused(pay, "{\"claimNumber\": \"ZE59426195\"}",
	    "invalid payer response: no payments");
	refused(pay, "{\"payments\": {}}",
	    "invalid payer response: no payments");
	refused(pay, "{\"claimNumber\": \"ZE00000001\", \"payments\": []}",
	    "invalid payer response: another claim number");
	refused(pay, "{\"payments\": [\"EFT1\"]}",
	    "invalid payer response: a payment is not an object");
	return done_testing();
}
