/*
 * The payer engine: sends one claim-status request per CSV row to a payer
 * API with many requests in flight (one libcurl multi handle), an OAuth2
 * client-credentials token fetched once and reused, retries with backoff
 * on transient errors, and a small adapter table that knows each payer's
 * request and response shapes (payer_uhc.c, payer_x12.c).
 *
 * Nothing here logs: the engine reports through its callbacks and errbuf.
 * Patient data, tokens and secrets never appear in an error message.
 */
#ifndef PAYER_H
#define PAYER_H

#include <stddef.h>

#include "errbuf.h"

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
	 * Requests in flight to this payer from all workers together,
	 * through Redis (without redis it only caps this engine).  0: none.
	 */
	int	 max_in_flight;
};

/* One CSV row; strings borrowed until its done callback returns. */
struct payer_claim {
	long	 row_number;
	const char *claim_number, *first_name, *last_name;
	const char *date_of_birth;	/* YYYY-MM-DD */
	const char *subscriber_id;
};

/* The output CSV columns + extended fields of one row. */
struct payer_result {
	long	 row_number;
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
};

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
 * Adapters.  An adapter is pure: it turns a claim into a request body and
 * headers, and a response into a payer_result plus a verdict.  It never
 * does I/O, so the unit tests call it on the spec's examples.
 */
#define PAYER_REQ_MAX_HEADERS	8
#define PAYER_REQ_HEADER_MAX	256

struct payer_request {
	char	*body;		/* malloc'd by build_request; engine frees */
	size_t	 body_len;
	int	 nheaders;
	/* "Name: value" lines */
	char	 headers[PAYER_REQ_MAX_HEADERS][PAYER_REQ_HEADER_MAX];
};

/* What the engine does next with a row after one response. */
enum payer_verdict {
	PAYER_DONE,	/* res is final: found, not found, denied, ... */
	PAYER_RETRY,	/* transient: retry later; error_message: the cause */
	PAYER_FAIL,	/* permanent: error_message says why */
	PAYER_REAUTH,	/* token refused: refresh it once and resend */
	PAYER_VERDICT__MAX
};

struct payer_adapter {
	const char *provider_code, *transaction_code;
	/*
	 * Fills req (body malloc'd, extra headers; the engine adds
	 * Authorization, Content-Type and the correlation id).  Returns 0, or
	 * -1 with err when the row cannot be sent (the row then fails
	 * permanently with err as its message, so err holds no PHI).
	 */
	int	(*build_request)(const struct payer_endpoint *ep,
		    const struct payer_credential *cred,
		    const struct payer_claim *claim, struct payer_request *req,
		    struct errbuf *err);
	/*
	 * Maps a 2xx response body into res (already zeroed, row_number,
	 * attempts and patient_name set by the engine) and returns a
	 * verdict.
	 */
	enum payer_verdict (*parse_response)(long http_status, const void *buf,
		    size_t len, const struct payer_claim *claim,
		    struct payer_result *res);
	/*
	 * Classifies a non-2xx response: a verdict plus a short cause for the
	 * message ("error 503", "rejected the request (400 CODE)"), written to
	 * why; the engine prefixes "payer ".
	 */
	enum payer_verdict (*classify_error)(long http_status, const void *buf,
		    size_t len, char *why, size_t whysz);
};

/*
 * Fills opt from the configuration (config.h): payer.concurrency,
 * payer.max_attempts, payer.timeout_ms, payer.rate_limit, payer.ca_file,
 * payer.max_in_flight, payer.backoff_ms, payer.backoff_max_ms,
 * payer.connect_timeout_ms.  Unset keys give 0 (the engine's default);
 * opt->redis and redis_prefix are left as they were.  ca_file is borrowed
 * from the configuration (payer_engine_new copies it).
 */
void	payer_options_load(struct payer_options *opt);

/* Adapter lookup by provider + transaction code; NULL if none. */
const struct payer_adapter *payer_adapter_find(const char *provider_code,
	    const char *transaction_code);

struct payer_engine;

/*
 * Creates an engine for one endpoint and credential: a curl multi handle
 * kept for the engine's lifetime (connections, DNS and TLS sessions are
 * reused across runs).  The strings of ep and cred and the options are
 * copied, so the caller may free them after this call (the copy of the
 * secret is wiped by payer_engine_free).  Returns NULL with err if the
 * adapter is unknown or an option is out of range.  curl_global_init()
 * must have been called once before.
 */
struct payer_engine *payer_engine_new(const struct payer_endpoint *ep,
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

/* Frees the engine and its connections; NULL is fine. */
void	payer_engine_free(struct payer_engine *pe);

/*
 * Helpers shared by the adapters (payer_util.c); no I/O.
 */
/* A decimal amount "1500", "1500.5", "1500.00" -> "1500.00" in out; 0 or -1. */
int	payer_amount_norm(const char *in, char *out, size_t outsz);
/* Fills res for a permanent or exhausted failure: PAYER_ERROR, success 0. */
void	payer_result_error(struct payer_result *res, const char *msg);
/*
 * Compares the payer's member (any field may be NULL = not sent) with the
 * CSV row: names case-insensitively, dates in any date_to_iso() form,
 * member id case-insensitively.  Returns 1 match, 0 mismatch, -1 when the
 * payer sent no member data at all.  why (may be NULL) gets the fields
 * that differ, in a fixed order: "last name, date of birth".
 */
int	payer_member_compare(const struct payer_claim *claim, const char *first,
	    const char *last, const char *dob, const char *member_id, char *why,
	    size_t whysz);
/*
 * Records a member mismatch in res the way the output CSV shows it (as
 * the simulator's README-outcomes.md documents): the claim keeps its
 * status, but success is 0 and error_message names the fields.
 */
void	payer_result_mismatch(struct payer_result *res, const char *fields);
/* Fills res for a claim the payer does not know: "Not Found", success 0. */
void	payer_result_not_found(struct payer_result *res);
/*
 * Checks what every request needs: a 9-digit practice TIN and a claim
 * number.  Returns 0, or -1 with err saying which is wrong.
 */
int	payer_request_check(const struct payer_credential *cred,
	    const struct payer_claim *claim, struct errbuf *err);
struct json_object;
/*
 * Serialises root into req->body (plain, '/' not escaped; malloc'd, the
 * engine frees it) and puts root.  Returns 0, or -1 with err.
 */
int	payer_request_body(struct payer_request *req, struct json_object *root,
	    struct errbuf *err);
/*
 * Fills res for a body without the expected data (PAYER_ERROR): "payer
 * error CODE" if root carries an error code, else "invalid payer
 * response: no " what.
 */
void	payer_result_no_data(struct payer_result *res, struct json_object *root,
	    const char *what);
/*
 * Compares the payer's member object (NULL: none sent) with the CSV row:
 * firstName, lastName, dateOfBirth and id_key; sets res->member_match and
 * records a mismatch as payer_result_mismatch() does.
 */
void	payer_result_member(struct payer_result *res,
	    const struct payer_claim *claim, struct json_object *member,
	    const char *id_key);
/*
 * Parses a whole JSON document (depth JSON_MAX_DEPTH, valid UTF-8, nothing
 * but whitespace after it).  Returns a new reference (json_object_put it)
 * or NULL if buf is not exactly one JSON value.
 */
struct json_object *payer_json_parse(const void *buf, size_t len);
/* The string member key of obj, or NULL if absent or not a string; borrowed. */
const char *payer_json_str(struct json_object *obj, const char *key);
/* obj.key as a normalised amount ("1500.00") in dst, or "" if absent/bad. */
void	payer_json_amount(char *dst, size_t dstsz, struct json_object *obj,
	    const char *key);
/* obj.key as YYYY-MM-DD in dst[11], or "" if absent or not a date. */
void	payer_json_date(char dst[11], struct json_object *obj,
	    const char *key);
/*
 * The element of array arr whose string member key equals value (case
 * ignored), else the first element, else NULL; borrowed.
 */
struct json_object *payer_json_pick(struct json_object *arr, const char *key,
	    const char *value);
/* obj.key if it has type t, else NULL (also when obj is NULL); borrowed. */
struct json_object *payer_json_get(struct json_object *obj, const char *key,
	    int t);
/*
 * The first code of an {"errors":[{"code":...}]} body, identifier
 * characters only ("" if none).
 */
void	payer_json_error_code(struct json_object *root, char *out,
	    size_t outsz);
/*
 * Classifies a non-2xx HTTP answer the way both adapters need: 401
 * REAUTH; 408/425/429/5xx RETRY; other 4xx FAIL.  why gets the cause, to
 * follow "payer " in a message: "error 503", "rate limit (429)",
 * "rejected the request (400 INVALID_INPUT)".
 */
enum payer_verdict payer_classify_http(long http_status, const void *buf,
	    size_t len, char *why, size_t whysz);
/* The latency bucket (0..PAYER_LAT_NBUCKETS-1) of usec microseconds. */
int	payer_latency_bucket(long long usec);
/* The le label of bucket i: "0.05" ... "10", "+Inf". */
const char *payer_latency_le(int i);
/* Counts one request of usec microseconds into st's histogram. */
void	payer_stats_latency(struct payer_stats *st, long long usec);
/* Counts one error of cause (truncated) into st; past the cap: "other". */
void	payer_stats_error(struct payer_stats *st, const char *cause);
/*
 * Writes the Prometheus histogram name (_bucket cumulative, _sum in
 * seconds, _count = the +Inf bucket) from per-bucket counts (not
 * cumulative) into out, NUL-terminated; returns the length it needed, as
 * snprintf does.
 */
size_t	payer_latency_render(const char *name,
	    const unsigned long long bucket[PAYER_LAT_NBUCKETS],
	    unsigned long long sum_us, char *out, size_t outsz);
/*
 * Copies src (NULL = "") into dst, control characters as spaces, never
 * splitting a UTF-8 sequence.
 */
void	payer_copy_safe(char *dst, size_t dstsz, const char *src);

#endif
