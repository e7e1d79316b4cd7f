/*
 * The simulator's wire format (payer-sim/README-outcomes.md): parsing
 * request bodies and building response bodies with json-c.  No I/O: every
 * function takes bytes and returns a malloc'd string, so the unit tests
 * and `--explain` use exactly what the server sends.
 */
#ifndef SIM_RESPOND_H
#define SIM_RESPOND_H

#include <stddef.h>

#include "errbuf.h"
#include "limits.h"
#include "outcome.h"
#include "remit.h"

/* Member data as a request names it (all optional, "" if absent). */
struct sim_member {
	char	 id[SIM_MAX_FIELD];
	char	 first[SIM_MAX_FIELD];
	char	 last[SIM_MAX_FIELD];
	char	 dob[SIM_MAX_FIELD];	/* as sent */
};

/* A claim request of either route. */
struct sim_request {
	char		 claim[SIM_MAX_FIELD];	/* 276: may be "" */
	char		 tin[SIM_MAX_FIELD];	/* 276: taxId */
	char		 control[SIM_MAX_FIELD];	/* 276 */
	char		 payer[SIM_MAX_FIELD];	/* payer id */
	struct sim_member member;
};

/* An OAuth2 client-credentials request. */
struct sim_token_request {
	char	 grant_type[SIM_MAX_FIELD];
	char	 client_id[SIM_MAX_FIELD];
	char	 client_secret[SIM_MAX_FIELD];
};

/*
 * Parses a token request body: form-encoded, or JSON when json is
 * non-zero.  Returns 0, or -1 with err set (malformed, field too long).
 */
int	 respond_parse_token(const void *buf, size_t len, int json,
	    struct sim_token_request *out, struct errbuf *err);

/*
 * Parses a claim inquiry body (variables.searchClaimInput).
 * Returns 0, or -1 with err set (bad JSON, no claimNumber, too long).
 */
int	 respond_parse_inquiry(const void *buf, size_t len,
	    struct sim_request *out, struct errbuf *err);

/*
 * Parses a claim details or payment body (payerId and claimNumber).
 * Returns 0, or -1 with err set (bad JSON, no claimNumber, too long).
 */
int	 respond_parse_lookup(const void *buf, size_t len,
	    struct sim_request *out, struct errbuf *err);

/*
 * Parses a JSON 276 body.  Returns 0, or -1 with err set (bad
 * JSON, no controlNumber, no subscriber).  A missing claim number is
 * not an error: the answer is "not found".
 */
int	 respond_parse_x12(const void *buf, size_t len,
	    struct sim_request *out, struct errbuf *err);

/*
 * The member the payer reports for request member in: upper-cased
 * names, the same id and date of birth, or (MISMATCH) a different last
 * name and date of birth.  x12 picks the date format of a mismatch.
 */
void	 respond_member(const struct sim_outcome *o,
	    const struct sim_member *in, int x12, struct sim_member *out);

/* Token answer.  Returns a malloc'd string (caller frees) or NULL. */
char	*respond_token(const char *token, long expires_in);

/* {"errors":[{"code":..,"description":..}]}; malloc'd, or NULL. */
char	*respond_error(const char *code, const char *desc);

/* Claim inquiry answer for o and request q; malloc'd or NULL. */
char	*respond_inquiry(const struct sim_outcome *o,
	    const struct sim_request *q);

/* 277 answer for o and request q; malloc'd or NULL. */
char	*respond_x12(const struct sim_outcome *o,
	    const struct sim_request *q);

/*
 * A 277 without claim data whose category says the payer is busy (E1,
 * busy != 0: retry later) or the request is wrong (E0); malloc'd or NULL.
 */
char	*respond_x12_system(const struct sim_request *q, int busy);

/* Claim details answer of a found claim; malloc'd or NULL. */
char	*respond_details(const struct sim_outcome *o,
	    const struct sim_request *q);

/*
 * Claim payment answer of a found claim; payee_tin is echoed
 * as payeeTaxId.  Malloc'd or NULL.
 */
char	*respond_payment(const struct sim_outcome *o,
	    const struct sim_request *q, const char *payee_tin);

/* The deliberately malformed body of BADJSON claims; malloc'd or NULL. */
char	*respond_badjson(const char *claim);

/* The same for the details (payment == 0) or payment route. */
char	*respond_badjson_lookup(const char *claim, int payment);

/*
 * Parses a member search body ({"payerId", "memberId",
 * "memberDateOfBirth"}) into out->member.id and *dob.  Returns 0, or -1
 * with err set (bad JSON, a field missing or too long, a bad date).
 */
int	 respond_parse_member_search(const void *buf, size_t len,
	    struct sim_request *out, struct sim_date *dob,
	    struct errbuf *err);
/*
 * Member search answer {"claims":[{"claimNumber","claimStatus",
 * "serviceDate"}]} of the n outcomes o[0..n); malloc'd or NULL.
 */
char	*respond_member_search(const struct sim_outcome *o, int n);
/*
 * The `--explain` object for claim and a CSV row's first and last names
 * (either may be NULL): one line of JSON, malloc'd, or NULL.
 */
char	*respond_explain(const char *claim, const char *first,
	    const char *last);
/* The same at epoch (0: exactly respond_explain()'s answer). */
char	*respond_explain_epoch(const char *claim, const char *first,
	    const char *last, long epoch);

#endif
