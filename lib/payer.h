/*
 * The payer engine: sends one request per claim and transaction (claim
 * status, claim details, claim payment) to a payer API with many requests
 * in flight (one libcurl multi handle), an OAuth2 client-credentials token
 * fetched once and reused, retries with backoff on transient errors, and a
 * small adapter table that knows each payer's request and response shapes
 * (payer_uhc.c, payer_uhc_details.c, payer_x12.c; their shared internals
 * are in payer_int.h).
 *
 * Nothing here logs: the engine reports through its callbacks and errbuf.
 * Patient data, tokens and secrets never appear in an error message.
 */
#ifndef PAYER_H
#define PAYER_H

#include <stddef.h>

#include "errbuf.h"

/* The payer transactions one engine can serve. */
enum payer_txn {
	PAYER_TXN_STATUS,	/* "CLAIM_STATUS" */
	PAYER_TXN_DETAILS,	/* "CLAIM_DETAILS" */
	PAYER_TXN_PAYMENT,	/* "CLAIM_PAYMENT" */
	PAYER_TXN_MEMBER,	/* "MEMBER_SEARCH": a member's claims */
	PAYER_TXN__MAX
};

/* The transaction code of txn ("CLAIM_STATUS"), or NULL if out of range. */
const char *payer_txn_code(enum payer_txn txn);
/* The transaction of a code (case ignored), or -1 if none. */
int	payer_txn_from_code(const char *code);

/* Whether an adapter serves provider's transaction txn: 1 or 0. */
int	payer_has_adapter(const char *provider, enum payer_txn txn);

/* One endpoint row of table payer_endpoints; strings borrowed. */
struct payer_endpoint {
	const char *provider_code;	/* "UHC" */
	const char *transaction_code;	/* "CLAIM_STATUS" */
	const char *base_url;		/* e.g. "http://127.0.0.1:8481" */
	const char *token_path;		/* "/apip/auth/v2/token" */
	const char *api_path;		/* "/oihub/claim/inquiry/v1" */
	const char *payer_id;		/* "87726" */
};

/*
 * A practice's credential, decrypted in the worker only; strings
 * borrowed; never log them.
 */
struct payer_credential {
	const char *client_id, *client_secret;
	const char *tin;		/* practice TIN, 9 digits */
	const char *npi, *practice_name;
};

/*
 * Engine settings (config keys in payer_options_load).  Zero (or
 * NULL) in any field means its default, so a caller that zero-fills the
 * struct and sets what it knows stays correct when fields are added.
 */
struct payer_options {
	int	 concurrency;	/* requests in flight, default 32 */
	int	 max_attempts;	/* per row, default 3 */
	long	 timeout_ms;	/* per request, default 30000 */
	const char *ca_file;	/* PEM bundle to trust, NULL: system CAs */
	double	 rate_limit;	/* requests/s, 0 = none */
	long	 backoff_ms;	/* first retry delay, default 500 */
	long	 backoff_max_ms;	/* retry delay ceiling, default 30000 */
	long	 connect_timeout_ms;	/* default min(timeout_ms, 10000) */
	/*
	 * Shared state across workers (payer_redis.c): with a connected
	 * context the access token is cached in Redis (one fetch for all
	 * workers, under a lock), rate_limit is one token bucket in Redis
	 * for every worker calling this payer, and max_in_flight is shared.
	 * The engine uses the context only inside payer_engine_run, from the
	 * caller's thread; it does not own it.  On a Redis error the engine
	 * falls back to worker-local behaviour for that step and counts it
	 * (payer_engine_stats).
	 */
	struct redisContext *redis;	/* NULL: worker-local */
	const char *redis_prefix;	/* default "bulkclaims:payer:" */
	/*
	 * The workers' secret key (secrets.key_file, SECRETS_KEY_LEN bytes,
	 * borrowed during payer_engine_new only): the token cached in Redis
	 * is sealed under a key derived from it.  NULL: the access token is
	 * not shared through Redis (rate limit and in-flight cap still are).
	 */
	const unsigned char *token_key;
	/*
	 * payer.allow_http: http:// to any host (a test bed's simulator on a
	 * private bridge).  Off: http:// only to loopback.
	 */
	int	 allow_http;
	/*
	 * Requests in flight to this payer from all workers together,
	 * through Redis (without redis it only caps this engine).  0: none.
	 */
	int	 max_in_flight;
};

/*
 * One request to make for a CSV row; strings borrowed until its done
 * callback returns.  txn picks the transaction (zero: claim status).
 */
struct payer_claim {
	long	 row_number;
	const char *claim_number, *first_name, *last_name;
	const char *date_of_birth;	/* YYYY-MM-DD */
	const char *subscriber_id;
	enum payer_txn txn;
	/*
	 * A not-found triage call (runner.c): counted in requests_triage
	 * instead of requests_txn.
	 */
	int	 triage;
	void	*udata;		/* the caller's; the engine ignores it */
};

/* Claim details (CLAIM_DETAILS): amounts "1500.00", dates YYYY-MM-DD. */
#define PAYER_LINE_MAX_ADJ	8
struct payer_adjustment {
	char	 group[3];		/* CO, PR, OA, PI */
	char	 reason[8];		/* X12 CARC, "45" */
	char	 amount[24];
};
struct payer_line {
	int	 line_number;
	char	 procedure_code[16];
	char	 modifiers[32];		/* "25;59" */
	char	 units[16];
	char	 service_date[11];
	char	 charged[24], allowed[24], paid[24], patient_resp[24];
	int	 nadj;			/* kept; more are dropped */
	struct payer_adjustment adj[PAYER_LINE_MAX_ADJ];
	char	 remark_codes[64];	/* X12 RARC, "N130;M15" */
};
struct payer_details {
	char	 payer_claim_number[64];
	char	 claim_status[32];
	char	 frequency_code[4];
	char	 service_from[11], service_to[11];
	char	 charged[24], allowed[24], paid[24], patient_resp[24];
	char	 deductible[24], copay[24], coinsurance[24];
	int	 nlines;
	struct payer_line *lines;	/* malloc'd */
};

/* Claim payments (CLAIM_PAYMENT), in the payer's order. */
struct payer_payment {
	char	 payment_number[32];
	char	 method[4];		/* CHK, ACH, VCP, NON */
	char	 issue_date[11];
	char	 payment_amount[24];	/* the whole check or EFT */
	char	 claim_paid_amount[24];	/* this claim's share */
	char	 status[12];		/* Issued, Cleared, Voided, Reissued */
	char	 payee_name[64];
	char	 payee_npi[16];
};
struct payer_payments {
	int	 npayments;
	struct payer_payment *payments;	/* malloc'd; NULL when none */
};

/*
 * The output CSV columns + extended fields of one request.  A details or
 * payment answer also fills details or payments (malloc'd, owned by the
 * result; the engine frees them after done() returns, so done() copies
 * what it keeps).  Both are NULL for a claim status, a claim not found
 * and a failure.
 */
struct payer_result {
	long	 row_number;
	enum payer_txn txn;
	int	 success;		/* 1/0 */
	char	 status[32];		/* "Processed", "Not Found", ... */
	char	 patient_name[256];	/* the CSV's "First Last" */
	char	 total_charged[24];	/* "1500.00" or "" */
	char	 total_paid[24];
	char	 processed_date[11];	/* YYYY-MM-DD or "" */
	char	 error_message[256];	/* "" when none; no PHI */
	int	 attempts;		/* requests sent for this row */
	char	 lookup_result[16];	/* FOUND, NOT_FOUND, PAYER_ERROR */
	char	 status_category_code[8];	/* X12 507, e.g. "F1" */
	char	 status_code[8];		/* X12 508, e.g. "65" */
	char	 status_description[128];
	char	 total_allowed[24], patient_responsibility[24];
	char	 check_number[32], check_date[11];
	char	 payer_claim_number[64];
	int	 member_match;		/* 1 match, 0 mismatch, -1 unknown */
	/* x-optum-consumer-correlation-id of the last request; loggable */
	char	 correlation_id[37];
	long	 http_status;		/* of the last response, 0 if none */
	/*
	 * A member search's answer: how many claims the payer listed for
	 * the member (0: it knows no claim of this member and date of
	 * birth under this TIN).  -1 for the other transactions.
	 */
	int	 member_claims;
	struct payer_details *details;
	struct payer_payments *payments;
};

/* Frees res->details and res->payments and sets them to NULL. */
void	payer_result_clear(struct payer_result *res);

/*
 * Called for the next claim to send: fill *claim and return 1, or return
 * 0 when there are no more for now.  After a 0 the engine asks again
 * only once a claim is done, and the run ends when next() says 0 with
 * nothing in flight.
 */
typedef int (*payer_next_fn)(void *arg, struct payer_claim *claim);
/*
 * Called once per claim with its final result (after retries).  Return
 * non-zero to stop the run early.
 */
typedef int (*payer_done_fn)(void *arg, const struct payer_claim *claim,
    const struct payer_result *res);

/*
 * Fills opt from the configuration (config.h): payer.concurrency,
 * payer.max_attempts, payer.timeout_ms, payer.rate_limit, payer.ca_file,
 * payer.max_in_flight, payer.backoff_ms, payer.backoff_max_ms,
 * payer.connect_timeout_ms.  Unset keys give 0 (the engine's default);
 * opt->redis and redis_prefix are left as they were.  ca_file is borrowed
 * from the configuration (payer_engine_new copies it).
 */
void	payer_options_load(struct payer_options *opt);

/*
 * Checks a payer base URL: https://, or http:// to a loopback address
 * (127.0.0.0/8, ::1, localhost) unless allow_http.  Client secrets and
 * patient data go there.  Returns 0, or -1 with err.
 */
int	payer_base_url_check(const char *url, int allow_http,
	    struct errbuf *err);

struct payer_engine;

/*
 * Creates an engine for one provider and credential: a curl multi handle
 * kept for the engine's lifetime (connections, DNS and TLS sessions are
 * reused across runs).  ep[txn] is the endpoint of each transaction the
 * engine may be asked for, NULL for the others (at least one); they must
 * share provider_code, base_url and token_path, and their
 * transaction_code must be that of their index.  All transactions share
 * one token, rate limit, concurrency and retry policy.  The strings of ep
 * and cred and the options are copied, so the caller may free them after
 * this call (the copy of the secret is wiped by payer_engine_free).
 * Returns NULL with err if an adapter is unknown, the endpoints disagree
 * or an option is out of range.  curl_global_init() must have been
 * called once before.  A claim whose transaction has no endpoint fails
 * as a row ("no endpoint for CLAIM_PAYMENT").
 */
struct payer_engine *payer_engine_new(
	    const struct payer_endpoint *const ep[PAYER_TXN__MAX],
	    const struct payer_credential *cred,
	    const struct payer_options *opt, struct errbuf *err);

/*
 * Runs until next() returns 0 and every claim in flight is done (or done()
 * asks to stop, or *stop becomes non-zero: then in-flight claims are
 * abandoned without a done() call).  stop may be NULL; it is looked at
 * every 100 ms at least.  Returns 0, or -1 with err for a failure that
 * stops the whole job; claims in flight then get no done() call either.
 * Such failures (no PHI, no secret in err):
 *   "payer rejected the client credentials (401)" (also 400, 403),
 *   "payer token endpoint: <cause> after N attempts" (5xx, 429, network),
 *   "payer token endpoint: <TLS or URL error>" (not retried),
 *   "payer token response is malformed",
 *   "payer refused 4 fresh access tokens in a row (401)".
 * Everything else is a row's own result (see README-outcomes.md of the
 * simulator): "payer timeout after 3 attempts", "payer error 503 after 3
 * attempts", "payer rate limit (429) after 3 attempts", "payer returned
 * malformed JSON", "payer rejected the request (400 CODE)", ...
 * The engine may be run again afterwards (the next job of the worker).
 */
int	payer_engine_run(struct payer_engine *pe, payer_next_fn next,
	    payer_done_fn done, void *arg, volatile const int *stop,
	    struct errbuf *err);

/* How many token requests this engine has sent (for tests and logs). */
unsigned long payer_engine_token_fetches(const struct payer_engine *pe);

/*
 * Claim request latency histogram (GET /metrics): upper bounds in seconds
 * 0.05 0.1 0.25 0.5 1 2.5 5 10 +Inf.  Errors by cause: the HTTP status of
 * a non-2xx answer ("503"), "timeout", "network" or "malformed".
 */
#define PAYER_LAT_NBUCKETS	9
#define PAYER_ERR_CAUSES	16	/* distinct causes kept; then "other" */
#define PAYER_ERR_CAUSE_MAX	16

/* Counters for logs and tests; no secrets. */
struct payer_stats {
	unsigned long	 token_fetches;	/* token requests sent to the payer */
	unsigned long	 tokens_shared;	/* tokens taken from Redis instead */
	unsigned long	 requests;	/* claim requests sent (all attempts) */
	/* of which per transaction (retries included), triage excluded */
	unsigned long	 requests_txn[PAYER_TXN__MAX];
	/* of which not-found triage calls (payer_claim.triage) */
	unsigned long	 requests_triage;
	unsigned long	 retries;	/* of which were retries */
	unsigned long	 redis_errors;	/* fell back to local behaviour */
	char		 redis_error[128];	/* the last one, "" if none */
	/* claim requests answered or failed, by latency (not cumulative) */
	unsigned long	 lat_bucket[PAYER_LAT_NBUCKETS];
	unsigned long long lat_sum_us;
	unsigned long	 lat_count;
	/* append-only: an entry keeps its index for the engine's life */
	int		 nerr;
	struct {
		char		 cause[PAYER_ERR_CAUSE_MAX];
		unsigned long	 n;
	}		 err[PAYER_ERR_CAUSES];
};
void	payer_engine_stats(const struct payer_engine *pe,
	    struct payer_stats *st);
/* The le label of bucket i: "0.05" ... "10", "+Inf". */
const char *payer_latency_le(int i);
/*
 * Writes the Prometheus histogram name (_bucket cumulative, _sum in
 * seconds, _count = the +Inf bucket) from per-bucket counts (not
 * cumulative) into out, NUL-terminated; returns the length it needed, as
 * snprintf does.
 */
size_t	payer_latency_render(const char *name,
	    const unsigned long long bucket[PAYER_LAT_NBUCKETS],
	    unsigned long long sum_us, char *out, size_t outsz);

/* Frees the engine and its connections; NULL is fine. */
void	payer_engine_free(struct payer_engine *pe);

#endif
