/*
 * The payer engine against the real simulator over HTTP on loopback:
 * every claim's answer equals `bulkclaims-payer-sim --explain`, retries
 * on 5xx and 429, timeouts, token refresh after a 401, malformed JSON,
 * member mismatch, and the simulator's count of requests in flight.
 *
 * The simulator binary is payer-sim/bulkclaims-payer-sim under the build
 * directory (make check runs there), or $BULKCLAIMS_SIM_BIN.  A missing
 * binary is a failure, not a skip.  Ports 20100-20199.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "payer.h"
#include "util.h"
#include "tap.h"

#define PORT_BASE	20110
#define NCLAIMS		200

static const char *sim_bin;
static int use_x12;	/* the 276/277 route instead of claim inquiry */
static pid_t sim_pid = -1;
static int sim_port;

/* Starts the simulator with extra arguments (NULL-terminated list). */
static int
sim_start(int port, const char *const *extra)
{
	const char *argv[32];
	char portbuf[16];
	struct sockaddr_in sa;
	int i = 0, j, fd;
	long long until;

	snprintf(portbuf, sizeof(portbuf), "%d", port);
	argv[i++] = sim_bin;
	argv[i++] = "--listen";
	argv[i++] = "127.0.0.1";
	argv[i++] = "--port";
	argv[i++] = portbuf;
	for (j = 0; extra != NULL && extra[j] != NULL && i < 30; j++)
		argv[i++] = extra[j];
	argv[i] = NULL;
	if ((sim_pid = fork()) == -1)
		return -1;
	if (sim_pid == 0) {
		/* quiet: the simulator logs to stderr */
		/* never outlive this program, even if it crashes */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		execv(sim_bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	sim_port = port;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	until = util_mono_ms() + 5000;
	while (util_mono_ms() < until) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			return 0;
		}
		close(fd);
		if (waitpid(sim_pid, NULL, WNOHANG) == sim_pid) {
			sim_pid = -1;
			return -1;
		}
		usleep(20000);
	}
	return -1;
}

static void
sim_stop(void)
{
	if (sim_pid > 0) {
		kill(sim_pid, SIGTERM);
		waitpid(sim_pid, NULL, 0);
	}
	sim_pid = -1;
}

static size_t
collect(char *p, size_t sz, size_t n, void *arg)
{
	char **buf = arg;
	size_t have = *buf ? strlen(*buf) : 0;
	char *nb;

	if ((nb = realloc(*buf, have + sz * n + 1)) == NULL)
		return 0;
	memcpy(nb + have, p, sz * n);
	nb[have + sz * n] = '\0';
	*buf = nb;
	return sz * n;
}

/* GET /__stats as JSON (new reference) or NULL. */
static struct json_object *
sim_stats(void)
{
	CURL *e = curl_easy_init();
	char url[64], *body = NULL;
	struct json_object *o = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/__stats", sim_port);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
	if (curl_easy_perform(e) == CURLE_OK && body != NULL)
		o = json_tokener_parse(body);
	curl_easy_cleanup(e);
	free(body);
	return o;
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
	char cmd[512], buf[4096];
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

static struct payer_engine *
engine(int conc, int attempts, long timeout_ms, const char *secret)
{
	static char url[64];
	struct payer_options o;
	struct payer_credential c = cred;
	struct errbuf err;
	struct payer_engine *pe;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", sim_port);
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
	pe = payer_engine_new(&ep, &c, &o, &err);
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

/* 1 if res has exactly the output columns --explain names. */
static int
same_as_explain(const struct row *w)
{
	struct json_object *x, *v;
	const char *keys[] = { "status", "patient_name", "total_charged",
	    "total_paid", "processed_date", "error_message" };
	const char *vals[] = { w->res.status, w->res.patient_name,
	    w->res.total_charged, w->res.total_paid, w->res.processed_date,
	    w->res.error_message };
	size_t i;
	int same = 1;

	if ((x = explain(w->claim, w->first, w->last)) == NULL)
		return 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *s = payer_json_str(x, keys[i]);
		const char *st = payer_json_str(x, "status");

		/* README-outcomes.md: Error rows' messages compare by prefix */
		if (s != NULL && st != NULL && !strcmp(st, "Error") &&
		    !strcmp(keys[i], "error_message") && s[0] != '\0' &&
		    !strncmp(vals[i], s, strlen(s)))
			continue;
		if (s == NULL || strcmp(s, vals[i]) != 0) {
			printf("# %s: %s is \"%s\", --explain says \"%s\"\n",
			    w->claim, keys[i], vals[i], s ? s : "(none)");
			same = 0;
		}
	}
	if (!json_object_object_get_ex(x, "success", &v) ||
	    json_object_get_boolean(v) != (w->res.success != 0)) {
		printf("# %s: success differs\n", w->claim);
		same = 0;
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

	ok(sim_start(PORT_BASE, args) == 0, "simulator up on port %d",
	    PORT_BASE);
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
	st = sim_stats();
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
		"RLX0000001",		/* 429 Retry-After: 1, then the answer */
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

	ok(sim_start(PORT_BASE + 1, args) == 0, "simulator up (forced)");
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
	    "invalid payer response: malformed JSON") &&
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

	ok(sim_start(PORT_BASE + 2, args) == 0, "simulator up (stop)");
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
	ok(sim_start(PORT_BASE + 3, args) == 0, "simulator up (X12)");
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

int
main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	signal(SIGPIPE, SIG_IGN);
	sim_bin = getenv("BULKCLAIMS_SIM_BIN");
	if (sim_bin == NULL)
		sim_bin = "payer-sim/bulkclaims-payer-sim";
	ok(access(sim_bin, X_OK) == 0, "simulator binary %s exists", sim_bin);
	if (access(sim_bin, X_OK) != 0)
		return done_testing();
	test_bulk();
	test_forced();
	test_stop();
	test_x12();
	sim_stop();
	curl_global_cleanup();
	return done_testing();
}
