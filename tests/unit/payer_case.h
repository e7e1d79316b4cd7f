/*
 * What the adapter tests (test_payer_uhc.c, test_payer_x12.c) share: the
 * practice and the claim of the example exchanges, and a parse of a 200
 * answer into a fresh result.  Include after payer.h.
 */
#ifndef PAYER_CASE_H
#define PAYER_CASE_H

#include <string.h>

static struct payer_credential cred = {
	"client", "secret", "123456789", "1234567890", "Demo Practice"
};
static struct payer_claim john = {
	1, "ZE59426195", "John", "Doe", "1980-01-15", "ABC123456",
	PAYER_TXN_STATUS, 0, NULL
};

/* Maps a 200 body for claim c into r, zeroed as the engine does. */
static enum payer_verdict
parse(const struct payer_adapter *ad, const char *body,
    const struct payer_claim *c, struct payer_result *r)
{
	memset(r, 0, sizeof(*r));
	r->member_match = -1;
	return ad->parse_response(200, body, strlen(body), c, r);
}

#endif
