/*
 * bulkclaims-payer-sim: the payer of docs/payer-adapters.md for
 * development, tests and benchmarks.  libmicrohttpd with one poll()
 * thread; latency is served by suspending connections (delay.c), never by
 * a thread or a sleep per request.  Answers are a pure function of the
 * claim number (outcome.c); forced behaviours by claim-number prefix are
 * listed in outcome.c and in --help.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "config.h"
#include "delay.h"
#include "limits.h"
#include "log.h"
#include "outcome.h"
#include "respond.h"
#include "state.h"
#include "util.h"

#define PROGNAME	"bulkclaims-payer-sim"

/* Settings, from sim.* keys and flags (see usage()). */
struct sim_config {
	const char	*listen;
	long		 port;
	long		 latency_min, latency_max; /* ms */
	double		 error_rate;		/* 0..1 */
	double		 rate_limit;		/* per s; 0 = none */
	long		 max_concurrency;	/* 0 = none */
	long		 token_ttl;		/* s */
	const char	*client_id, *client_secret;
	const char	*tins;		/* comma list; "*": any TIN */
	long		 slow_ms;
	const char	*log_file;
	const char	*tls_cert, *tls_key;
	int		 debug;
	long		 epoch;		/* sim.epoch; POST /__epoch sets it */
};

/* One request's state, from its headers to its completion. */
struct req {
	enum sim_route	 route;
	int		 counted;	/* counted in state_inflight() */
	int		 ready;		/* response prepared */
	long long	 started;
	char		*body;
	size_t		 len;
	int		 too_big;
	unsigned	 status;
	char		*resp;
	int		 retry_after;	/* seconds, 0: no header */
};

static struct sim_config cfg;
static volatile sig_atomic_t quit, reopen;
static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

/* Command-line flags that set a configuration key: --port -> sim.port. */
static const struct {
	const char	*flag;
	const char	*key;
} flag_keys[] = {
	{ "listen", "sim.listen" },
	{ "port", "sim.port" },
	{ "latency-ms", "sim.latency_ms" },
	{ "latency-min-ms", "sim.latency_min_ms" },
	{ "latency-max-ms", "sim.latency_max_ms" },
	{ "error-rate", "sim.error_rate" },
	{ "rate-limit", "sim.rate_limit" },
	{ "max-concurrency", "sim.max_concurrency" },
	{ "token-ttl-s", "sim.token_ttl_s" },
	{ "client-id", "sim.client_id" },
	{ "client-secret", "sim.client_secret" },
	{ "tins", "sim.tins" },
	{ "slow-ms", "sim.slow_ms" },
	{ "log-file", "sim.log_file" },
	{ "tls-cert", "sim.tls_cert" },
	{ "tls-key", "sim.tls_key" },
	{ "epoch", "sim.epoch" },
};
#define NFLAGS	(sizeof(flag_keys) / sizeof(flag_keys[0]))
static const char *flag_values[NFLAGS];

static void
usage(FILE *f)
{
	fprintf(f,
"usage: " PROGNAME " [-d] [-c FILE] [--port N] [--listen ADDR]\n"
"           [--latency-ms N | --latency-min-ms N --latency-max-ms N]\n"
"           [--error-rate P] [--rate-limit R] [--max-concurrency N]\n"
"           [--token-ttl-s S] [--client-id ID] [--client-secret S]\n"
"           [--tins LIST] [--slow-ms N] [--log-file F]\n"
"           [--tls-cert F --tls-key F] [--epoch N]\n"
"       " PROGNAME " --explain CLAIM [--first F] [--last L] [--epoch N]\n"
"\n"
"Imitates the payer API (see README-outcomes.md): POST /apip/auth/v2/token,\n"
"POST /oihub/claim/inquiry/v1, POST /medicalnetwork/claimstatus/v2/,\n"
"POST /oihub/claim/detail/v1, POST /oihub/claim/payment/v1,\n"
"POST /oihub/claim/member-search/v1,\n"
"GET /__stats[?claim=X], POST /__reset, GET|POST /__epoch[?n=N],\n"
"POST /__outage?seconds=S[&status=N] (claim requests get N, default\n"
"503, or 0: connection closed, for S seconds; seconds=0 ends it).\n"
"\n"
"Every flag overrides a configuration key (file from -c or\n"
"BULKCLAIMS_CONFIG; environment BULKCLAIMS_SIM_<KEY> beats the file):\n"
"  sim.listen (127.0.0.1)  sim.port (8481)  sim.latency_ms (0)\n"
"  sim.latency_min_ms/sim.latency_max_ms (uniform; override latency_ms)\n"
"  sim.error_rate (0: share of claim requests answered 503)\n"
"  sim.rate_limit (0: claim requests/s, excess 429 + Retry-After)\n"
"  sim.max_concurrency (0: claim requests in flight, excess 429)\n"
"  sim.token_ttl_s (3600)  sim.client_id (bulkclaims-dev)\n"
"  sim.client_secret (bulkclaims-dev-secret)\n"
"  sim.tins (*: comma list of accepted 9-digit TINs, * any)\n"
"  sim.slow_ms (30000)  sim.log_file  sim.tls_cert  sim.tls_key\n"
"  sim.debug (0: -d, one log line per request)\n"
"  sim.epoch (0: claims move along their life as it grows)\n"
"\n"
"Outcome: FNV-1a 32 of the claim number mod 100: 0-64 Processed,\n"
"65-72 Denied, 73-79 Pending, 80-84 In Review, 85-89 Rejected,\n"
"90-94 Finalized, 95-99 Not Found (payer-sim/README-outcomes.md).\n"
"Forced behaviours by claim-number prefix:\n"
"  ERR50xN...  HTTP 50x (500..504) on the first N (1..9) attempts\n"
"  RL...       429 with Retry-After: 1 on the first attempt\n"
"  SLOW...     answer after sim.slow_ms\n"
"  BADJSON...  HTTP 200 with a malformed JSON body\n"
"  MISMATCH... member last name and date of birth differ\n"
"  NOTFOUND... not found            DENY...  denied\n"
"  E401...     first attempt: 401 TOKEN_EXPIRED, and the token used\n"
"              expires (every request with it gets 401 from then on)\n"
"  BUSYN...    first N (1..9) attempts: 277 category E1 in a 200\n"
"              (other routes: 503)\n"
"  BADREQ...   always 277 category E0 in a 200 (other routes: 400)\n"
"Others than NOTFOUND, DENY and BADREQ are Processed once they get\n"
"through.\n"
"The forced behaviours apply to every claim route; attempts are counted\n"
"per claim and transaction (status, details, payment).\n"
"--explain prints the results-CSV columns expected for CLAIM as JSON,\n"
"then its service lines and payments, and found_by: which attempt of a\n"
"client's not-found triage finds it (as_sent, normalised, member_search,\n"
"none).\n");
}

static double
cfg_double(const char *key, double def)
{
	const char *v = config_get(key, NULL);
	char *end;
	double d;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || *end != '\0')
		fatalx("%s: not a number", key);
	return d;
}

static long
cfg_long(const char *key, long def)
{
	const char *v = config_get(key, NULL);
	char *end;
	long l;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	l = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || l < 0)
		fatalx("%s: not a non-negative integer", key);
	return l;
}

static void
config_read(void)
{
	long fixed;

	cfg.listen = config_get("sim.listen", "127.0.0.1");
	cfg.port = cfg_long("sim.port", 8481);
	fixed = cfg_long("sim.latency_ms", 0);
	cfg.latency_min = cfg_long("sim.latency_min_ms", fixed);
	cfg.latency_max = cfg_long("sim.latency_max_ms", cfg.latency_min);
	if (cfg.latency_max < cfg.latency_min)
		fatalx("sim.latency_max_ms is below sim.latency_min_ms");
	cfg.error_rate = cfg_double("sim.error_rate", 0);
	/* Written so that NaN fails too. */
	if (!(cfg.error_rate >= 0 && cfg.error_rate <= 1))
		fatalx("sim.error_rate must be within 0..1");
	cfg.rate_limit = cfg_double("sim.rate_limit", 0);
	if (!(cfg.rate_limit >= 0 && cfg.rate_limit <= 1e9))
		fatalx("sim.rate_limit must be 0 (none) or positive");
	cfg.max_concurrency = cfg_long("sim.max_concurrency", 0);
	cfg.token_ttl = cfg_long("sim.token_ttl_s", 3600);
	cfg.client_id = config_get("sim.client_id", "bulkclaims-dev");
	cfg.client_secret = config_get("sim.client_secret",
	    "bulkclaims-dev-secret");
	cfg.tins = config_get("sim.tins", "*");
	cfg.slow_ms = cfg_long("sim.slow_ms", 30000);
	cfg.log_file = config_get("sim.log_file", NULL);
	cfg.tls_cert = config_get("sim.tls_cert", NULL);
	cfg.tls_key = config_get("sim.tls_key", NULL);
	cfg.debug = cfg.debug || config_get_bool("sim.debug", 0);
	cfg.epoch = cfg_long("sim.epoch", 0);
	if (cfg.epoch > SIM_MAX_EPOCH)
		fatalx("sim.epoch is capped at %d", SIM_MAX_EPOCH);
	if (cfg.port > 65535)
		fatalx("sim.port out of range");
	if (cfg.latency_max > SIM_MAX_DELAY_MS ||
	    cfg.slow_ms > SIM_MAX_DELAY_MS)
		fatalx("delays are capped at %d ms", SIM_MAX_DELAY_MS);
	if (cfg.token_ttl > 365L * 86400)
		fatalx("sim.token_ttl_s is capped at a year");
}

/* xorshift64*: latency jitter and injected errors, not security. */
static double
rand01(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
}

static long
latency(void)
{
	if (cfg.latency_max <= cfg.latency_min)
		return cfg.latency_min;
	return cfg.latency_min + (long)(rand01() *
	    (double)(cfg.latency_max - cfg.latency_min + 1));
}

static int
tin_ok(const char *tin)
{
	const char *p, *e;
	size_t n = strlen(tin), i;

	if (n != 9)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)tin[i]))
			return 0;
	if (cfg.tins[0] == '\0' || strcmp(cfg.tins, "*") == 0)
		return 1;
	for (p = cfg.tins; *p != '\0'; p = *e ? e + 1 : e) {
		while (*p == ' ')
			p++;
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) >= n && memcmp(p, tin, n) == 0 &&
		    (e - p == 9 || p[9] == ' '))
			return 1;
	}
	return 0;
}

/* Sets the response of r to an error body. */
static void
set_error(struct req *r, unsigned status, const char *code,
    const char *desc)
{
	free(r->resp);
	r->status = status;
	r->resp = respond_error(code, desc);
}

static enum sim_route
route_of(const char *url)
{
	if (strcmp(url, "/apip/auth/v2/token") == 0)
		return ROUTE_TOKEN;
	if (strcmp(url, "/oihub/claim/inquiry/v1") == 0)
		return ROUTE_INQUIRY;
	if (strcmp(url, "/medicalnetwork/claimstatus/v2/") == 0 ||
	    strcmp(url, "/medicalnetwork/claimstatus/v2") == 0)
		return ROUTE_X12;
	if (strcmp(url, "/oihub/claim/detail/v1") == 0)
		return ROUTE_DETAIL;
	if (strcmp(url, "/oihub/claim/payment/v1") == 0)
		return ROUTE_PAYMENT;
	if (strcmp(url, "/oihub/claim/member-search/v1") == 0)
		return ROUTE_MEMBER;
	if (strcmp(url, "/__epoch") == 0)
		return ROUTE_EPOCH;
	if (strcmp(url, "/__stats") == 0)
		return ROUTE_STATS;
	if (strcmp(url, "/__reset") == 0)
		return ROUTE_RESET;
	if (strcmp(url, "/__outage") == 0)
		return ROUTE_OUTAGE;
	return ROUTE_OTHER;
}

/* The routes that answer about a claim (latency, limits, outage). */
static int
claim_route(enum sim_route r)
{
	return r == ROUTE_INQUIRY || r == ROUTE_X12 || r == ROUTE_DETAIL ||
	    r == ROUTE_PAYMENT || r == ROUTE_MEMBER;
}

static void
handle_token(struct MHD_Connection *c, struct req *r)
{
	struct sim_token_request t;
	struct errbuf err;
	const char *ct;
	char tok[65];

	ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (respond_parse_token(r->body, r->len, ct != NULL &&
	    strncasecmp(ct, "application/json", 16) == 0, &t, &err) == -1) {
		set_error(r, 400, "INVALID_REQUEST", err.msg);
		return;
	}
	if (strcmp(t.grant_type, "client_credentials") != 0) {
		set_error(r, 400, "UNSUPPORTED_GRANT_TYPE",
		    "grant_type must be client_credentials");
		return;
	}
	if (strcmp(t.client_id, cfg.client_id) != 0 ||
	    strcmp(t.client_secret, cfg.client_secret) != 0) {
		set_error(r, 401, "AUTH_FAILURE", "invalid client credentials");
		return;
	}
	state_token_issue(cfg.token_ttl, util_mono_ms(), tok);
	r->status = 200;
	r->resp = respond_token(tok, cfg.token_ttl);
	sodium_memzero(tok, sizeof(tok));
}

/* POST /__outage?seconds=S[&status=N]: the payer goes down for S s. */
static void
handle_outage(struct MHD_Connection *c, struct req *r)
{
	const char *sec, *st;
	char *end, buf[80];
	double s;
	long status = 503;

	sec = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "seconds");
	st = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
	errno = 0;
	s = sec ? strtod(sec, &end) : -1;
	if (sec == NULL || errno != 0 || *end != '\0' || s < 0 ||
	    s > 86400) {
		set_error(r, 400, "INVALID_REQUEST",
		    "seconds=0..86400 is required");
		return;
	}
	if (st != NULL) {
		status = strtol(st, &end, 10);
		if (*end != '\0' || (status != 0 &&
		    (status < 400 || status > 599))) {
			set_error(r, 400, "INVALID_REQUEST",
			    "status is 0 (drop connections) or 400..599");
			return;
		}
	}
	state_outage_set((long)(s * 1000), (unsigned)status, util_mono_ms());
	log_info("outage for %.1f s, status %ld", s, status);
	snprintf(buf, sizeof(buf), "{\"outage_ms\":%ld,\"status\":%ld}",
	    (long)(s * 1000), status);
	r->status = 200;
	r->resp = strdup(buf);
}

/*
 * GET /__epoch tells the epoch; POST /__epoch?n=N moves every claim to
 * epoch N (0..SIM_MAX_EPOCH) without a restart.
 */
static void
handle_epoch(struct MHD_Connection *c, const char *method, struct req *r)
{
	const char *n;
	char *end, buf[64];
	long e;

	if (strcmp(method, "POST") == 0) {
		n = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "n");
		errno = 0;
		e = n ? strtol(n, &end, 10) : -1;
		if (n == NULL || *n == '\0' || errno != 0 || *end != '\0' ||
		    e < 0 || e > SIM_MAX_EPOCH) {
			set_error(r, 400, "INVALID_REQUEST",
			    "n=0..1000000 is required");
			return;
		}
		cfg.epoch = e;
		log_info("epoch %ld", e);
	} else if (strcmp(method, "GET") != 0) {
		set_error(r, 405, "METHOD_NOT_ALLOWED", "use GET or POST");
		return;
	}
	snprintf(buf, sizeof(buf), "{\"epoch\":%ld}", cfg.epoch);
	r->status = 200;
	r->resp = strdup(buf);
}

/*
 * The bearer token of a claim request, or NULL with r set to the 401
 * answer (no token, or not a live one).
 */
static const char *
check_token(struct MHD_Connection *c, struct req *r)
{
	const char *auth;

	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0) {
		set_error(r, 401, "UNAUTHORIZED", "bearer token required");
		return NULL;
	}
	if (state_token_check(auth + 7, util_mono_ms()) == -1) {
		set_error(r, 401, "TOKEN_EXPIRED",
		    "access token is invalid or expired");
		return NULL;
	}
	return auth + 7;
}

/*
 * The providerTaxId of a claim request (the header, else fallback: the
 * 276's taxId), or NULL with r set to the 400 answer.
 */
static const char *
check_tin(struct MHD_Connection *c, struct req *r, const char *fallback)
{
	const char *tin;

	tin = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "providerTaxId");
	if (fallback != NULL && (tin == NULL || *tin == '\0'))
		tin = fallback;
	if (tin == NULL || *tin == '\0') {
		set_error(r, 400, "INVALID_REQUEST",
		    "providerTaxId is required");
		return NULL;
	}
	if (!tin_ok(tin)) {
		set_error(r, 400, "INVALID_TIN",
		    "providerTaxId is not an accepted TIN");
		return NULL;
	}
	return tin;
}

/*
 * POST /oihub/claim/member-search/v1 (the simulator's own contract, see
 * README-outcomes.md): the claims of a subscriber and date of birth.
 * Checks as the claim details route: token, body, TIN.
 */
static long
handle_member_search(struct MHD_Connection *c, struct req *r)
{
	struct sim_outcome o[SIM_MEMBER_MAX];
	struct sim_request q;
	struct sim_date dob;
	struct errbuf err;
	long delay = latency();
	int i, n;

	if (check_token(c, r) == NULL)
		return delay;
	if (respond_parse_member_search(r->body, r->len, &q, &dob,
	    &err) == -1) {
		set_error(r, 400, "INVALID_REQUEST", r->too_big ?
		    "body too large" : err.msg);
		return delay;
	}
	if (check_tin(c, r, NULL) == NULL)
		return delay;
	if (cfg.error_rate > 0 && rand01() < cfg.error_rate) {
		state_count_reject(REJECT_INJECTED);
		set_error(r, 503, "SERVICE_UNAVAILABLE",
		    "temporary failure, retry later");
		return delay;
	}
	n = outcome_member_search(q.member.id, &dob, cfg.epoch, o);
	for (i = 0; i < n; i++)
		(void)state_claim_attempt(o[i].found_as, TXN_MEMBER);
	r->status = 200;
	r->resp = respond_member_search(o, n);
	return delay;
}

/*
 * Every claim route: authentication, TIN, body, then the outcome with
 * the forced behaviours.  Returns the delay (ms) before answering.
 */
static long
handle_claim(struct MHD_Connection *c, struct req *r)
{
	struct sim_request q;
	struct sim_outcome o;
	struct errbuf err;
	const char *tok, *tin;
	long attempt, delay = latency();
	int x12 = r->route == ROUTE_X12, rc;
	int lookup = r->route == ROUTE_DETAIL || r->route == ROUTE_PAYMENT;
	enum sim_txn txn;

	if ((tok = check_token(c, r)) == NULL)
		return delay;
	if (x12)
		rc = respond_parse_x12(r->body, r->len, &q, &err);
	else if (lookup)
		rc = respond_parse_lookup(r->body, r->len, &q, &err);
	else
		rc = respond_parse_inquiry(r->body, r->len, &q, &err);
	if (rc == -1) {
		set_error(r, 400, "INVALID_REQUEST", r->too_big ?
		    "body too large" : err.msg);
		return delay;
	}
	if ((tin = check_tin(c, r, x12 ? q.tin : NULL)) == NULL)
		return delay;

	if (q.claim[0] == '\0') {
		/* A 276 without a claim number: no claim-level search here. */
		outcome_for("NOTFOUND", 8, &o);
		attempt = 1;
	} else {
		outcome_for_epoch(q.claim, strlen(q.claim), cfg.epoch, &o);
		txn = r->route == ROUTE_DETAIL ? TXN_DETAILS :
		    r->route == ROUTE_PAYMENT ? TXN_PAYMENT : TXN_STATUS;
		attempt = state_claim_attempt(q.claim, txn);
	}

	if (o.force == SIM_FORCE_ERR5XX && attempt <= o.force_n) {
		set_error(r, (unsigned)o.force_code, "SERVICE_UNAVAILABLE",
		    "temporary failure, retry later");
		r->retry_after = 0;
		return delay;
	}
	if (o.force == SIM_FORCE_RATELIMIT && attempt == 1) {
		set_error(r, 429, "RATE_LIMITED", "too many requests");
		r->retry_after = 1;
		return delay;
	}
	if (o.force == SIM_FORCE_BADREQ ||
	    (o.force == SIM_FORCE_BUSY && attempt <= o.force_n)) {
		if (x12) {
			r->status = 200;
			r->resp = respond_x12_system(&q,
			    o.force == SIM_FORCE_BUSY);
		} else if (o.force == SIM_FORCE_BUSY)
			set_error(r, 503, "SERVICE_UNAVAILABLE",
			    "temporary failure, retry later");
		else
			set_error(r, 400, "INVALID_REQUEST",
			    "the payer cannot process this request");
		return delay;
	}
	if (o.force == SIM_FORCE_E401 && attempt == 1) {
		/*
		 * The token "expires" now, for every request that uses it,
		 * as a real token would mid-job: a client refreshes once and
		 * retries, and this claim then gets its answer.
		 */
		state_token_revoke(tok);
		set_error(r, 401, "TOKEN_EXPIRED", "access token has expired");
		return delay;
	}
	if (cfg.error_rate > 0 && rand01() < cfg.error_rate) {
		state_count_reject(REJECT_INJECTED);
		set_error(r, 503, "SERVICE_UNAVAILABLE",
		    "temporary failure, retry later");
		return delay;
	}
	if (o.force == SIM_FORCE_SLOW)
		delay = cfg.slow_ms;
	r->status = 200;
	if (o.force == SIM_FORCE_BADJSON)
		r->resp = lookup ? respond_badjson_lookup(q.claim,
		    r->route == ROUTE_PAYMENT) : respond_badjson(q.claim);
	else if (lookup && o.status == SIM_NOT_FOUND)
		set_error(r, 404, "CLAIM_NOT_FOUND",
		    "no claim with this number for this provider");
	else if (r->route == ROUTE_DETAIL)
		r->resp = respond_details(&o, &q);
	else if (r->route == ROUTE_PAYMENT)
		r->resp = respond_payment(&o, &q, tin);
	else if (x12)
		r->resp = respond_x12(&o, &q);
	else
		r->resp = respond_inquiry(&o, &q);
	return delay;
}

static enum MHD_Result
send_response(struct MHD_Connection *c, struct req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *corr;
	char ra[16];

	if (r->resp == NULL) {
		r->status = 500;
		r->resp = strdup("{\"errors\":[{\"code\":\"INTERNAL\","
		    "\"description\":\"out of memory\"}]}");
		if (r->resp == NULL)
			return MHD_NO;
	}
	resp = MHD_create_response_from_buffer(strlen(r->resp), r->resp,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		return MHD_NO;
	r->resp = NULL;		/* MHD owns it now */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	if (r->retry_after > 0) {
		snprintf(ra, sizeof(ra), "%d", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	/* The test hooks themselves would only blur the counts. */
	if (r->route != ROUTE_STATS && r->route != ROUTE_RESET &&
	    r->route != ROUTE_OUTAGE && r->route != ROUTE_EPOCH)
		state_count(r->route, r->status);
	/* The correlation id is the client's; it names no patient. */
	corr = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "x-optum-consumer-correlation-id");
	log_debug("request route=%s status=%u ms=%lld corr=%.40s",
	    state_route_path(r->route), r->status,
	    util_mono_ms() - r->started, corr ? corr : "-");
	return ret;
}

/* First call for a request: routing and admission of claim requests. */
static struct req *
req_new(const char *url)
{
	struct req *r;
	long long now = util_mono_ms();
	unsigned down;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->route = route_of(url);
	r->started = now;
	if (!claim_route(r->route))
		return r;
	if (state_outage(now, &down)) {
		state_count_reject(REJECT_OUTAGE);
		set_error(r, down, "SERVICE_UNAVAILABLE",
		    "the payer is unavailable");
		r->ready = 1;
		return r;
	}
	if (cfg.max_concurrency > 0 &&
	    state_inflight(0) >= cfg.max_concurrency) {
		state_count_reject(REJECT_CONCURRENCY);
		set_error(r, 429, "CONCURRENCY_LIMIT",
		    "too many requests in flight");
		r->retry_after = 1;
		r->ready = 1;
		return r;
	}
	if (!state_rate_admit(cfg.rate_limit, now, &r->retry_after)) {
		state_count_reject(REJECT_RATE);
		set_error(r, 429, "RATE_LIMITED", "too many requests");
		r->ready = 1;
		return r;
	}
	state_inflight(1);
	r->counted = 1;
	return r;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct req *r = *con_cls;
	const char *claim;
	long delay = 0;
	unsigned down;

	(void)cls;
	(void)version;
	if (r == NULL && state_outage(util_mono_ms(), &down) && down == 0 &&
	    claim_route(route_of(url))) {
		/* An outage that drops connections: no answer at all. */
		state_count_reject(REJECT_OUTAGE);
		return MHD_NO;
	}
	if (r == NULL) {
		if ((r = req_new(url)) == NULL)
			return MHD_NO;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!r->ready && r->len + *upload_data_size <= SIM_MAX_BODY) {
			char *nb = realloc(r->body, r->len + *upload_data_size +
			    1);

			if (nb == NULL)
				return MHD_NO;
			r->body = nb;
			memcpy(r->body + r->len, upload_data,
			    *upload_data_size);
			r->len += *upload_data_size;
			r->body[r->len] = '\0';
		} else
			r->too_big = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->ready)
		return send_response(c, r);

	r->ready = 1;
	switch (r->route) {
	case ROUTE_TOKEN:
		if (strcmp(method, "POST") != 0)
			set_error(r, 405, "METHOD_NOT_ALLOWED", "use POST");
		else if (r->too_big)
			set_error(r, 400, "INVALID_REQUEST", "body too large");
		else
			handle_token(c, r);
		break;
	case ROUTE_INQUIRY:
	case ROUTE_X12:
	case ROUTE_DETAIL:
	case ROUTE_PAYMENT:
		if (strcmp(method, "POST") != 0)
			set_error(r, 405, "METHOD_NOT_ALLOWED", "use POST");
		else
			delay = handle_claim(c, r);
		break;
	case ROUTE_STATS:
		claim = MHD_lookup_connection_value(c,
		    MHD_GET_ARGUMENT_KIND, "claim");
		r->status = 200;
		r->resp = state_stats_json(claim, util_mono_ms());
		break;
	case ROUTE_RESET:
		if (strcmp(method, "POST") != 0) {
			set_error(r, 405, "METHOD_NOT_ALLOWED", "use POST");
			break;
		}
		state_reset();
		r->status = 200;
		r->resp = strdup("{\"reset\":true}");
		break;
	case ROUTE_OUTAGE:
		if (strcmp(method, "POST") != 0)
			set_error(r, 405, "METHOD_NOT_ALLOWED", "use POST");
		else
			handle_outage(c, r);
		break;
	case ROUTE_MEMBER:
		if (strcmp(method, "POST") != 0)
			set_error(r, 405, "METHOD_NOT_ALLOWED", "use POST");
		else
			delay = handle_member_search(c, r);
		break;
	case ROUTE_EPOCH:
		handle_epoch(c, method, r);
		break;
	default:
		set_error(r, 404, "NOT_FOUND", "no such path");
		break;
	}
	/* +1: started is truncated to the ms; never answer early. */
	if (delay > 0 && delay_add(c, r->started + delay + 1) == 0)
		return MHD_YES;
	return send_response(c, r);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (r == NULL)
		return;
	if (r->counted)
		state_inflight(-1);
	free(r->body);
	free(r->resp);
	free(r);
	*con_cls = NULL;
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reopen = 1;
	else
		quit = 1;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_warnx("microhttpd: %s", buf);
}

/* Reads a whole (small) PEM file; returns a malloc'd string. */
static char *
slurp(const char *path)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		fatal("%s", path);
	if ((buf = malloc(SIM_MAX_BODY + 1)) == NULL)
		fatal("malloc");
	n = fread(buf, 1, SIM_MAX_BODY, f);
	if (ferror(f) || n == SIM_MAX_BODY)
		fatalx("%s: unreadable or too large", path);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void
explain(const char *claim, const char *first, const char *last,
    long epoch)
{
	char *s;

	if ((s = respond_explain_epoch(claim, first, last, epoch)) == NULL)
		fatalx("out of memory");
	printf("%s\n", s);
	free(s);
}

int
main(int argc, char *argv[])
{
	enum { OPT_EXPLAIN = 256, OPT_FIRST, OPT_LAST, OPT_FLAG };
	struct option opts[NFLAGS + 6];
	struct MHD_Daemon *d;
	struct addrinfo hints, *ai;
	struct errbuf err;
	struct rlimit rl;
	struct sigaction sa;
	sigset_t block, oldmask;
	const char *conf = NULL, *xclaim = NULL, *xfirst = NULL, *xlast = NULL;
	char portstr[16], *key = NULL, *cert = NULL;
	unsigned flags;
	size_t i;
	int ch, idx;

	memset(opts, 0, sizeof(opts));
	for (i = 0; i < NFLAGS; i++) {
		opts[i].name = flag_keys[i].flag;
		opts[i].has_arg = required_argument;
		opts[i].val = OPT_FLAG;
	}
	opts[i++] = (struct option){ "explain", required_argument, NULL,
	    OPT_EXPLAIN };
	opts[i++] = (struct option){ "first", required_argument, NULL,
	    OPT_FIRST };
	opts[i++] = (struct option){ "last", required_argument, NULL,
	    OPT_LAST };
	opts[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[i++] = (struct option){ "debug", no_argument, NULL, 'd' };
	while ((ch = getopt_long(argc, argv, "c:dh", opts, &idx)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			cfg.debug = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_EXPLAIN:
			xclaim = optarg;
			break;
		case OPT_FIRST:
			xfirst = optarg;
			break;
		case OPT_LAST:
			xlast = optarg;
			break;
		case OPT_FLAG:
			flag_values[idx] = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (xclaim != NULL) {
		long xepoch = 0;
		char *end;

		/* --epoch: the only server flag --explain reads. */
		for (i = 0; i < NFLAGS; i++)
			if (strcmp(flag_keys[i].flag, "epoch") == 0 &&
			    flag_values[i] != NULL) {
				errno = 0;
				xepoch = strtol(flag_values[i], &end, 10);
				if (errno != 0 || *end != '\0' || xepoch < 0 ||
				    xepoch > SIM_MAX_EPOCH) {
					fprintf(stderr, PROGNAME ": --epoch: "
					    "0..%d\n", SIM_MAX_EPOCH);
					return 2;
				}
			}
		explain(xclaim, xfirst, xlast, xepoch);
		return 0;
	}

	if (config_load(conf, &err) == -1) {
		fprintf(stderr, PROGNAME ": %s\n", err.msg);
		return 1;
	}
	/* Flags win over the file and the environment. */
	for (i = 0; i < NFLAGS; i++) {
		char env[64];
		size_t j;

		if (flag_values[i] == NULL)
			continue;
		snprintf(env, sizeof(env), "BULKCLAIMS_%s", flag_keys[i].key);
		for (j = 0; env[j] != '\0'; j++)
			env[j] = env[j] == '.' ? '_' :
			    (char)toupper((unsigned char)env[j]);
		if (setenv(env, flag_values[i], 1) == -1)
			fatal("setenv");
	}
	config_read();
	if (log_init(PROGNAME, cfg.log_file, 1, cfg.debug) == -1) {
		fprintf(stderr, PROGNAME ": %s: %s\n", cfg.log_file,
		    strerror(errno));
		return 1;
	}
	if (sodium_init() < 0)
		fatalx("sodium_init failed");
	rng ^= (unsigned long long)util_mono_ms() * 0x2545f4914f6cdd1dULL;
	if (state_init() == -1)
		fatalx("out of memory");

	/* 1,000+ waiting clients need as many descriptors. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%ld", cfg.port);
	if ((ch = getaddrinfo(cfg.listen, portstr, &hints, &ai)) != 0)
		fatalx("sim.listen %s: %s", cfg.listen, gai_strerror(ch));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Blocked before MHD's and the timer's threads inherit the mask. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &oldmask);

	if (delay_start(SIM_MAX_CONNECTIONS) == -1)
		fatal("timer thread");
	/*
	 * poll(), not epoll: libmicrohttpd 0.9.75's epoll loop drains
	 * events 128 (its MAX_EVENTS) at a time, and after a full batch
	 * calls epoll_wait() again with the blocking timeout it computed
	 * before the batch.  Its sockets are edge-triggered, so when
	 * exactly 128 (or 256, ...) connections become readable at once
	 * (128 keep-alive clients at latency 0) the thread sleeps with
	 * those requests unread until an unrelated event (a new client,
	 * a client giving up) or the connection timeout wakes it.
	 * poll() is level-triggered and rebuilt on every turn, so a
	 * readable socket is never forgotten; suspended connections are
	 * not in the set, so 1,000+ waiting requests cost nothing there.
	 */
	flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if ((cfg.tls_cert == NULL) != (cfg.tls_key == NULL))
		fatalx("sim.tls_cert and sim.tls_key go together");
	if (cfg.tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
			fatalx("this libmicrohttpd has no TLS support");
		flags |= MHD_USE_TLS;
		cert = slurp(cfg.tls_cert);
		key = slurp(cfg.tls_key);
	}
	d = MHD_start_daemon(flags, (uint16_t)cfg.port, NULL, NULL,
	    on_request, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)SIM_MAX_CONNECTIONS,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u,
	    MHD_OPTION_CONNECTION_TIMEOUT, 120u,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    /* Without TLS the list ends here. */
	    cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (d == NULL)
		fatalx("cannot listen on %s port %ld", cfg.listen, cfg.port);
	log_info("listening on %s port %u%s latency_ms=%ld..%ld "
	    "rate_limit=%g max_concurrency=%ld error_rate=%g",
	    cfg.listen, MHD_get_daemon_info(d,
	    MHD_DAEMON_INFO_BIND_PORT)->port, cert ? " (TLS)" : "",
	    cfg.latency_min, cfg.latency_max, cfg.rate_limit,
	    cfg.max_concurrency, cfg.error_rate);

	/* Signals are blocked except inside sigsuspend(): no lost wake-up. */
	while (!quit) {
		sigsuspend(&oldmask);
		if (reopen) {
			reopen = 0;
			log_reopen();	/* after log rotation */
		}
	}

	log_info("stopping");
	delay_stop();
	MHD_stop_daemon(d);
	state_free();
	config_free();
	if (cert != NULL) {
		sodium_memzero(key, strlen(key));
		free(key);
		free(cert);
	}
	return 0;
}
