/*
 * Unit tests of the not-found triage's pure parts: lib/claimnum.c (the
 * normal form of a claim number, table of inputs and outputs, with the
 * ones that must not change) and the UHC member search adapter
 * (lib/payer_uhc_member.c: request body, matching the listed claims).
 * The fuzz corpus of tests/fuzz/corpus/claimnum is replayed as well.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "claimnum.h"
#include "payer_int.h"
#include "payer_uhc.h"
#include "payer_case.h"
#include "tap.h"
#include "claimnum_check.h"

/* Input, fixed length, normal form ("": the same, none). */
static const struct {
	const char	*in;
	int		 fixed;
	const char	*out;
} cases[] = {
	/* spaces and dashes */
	{ "0087 123 456", 10, "0087123456" },
	{ "0087-123-456", 10, "0087123456" },
	{ " ZE5942-6195 ", 10, "ZE59426195" },
	{ "ZE59\t426195", 10, "ZE59426195" },
	{ "ZE59\xc2\xa0" "426195", 10, "ZE59426195" },
	/* a payer's name in front */
	{ "UHC0087123456", 10, "0087123456" },
	{ "uhc-87123456", 10, "0087123456" },
	{ "UHC: ZE59426195", 10, "ZE59426195" },
	{ "UHC#ZE59426195", 10, "ZE59426195" },
	{ "Optum 0087123456", 10, "0087123456" },
	{ "UnitedHealthcare-ZE59426195", 10, "ZE59426195" },
	{ "United ZE59426195", 10, "ZE59426195" },
	/* lost leading zeros, when the length tells */
	{ "87123456", 10, "0087123456" },
	{ "087123456", 10, "0087123456" },
	{ "123456", 10, "0000123456" },
	/* must NOT change */
	{ "0087123456", 10, "" },
	{ "ZE59426195", 10, "" },
	{ "MS12345678", 10, "" },
	{ "12345", 10, "" },		/* too short to be a lost-zero case */
	{ "00871234567", 10, "" },	/* too long: not padded */
	{ "ze59426195", 10, "" },	/* case is kept */
	{ "UHCX12345", 10, "" },	/* not a prefix: a letter follows */
	{ "UHC", 10, "" },
	{ "UHC-", 10, "UHC" },		/* the name alone: no prefix */
	{ "ZE/59426195", 10, "" },	/* other punctuation stays */
	{ "87123456", 0, "" },		/* no fixed length: no padding */
	{ "", 10, "" },
	/* changed, and still not a claim number: the shape test says so */
	{ "NOT-FOUND 1", 10, "NOTFOUND1" },
	{ "--", 10, "" },
	{ "1234-5678", 0, "12345678" },
};

static void
test_normalise(void)
{
	char out[CLAIMNUM_MAX + 1], big[CLAIMNUM_MAX + 2];
	size_t i;
	int rc, good = 1;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = claimnum_normalise(cases[i].in, strlen(cases[i].in),
		    cases[i].fixed, out, sizeof(out));
		if (rc != (cases[i].out[0] != '\0') ||
		    strcmp(out, cases[i].out) != 0) {
			good = 0;
			printf("# \"%s\" -> rc %d \"%s\", want \"%s\"\n",
			    cases[i].in, rc, out, cases[i].out);
		}
	}
	ok(good, "normal forms of %zu claim numbers",
	    sizeof(cases) / sizeof(cases[0]));

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(claimnum_normalise(big, strlen(big), 10, out, sizeof(out)) == 0 &&
	    out[0] == '\0', "an input over CLAIMNUM_MAX has none");
	ok(claimnum_normalise("0087-123-456", 12, 10, out, 8) == 0 &&
	    out[0] == '\0', "a too small output buffer gets none");
	ok(claimnum_normalise("0087-1\0" "23", 8, 10, out, sizeof(out)) == 1 &&
	    strcmp(out, "00871") == 0, "stops at an embedded NUL: %s", out);
}

static void
test_usual(void)
{
	ok(claimnum_usual("ZE59426195", 10) && claimnum_usual("0087123456",
	    10) && claimnum_usual("MS12345678", 10),
	    "UHC shapes: 10 letters and digits");
	ok(!claimnum_usual("NOTFOUND1", 10) && !claimnum_usual("ZE594261",
	    10) && !claimnum_usual("ZE5942619/", 10) &&
	    !claimnum_usual("ABCDEFGHIJ", 10) && !claimnum_usual("", 10),
	    "unusual: wrong length, punctuation, no digit, empty");
	ok(claimnum_usual("12345", 0) && claimnum_usual("AB1234567890", 0) &&
	    !claimnum_usual("1234", 0) && !claimnum_usual("AB-1234567", 0),
	    "any payer: 5..30 letters and digits");
}

static void
test_member_adapter(void)
{
	const struct payer_adapter *ad;
	struct payer_endpoint ep = { "UHC", "MEMBER_SEARCH",
	    "http://127.0.0.1:1", "/apip/auth/v2/token",
	    "/oihub/claim/member-search/v1", "87726" };
	struct payer_request req;
	struct payer_result r;
	struct payer_claim c = john, k;
	struct errbuf err;

	ad = payer_adapter_find("uhc", "MEMBER_SEARCH");
	ok(ad == &payer_uhc_member_adapter && payer_has_adapter("UHC",
	    PAYER_TXN_MEMBER) && !payer_has_adapter("X12", PAYER_TXN_MEMBER) &&
	    strcmp(payer_txn_code(PAYER_TXN_MEMBER), "MEMBER_SEARCH") == 0,
	    "the member search adapter is found by its codes");
	if (ad == NULL)
		return;
	memset(&req, 0, sizeof(req));
	ok(ad->build_request(&ep, &cred, &c, &req, &err) == 0 &&
	    strcmp(req.body, "{\"payerId\":\"87726\",\"memberId\":"
	    "\"ABC123456\",\"memberDateOfBirth\":\"01/15/1980\"}") == 0 &&
	    req.nheaders == 1 && strcmp(req.headers[0],
	    "providerTaxId: 123456789") == 0, "request: %s",
	    req.body ? req.body : "NULL");
	free(req.body);
	k = c;
	k.subscriber_id = "";
	memset(&req, 0, sizeof(req));
	ok(ad->build_request(&ep, &cred, &k, &req, &err) == -1 &&
	    strstr(err.msg, "ABC") == NULL,
	    "no subscriber id: not sent (%s)", err.msg);
	free(req.body);

	c.claim_number = "ZE59426195";
	ok(parse(ad, "{\"claims\":[{\"claimNumber\":\"ZE11111111\","
	    "\"claimStatus\":\"Processed\"},{\"claimNumber\":\"ZE59426195\","
	    "\"claimStatus\":\"Rejected\",\"serviceDate\":\"04/26/2025\"}]}",
	    &c, &r) == PAYER_DONE && r.success == 1 &&
	    strcmp(r.status, "Rejected") == 0 &&
	    strcmp(r.lookup_result, "FOUND") == 0 && r.member_claims == 2 &&
	    strcmp(r.payer_claim_number, "ZE59426195") == 0,
	    "found: the listed claim's status");
	c.claim_number = "ZE-5942 6195";
	ok(parse(ad, "{\"claims\":[{\"claimNumber\":\"ZE59426195\","
	    "\"claimStatus\":\"Pending\"}]}", &c, &r) == PAYER_DONE &&
	    r.success == 1 && strcmp(r.status, "Pending") == 0,
	    "found under the normal form of the number asked");
	ok(parse(ad, "{\"claims\":[{\"claimNumber\":\"ZE11111111\","
	    "\"claimStatus\":\"Processed\"}]}", &c, &r) == PAYER_DONE &&
	    r.success == 0 && strcmp(r.lookup_result, "NOT_FOUND") == 0 &&
	    r.member_claims == 1, "member known, claim not listed");
	ok(parse(ad, "{\"claims\":[]}", &c, &r) == PAYER_DONE &&
	    strcmp(r.lookup_result, "NOT_FOUND") == 0 && r.member_claims == 0,
	    "member unknown: nothing listed");
	ok(parse(ad, "{\"claims\":{}}", &c, &r) == PAYER_FAIL &&
	    strcmp(r.lookup_result, "PAYER_ERROR") == 0 &&
	    parse(ad, "{\"claims\":[", &c, &r) == PAYER_FAIL,
	    "malformed answers fail");
}

int
main(void)
{
	test_normalise();
	test_usual();
	test_member_adapter();
	ok(claimnum_check_corpus(CLAIMNUM_CORPUS_DIR) > 0,
	    "fuzz corpus replayed with the invariants");
	return done_testing();
}
