/*
 * Simulator state: tokens, attempts per claim number, rate limiter and
 * counters.  Single-threaded by design (MHD's internal thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "limits.h"
#include "outcome.h"
#include "state.h"

/* Buckets of the claim table: a power of two near SIM_MAX_CLAIMS / 8. */
#define CLAIM_BUCKETS	(128 * 1024)
/* Status codes counted: 100..599. */
#define STATUS_MIN	100
#define STATUS_N	500

struct claim_entry {
	struct claim_entry	*next;
	long			 count[TXN__MAX];
	char			 key[];
};

struct token {
	char		 tok[65];	/* "" when the slot is free */
	long long	 expires_ms;
	int		 used;
};

static const char *route_paths[ROUTE__MAX] = {
	"/apip/auth/v2/token",
	"/oihub/claim/inquiry/v1",
	"/medicalnetwork/claimstatus/v2/",
	"/oihub/claim/detail/v1",
	"/oihub/claim/payment/v1",
	"/oihub/claim/member-search/v1",
	"/__stats",
	"/__reset",
	"/__outage",
	"/__epoch",
	"(other)",
};

static const char *reject_names[REJECT__MAX] = {
	"rate_limited", "concurrency_rejected", "errors_injected",
	"outage_rejected"
};

/* Names of the per-transaction counts in GET /__stats. */
static const char *txn_names[TXN__MAX] = {
	"status", "details", "payment", "member_search"
};

static struct claim_entry **claims;
static long claims_n, claims_repeated, claims_max_count;
static long txn_claims[TXN__MAX], txn_repeated[TXN__MAX];
static struct token *tokens;
static size_t tokens_next;	/* ring: next slot to (re)use */
static long tokens_issued;
static long counts[ROUTE__MAX][STATUS_N];
static long rejects[REJECT__MAX];
static long inflight, inflight_max;
static long long rate_window;	/* start (ms) of the current second */
static long rate_in_window, rate_max_window;
static long long outage_until;
static unsigned outage_status;
static long long offered_window;
static long offered_in_window, offered_max_window;

const char *
state_route_path(enum sim_route r)
{
	if ((unsigned)r >= ROUTE__MAX)
		return "?";
	return route_paths[r];
}

int
state_init(void)
{
	claims = calloc(CLAIM_BUCKETS, sizeof(*claims));
	tokens = calloc(SIM_MAX_TOKENS, sizeof(*tokens));
	if (claims == NULL || tokens == NULL) {
		state_free();
		return -1;
	}
	return 0;
}

static void
claims_clear(void)
{
	struct claim_entry *e, *next;
	size_t i;

	if (claims == NULL)
		return;
	for (i = 0; i < CLAIM_BUCKETS; i++) {
		for (e = claims[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
		claims[i] = NULL;
	}
	claims_n = claims_repeated = claims_max_count = 0;
	memset(txn_claims, 0, sizeof(txn_claims));
	memset(txn_repeated, 0, sizeof(txn_repeated));
}

void
state_free(void)
{
	claims_clear();
	free(claims);
	claims = NULL;
	if (tokens != NULL)
		sodium_memzero(tokens, SIM_MAX_TOKENS * sizeof(*tokens));
	free(tokens);
	tokens = NULL;
}

void
state_reset(void)
{
	size_t i;

	claims_clear();
	memset(counts, 0, sizeof(counts));
	memset(rejects, 0, sizeof(rejects));
	/* Requests still in flight finish after the reset: keep them. */
	inflight_max = inflight;
	rate_in_window = rate_max_window = 0;
	offered_in_window = offered_max_window = 0;
	tokens_issued = 0;
	outage_until = 0;
	for (i = 0; i < SIM_MAX_TOKENS; i++) {
		tokens[i].used = 0;
	}
}

static struct claim_entry *
claim_find(const char *claim, size_t *bucket)
{
	struct claim_entry *e;

	*bucket = outcome_hash(claim, strlen(claim)) & (CLAIM_BUCKETS - 1);
	for (e = claims[*bucket]; e != NULL; e = e->next)
		if (strcmp(e->key, claim) == 0)
			return e;
	return NULL;
}

long
state_claim_attempt(const char *claim, enum sim_txn t)
{
	struct claim_entry *e;
	size_t b, n, i;

	if ((unsigned)t >= TXN__MAX)
		return 1;
	if ((e = claim_find(claim, &b)) == NULL) {
		if (claims_n >= SIM_MAX_CLAIMS)
			return 1;
		n = strlen(claim) + 1;
		if ((e = calloc(1, sizeof(*e) + n)) == NULL)
			return 1;
		memcpy(e->key, claim, n);
		e->next = claims[b];
		claims[b] = e;
		claims_n++;
	}
	/*
	 * A claim is repeated when one transaction asks it twice: status,
	 * details and payment of one claim are three different questions.
	 */
	if (++e->count[t] == 1)
		txn_claims[t]++;
	if (e->count[t] == 2) {
		txn_repeated[t]++;
		for (i = 0; i < TXN__MAX; i++)
			if (i != (size_t)t && e->count[i] >= 2)
				break;
		if (i == TXN__MAX)
			claims_repeated++;
	}
	if (e->count[t] > claims_max_count)
		claims_max_count = e->count[t];
	return e->count[t];
}

long
state_claim_count(const char *claim, enum sim_txn t)
{
	struct claim_entry *e;
	size_t b;

	if ((unsigned)t >= TXN__MAX)
		return 0;
	e = claim_find(claim, &b);
	return e ? e->count[t] : 0;
}

int
state_token_issue(long ttl_s, long long now_ms, char out[65])
{
	unsigned char raw[28];
	struct token *t;
	size_t slot;

	/*
	 * The token names its slot in its first 8 hex digits, so a check is
	 * one comparison, not a scan; the other 56 are random.  The oldest
	 * slot is reused first: clients refresh long before that.
	 */
	slot = tokens_next;
	tokens_next = (tokens_next + 1) % SIM_MAX_TOKENS;
	randombytes_buf(raw, sizeof(raw));
	snprintf(out, 9, "%08zx", slot);
	sodium_bin2hex(out + 8, 57, raw, sizeof(raw));
	t = &tokens[slot];
	memcpy(t->tok, out, 65);
	t->expires_ms = now_ms + ttl_s * 1000LL;
	t->used = 0;
	tokens_issued++;
	return 0;
}

static struct token *
token_find(const char *tok)
{
	unsigned long slot;
	char head[9], *end;

	if (tok == NULL || strlen(tok) != 64)
		return NULL;
	memcpy(head, tok, 8);
	head[8] = '\0';
	slot = strtoul(head, &end, 16);
	if (*end != '\0' || slot >= SIM_MAX_TOKENS ||
	    tokens[slot].tok[0] == '\0' ||
	    sodium_memcmp(tokens[slot].tok, tok, 64) != 0)
		return NULL;
	return &tokens[slot];
}

int
state_token_check(const char *tok, long long now_ms)
{
	struct token *t;

	if ((t = token_find(tok)) == NULL || t->expires_ms <= now_ms)
		return -1;
	t->used = 1;
	return 0;
}

void
state_token_revoke(const char *tok)
{
	struct token *t;

	if ((t = token_find(tok)) != NULL)
		t->expires_ms = 0;
}

void
state_count(enum sim_route r, unsigned status)
{
	if ((unsigned)r >= ROUTE__MAX || status < STATUS_MIN ||
	    status >= STATUS_MIN + STATUS_N)
		return;
	counts[r][status - STATUS_MIN]++;
}

void
state_count_reject(enum sim_reject why)
{
	if ((unsigned)why < REJECT__MAX)
		rejects[why]++;
}

long
state_inflight(int delta)
{
	inflight += delta;
	if (inflight > inflight_max)
		inflight_max = inflight;
	return inflight;
}

int
state_rate_admit(double rate, long long now_ms, int *retry_after)
{
	long long window;
	double per_window;

	if (now_ms - offered_window >= 1000) {
		offered_window = now_ms;
		offered_in_window = 0;
	}
	if (++offered_in_window > offered_max_window)
		offered_max_window = offered_in_window;
	if (rate <= 0)
		return 1;
	/* Below 1/s a window is 1/rate seconds long and holds one request. */
	window = rate >= 1 ? 1000 : (long long)(1000 / rate);
	per_window = rate >= 1 ? rate : 1;
	if (now_ms - rate_window >= window) {
		rate_window = now_ms;
		rate_in_window = 0;
	}
	if ((double)rate_in_window + 1 > per_window) {
		*retry_after = (int)((rate_window + window - now_ms + 999) /
		    1000);
		if (*retry_after < 1)
			*retry_after = 1;
		return 0;
	}
	if (++rate_in_window > rate_max_window)
		rate_max_window = rate_in_window;
	return 1;
}

void
state_outage_set(long ms, unsigned status, long long now_ms)
{
	outage_until = ms > 0 ? now_ms + ms : 0;
	outage_status = status;
}

int
state_outage(long long now_ms, unsigned *status)
{
	if (now_ms >= outage_until)
		return 0;
	*status = outage_status;
	return 1;
}

char *
state_stats_json(const char *claim, long long now_ms)
{
	struct json_object *r, *req, *byst, *c;
	const char *s;
	char *out = NULL, code[8];
	long total = 0, live = 0, used = 0;
	size_t i, j;

	r = json_object_new_object();
	req = json_object_new_object();
	for (i = 0; i < ROUTE__MAX; i++) {
		byst = NULL;
		for (j = 0; j < STATUS_N; j++) {
			if (counts[i][j] == 0)
				continue;
			if (byst == NULL)
				byst = json_object_new_object();
			snprintf(code, sizeof(code), "%zu", j + STATUS_MIN);
			json_object_object_add(byst, code,
			    json_object_new_int64(counts[i][j]));
			total += counts[i][j];
		}
		if (byst != NULL)
			json_object_object_add(req, route_paths[i], byst);
	}
	json_object_object_add(r, "requests", req);
	json_object_object_add(r, "requests_total",
	    json_object_new_int64(total));
	json_object_object_add(r, "in_flight", json_object_new_int64(inflight));
	json_object_object_add(r, "max_in_flight",
	    json_object_new_int64(inflight_max));
	for (i = 0; i < REJECT__MAX; i++)
		json_object_object_add(r, reject_names[i],
		    json_object_new_int64(rejects[i]));
	json_object_object_add(r, "outage_remaining_ms",
	    json_object_new_int64(now_ms < outage_until ?
	    outage_until - now_ms : 0));
	json_object_object_add(r, "max_requests_per_second",
	    json_object_new_int64(rate_max_window));
	json_object_object_add(r, "max_offered_per_second",
	    json_object_new_int64(offered_max_window));
	for (i = 0; i < SIM_MAX_TOKENS; i++) {
		if (tokens[i].tok[0] == '\0' || tokens[i].expires_ms <= now_ms)
			continue;
		live++;
		used += tokens[i].used;
	}
	json_object_object_add(r, "tokens_issued",
	    json_object_new_int64(tokens_issued));
	json_object_object_add(r, "tokens_live", json_object_new_int64(live));
	json_object_object_add(r, "tokens_used", json_object_new_int64(used));
	json_object_object_add(r, "claims_distinct",
	    json_object_new_int64(claims_n));
	json_object_object_add(r, "claims_repeated",
	    json_object_new_int64(claims_repeated));
	json_object_object_add(r, "max_requests_per_claim",
	    json_object_new_int64(claims_max_count));
	/* Distinct and repeated claims per transaction. */
	c = json_object_new_object();
	for (i = 0; i < TXN__MAX; i++) {
		byst = json_object_new_object();
		json_object_object_add(byst, "distinct",
		    json_object_new_int64(txn_claims[i]));
		json_object_object_add(byst, "repeated",
		    json_object_new_int64(txn_repeated[i]));
		json_object_object_add(c, txn_names[i], byst);
	}
	json_object_object_add(r, "claims_by_transaction", c);
	if (claim != NULL) {
		c = json_object_new_object();
		json_object_object_add(c, "claim_number",
		    json_object_new_string(claim));
		/* "requests": the claim status routes, as before. */
		json_object_object_add(c, "requests",
		    json_object_new_int64(state_claim_count(claim,
		    TXN_STATUS)));
		json_object_object_add(c, "details_requests",
		    json_object_new_int64(state_claim_count(claim,
		    TXN_DETAILS)));
		json_object_object_add(c, "payment_requests",
		    json_object_new_int64(state_claim_count(claim,
		    TXN_PAYMENT)));
		json_object_object_add(c, "member_search_requests",
		    json_object_new_int64(state_claim_count(claim,
		    TXN_MEMBER)));
		json_object_object_add(r, "claim", c);
	}
	s = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s != NULL)
		out = strdup(s);
	json_object_put(r);
	return out;
}
