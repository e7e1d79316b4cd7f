/*
 * The payer engine against the real simulator over HTTP on loopback:
 * every claim's answer equals `bulkclaims-payer-sim --explain`, retries
 * on 5xx and 429, timeouts, token refresh after a 401, malformed JSON,
 * member mismatch, and the simulator's count of requests in flight.
 *
 * The simulator binary is payer-sim/bulkclaims-payer-sim under the build
 * directory (make check runs there), or $BULKCLAIMS_SIM_BIN.  A missing
 * binary is a failure, not a skip.  Ports 20100-20199 (simproc.h).
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "payer.h"
#include "util.h"
#include "simproc.h"
#include "tap.h"

#define NCLAIMS		200

static const char *sim_bin;
static int use_x12;	/* the 276/277 route instead of claim inquiry */
static pid_t sim_pid = -1;
static int sim_port;

/* Starts the simulator with extra arguments (NULL-terminated list). */
static int
sim_start(const char *const *extra)
{
	sim_pid = simproc_start(sim_bin, extra, &sim_port);
	return sim_pid > 0 ? 0 : -1;
}

static void
sim_stop(void)
{
	simproc_stop(&sim_pid);
}

static long
stat_long(struct json_object *st, const char *key)
{
	struct json_object *v;

	if (st == NULL || !json_object_object_get_ex(st, key, &v))
		return -1;
	return (long)json_object_get_int64(v);
}

/* `--explain` for one claim, as JSON, or NULL. */
static struct json_object *
explain(const char *claim, const char *first, const char *last)
{
	char cmd[512], buf[65536];
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof(cmd), "'%s' --explain '%s' --first '%s' "
	    "--last '%s'", sim_bin, claim, first, last);
	if ((f = popen(cmd, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	pclose(f);
	buf[n] = '\0';
	return json_tokener_parse(buf);
}

/* ---- a run over a table of claims ---- */

struct row {
	char	 claim[32], first[32], last[32], dob[11], sub[16];
	int	 got;
	struct payer_result res;
	long long done_ms;
};

struct run {
	struct row *rows;
	int	 n, next, ndone, stop_after;
};

static int
next_cb(void *arg, struct payer_claim *c)
{
	struct run *r = arg;
	struct row *w;

	if (r->next >= r->n)
		return 0;
	w = &r->rows[r->next];
	c->row_number = ++r->next;
	c->claim_number = w->claim;
	c->first_name = w->first;
	c->last_name = w->last;
	c->date_of_birth = w->dob;
	c->subscriber_id = w->sub;
	return 1;
}

static int
done_cb(void *arg, const struct payer_claim *c, const struct payer_result *res)
{
	struct run *r = arg;
	struct row *w = &r->rows[c->row_number - 1];

	w->got++;
	w->res = *res;
	w->done_ms = util_mono_ms();
	r->ndone++;
	return r->stop_after > 0 && r->ndone >= r->stop_after;
}

static struct payer_endpoint ep = {
	"UHC", "CLAIM_STATUS", NULL, "/apip/auth/v2/token",
	"/oihub/claim/inquiry/v1", "87726"
};
static struct payer_credential cred = {
	"bulkclaims-dev", "bulkclaims-dev-secret", "123456789", "1234567890",
	"Demo Practice"
};

static const char *scheme = "http";	/* "https" for the TLS test */
static const char *ca_file;
static double rate_limit;	/* payer.rate_limit of the next engine */

static struct payer_engine *
engine(int conc, int attempts, long timeout_ms, const char *secret)
{
	static char url[64];
	struct payer_options o;
	struct payer_credential c = cred;
	const struct payer_endpoint *eps[PAYER_TXN__MAX] = { &ep };
	struct errbuf err;
	struct payer_engine *pe;

	snprintf(url, sizeof(url), "%s://127.0.0.1:%d", scheme, sim_port);
	ep.base_url = url;
	ep.provider_code = use_x12 ? "X12" : "UHC";
	ep.api_path = use_x12 ? "/medicalnetwork/claimstatus/v2/" :
	    "/oihub/claim/inquiry/v1";
	if (secret != NULL)
		c.client_secret = secret;
	memset(&o, 0, sizeof(o));
	o.concurrency = conc;
	o.max_attempts = attempts;
	o.timeout_ms = timeout_ms;
	o.backoff_ms = 50;
	o.ca_file = ca_file;
	o.rate_limit = rate_limit;
	pe = payer_engine_new(eps, &c, &o, &err);
	if (pe == NULL)
		printf("# payer_engine_new: %s\n", err.msg);
	return pe;
}

static void
row_set(struct row *w, const char *claim)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->claim, sizeof(w->claim), "%s", claim);
	snprintf(w->first, sizeof(w->first), "John");
	snprintf(w->last, sizeof(w->last), "Doe");
	snprintf(w->dob, sizeof(w->dob), "1980-01-15");
	snprintf(w->sub, sizeof(w->sub), "ABC123456");
}

/* The string member key of obj, or NULL. */
static const char *
jstr(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Compares one field with --explain's; prints the difference. */
static int
same_field(const struct row *w, struct json_object *x, const char *key,
    const char *val, int prefix)
{
	const char *s = jstr(x, key);

	if (s != NULL && (prefix ? strncmp(val, s, strlen(s)) :
	    strcmp(val, s)) == 0)
		return 1;
	printf("# %s: %s is \"%s\", --explain says \"%s\"\n", w->claim, key,
	    val, s ? s : "(none)");
	return 0;
}

/*
 * 1 if res has exactly the output columns --explain names, and for a
 * found claim the extended fields too (X12 codes, payment, amounts).
 */
static int
same_as_explain(const struct row *w)
{
	const struct payer_result *r = &w->res;
	struct json_object *x, *v;
	const char *st;
	int same = 1, prefix = 0, found = 0;

	if ((x = explain(w->claim, w->first, w->last)) == NULL)
		return 0;
	if (json_object_object_get_ex(x, "error_message_is_prefix", &v))
		prefix = json_object_get_boolean(v);
	if (json_object_object_get_ex(x, "found", &v))
		found = json_object_get_boolean(v);
	same &= same_field(w, x, "status", r->status, 0);
	same &= same_field(w, x, "patient_name", r->patient_name, 0);
	same &= same_field(w, x, "total_charged", r->total_charged, 0);
	same &= same_field(w, x, "total_paid", r->total_paid, 0);
	same &= same_field(w, x, "processed_date", r->processed_date, 0);
	same &= same_field(w, x, "error_message", r->error_message, prefix);
	if (!json_object_object_get_ex(x, "success", &v) ||
	    json_object_get_boolean(v) != (r->success != 0)) {
		printf("# %s: success differs\n", w->claim);
		same = 0;
	}
	st = jstr(x, "status");
	if (found && st != NULL && strcmp(st, "Error") != 0) {
		same &= same_field(w, x, "x12_category",
		    r->status_category_code, 0);
		same &= same_field(w, x, "x12_status_code", r->status_code, 0);
		same &= same_field(w, x, "x12_status_desc",
		    r->status_description, 0);
		same &= same_field(w, x, "check_number", r->check_number, 0);
		same &= same_field(w, x, "check_date", r->check_date, 0);
		/* the 277 carries no allowed amount or patient share */
		if (!use_x12) {
			same &= same_field(w, x, "total_allowed",
			    r->total_allowed, 0);
			same &= same_field(w, x, "patient_responsibility",
			    r->patient_responsibility, 0);
		}
	}
	json_object_put(x);
	return same;
}

static int
run_rows(struct payer_engine *pe, struct run *r, struct errbuf *err)
{
	return payer_engine_run(pe, next_cb, done_cb, r, NULL, err);
}

static void
test_bulk(void)
{
	const char *args[] = { "--latency-ms", "20", NULL };
	struct row rows[NCLAIMS];
	struct run r = { rows, NCLAIMS, 0, 0, 0 };
	struct payer_engine *pe;
	struct json_object *st;
	struct errbuf err;
	char claim[32];
	int i, all_once = 1, all_same = 1;
	long long t0;

	ok(sim_start(args) == 0, "simulator up on port %d", sim_port);
	for (i = 0; i < NCLAIMS; i++) {
		snprintf(claim, sizeof(claim), "ZE%08d", 59426195 + i * 7);
		row_set(&rows[i], claim);
	}
	pe = engine(32, 3, 5000, NULL);
	t0 = util_mono_ms();
	ok(pe != NULL && run_rows(pe, &r, &err) == 0, "200 claims run");
	printf("# 200 claims at 20 ms, concurrency 32: %lld ms\n",
	    util_mono_ms() - t0);
	ok(r.ndone == NCLAIMS, "every claim done (%d)", r.ndone);
	for (i = 0; i < NCLAIMS; i++) {
		if (rows[i].got != 1)
			all_once = 0;
		if (!same_as_explain(&rows[i]))
			all_same = 0;
	}
	ok(all_once, "done() once per claim");
	ok(all_same, "every row equals --explain");
	ok(payer_engine_token_fetches(pe) == 1, "one token for the run");
	st = simproc_stats(sim_port);
	ok(st != NULL, "/__stats");
	ok(stat_long(st, "max_in_flight") > 1 &&
	    stat_long(st, "max_in_flight") <= 32,
	    "max in flight %ld, within concurrency 32",
	    stat_long(st, "max_in_flight"));
	ok(stat_long(st, "tokens_issued") == 1, "simulator issued one token");
	json_object_put(st);

	/* a second run on the same engine reuses token and connections */
	r.next = r.ndone = 0;
	for (i = 0; i < NCLAIMS; i++)
		rows[i].got = 0;
	ok(run_rows(pe, &r, &err) == 0 && r.ndone == NCLAIMS,
	    "second run on the same engine");
	ok(payer_engine_token_fetches(pe) == 1, "token reused across runs");

	/* concurrency 4 is respected too */
	payer_engine_free(pe);
	pe = engine(4, 3, 5000, NULL);
	r.next = r.ndone = 0;
	r.n = 40;
	ok(pe != NULL && run_rows(pe, &r, &err) == 0 && r.ndone == 40,
	    "40 claims at concurrency 4");
	payer_engine_free(pe);
	sim_stop();
}

static void
test_forced(void)
{
	const char *args[] = { "--latency-ms", "5", "--slow-ms", "3000", NULL };
	static const char *claims[] = {
		"ERR5032A0001",		/* 503 twice, then the answer */
		"RLX0000001",		/* 429 Retry-After: 1, then answered */
		"SLOWX000001",		/* slower than the client timeout */
		"BADJSON00001",		/* 200 with a cut-off body */
		"MISMATCH0001",		/* member last name and DOB differ */
		"NOTFOUND0001",
		"DENY00000001",
		"E401X0000001",		/* 401 with the first token */
	};
	enum { N = sizeof(claims) / sizeof(claims[0]) };
	struct row rows[N];
	struct run r = { rows, N, 0, 0, 0 };
	struct payer_engine *pe;
	struct errbuf err;
	long long t0;
	int i;

	ok(sim_start(args) == 0, "simulator up (forced)");
	for (i = 0; i < N; i++)
		row_set(&rows[i], claims[i]);
	pe = engine(8, 3, 400, NULL);
	t0 = util_mono_ms();
	ok(pe != NULL && run_rows(pe, &r, &err) == 0 && r.ndone == N,
	    "forced claims run");

	ok(rows[0].res.success == 1 && rows[0].res.attempts == 3 &&
	    !strcmp(rows[0].res.lookup_result, "FOUND"),
	    "503 twice then success: attempts %d", rows[0].res.attempts);
	ok(same_as_explain(&rows[0]), "503 row equals --explain");

	ok(rows[1].res.success == 1 && rows[1].res.attempts == 2,
	    "429 then success: attempts %d", rows[1].res.attempts);
	ok(rows[1].done_ms - t0 >= 1000, "Retry-After: 1 waited (%lld ms)",
	    rows[1].done_ms - t0);

	ok(same_as_explain(&rows[2]) && rows[2].res.attempts == 3 &&
	    !strcmp(rows[2].res.error_message,
	    "payer timeout after 3 attempts") &&
	    !strcmp(rows[2].res.lookup_result, "PAYER_ERROR") &&
	    !strcmp(rows[2].res.status, "Error"),
	    "timeout: \"%s\" after %d attempts", rows[2].res.error_message,
	    rows[2].res.attempts);

	ok(rows[3].res.success == 0 && !strcmp(rows[3].res.error_message,
	    "payer returned malformed JSON") &&
	    rows[3].res.attempts == 1 && same_as_explain(&rows[3]),
	    "malformed JSON: \"%s\", not retried", rows[3].res.error_message);

	ok(rows[4].res.member_match == 0 && rows[4].res.success == 0,
	    "member mismatch recorded");
	ok(same_as_explain(&rows[4]), "mismatch row equals --explain (%s)",
	    rows[4].res.error_message);
	ok(same_as_explain(&rows[5]) && !strcmp(rows[5].res.lookup_result,
	    "NOT_FOUND"), "not found equals --explain");
	ok(same_as_explain(&rows[6]) && !strcmp(rows[6].res.status, "Denied"),
	    "denied equals --explain");

	ok(same_as_explain(&rows[7]) && rows[7].res.attempts == 2 &&
	    !strcmp(rows[7].res.lookup_result, "FOUND"),
	    "401 mid-run: row answered after a refresh (attempts %d)",
	    rows[7].res.attempts);
	ok(payer_engine_token_fetches(pe) == 2,
	    "token fetched once more after the 401 (%lu)",
	    payer_engine_token_fetches(pe));
	payer_engine_free(pe);

	/* the 5xx budget runs out: clear message naming the status */
	r.n = 1;
	r.next = r.ndone = 0;
	row_set(&rows[0], "ERR5035B0001");
	pe = engine(2, 3, 2000, NULL);
	ok(pe != NULL && run_rows(pe, &r, &err) == 0 && r.ndone == 1 &&
	    !strcmp(rows[0].res.error_message,
	    "payer error 503 after 3 attempts") &&
	    rows[0].res.attempts == 3,
	    "5xx exhausted: \"%s\"", rows[0].res.error_message);
	payer_engine_free(pe);

	/* wrong client secret stops the whole job */
	r.next = r.ndone = 0;
	row_set(&rows[0], "ZE00000001");
	pe = engine(2, 3, 2000, "wrong-secret");
	err.msg[0] = '\0';
	ok(pe != NULL && run_rows(pe, &r, &err) == -1 && r.ndone == 0,
	    "rejected credentials stop the run");
	ok(!strcmp(err.msg, "payer rejected the client credentials (401)"),
	    "error: %s", err.msg);
	ok(strstr(err.msg, "wrong-secret") == NULL, "secret not in the error");
	payer_engine_free(pe);
	sim_stop();
}

static void
test_stop(void)
{
	const char *args[] = { "--latency-ms", "50", NULL };
	struct row rows[64];
	struct run r = { rows, 64, 0, 0, 10 };
	struct payer_engine *pe;
	struct errbuf err;
	volatile int stop = 0;
	int i;

	ok(sim_start(args) == 0, "simulator up (stop)");
	for (i = 0; i < 64; i++) {
		char c[32];

		snprintf(c, sizeof(c), "ZS%08d", i);
		row_set(&rows[i], c);
	}
	pe = engine(8, 3, 5000, NULL);
	ok(pe != NULL && run_rows(pe, &r, &err) == 0 && r.ndone == 10,
	    "done() returning 1 stops the run after 10 (%d)", r.ndone);
	r.next = r.ndone = 0;
	r.stop_after = 0;
	stop = 1;
	ok(payer_engine_run(pe, next_cb, done_cb, &r, &stop, &err) == 0 &&
	    r.ndone == 0, "*stop set: returns at once");
	payer_engine_free(pe);
	sim_stop();
}

/* The 276/277 route: every outcome mapped as --explain says. */
static void
test_x12(void)
{
	const char *args[] = { "--latency-ms", "5", NULL };
	static const char *forced[] = {
		"BUSY2X0001",		/* 277 E1 twice, then the answer */
		"BADREQX0001",		/* 277 E0: not retried */
		"MISMATCHX01", "NOTFOUNDX01", "DENYX000001", "ERR5021X001",
	};
	enum { NF = sizeof(forced) / sizeof(forced[0]), N = 100 + NF };
	struct row rows[N];
	struct run r = { rows, N, 0, 0, 0 };
	struct payer_engine *pe;
	struct errbuf err;
	char claim[32];
	int i, all_same = 1;

	use_x12 = 1;
	ok(sim_start(args) == 0, "simulator up (X12)");
	for (i = 0; i < 100; i++) {
		snprintf(claim, sizeof(claim), "XC%08d", 1000 + i * 13);
		row_set(&rows[i], claim);
	}
	for (i = 0; i < NF; i++)
		row_set(&rows[100 + i], forced[i]);
	pe = engine(16, 3, 5000, NULL);
	ok(pe != NULL && run_rows(pe, &r, &err) == 0 && r.ndone == N,
	    "X12: %d claims run", N);
	for (i = 0; i < N; i++)
		if (!same_as_explain(&rows[i]))
			all_same = 0;
	ok(all_same, "X12: every row equals --explain");
	ok(rows[100].res.success == 1 && rows[100].res.attempts == 3,
	    "X12: E1 twice then answered (attempts %d)",
	    rows[100].res.attempts);
	ok(rows[101].res.success == 0 && rows[101].res.attempts == 1 &&
	    !strncmp(rows[101].res.error_message,
	    "payer rejected the request", 26),
	    "X12: E0 not retried (%s)", rows[101].res.error_message);
	ok(rows[102].res.member_match == 0, "X12: member mismatch recorded");
	payer_engine_free(pe);
	sim_stop();
	use_x12 = 0;
}

/* payer.rate_limit without Redis: one worker's own token bucket. */
static void
test_rate_local(void)
{
	const char *args[] = { "--latency-ms", "5", NULL };
	struct row rows[60];
	struct run r = { rows, 60, 0, 0, 0 };
	struct payer_engine *pe;
	struct errbuf err;
	long long t0, ms;
	long rps;
	int i;

	ok(sim_start(args) == 0, "simulator up (rate)");
	for (i = 0; i < 60; i++) {
		char c[32];

		snprintf(c, sizeof(c), "ZL%08d", i);
		row_set(&rows[i], c);
	}
	rate_limit = 40;
	pe = engine(16, 3, 5000, NULL);
	rate_limit = 0;
	t0 = util_mono_ms();
	ok(pe != NULL && run_rows(pe, &r, &err) == 0 && r.ndone == 60,
	    "60 claims at 40/s");
	ms = util_mono_ms() - t0;
	ok(ms >= 1300, "took %lld ms (>= (60 - burst 4) / 40 s)", ms);
	rps = simproc_stat(sim_port, "max_offered_per_second");
	ok(rps > 0 && rps <= 45, "payer saw at most %ld requests/s", rps);
	payer_engine_free(pe);
	sim_stop();
}

/* HTTPS with a CA file: verified; without it the payer is refused. */
static void
test_tls(void)
{
	char dir[] = "/tmp/payer-tls.XXXXXX", cmd[1024], cert[128], key[128];
	const char *args[] = { "--latency-ms", "5", "--tls-cert", cert,
	    "--tls-key", key, NULL };
	struct row rows[20];
	struct run r = { rows, 20, 0, 0, 0 };
	struct payer_engine *pe;
	struct errbuf err;
	int i, all_same = 1;

	ok(mkdtemp(dir) != NULL, "temp dir for the certificate");
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 "
	    "-nodes -days 1 -subj /CN=127.0.0.1 -addext "
	    "subjectAltName=IP:127.0.0.1 -keyout %s -out %s 2>/dev/null",
	    key, cert);
	ok(system(cmd) == 0, "self-signed certificate for 127.0.0.1");
	ok(sim_start(args) == 0, "simulator up with TLS");
	scheme = "https";
	for (i = 0; i < 20; i++) {
		char c[32];

		snprintf(c, sizeof(c), "ZT%08d", i * 31);
		row_set(&rows[i], c);
	}
	ca_file = cert;
	pe = engine(8, 3, 5000, NULL);
	ok(pe != NULL && run_rows(pe, &r, &err) == 0 && r.ndone == 20,
	    "20 claims over HTTPS with payer.ca_file");
	for (i = 0; i < 20; i++)
		if (!same_as_explain(&rows[i]))
			all_same = 0;
	ok(all_same, "HTTPS rows equal --explain");
	payer_engine_free(pe);

	ca_file = NULL;
	r.next = r.ndone = 0;
	pe = engine(8, 3, 5000, NULL);
	err.msg[0] = '\0';
	ok(pe != NULL && run_rows(pe, &r, &err) == -1 && r.ndone == 0 &&
	    strstr(err.msg, "payer token endpoint") != NULL &&
	    strstr(err.msg, "after") == NULL,
	    "unknown certificate: job stops at once (%s)", err.msg);
	payer_engine_free(pe);
	scheme = "http";
	sim_stop();
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

/*
 * A payer that misbehaves in ways the simulator does not: a blocking
 * loop in a thread, one connection at a time, "Connection: close".
 */
enum rogue_mode { ROGUE_OVERSIZE, ROGUE_ALWAYS_401 };

struct rogue {
	int		 lfd, port;
	enum rogue_mode	 mode;
	volatile int	 quit;
	int		 tokens;
	pthread_t	 th;
};

static void
rogue_answer(int fd, const char *status, const char *body, size_t len)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: close"
	    "\r\n\r\n", status, len);
	if (write(fd, head, (size_t)n) != n)
		return;
	while (len > 0) {
		ssize_t w = write(fd, body, len);

		if (w <= 0)
			return;
		body += w;
		len -= (size_t)w;
	}
}

static void *
rogue_main(void *arg)
{
	struct rogue *rg = arg;
	struct pollfd pfd;
	char req[8192], tok[128], *big;
	size_t have, blen = 300 * 1024;
	ssize_t n;
	int fd;

	if ((big = malloc(blen)) == NULL)
		return NULL;
	memset(big, 'a', blen);
	big[0] = '"';
	big[blen - 1] = '"';
	while (!rg->quit) {
		pfd.fd = rg->lfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if ((fd = accept(rg->lfd, NULL, NULL)) == -1)
			continue;
		/* the request: headers and a small body, read until idle */
		have = 0;
		pfd.fd = fd;
		while (have < sizeof(req) - 1 && poll(&pfd, 1, 100) > 0 &&
		    (n = read(fd, req + have, sizeof(req) - 1 - have)) > 0)
			have += (size_t)n;
		req[have] = '\0';
		if (strncmp(req, "POST /apip/auth/v2/token", 24) == 0) {
			snprintf(tok, sizeof(tok), "{\"access_token\":\"rogue%d"
			    "\",\"expires_in\":3600}", ++rg->tokens);
			rogue_answer(fd, "200 OK", tok, strlen(tok));
		} else if (rg->mode == ROGUE_OVERSIZE)
			rogue_answer(fd, "200 OK", big, blen);
		else
			rogue_answer(fd, "401 Unauthorized",
			    "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}", 36);
		close(fd);
	}
	free(big);
	return NULL;
}

static int
rogue_start(struct rogue *rg, enum rogue_mode mode)
{
	struct sockaddr_in sa;
	int p, one = 1;

	memset(rg, 0, sizeof(*rg));
	rg->mode = mode;
	for (p = SIMPROC_PORT_MAX; p >= SIMPROC_PORT_MIN; p--) {
		if ((rg->lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			return -1;
		setsockopt(rg->lfd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		simproc_addr(&sa, p);
		if (bind(rg->lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    listen(rg->lfd, 16) == 0)
			break;
		close(rg->lfd);
	}
	if (p < SIMPROC_PORT_MIN)
		return -1;
	rg->port = p;
	return pthread_create(&rg->th, NULL, rogue_main, rg) == 0 ? 0 : -1;
}

static void
rogue_stop(struct rogue *rg)
{
	rg->quit = 1;
	pthread_join(rg->th, NULL);
	close(rg->lfd);
}

static void
test_rogue(void)
{
	struct rogue rg;
	struct row rows[5];
	struct run r = { rows, 1, 0, 0, 0 };
	struct payer_engine *pe;
	struct errbuf err;
	int i;

	ok(rogue_start(&rg, ROGUE_OVERSIZE) == 0, "rogue payer up");
	sim_port = rg.port;
	row_set(&rows[0], "ZE00000001");
	pe = engine(1, 3, 5000, NULL);
	ok(pe != NULL && run_rows(pe, &r, &err) == 0 && r.ndone == 1,
	    "oversized answer: run goes on");
	ok(rows[0].res.success == 0 && rows[0].res.attempts == 1 &&
	    !strcmp(rows[0].res.error_message,
	    "payer response larger than 262144 bytes"),
	    "oversized answer: row failed, not retried (%s)",
	    rows[0].res.error_message);
	payer_engine_free(pe);
	rogue_stop(&rg);

	ok(rogue_start(&rg, ROGUE_ALWAYS_401) == 0, "rogue payer up (401)");
	sim_port = rg.port;
	for (i = 0; i < 5; i++) {
		char c[16];

		snprintf(c, sizeof(c), "ZE0000000%d", i);
		row_set(&rows[i], c);
	}
	r.n = 5;
	r.next = r.ndone = 0;
	err.msg[0] = '\0';
	pe = engine(1, 3, 5000, NULL);
	ok(pe != NULL && run_rows(pe, &r, &err) == -1,
	    "every fresh token refused: the job stops");
	ok(!strcmp(err.msg, "payer refused 4 fresh access tokens in a row "
	    "(401)") && payer_engine_token_fetches(pe) == 4,
	    "%s; %lu tokens fetched", err.msg, payer_engine_token_fetches(pe));
	payer_engine_free(pe);
	rogue_stop(&rg);
}

/* ---- claim status, details and payment in one run ---- */

#define NMIX	80

/* The claim transactions (the member search is the triage's). */
#define NCLAIMTXN	PAYER_TXN_MEMBER

struct mixrow {
	char	 claim[32];
	int	 got[NCLAIMTXN];
	/* copies without the details/payments pointers (freed after done) */
	struct payer_result res[NCLAIMTXN];
	int	 details, payments;	/* the result carried them */
	int	 voided;		/* a voided payment among them */
	int	 nlines;
	long	 lines_paid, claim_paid;	/* cents */
	char	 carc[64];		/* distinct non-PR reasons, in order */
};

struct mix {
	struct mixrow *rows;
	int	 next, ndone;
};

/* "1200.50" -> 120050; "" -> 0. */
static long
cents(const char *a)
{
	long whole = 0, frac = 0;
	int neg = 0;

	if (*a == '-') {
		neg = 1;
		a++;
	}
	while (*a >= '0' && *a <= '9')
		whole = whole * 10 + (*a++ - '0');
	if (*a == '.' && a[1] >= '0' && a[1] <= '9' && a[2] >= '0' &&
	    a[2] <= '9')
		frac = (a[1] - '0') * 10 + (a[2] - '0');
	return (neg ? -1 : 1) * (whole * 100 + frac);
}

static int
mix_next(void *arg, struct payer_claim *c)
{
	struct mix *m = arg;
	struct mixrow *w;

	if (m->next >= NMIX * NCLAIMTXN)
		return 0;
	w = &m->rows[m->next / NCLAIMTXN];
	c->txn = (enum payer_txn)(m->next % NCLAIMTXN);
	c->row_number = ++m->next;
	c->claim_number = w->claim;
	c->first_name = "John";
	c->last_name = "Doe";
	c->date_of_birth = "1980-01-15";
	c->subscriber_id = "ABC123456";
	return 1;
}

static void
carc_add(char *list, size_t sz, const char *code)
{
	size_t n = strlen(code), len = strlen(list);
	const char *p;

	for (p = list; *p != '\0'; p += strcspn(p, ";"), p += *p == ';')
		if (strncmp(p, code, n) == 0 && (p[n] == ';' || p[n] == '\0'))
			return;
	snprintf(list + len, sz - len, "%s%s", len ? ";" : "", code);
}

static int
mix_done(void *arg, const struct payer_claim *c, const struct payer_result *res)
{
	struct mix *m = arg;
	struct mixrow *w = &m->rows[(c->row_number - 1) / NCLAIMTXN];
	int i, j;

	w->got[c->txn]++;
	w->res[c->txn] = *res;
	w->res[c->txn].details = NULL;
	w->res[c->txn].payments = NULL;
	if (res->txn != c->txn)
		w->got[c->txn] += 100;	/* shows as "not once" */
	if (res->details != NULL) {
		w->details = 1;
		w->nlines = res->details->nlines;
		for (i = 0; i < res->details->nlines; i++) {
			const struct payer_line *l = &res->details->lines[i];

			w->lines_paid += cents(l->paid);
			for (j = 0; j < l->nadj; j++)
				if (strcmp(l->adj[j].group, "PR") != 0)
					carc_add(w->carc, sizeof(w->carc),
					    l->adj[j].reason);
		}
	}
	if (res->payments != NULL) {
		w->payments = 1;
		for (i = 0; i < res->payments->npayments; i++)
			if (strcmp(res->payments->payments[i].status,
			    "Voided") == 0)
				w->voided = 1;
			else
				w->claim_paid += cents(res->payments->
				    payments[i].claim_paid_amount);
	}
	m->ndone++;
	return 0;
}

/* One claim's three answers agree with each other and with --explain. */
static int
mix_consistent(const struct mixrow *w)
{
	const struct payer_result *st = &w->res[PAYER_TXN_STATUS];
	const struct payer_result *d = &w->res[PAYER_TXN_DETAILS];
	const struct payer_result *p = &w->res[PAYER_TXN_PAYMENT];
	struct json_object *x, *v;
	const char *xs;
	int same = 1;

	/* the claim's outcome is an error: nothing to compare */
	if (strcmp(st->lookup_result, "PAYER_ERROR") == 0)
		return 1;
	if (strcmp(st->lookup_result, d->lookup_result) != 0 ||
	    strcmp(st->lookup_result, p->lookup_result) != 0) {
		printf("# %s: lookup %s / %s / %s\n", w->claim,
		    st->lookup_result, d->lookup_result, p->lookup_result);
		return 0;
	}
	if (strcmp(st->lookup_result, "FOUND") != 0)
		return !w->details && !w->payments &&
		    !strcmp(d->status, "Not Found") &&
		    !strcmp(p->status, "Not Found");
	if (!w->details || !w->payments ||
	    strcmp(st->status, d->status) != 0 ||
	    cents(st->total_paid) != cents(d->total_paid) ||
	    cents(st->total_charged) != cents(d->total_charged) ||
	    cents(d->total_paid) != w->lines_paid ||
	    cents(st->total_paid) != w->claim_paid) {
		printf("# %s: status %s/%s paid %s/%s lines %ld payments %ld\n",
		    w->claim, st->status, d->status, st->total_paid,
		    d->total_paid, w->lines_paid, w->claim_paid);
		return 0;
	}
	if ((x = explain(w->claim, "John", "Doe")) == NULL)
		return 0;
	if (json_object_object_get_ex(x, "line_count", &v) &&
	    json_object_get_int(v) != w->nlines) {
		printf("# %s: %d lines, --explain %d\n", w->claim, w->nlines,
		    json_object_get_int(v));
		same = 0;
	}
	if ((xs = jstr(x, "carc_codes")) != NULL && strcmp(xs, w->carc) != 0) {
		printf("# %s: CARC %s, --explain %s\n", w->claim, w->carc, xs);
		same = 0;
	}
	json_object_put(x);
	return same;
}

static void
test_mixed(void)
{
	const char *args[] = { "--latency-ms", "5", NULL };
	static struct mixrow rows[NMIX];
	struct mix m = { rows, 0, 0 };
	struct payer_endpoint e[PAYER_TXN__MAX];
	const struct payer_endpoint *eps[PAYER_TXN__MAX] = { NULL };
	struct payer_options o;
	struct payer_engine *pe;
	struct payer_stats st;
	struct errbuf err;
	char url[64];
	int i, t, once = 1, routes = 1, same = 1, nf = 0, denied = 0;
	int voided = 0;

	ok(sim_start(args) == 0, "simulator up for the mixed run");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", sim_port);
	for (t = 0; t < NCLAIMTXN; t++) {
		e[t] = ep;
		e[t].provider_code = "UHC";
		e[t].base_url = url;
		e[t].transaction_code = payer_txn_code((enum payer_txn)t);
		eps[t] = &e[t];
	}
	e[PAYER_TXN_DETAILS].api_path = "/oihub/claim/detail/v1";
	e[PAYER_TXN_PAYMENT].api_path = "/oihub/claim/payment/v1";
	memset(&o, 0, sizeof(o));
	o.concurrency = 8;
	o.timeout_ms = 5000;
	o.backoff_ms = 50;

	/* endpoints that cannot share an engine */
	e[PAYER_TXN_PAYMENT].base_url = "http://127.0.0.2:1";
	ok(payer_engine_new(eps, &cred, &o, &err) == NULL &&
	    strstr(err.msg, "disagree") != NULL,
	    "endpoints on two hosts refused (%s)", err.msg);
	e[PAYER_TXN_PAYMENT].base_url = url;
	eps[PAYER_TXN_STATUS] = &e[PAYER_TXN_DETAILS];
	ok(payer_engine_new(eps, &cred, &o, &err) == NULL &&
	    strstr(err.msg, "no payer adapter") != NULL,
	    "an endpoint at another transaction's index refused (%s)",
	    err.msg);
	eps[PAYER_TXN_STATUS] = NULL;
	eps[PAYER_TXN_DETAILS] = eps[PAYER_TXN_PAYMENT] = NULL;
	ok(payer_engine_new(eps, &cred, &o, &err) == NULL,
	    "no endpoint at all refused");

	/* a claim whose transaction has no endpoint fails as a row */
	eps[PAYER_TXN_STATUS] = &e[PAYER_TXN_STATUS];
	for (i = 0; i < NMIX; i++) {
		memset(&rows[i], 0, sizeof(rows[i]));
		snprintf(rows[i].claim, sizeof(rows[i].claim), "ZE%08d",
		    61000000 + i * 13);
	}
	pe = payer_engine_new(eps, &cred, &o, &err);
	ok(pe != NULL && payer_engine_run(pe, mix_next, mix_done, &m, NULL,
	    &err) == 0 && m.ndone == NMIX * NCLAIMTXN,
	    "status-only engine: every request done");
	ok(strcmp(rows[0].res[PAYER_TXN_PAYMENT].error_message,
	    "no payer endpoint for CLAIM_PAYMENT") == 0 &&
	    rows[0].res[PAYER_TXN_PAYMENT].attempts == 0 &&
	    !strcmp(rows[0].res[PAYER_TXN_DETAILS].lookup_result,
	    "PAYER_ERROR"), "no endpoint: the row fails, nothing sent (%s)",
	    rows[0].res[PAYER_TXN_PAYMENT].error_message);
	payer_engine_stats(pe, &st);
	ok(st.requests == NMIX && st.requests_txn[PAYER_TXN_STATUS] == NMIX &&
	    st.requests_txn[PAYER_TXN_DETAILS] == 0, "only claim status sent");
	payer_engine_free(pe);

	/* all three transactions in one run */
	for (t = 0; t < NCLAIMTXN; t++)
		eps[t] = &e[t];
	for (i = 0; i < NMIX; i++) {
		memset(&rows[i], 0, sizeof(rows[i]));
		snprintf(rows[i].claim, sizeof(rows[i].claim), "ZE%08d",
		    61000000 + i * 13);
	}
	m.next = m.ndone = 0;
	pe = payer_engine_new(eps, &cred, &o, &err);
	ok(pe != NULL && payer_engine_run(pe, mix_next, mix_done, &m, NULL,
	    &err) == 0 && m.ndone == NMIX * NCLAIMTXN,
	    "mixed run: %d requests done", m.ndone);
	for (i = 0; i < NMIX; i++)
		for (t = 0; t < NCLAIMTXN; t++) {
			if (rows[i].got[t] != 1)
				once = 0;
			/* a simulator without these routes: 404, no code */
			if (t != PAYER_TXN_STATUS &&
			    rows[i].res[t].http_status == 404 &&
			    !strcmp(rows[i].res[t].lookup_result,
			    "PAYER_ERROR"))
				routes = 0;
		}
	ok(once, "done() once per claim and transaction, txn echoed");
	payer_engine_stats(pe, &st);
	ok(st.requests_txn[PAYER_TXN_STATUS] >= NMIX &&
	    st.requests_txn[PAYER_TXN_DETAILS] >= NMIX &&
	    st.requests_txn[PAYER_TXN_PAYMENT] >= NMIX &&
	    st.requests == st.requests_txn[0] + st.requests_txn[1] +
	    st.requests_txn[2], "requests counted per transaction "
	    "(%lu %lu %lu of %lu)", st.requests_txn[0], st.requests_txn[1],
	    st.requests_txn[2], st.requests);
	ok(payer_engine_token_fetches(pe) == 1,
	    "one token for the three transactions");
	payer_engine_free(pe);
	if (!routes) {
		ok(1, "mixed answers agree # SKIP simulator has no details and "
		    "payment routes");
		sim_stop();
		return;
	}
	for (i = 0; i < NMIX; i++) {
		if (!mix_consistent(&rows[i]))
			same = 0;
		nf += !strcmp(rows[i].res[PAYER_TXN_DETAILS].lookup_result,
		    "NOT_FOUND");
		denied += !strcmp(rows[i].res[PAYER_TXN_DETAILS].status,
		    "Denied") && rows[i].carc[0] != '\0';
		voided += rows[i].voided;
	}
	ok(nf > 0 && denied > 0 && voided > 0, "the run had not-found (%d), "
	    "denied with CARC (%d) and voided-and-reissued (%d) claims", nf,
	    denied, voided);
	ok(same, "status, details, payments and --explain agree per claim");
	sim_stop();
}

/* Where client secrets may be sent: https://, http:// on loopback only. */
static void
test_base_url(void)
{
	static const struct {
		const char *url;
		int allow_http, ok;
	} c[] = {
		{ "https://api.payer.example", 0, 1 },
		{ "HTTPS://api.payer.example:8443/x", 0, 1 },
		{ "http://127.0.0.1:9", 0, 1 },
		{ "http://127.8.9.10/", 0, 1 },
		{ "http://localhost:8080", 0, 1 },
		{ "http://[::1]:8080/", 0, 1 },
		{ "http://api.payer.example", 0, 0 },
		{ "http://10.0.0.1:9", 0, 0 },
		{ "http://128.0.0.1", 0, 0 },
		{ "http://127.0.0.1.evil.example/", 0, 0 },
		{ "http://localhost.evil.example", 0, 0 },
		{ "http://user@127.0.0.1@evil.example/", 0, 0 },
		{ "http://[::2]/", 0, 0 },
		{ "ftp://127.0.0.1/", 0, 0 },
		{ "http://10.0.0.1:9", 1, 1 },
	};
	struct errbuf err;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		ok((payer_base_url_check(c[i].url, c[i].allow_http, &err) == 0)
		    == c[i].ok, "%s %s%s", c[i].ok ? "accepts" : "refuses",
		    c[i].url, c[i].allow_http ? " (payer.allow_http)" : "");
}

int
main(void)
{
	test_base_url();
	sim_bin = simproc_setup();
	ok(access(sim_bin, X_OK) == 0, "simulator binary %s exists", sim_bin);
	if (access(sim_bin, X_OK) != 0)
		return done_testing();
	test_bulk();
	test_forced();
	test_stop();
	test_x12();
	test_tls();
	test_rogue();
	test_rate_local();
	test_mixed();
	sim_stop();
	curl_global_cleanup();
	return done_testing();
}
