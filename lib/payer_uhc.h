/*
 * Adapter UHC / CLAIM_STATUS: Optum Real claim inquiry by claim number
 * and the practice's TIN (see docs/payer-adapters.md).  Pure functions:
 * build the request, map the response to the output columns, classify
 * errors.  All of the field mapping for this payer lives in payer_uhc.c.
 */
#ifndef PAYER_UHC_H
#define PAYER_UHC_H

#include "payer_int.h"

/* The adapter, found by payer_adapter_find("UHC", "CLAIM_STATUS"). */
extern const struct payer_adapter payer_uhc_adapter;

/*
 * Adapters UHC / CLAIM_DETAILS and UHC / CLAIM_PAYMENT
 * (docs/payer-adapters.md, payer_uhc_details.c): the claim's lines,
 * adjustments and remark codes; the checks and EFTs that paid it.
 */
extern const struct payer_adapter payer_uhc_details_adapter;
extern const struct payer_adapter payer_uhc_payment_adapter;
/*
 * Adapter UHC / MEMBER_SEARCH (payer_uhc_member.c): the claims of a
 * member (subscriber id, date of birth), for the not-found triage.
 */
extern const struct payer_adapter payer_uhc_member_adapter;

/* The GraphQL query text sent in every request body. */
#define PAYER_UHC_QUERY							\
	"query SearchClaim($searchClaimInput: SearchClaimInput!) "	\
	"{ searchClaim(input: $searchClaimInput) "			\
	"{ claims { claimNumber claimStatus } } }"

#endif
