/*
 * Internals the payer adapters and the engine share (payer.c, payer_*.c)
 * and the adapters' unit tests use: the adapter interface, its table and
 * the pure helpers of payer_util.c.  Callers of the engine need only
 * payer.h.
 */
#ifndef PAYER_INT_H
#define PAYER_INT_H

#include <stddef.h>

#include "errbuf.h"
#include "payer.h"

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
	 * txn, attempts and patient_name set by the engine) and returns a
	 * verdict.  It may malloc res->details or res->payments (also on a
	 * verdict other than PAYER_DONE: the engine clears them).
	 */
	enum payer_verdict (*parse_response)(long http_status, const void *buf,
		    size_t len, const struct payer_claim *claim,
		    struct payer_result *res);
	/*
	 * Classifies a non-2xx response: a verdict plus a short cause for the
	 * message ("error 503", "rejected the request (400 CODE)"), written to
	 * why; the engine prefixes "payer ".  PAYER_DONE means the payer does
	 * not know the claim (404 CLAIM_NOT_FOUND): the engine records it as
	 * payer_result_not_found() does.
	 */
	enum payer_verdict (*classify_error)(long http_status, const void *buf,
		    size_t len, char *why, size_t whysz);
};

/*
 * Adapter lookup by provider + transaction code (case ignored); NULL if
 * none.
 */
const struct payer_adapter *payer_adapter_find(const char *provider_code,
	    const char *transaction_code);

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
/*
 * A claim the payer found (its claim object c): success, status from
 * claimStatus, lookup_result FOUND.  -1, res set to the error, when c has
 * no claimStatus.
 */
int	payer_result_found(struct payer_result *res, struct json_object *c);
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
/*
 * An answer's body parsed and its member key of json type t, borrowed
 * from *root (the caller frees *root); or NULL, *root freed, after
 * setting res to the error (malformed JSON, or no such member).
 */
struct json_object *payer_json_body(const void *buf, size_t len,
	    const char *key, int t, struct json_object **root,
	    struct payer_result *res);
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
/* Counts one request of usec microseconds into st's histogram. */
void	payer_stats_latency(struct payer_stats *st, long long usec);
/* Counts one error of cause (truncated) into st; past the cap: "other". */
void	payer_stats_error(struct payer_stats *st, const char *cause);
/*
 * Copies src (NULL = "") into dst, control characters as spaces, never
 * splitting a UTF-8 sequence.
 */
void	payer_copy_safe(char *dst, size_t dstsz, const char *src);

#endif
