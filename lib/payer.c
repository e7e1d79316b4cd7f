/*
 * The payer engine: one libcurl multi handle, a fixed table of slots each
 * holding one claim from next() to done(), at most `concurrency` of them
 * on the wire, an OAuth2 client-credentials token shared by all of them,
 * and per-row retries with exponential backoff and jitter.
 *
 * Everything runs in the caller's thread inside payer_engine_run(): the
 * loop starts what may start, lets curl move bytes, and reacts to
 * finished transfers.  Slots waiting for a token, a backoff or the rate
 * limit stay in the table, so a row's order of events is easy to follow.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <sodium.h>

#include "config.h"
#include "limits.h"
#include "payer_int.h"
#include "payer_redis.h"
#include "util.h"

#define DEF_CONCURRENCY		32
#define DEF_MAX_ATTEMPTS	3
#define DEF_TIMEOUT_MS		30000L
#define DEF_BACKOFF_MS		500L
#define DEF_BACKOFF_MAX_MS	30000L
/* Poll at least this often so *stop is noticed quickly. */
#define LOOP_TICK_MS		100
/* Renew the token this long before the payer says it expires. */
#define TOKEN_MARGIN_MS		60000LL
/* Another worker fetching the token: wait this long for it, polling. */
#define TOKEN_LOCK_MS		10000L
#define TOKEN_LOCK_POLL_MS	50
/* Shared in-flight cap reached: ask Redis again this often. */
#define LEASE_POLL_MS		20
/* metrics go to Redis after this many requests or this long */
#define METRICS_PUSH_N		64
#define METRICS_PUSH_MS		250

enum slot_state {
	SLOT_FREE,	/* no claim */
	SLOT_READY,	/* claim waiting to be sent (token, backoff, rate) */
	SLOT_FLIGHT,	/* request on the wire */
};

/* A growable response buffer with a hard cap. */
struct rbuf {
	char	*p;
	size_t	 len, cap;
	int	 too_big;
};

struct slot {
	enum slot_state state;
	struct payer_claim claim;
	struct payer_result res;
	int	 tries;		/* sends counted against max_attempts */
	int	 reauthed;	/* already resent once after a 401 */
	unsigned token_gen;	/* token generation the last send used */
	long long not_before;	/* monotonic ms: backoff */
	CURL	*easy;
	struct curl_slist *hdrs;
	char	*body;
	struct rbuf rb;
};

struct payer_engine {
	/* per transaction; ad[t] NULL: no endpoint for t */
	const struct payer_adapter *ad[PAYER_TXN__MAX];
	/* ep[t]: the shared strings of ep0 + api_path[t] */
	struct payer_endpoint ep[PAYER_TXN__MAX];
	char	*api_path[PAYER_TXN__MAX], *url[PAYER_TXN__MAX];
	/* what every transaction shares: provider, base URL, token path */
	struct payer_endpoint ep0;
	struct payer_credential cred;
	struct payer_options opt;
	char	*token_url;
	CURLM	*multi;
	struct slot *slots;
	int	 nslots, inflight;

	/* the shared access token */
	char	 token[PAYER_MAX_TOKEN];
	int	 token_valid;
	unsigned token_gen;
	long long token_expires;	/* monotonic ms */
	CURL	*tok_easy;
	int	 tok_busy, tok_tries;
	long long tok_not_before;
	char	*tok_body;
	struct curl_slist *tok_hdrs;
	struct rbuf tok_rb;
	int	 refusals;	/* tokens refused (401) in a row */

	/* worker-local token bucket */
	double	 bucket;
	long long bucket_ms;
	long long rate_next;	/* when to ask again after a refusal */

	/* shared state in Redis (payer_redis.c) */
	struct redisContext *redis;
	char	 tok_key[96], lock_key[96], rate_key[96];
	char	 lock_id[37];
	int	 lock_held;
	long long lock_wait_until;	/* 0: not waiting for another worker */
	char	 refused[PAYER_MAX_TOKEN];	/* the token a 401 refused */
	/* seals the shared token (payer_redis.h); tok_share: have one */
	unsigned char tok_skey[SECRETS_KEY_LEN];
	int	 tok_share;
	char	 tok_raw[PAYER_REDIS_SEALED_MAX];	/* as read from Redis */
	int	 permits;		/* granted by Redis, not used yet */
	char	 fl_key[96], fl_alive[96];	/* payer.max_in_flight */
	/* in-flight shares held (>= inflight) */
	int	 leases;
	/* Redis failed: local cap for this run */
	int	 lease_off;
	long long lease_next;	/* when to ask again after a refusal */
	long	 lease_ttl;
	struct payer_stats st;
	/* metrics pushed to Redis: st as of the last push, and when */
	struct payer_stats pushed;
	long long metrics_at;	/* monotonic ms */
	int	 metrics_n;	/* requests done since */
};

static char *
dupstr(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static void
freestr(char *s, int wipe)
{
	if (s != NULL && wipe)
		sodium_memzero(s, strlen(s));
	free(s);
}

static size_t
rbuf_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct rbuf *rb = arg;
	size_t n = size * nmemb, ncap;
	char *np;

	if (rb->len + n > PAYER_MAX_RESPONSE) {
		rb->too_big = 1;
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (rb->len + n + 1 > rb->cap) {
		ncap = rb->cap ? rb->cap : 4096;
		while (ncap < rb->len + n + 1)
			ncap *= 2;
		if (ncap > PAYER_MAX_RESPONSE + 1)
			ncap = PAYER_MAX_RESPONSE + 1;
		if ((np = realloc(rb->p, ncap)) == NULL)
			return 0;
		rb->p = np;
		rb->cap = ncap;
	}
	memcpy(rb->p + rb->len, data, n);
	rb->len += n;
	rb->p[rb->len] = '\0';
	return n;
}

/* Options every transfer of this engine shares. */
static int
easy_common(struct payer_engine *pe, CURL *e, struct rbuf *rb)
{
	CURLcode rc = CURLE_OK;

#define SET(o, v) do {						\
	if (rc == CURLE_OK)						\
		rc = curl_easy_setopt(e, o, v);				\
} while (0)
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_WRITEFUNCTION, rbuf_write);
	SET(CURLOPT_WRITEDATA, rb);
	SET(CURLOPT_TIMEOUT_MS, pe->opt.timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, pe->opt.connect_timeout_ms);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PAYER_MAX_RESPONSE);
	/* http is for the simulator on loopback; never follow redirects */
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PIPEWAIT, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_POST, 1L);
	if (pe->opt.ca_file != NULL)
		SET(CURLOPT_CAINFO, pe->opt.ca_file);
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

/* Hex of the first 16 bytes of SHA-256 over the NUL-separated parts. */
static void
key_hash(const char *const *parts, char out[33])
{
	crypto_hash_sha256_state h;
	unsigned char d[crypto_hash_sha256_BYTES];
	size_t i;

	crypto_hash_sha256_init(&h);
	for (i = 0; parts[i] != NULL; i++)
		crypto_hash_sha256_update(&h, (const unsigned char *)parts[i],
		    strlen(parts[i]) + 1);
	crypto_hash_sha256_final(&h, d);
	sodium_bin2hex(out, 33, d, 16);
	sodium_memzero(d, sizeof(d));
}

/*
 * The token belongs to a credential at a token URL; its key hashes the
 * secret too, so a changed secret never reuses an old token, and Redis
 * never sees the secret.  The rate limit belongs to the payer's API.
 */
static void
redis_keys(struct payer_engine *pe, const char *prefix)
{
	const char *tp[] = { pe->ep0.base_url, pe->ep0.token_path,
	    pe->cred.client_id, pe->cred.client_secret, NULL };
	const char *rp[] = { pe->ep0.provider_code, pe->ep0.base_url,
	    pe->ep0.api_path, NULL };
	char h[33];

	key_hash(tp, h);
	snprintf(pe->tok_key, sizeof(pe->tok_key), "%.48stoken:%s", prefix, h);
	snprintf(pe->lock_key, sizeof(pe->lock_key), "%.48stoken-lock:%s",
	    prefix, h);
	key_hash(rp, h);
	snprintf(pe->rate_key, sizeof(pe->rate_key), "%.48srate:%s", prefix, h);
	snprintf(pe->fl_key, sizeof(pe->fl_key), "%.48sinflight:%s", prefix, h);
	snprintf(pe->fl_alive, sizeof(pe->fl_alive), "%.48sinflight-alive:%s",
	    prefix, h);
	util_uuid4(pe->lock_id);
}

/*
 * Checks the endpoints given to payer_engine_new: at least one, each
 * complete, of its index's transaction, with an adapter, and all sharing
 * provider, base URL and token path.  Returns the first one, or NULL
 * with err.
 */
static const struct payer_endpoint *
endpoints_check(const struct payer_endpoint *const ep[PAYER_TXN__MAX],
    const struct payer_adapter *ad[PAYER_TXN__MAX], struct errbuf *err)
{
	const struct payer_endpoint *e, *first = NULL;
	int t;

	for (t = 0; ep != NULL && t < PAYER_TXN__MAX; t++) {
		ad[t] = NULL;
		if ((e = ep[t]) == NULL)
			continue;
		if (e->base_url == NULL || e->api_path == NULL ||
		    e->token_path == NULL || e->api_path[0] == '\0') {
			errbuf_set(err, "payer endpoint is incomplete");
			return NULL;
		}
		if (e->transaction_code == NULL ||
		    payer_txn_from_code(e->transaction_code) != t ||
		    (ad[t] = payer_adapter_find(e->provider_code,
		    e->transaction_code)) == NULL) {
			errbuf_set(err, "no payer adapter for %s/%s",
			    e->provider_code ? e->provider_code : "(null)",
			    e->transaction_code ? e->transaction_code :
			    "(null)");
			return NULL;
		}
		if (first == NULL)
			first = e;
		else if (strcasecmp(first->provider_code,
		    e->provider_code) != 0 ||
		    strcmp(first->base_url, e->base_url) != 0 ||
		    strcmp(first->token_path, e->token_path) != 0) {
			errbuf_set(err, "payer endpoints of %s disagree on "
			    "provider, base_url or token_path",
			    payer_txn_code((enum payer_txn)t));
			return NULL;
		}
	}
	if (first == NULL)
		errbuf_set(err, "payer endpoint is incomplete");
	return first;
}

int
payer_base_url_check(const char *url, int allow_http, struct errbuf *err)
{
	struct in_addr a4;
	char host[256];
	const char *h;
	size_t n;

	if (url != NULL && strncasecmp(url, "https://", 8) == 0)
		return 0;
	if (url == NULL || strncasecmp(url, "http://", 7) != 0)
		return errbuf_set(err, "payer base_url must be https://");
	if (allow_http)
		return 0;
	h = url + 7;
	if (*h == '[') {
		n = strcspn(h, "]");
		if (h[n] != ']')
			return errbuf_set(err, "payer base_url: bad host");
		h++;
		n--;
	} else
		n = strcspn(h, ":/?#@");
	if (n == 0 || n >= sizeof(host) || h[n] == '@')
		return errbuf_set(err, "payer base_url: bad host");
	memcpy(host, h, n);
	host[n] = '\0';
	/* clear text only where it never leaves the machine */
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	    (inet_pton(AF_INET, host, &a4) == 1 &&
	    (ntohl(a4.s_addr) >> 24) == 127))
		return 0;
	return errbuf_set(err, "payer base_url must be https:// (http:// "
	    "only to a loopback address)");
}

struct payer_engine *
payer_engine_new(const struct payer_endpoint *const eps[PAYER_TXN__MAX],
    const struct payer_credential *cred, const struct payer_options *opt,
    struct errbuf *err)
{
	const struct payer_adapter *ad[PAYER_TXN__MAX];
	const struct payer_endpoint *ep;
	struct payer_engine *pe;
	size_t n;
	int i, t, nomem = 0;

	if (cred == NULL) {
		errbuf_set(err, "payer endpoint is incomplete");
		return NULL;
	}
	if ((ep = endpoints_check(eps, ad, err)) == NULL)
		return NULL;
	if (payer_base_url_check(ep->base_url, opt != NULL &&
	    opt->allow_http, err) == -1)
		return NULL;
	if (cred->client_id == NULL || cred->client_secret == NULL) {
		errbuf_set(err, "payer credential has no client id or secret");
		return NULL;
	}
	if ((pe = calloc(1, sizeof(*pe))) == NULL) {
		errbuf_set(err, "out of memory");
		return NULL;
	}
	memcpy(pe->ad, ad, sizeof(pe->ad));
	if (opt != NULL)
		pe->opt = *opt;
	if (pe->opt.concurrency <= 0)
		pe->opt.concurrency = DEF_CONCURRENCY;
	if (pe->opt.concurrency > PAYER_MAX_CONCURRENCY)
		pe->opt.concurrency = PAYER_MAX_CONCURRENCY;
	if (pe->opt.max_attempts <= 0)
		pe->opt.max_attempts = DEF_MAX_ATTEMPTS;
	if (pe->opt.max_attempts > PAYER_MAX_ATTEMPTS)
		pe->opt.max_attempts = PAYER_MAX_ATTEMPTS;
	if (pe->opt.timeout_ms <= 0)
		pe->opt.timeout_ms = DEF_TIMEOUT_MS;
	if (pe->opt.backoff_ms <= 0)
		pe->opt.backoff_ms = DEF_BACKOFF_MS;
	if (pe->opt.backoff_max_ms <= 0)
		pe->opt.backoff_max_ms = DEF_BACKOFF_MAX_MS;
	if (pe->opt.connect_timeout_ms <= 0)
		pe->opt.connect_timeout_ms = pe->opt.timeout_ms < 10000 ?
		    pe->opt.timeout_ms : 10000;
	if (pe->opt.rate_limit < 0)
		pe->opt.rate_limit = 0;

	/*
	 * The rate limit's Redis key names the claim-status path when there
	 * is one, so engines with and without the other transactions share
	 * one bucket for the payer.
	 */
	if (eps[PAYER_TXN_STATUS] != NULL)
		ep = eps[PAYER_TXN_STATUS];
	pe->ep0.provider_code = dupstr(ep->provider_code);
	pe->ep0.transaction_code = dupstr(ep->transaction_code);
	pe->ep0.base_url = dupstr(ep->base_url);
	pe->ep0.token_path = dupstr(ep->token_path);
	pe->ep0.api_path = dupstr(ep->api_path);
	pe->ep0.payer_id = dupstr(ep->payer_id);
	pe->cred.client_id = dupstr(cred->client_id);
	pe->cred.client_secret = dupstr(cred->client_secret);
	pe->cred.tin = dupstr(cred->tin);
	pe->cred.npi = dupstr(cred->npi);
	pe->cred.practice_name = dupstr(cred->practice_name);
	pe->opt.ca_file = opt != NULL && opt->ca_file != NULL ?
	    dupstr(opt->ca_file) : NULL;

	/* base_url without its trailing slash + the path */
	n = strlen(ep->base_url);
	while (n > 0 && ep->base_url[n - 1] == '/')
		n--;
	for (t = 0; t < PAYER_TXN__MAX; t++) {
		if (pe->ad[t] == NULL)
			continue;
		pe->api_path[t] = dupstr(eps[t]->api_path);
		if (asprintf(&pe->url[t], "%.*s%s", (int)n, ep->base_url,
		    eps[t]->api_path) == -1)
			pe->url[t] = NULL;
		if (pe->api_path[t] == NULL || pe->url[t] == NULL)
			nomem = 1;
		pe->ep[t] = pe->ep0;
		pe->ep[t].transaction_code = payer_txn_code((enum payer_txn)t);
		pe->ep[t].api_path = pe->api_path[t];
	}
	if (asprintf(&pe->token_url, "%.*s%s", (int)n, ep->base_url,
	    ep->token_path) == -1)
		pe->token_url = NULL;

	/* room for rows waiting on a backoff while others are on the wire */
	pe->nslots = pe->opt.concurrency * 2;
	pe->slots = calloc((size_t)pe->nslots, sizeof(*pe->slots));
	pe->multi = curl_multi_init();
	pe->tok_easy = curl_easy_init();
	if (nomem || pe->token_url == NULL || pe->slots == NULL ||
	    pe->multi == NULL || pe->tok_easy == NULL ||
	    pe->ep0.provider_code == NULL ||
	    pe->ep0.transaction_code == NULL ||
	    pe->ep0.base_url == NULL || pe->ep0.token_path == NULL ||
	    pe->ep0.api_path == NULL || pe->ep0.payer_id == NULL ||
	    pe->cred.client_id == NULL || pe->cred.client_secret == NULL ||
	    pe->cred.tin == NULL || pe->cred.npi == NULL ||
	    pe->cred.practice_name == NULL ||
	    (opt != NULL && opt->ca_file != NULL && pe->opt.ca_file == NULL)) {
		errbuf_set(err, "out of memory");
		payer_engine_free(pe);
		return NULL;
	}
	for (i = 0; i < pe->nslots; i++) {
		if ((pe->slots[i].easy = curl_easy_init()) == NULL ||
		    easy_common(pe, pe->slots[i].easy, &pe->slots[i].rb) ==
		    -1 || curl_easy_setopt(pe->slots[i].easy,
		    CURLOPT_PRIVATE, &pe->slots[i]) != CURLE_OK) {
			errbuf_set(err, "cannot set up a curl handle");
			payer_engine_free(pe);
			return NULL;
		}
	}
	if (easy_common(pe, pe->tok_easy, &pe->tok_rb) == -1 ||
	    curl_easy_setopt(pe->tok_easy, CURLOPT_URL, pe->token_url) !=
	    CURLE_OK) {
		errbuf_set(err, "cannot set up a curl handle");
		payer_engine_free(pe);
		return NULL;
	}
	/*
	 * Plain HTTP/1.1 needs a connection per request in flight; HTTP/2
	 * multiplexes and PIPEWAIT keeps it to a few.  Cache enough
	 * connections that none is closed between rows.
	 */
	curl_multi_setopt(pe->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)pe->opt.concurrency + 1);
	curl_multi_setopt(pe->multi, CURLMOPT_MAXCONNECTS,
	    (long)pe->opt.concurrency + 4);
	pe->bucket = 1;
	pe->bucket_ms = util_mono_ms();
	pe->redis = pe->opt.redis;
	if (pe->opt.token_key != NULL) {
		/* its own key: a token cache value is never a secret's */
		crypto_generichash(pe->tok_skey, sizeof(pe->tok_skey),
		    (const unsigned char *)"bulkclaims payer token cache v1",
		    31, pe->opt.token_key, SECRETS_KEY_LEN);
		pe->tok_share = 1;
	}
	pe->opt.token_key = NULL;	/* borrowed: not kept */
	if (pe->opt.max_in_flight < 0)
		pe->opt.max_in_flight = 0;
	/* a crashed worker's share frees itself after its longest request */
	pe->lease_ttl = pe->opt.timeout_ms * 2 + 10000;
	redis_keys(pe, opt != NULL && opt->redis_prefix != NULL ?
	    opt->redis_prefix : "bulkclaims:payer:");
	return pe;
}

static void
slot_release(struct payer_engine *pe, struct slot *s)
{
	if (s->state == SLOT_FLIGHT) {
		curl_multi_remove_handle(pe->multi, s->easy);
		pe->inflight--;
	}
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	free(s->body);
	s->body = NULL;
	payer_result_clear(&s->res);
	s->state = SLOT_FREE;
}

static void
token_release(struct payer_engine *pe)
{
	if (pe->tok_busy)
		curl_multi_remove_handle(pe->multi, pe->tok_easy);
	pe->tok_busy = 0;
	curl_slist_free_all(pe->tok_hdrs);
	pe->tok_hdrs = NULL;
	freestr(pe->tok_body, 1);
	pe->tok_body = NULL;
}

void
payer_engine_free(struct payer_engine *pe)
{
	int i;

	if (pe == NULL)
		return;
	if (pe->slots != NULL) {
		for (i = 0; i < pe->nslots; i++) {
			slot_release(pe, &pe->slots[i]);
			if (pe->slots[i].easy != NULL)
				curl_easy_cleanup(pe->slots[i].easy);
			free(pe->slots[i].rb.p);
		}
		free(pe->slots);
	}
	token_release(pe);
	if (pe->tok_easy != NULL)
		curl_easy_cleanup(pe->tok_easy);
	free(pe->tok_rb.p);
	if (pe->multi != NULL)
		curl_multi_cleanup(pe->multi);
	sodium_memzero(pe->token, sizeof(pe->token));
	sodium_memzero(pe->refused, sizeof(pe->refused));
	sodium_memzero(pe->tok_skey, sizeof(pe->tok_skey));
	for (i = 0; i < PAYER_TXN__MAX; i++) {
		free(pe->url[i]);
		free(pe->api_path[i]);
	}
	free(pe->token_url);
	free((char *)(uintptr_t)pe->ep0.provider_code);
	free((char *)(uintptr_t)pe->ep0.transaction_code);
	free((char *)(uintptr_t)pe->ep0.base_url);
	free((char *)(uintptr_t)pe->ep0.token_path);
	free((char *)(uintptr_t)pe->ep0.api_path);
	free((char *)(uintptr_t)pe->ep0.payer_id);
	freestr((char *)(uintptr_t)pe->cred.client_id, 1);
	freestr((char *)(uintptr_t)pe->cred.client_secret, 1);
	free((char *)(uintptr_t)pe->cred.tin);
	free((char *)(uintptr_t)pe->cred.npi);
	free((char *)(uintptr_t)pe->cred.practice_name);
	free((char *)(uintptr_t)pe->opt.ca_file);
	free(pe);
}

/* Exponential backoff with "equal jitter": half fixed, half random. */
static long
backoff_ms(const struct payer_engine *pe, int tries)
{
	long d = pe->opt.backoff_ms;
	int i;

	for (i = 1; i < tries && d < pe->opt.backoff_max_ms; i++)
		d *= 2;
	if (d > pe->opt.backoff_max_ms)
		d = pe->opt.backoff_max_ms;
	return d / 2 + (long)randombytes_uniform((uint32_t)(d / 2 + 1));
}

/* Transport errors that another attempt cannot cure (TLS trust, URL). */
static int
curl_permanent(CURLcode cc)
{
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
		return 1;
	default:
		return 0;
	}
}

/* Seconds from Retry-After, clamped to [0, PAYER_MAX_RETRY_AFTER_S]. */
static long
retry_after_ms(CURL *e)
{
	curl_off_t ra = 0;

	if (curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra) != CURLE_OK ||
	    ra <= 0)
		return 0;
	/* curl 7.88 returns huge negatives for past dates: clamp both ways */
	if (ra > PAYER_MAX_RETRY_AFTER_S)
		ra = PAYER_MAX_RETRY_AFTER_S;
	return (long)ra * 1000;
}

/* ---- the access token ---- */

static void
redis_failed(struct payer_engine *pe, const struct errbuf *e)
{
	pe->st.redis_errors++;
	snprintf(pe->st.redis_error, sizeof(pe->st.redis_error), "%.127s",
	    e->msg);
}

static void
lock_release(struct payer_engine *pe)
{
	if (pe->lock_held && pe->redis != NULL)
		payer_redis_unlock(pe->redis, pe->lock_key, pe->lock_id);
	pe->lock_held = 0;
}

static int
token_start(struct payer_engine *pe, struct errbuf *err)
{
	char *id, *secret;
	int n;

	id = curl_easy_escape(pe->tok_easy, pe->cred.client_id, 0);
	secret = curl_easy_escape(pe->tok_easy, pe->cred.client_secret, 0);
	n = id != NULL && secret != NULL ? asprintf(&pe->tok_body,
	    "grant_type=client_credentials&client_id=%s&client_secret=%s",
	    id, secret) : -1;
	if (id != NULL)
		sodium_memzero(id, strlen(id));
	if (secret != NULL)
		sodium_memzero(secret, strlen(secret));
	curl_free(id);
	curl_free(secret);
	if (n == -1) {
		pe->tok_body = NULL;
		return errbuf_set(err, "out of memory");
	}
	pe->tok_hdrs = curl_slist_append(NULL,
	    "Content-Type: application/x-www-form-urlencoded");
	pe->tok_hdrs = pe->tok_hdrs ? curl_slist_append(pe->tok_hdrs,
	    "Accept: application/json") : NULL;
	if (pe->tok_hdrs == NULL)
		return errbuf_set(err, "out of memory");
	pe->tok_rb.len = 0;
	pe->tok_rb.too_big = 0;
	curl_easy_setopt(pe->tok_easy, CURLOPT_HTTPHEADER, pe->tok_hdrs);
	curl_easy_setopt(pe->tok_easy, CURLOPT_POSTFIELDS, pe->tok_body);
	curl_easy_setopt(pe->tok_easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(pe->tok_body));
	if (curl_multi_add_handle(pe->multi, pe->tok_easy) != CURLM_OK)
		return errbuf_set(err, "cannot start the token request");
	pe->tok_busy = 1;
	pe->tok_tries++;
	pe->st.token_fetches++;
	return 0;
}

/*
 * The token is needed: take another worker's from Redis, wait while
 * another worker fetches it, or fetch it.  0, or -1 with err (fatal).
 */
/*
 * Adopts the token another worker stored in Redis: 1 if taken, 0 if
 * none, -1 error.
 */
static int
token_shared(struct payer_engine *pe, long long now, struct errbuf *e)
{
	long long ttl = 0;
	int r;

	r = payer_redis_token_get(pe->redis, pe->tok_key, pe->tok_skey,
	    pe->token, sizeof(pe->token), pe->tok_raw, sizeof(pe->tok_raw),
	    &ttl, e);
	if (r == 1 && strcmp(pe->token, pe->refused) == 0) {
		/* the refused token is still there: drop it, unless replaced */
		sodium_memzero(pe->token, sizeof(pe->token));
		return payer_redis_token_drop(pe->redis, pe->tok_key,
		    pe->tok_raw, e) == -1 ? -1 : 0;
	}
	if (r != 1)
		return r;
	pe->token_valid = 1;
	pe->token_gen++;
	/* no expiry in Redis: trust it for a short while only */
	pe->token_expires = now + (ttl > 0 ? ttl : TOKEN_MARGIN_MS);
	pe->tok_tries = 0;
	pe->lock_wait_until = 0;
	pe->st.tokens_shared++;
	return 1;
}

/*
 * The token is needed: take another worker's from Redis, wait while
 * another worker fetches it, or fetch it.  0, or -1 with err (fatal).
 */
static int
token_need(struct payer_engine *pe, long long now, struct errbuf *err)
{
	struct errbuf e;
	int r;

	if (pe->redis == NULL || !pe->tok_share || pe->lock_held)
		return token_start(pe, err);
	if ((r = token_shared(pe, now, &e)) == 1)
		return 0;
	if (r == 0)
		r = payer_redis_lock(pe->redis, pe->lock_key, pe->lock_id,
		    TOKEN_LOCK_MS, &e);
	if (r == 1) {
		pe->lock_held = 1;
		/* it may have been stored between our look and our lock */
		if ((r = token_shared(pe, now, &e)) == 1) {
			lock_release(pe);
			return 0;
		}
	} else if (r == 0) {
		if (pe->lock_wait_until == 0)
			pe->lock_wait_until = now + TOKEN_LOCK_MS;
		/* another worker is fetching: look again shortly */
		if (now < pe->lock_wait_until) {
			pe->tok_not_before = now + TOKEN_LOCK_POLL_MS;
			return 0;
		}
	}
	if (r == -1)
		redis_failed(pe, &e);
	return token_start(pe, err);
}

/* Takes access_token and expires_in from a 200 answer; 0 or -1. */
static int
token_parse(struct payer_engine *pe)
{
	struct json_object *root, *v;
	const char *tok;
	long long exp_s = 3600, now = util_mono_ms(), margin;

	if ((root = payer_json_parse(pe->tok_rb.p, pe->tok_rb.len)) == NULL)
		return -1;
	tok = payer_json_str(root, "access_token");
	/* the token goes into a header line: printable ASCII only */
	if (tok == NULL || tok[0] == '\0' || strlen(tok) >= sizeof(pe->token) ||
	    strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-._~+/=") != strlen(tok)) {
		json_object_put(root);
		return -1;
	}
	if (json_object_object_get_ex(root, "expires_in", &v) &&
	    (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_string))) {
		errno = 0;
		exp_s = json_object_get_int64(v);
		if (errno != 0 || exp_s <= 0)
			exp_s = 60;
	}
	snprintf(pe->token, sizeof(pe->token), "%s", tok);
	json_object_put(root);
	/* renew a minute early, or at 90% of a short lifetime */
	margin = exp_s * 1000 / 10;
	if (margin > TOKEN_MARGIN_MS)
		margin = TOKEN_MARGIN_MS;
	pe->token_expires = now + exp_s * 1000 - margin;
	pe->token_valid = 1;
	pe->token_gen++;
	pe->tok_tries = 0;
	return 0;
}

/* A token transfer finished: -1 with err when the whole job must stop. */
static int
token_done(struct payer_engine *pe, CURLcode cc, struct errbuf *err)
{
	long code = 0;
	char why[160];
	enum payer_verdict v;

	curl_easy_getinfo(pe->tok_easy, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(pe->multi, pe->tok_easy);
	pe->tok_busy = 0;
	token_release(pe);
	if (cc == CURLE_OK && code == 200) {
		if (token_parse(pe) == -1) {
			lock_release(pe);
			return errbuf_set(err,
			    "payer token response is malformed");
		}
		if (pe->redis != NULL && pe->tok_share) {
			struct errbuf e;

			if (payer_redis_token_put(pe->redis, pe->tok_key,
			    pe->tok_skey, pe->token,
			    pe->token_expires - util_mono_ms(), &e) == -1)
				redis_failed(pe, &e);
		}
		lock_release(pe);
		pe->lock_wait_until = 0;
		return 0;
	}
	lock_release(pe);
	if (cc == CURLE_OK && (code == 400 || code == 401 || code == 403))
		return errbuf_set(err,
		    "payer rejected the client credentials (%ld)", code);
	if (cc != CURLE_OK) {
		v = curl_permanent(cc) ? PAYER_FAIL : PAYER_RETRY;
		snprintf(why, sizeof(why), "%s",
		    cc == CURLE_OPERATION_TIMEDOUT ? "timeout" :
		    curl_easy_strerror(cc));
	} else
		v = payer_classify_http(code, pe->tok_rb.p, pe->tok_rb.len, why,
		    sizeof(why));
	if (v != PAYER_RETRY)
		return errbuf_set(err, "payer token endpoint: %s", why);
	if (pe->tok_tries >= pe->opt.max_attempts)
		return errbuf_set(err, "payer token endpoint: %s after %d "
		    "attempts", why, pe->tok_tries);
	pe->tok_not_before = util_mono_ms() + backoff_ms(pe, pe->tok_tries);
	if (cc == CURLE_OK) {
		long ra = retry_after_ms(pe->tok_easy);

		if (pe->tok_not_before < util_mono_ms() + ra)
			pe->tok_not_before = util_mono_ms() + ra;
	}
	return 0;
}

/* ---- rows ---- */

/* Zeroes the result and sets what the engine knows before any answer. */
static void
result_init(struct slot *s)
{
	struct payer_result *r = &s->res;

	payer_result_clear(r);
	memset(r, 0, sizeof(*r));
	r->row_number = s->claim.row_number;
	r->txn = s->claim.txn;
	r->member_match = -1;
	r->member_claims = -1;
	/* the output shows the CSV's own name, found or not */
	snprintf(r->patient_name, sizeof(r->patient_name), "%s%s%s",
	    s->claim.first_name ? s->claim.first_name : "",
	    s->claim.first_name && s->claim.last_name &&
	    s->claim.first_name[0] && s->claim.last_name[0] ? " " : "",
	    s->claim.last_name ? s->claim.last_name : "");
}

/* Builds and adds one request; -1 if the row failed for good. */
static int
slot_send(struct payer_engine *pe, struct slot *s)
{
	struct payer_request req;
	struct errbuf e;
	struct curl_slist *h = NULL;
	char line[PAYER_MAX_TOKEN + 32];
	enum payer_txn t = s->claim.txn;
	int i;

	if ((unsigned)t >= PAYER_TXN__MAX || pe->ad[t] == NULL) {
		snprintf(line, sizeof(line), "no payer endpoint for %s",
		    (unsigned)t < PAYER_TXN__MAX ? payer_txn_code(t) :
		    "this transaction");
		payer_result_error(&s->res, line);
		return -1;
	}
	memset(&req, 0, sizeof(req));
	e.msg[0] = '\0';
	if (pe->ad[t]->build_request(&pe->ep[t], &pe->cred, &s->claim, &req,
	    &e) == -1) {
		free(req.body);
		payer_result_error(&s->res, e.msg);
		return -1;
	}
	util_uuid4(s->res.correlation_id);
	snprintf(line, sizeof(line), "Authorization: Bearer %s", pe->token);
	h = curl_slist_append(h, line);
	sodium_memzero(line, sizeof(line));
	if (h != NULL)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (h != NULL)
		h = curl_slist_append(h, "Accept: application/json");
	if (h != NULL)
		h = curl_slist_append(h, "Expect:");
	snprintf(line, sizeof(line), "x-optum-consumer-correlation-id: %s",
	    s->res.correlation_id);
	if (h != NULL)
		h = curl_slist_append(h, line);
	for (i = 0; i < req.nheaders && h != NULL; i++)
		h = curl_slist_append(h, req.headers[i]);
	if (h == NULL) {
		free(req.body);
		payer_result_error(&s->res, "out of memory");
		return -1;
	}
	curl_slist_free_all(s->hdrs);
	s->hdrs = h;
	free(s->body);
	s->body = req.body;
	s->rb.len = 0;
	s->rb.too_big = 0;
	curl_easy_setopt(s->easy, CURLOPT_URL, pe->url[t]);
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)req.body_len);
	if (curl_multi_add_handle(pe->multi, s->easy) != CURLM_OK) {
		payer_result_error(&s->res, "cannot start the request");
		return -1;
	}
	s->state = SLOT_FLIGHT;
	s->token_gen = pe->token_gen;
	if (s->res.attempts > 0)
		pe->st.retries++;
	s->tries++;
	s->res.attempts++;
	pe->inflight++;
	pe->st.requests++;
	if (s->claim.triage)
		pe->st.requests_triage++;
	else
		pe->st.requests_txn[t]++;
	return 0;
}

/*
 * Schedules a retry, or fails the row once its attempts are used up.
 * Returns 1 if the row is final.
 */
static int
slot_retry(struct payer_engine *pe, struct slot *s, const char *why,
    long min_delay_ms)
{
	char msg[320];
	long d;

	if (s->tries >= pe->opt.max_attempts) {
		snprintf(msg, sizeof(msg), "payer %s after %d attempts", why,
		    s->tries);
		payer_result_error(&s->res, msg);
		return 1;
	}
	d = backoff_ms(pe, s->tries);
	if (d < min_delay_ms)
		d = min_delay_ms;
	s->not_before = util_mono_ms() + d;
	s->state = SLOT_READY;
	return 0;
}

/*
 * Pushes the metrics counted since the last push to Redis (one pipelined
 * round trip), when force or when enough requests or time went by.
 */
static void
metrics_push(struct payer_engine *pe, int force)
{
	struct errbuf e;
	long long now;

	if (pe->redis == NULL || pe->metrics_n == 0)
		return;
	now = util_mono_ms();
	if (!force && pe->metrics_n < METRICS_PUSH_N &&
	    now - pe->metrics_at < METRICS_PUSH_MS)
		return;
	if (payer_redis_metrics_push(pe->redis, &pe->st, &pe->pushed, &e) ==
	    -1)
		redis_failed(pe, &e);	/* these deltas are lost */
	pe->pushed = pe->st;
	pe->metrics_at = now;
	pe->metrics_n = 0;
}

/* Counts a claim request's latency and, if it failed, its cause. */
static void
metrics_count(struct payer_engine *pe, struct slot *s, CURLcode cc,
    long code)
{
	curl_off_t us = 0;
	char cause[PAYER_ERR_CAUSE_MAX];

	curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME_T, &us);
	payer_stats_latency(&pe->st, (long long)us);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		payer_stats_error(&pe->st, "timeout");
	else if (cc != CURLE_OK)
		payer_stats_error(&pe->st, "network");
	else if (code < 200 || code > 299) {
		snprintf(cause, sizeof(cause), "%ld", code);
		payer_stats_error(&pe->st, cause);
	}
	pe->metrics_n++;
}

/*
 * A row's transfer finished.  Returns 1 if the row is final, 0 if it
 * goes again, -1 with err if the whole job must stop (the payer refuses
 * every fresh token).
 */
static int
slot_done(struct payer_engine *pe, struct slot *s, CURLcode cc,
    struct errbuf *err)
{
	long code = 0;
	char why[256], msg[320];
	enum payer_verdict v;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	metrics_count(pe, s, cc, code);
	curl_multi_remove_handle(pe->multi, s->easy);
	pe->inflight--;
	s->state = SLOT_READY;
	free(s->body);
	s->body = NULL;
	s->res.http_status = code;
	if (cc == CURLE_OK && code != 401)
		pe->refusals = 0;

	if (cc != CURLE_OK) {
		if (s->rb.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
			snprintf(msg, sizeof(msg), "payer response larger than "
			    "%d bytes", PAYER_MAX_RESPONSE);
			payer_result_error(&s->res, msg);
			return 1;
		}
		if (cc == CURLE_OPERATION_TIMEDOUT)
			return slot_retry(pe, s, "timeout", 0);
		snprintf(why, sizeof(why), "connection error (%s)",
		    curl_easy_strerror(cc));
		if (curl_permanent(cc)) {
			snprintf(msg, sizeof(msg), "payer %s", why);
			payer_result_error(&s->res, msg);
			return 1;
		}
		return slot_retry(pe, s, why, 0);
	}
	if (code >= 200 && code <= 299) {
		/* the adapter maps from scratch; keep what the engine set */
		struct payer_result keep = s->res;

		result_init(s);
		s->res.attempts = keep.attempts;
		s->res.http_status = keep.http_status;
		memcpy(s->res.correlation_id, keep.correlation_id,
		    sizeof(s->res.correlation_id));
		v = pe->ad[s->claim.txn]->parse_response(code,
		    s->rb.p ? s->rb.p : "", s->rb.len, &s->claim, &s->res);
		if (strstr(s->res.error_message, "malformed") != NULL)
			payer_stats_error(&pe->st, "malformed");
		if (v != PAYER_DONE)
			payer_result_clear(&s->res);
		if (v == PAYER_RETRY) {
			snprintf(why, sizeof(why), "%s", s->res.error_message);
			return slot_retry(pe, s, why, 0);
		}
		if (v == PAYER_REAUTH) {
			snprintf(why, sizeof(why), "rejected the access token");
			goto reauth;
		}
		return 1;
	}
	v = pe->ad[s->claim.txn]->classify_error(code, s->rb.p ? s->rb.p : "",
	    s->rb.len, why, sizeof(why));
	switch (v) {
	case PAYER_DONE:
		payer_result_not_found(&s->res);
		return 1;
	case PAYER_RETRY:
		return slot_retry(pe, s, why, retry_after_ms(s->easy));
	case PAYER_REAUTH:
		goto reauth;
	default:
		snprintf(msg, sizeof(msg), "payer %s", why);
		payer_result_error(&s->res, msg);
		return 1;
	}
reauth:
	/* one fresh token per row; a second refusal is the payer's word */
	if (s->reauthed) {
		snprintf(msg, sizeof(msg), "payer %s after a token refresh",
		    why);
		payer_result_error(&s->res, msg);
		return 1;
	}
	s->reauthed = 1;
	s->tries--;
	/* many rows share one token: only the first 401 of a token renews it */
	if (s->token_gen == pe->token_gen && pe->token_valid) {
		/* tokens refused with no answer in between: not expiry */
		if (++pe->refusals > PAYER_MAX_TOKEN_REFUSALS)
			return errbuf_set(err, "payer refused %d fresh access "
			    "tokens in a row (401)", pe->refusals);
		pe->token_valid = 0;
		memcpy(pe->refused, pe->token, sizeof(pe->refused));
	}
	s->not_before = 0;
	return 0;
}

/*
 * One permit of payer.rate_limit: from Redis when shared (in batches, to
 * save round trips), else from a worker-local bucket.  1 if a request may
 * start now; 0 with pe->rate_next set to when to ask again.
 */
static int
rate_take(struct payer_engine *pe, long long now)
{
	struct errbuf e;
	double cap;
	long wait;
	int want, got;

	if (pe->opt.rate_limit <= 0)
		return 1;
	cap = pe->opt.rate_limit * PAYER_RATE_BURST_S;
	if (cap < 1)
		cap = 1;
	if (pe->redis != NULL) {
		if (pe->permits > 0) {
			pe->permits--;
			return 1;
		}
		if (now < pe->rate_next)
			return 0;
		want = pe->opt.concurrency - pe->inflight;
		if (want > (int)cap)
			want = (int)cap;
		if (want < 1)
			want = 1;
		got = payer_redis_rate_take(pe->redis, pe->rate_key,
		    pe->opt.rate_limit, cap, want, &wait, &e);
		if (got > 0) {
			pe->permits = got - 1;
			return 1;
		}
		if (got == 0) {
			pe->rate_next = now + (wait > 0 ? wait : 1);
			return 0;
		}
		redis_failed(pe, &e);
	}
	pe->bucket += (double)(now - pe->bucket_ms) * pe->opt.rate_limit /
	    1000.0;
	pe->bucket_ms = now;
	if (pe->bucket > cap)
		pe->bucket = cap;
	if (pe->bucket < 1) {
		pe->rate_next = now + 1 + (long long)(1000.0 /
		    pe->opt.rate_limit * (1 - pe->bucket));
		return 0;
	}
	pe->bucket -= 1;
	return 1;
}

/*
 * The cap on requests in flight now: payer.concurrency, and with
 * payer.max_in_flight the shares this engine holds in Redis, taking
 * more for the eligible rows waiting.  Lowers *wake while refused.
 */
static int
lease_fill(struct payer_engine *pe, int eligible, long long now,
    long long *wake)
{
	struct errbuf e;
	int need, got, cap = pe->opt.concurrency;

	if (pe->opt.max_in_flight == 0)
		return cap;
	if (pe->redis == NULL || pe->lease_off)
		return pe->opt.max_in_flight < cap ? pe->opt.max_in_flight :
		    cap;
	need = (eligible < cap - pe->inflight ? eligible : cap - pe->inflight) -
	    (pe->leases - pe->inflight);
	if (need > 0 && now >= pe->lease_next) {
		got = payer_redis_slots_take(pe->redis, pe->fl_key,
		    pe->fl_alive, pe->lock_id, pe->opt.max_in_flight, need,
		    pe->lease_ttl, &e);
		if (got < 0) {
			redis_failed(pe, &e);
			pe->lease_off = 1;
			return pe->opt.max_in_flight < cap ?
			    pe->opt.max_in_flight : cap;
		}
		pe->leases += got;
		if (got < need)
			pe->lease_next = now + LEASE_POLL_MS;
	}
	if (pe->lease_next > now && pe->lease_next < *wake)
		*wake = pe->lease_next;
	return pe->leases < cap ? pe->leases : cap;
}

/* Gives back the shares no request uses, for other workers. */
static void
lease_trim(struct payer_engine *pe)
{
	struct errbuf e;

	if (pe->leases <= pe->inflight)
		return;
	if (pe->redis != NULL && !pe->lease_off &&
	    payer_redis_slots_give(pe->redis, pe->fl_key, pe->fl_alive,
	    pe->lock_id, pe->leases - pe->inflight, pe->lease_ttl, &e) == -1)
		redis_failed(pe, &e);
	pe->leases = pe->inflight;
}

/*
 * Starts every ready row that may start now (token, backoff, in-flight
 * caps, rate limit).  A row that cannot even be built is done at once.
 * Returns the slots in use; lowers *wake to the next time to look again.
 */
static int
start_ready(struct payer_engine *pe, long long now, long long *wake,
    payer_done_fn done, void *arg, int *halt, int *want_next)
{
	struct slot *s;
	int i, busy = 0, eligible = 0, cap;

	for (i = 0; i < pe->nslots; i++)
		if (pe->slots[i].state == SLOT_READY &&
		    pe->slots[i].not_before <= now)
			eligible++;
	cap = pe->token_valid ? lease_fill(pe, eligible, now, wake) : 0;
	for (i = 0; i < pe->nslots && !*halt; i++) {
		s = &pe->slots[i];
		if (s->state == SLOT_FREE)
			continue;
		busy++;
		if (s->state != SLOT_READY)
			continue;
		if (s->not_before > now) {
			if (s->not_before < *wake)
				*wake = s->not_before;
			continue;
		}
		if (!pe->token_valid || pe->inflight >= cap)
			continue;
		if (!rate_take(pe, now)) {
			if (pe->rate_next < *wake)
				*wake = pe->rate_next;
			continue;
		}
		if (slot_send(pe, s) == -1) {
			s->state = SLOT_READY;
			*halt = done(arg, &s->claim, &s->res) != 0;
			slot_release(pe, s);
			*want_next = 1;
		}
	}
	return busy;
}

int
payer_engine_run(struct payer_engine *pe, payer_next_fn next,
    payer_done_fn done, void *arg, volatile const int *stop,
    struct errbuf *err)
{
	struct slot *s;
	char *priv;
	CURLMsg *m;
	long long now, wake;
	int i, busy, want_next = 1, halt = 0, rc = 0, left, still, timeout;
	int progressed;

	for (;;) {
		if (stop != NULL && *stop)
			break;
		now = util_mono_ms();
		if (pe->token_valid && now >= pe->token_expires)
			pe->token_valid = 0;

		/* fill free slots */
		for (i = 0; i < pe->nslots && want_next && !halt; i++) {
			s = &pe->slots[i];
			if (s->state != SLOT_FREE)
				continue;
			memset(&s->claim, 0, sizeof(s->claim));
			if (!next(arg, &s->claim)) {
				want_next = 0;
				break;
			}
			s->state = SLOT_READY;
			s->tries = s->reauthed = 0;
			s->not_before = 0;
			result_init(s);
		}

		/* start what may start */
		wake = now + LOOP_TICK_MS;
		busy = start_ready(pe, now, &wake, done, arg, &halt,
		    &want_next);
		if (halt)
			break;
		if (busy == 0 && !want_next)
			break;
		if (busy > 0 && !pe->token_valid && !pe->tok_busy) {
			if (now >= pe->tok_not_before) {
				if (token_need(pe, now, err) == -1) {
					rc = -1;
					break;
				}
				/*
				 * Another worker's token, taken from Redis at
				 * once: start the requests now, not after a
				 * poll of LOOP_TICK_MS with nothing in flight
				 * (every chunk's start paid it).
				 */
				if (pe->token_valid)
					continue;
			} else if (pe->tok_not_before < wake)
				wake = pe->tok_not_before;
		}
		if (busy == 0)
			continue;	/* ask next() again */

		curl_multi_perform(pe->multi, &still);
		progressed = 0;
		while ((m = curl_multi_info_read(pe->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			/* a slot or the token changed: loop before sleeping */
			progressed = 1;
			if (m->easy_handle == pe->tok_easy) {
				if (token_done(pe, m->data.result, err) == -1) {
					rc = -1;
					break;
				}
				continue;
			}
			priv = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    &priv);
			if ((s = (struct slot *)(void *)priv) == NULL)
				continue;
			if ((i = slot_done(pe, s, m->data.result, err)) ==
			    -1) {
				rc = -1;
				break;
			}
			metrics_push(pe, 0);
			if (i == 1) {
				halt = done(arg, &s->claim, &s->res) != 0;
				slot_release(pe, s);
				want_next = 1;
				if (halt)
					break;
			}
		}
		if (rc == -1 || halt)
			break;
		if (progressed) {
			lease_trim(pe);
			continue;
		}
		now = util_mono_ms();
		timeout = wake > now ? (int)(wake - now) : 0;
		if (timeout > LOOP_TICK_MS)
			timeout = LOOP_TICK_MS;
		curl_multi_poll(pe->multi, NULL, 0, timeout, NULL);
	}
	/* abandon whatever is left: no done() for it */
	for (i = 0; i < pe->nslots; i++)
		slot_release(pe, &pe->slots[i]);
	token_release(pe);
	lock_release(pe);
	lease_trim(pe);
	metrics_push(pe, 1);
	pe->lock_wait_until = 0;
	pe->lease_off = 0;
	pe->lease_next = 0;
	return rc;
}

unsigned long
payer_engine_token_fetches(const struct payer_engine *pe)
{
	return pe->st.token_fetches;
}

void
payer_engine_stats(const struct payer_engine *pe, struct payer_stats *st)
{
	*st = pe->st;
}

void
payer_options_load(struct payer_options *opt)
{
	const char *v;
	char *end;

	opt->concurrency = (int)config_get_long("payer.concurrency", 0);
	opt->max_attempts = (int)config_get_long("payer.max_attempts", 0);
	opt->timeout_ms = config_get_long("payer.timeout_ms", 0);
	opt->max_in_flight = (int)config_get_long("payer.max_in_flight", 0);
	opt->backoff_ms = config_get_long("payer.backoff_ms", 0);
	opt->backoff_max_ms = config_get_long("payer.backoff_max_ms", 0);
	opt->connect_timeout_ms = config_get_long("payer.connect_timeout_ms",
	    0);
	opt->allow_http = config_get_bool("payer.allow_http", 0);
	v = config_get("payer.ca_file", NULL);
	opt->ca_file = v != NULL && v[0] != '\0' ? v : NULL;
	opt->rate_limit = 0;
	if ((v = config_get("payer.rate_limit", NULL)) != NULL) {
		opt->rate_limit = strtod(v, &end);
		if (end == v || *end != '\0' || opt->rate_limit < 0)
			opt->rate_limit = 0;
	}
}
