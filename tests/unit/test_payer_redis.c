/*
 * Payer state shared through Redis: the primitives against a real
 * redis-server (unix socket in a temp dir), then two worker processes
 * against the real simulator sharing one token and one rate limit, and
 * the fall-back when Redis is gone.  Ports 20100-20199 (simproc.h).
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <hiredis.h>
#include <json-c/json.h>

#include "payer.h"
#include "payer_redis.h"
#include "util.h"
#include "simproc.h"
#include "tap.h"

static char tmpdir[] = "/tmp/payer-redis.XXXXXX";
static char sock[128];
static pid_t redis_pid = -1, sim_pid = -1;
static int sim_port;
static const char *sim_bin;
static int max_in_flight;	/* payer.max_in_flight of the next workers */
/* the workers' secret key (secrets.key_file's) */
static const unsigned char wkey[SECRETS_KEY_LEN] =
    "0123456789abcdef0123456789abcde";

static pid_t
spawn(const char *const *argv)
{
	pid_t pid;

	fflush(stdout);	/* or the child prints our buffered lines again */
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (freopen("/dev/null", "w", stdout) == NULL ||
		    freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	return pid;
}

static void
stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

static int
redis_start(void)
{
	const char *argv[] = { "redis-server", "--port", "0", "--unixsocket",
	    sock, "--unixsocketperm", "700", "--save", "", "--appendonly",
	    "no", "--dir", tmpdir, NULL };
	redisContext *c;
	int i;

	redis_pid = spawn(argv);
	for (i = 0; i < 250; i++) {
		if ((c = redisConnectUnix(sock)) != NULL && c->err == 0) {
			redisFree(c);
			return 0;
		}
		if (c != NULL)
			redisFree(c);
		usleep(20000);
	}
	return -1;
}

static redisContext *
redis_conn(void)
{
	redisContext *c = redisConnectUnix(sock);
	struct timeval tv = { 2, 0 };

	if (c == NULL || c->err) {
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	return c;
}

static int
sim_start(const char *rate)
{
	const char *extra[] = { "--latency-ms", "10", rate ? "--rate-limit" :
	    NULL, rate, NULL };

	sim_pid = simproc_start(sim_bin, extra, &sim_port);
	return sim_pid > 0 ? 0 : -1;
}

static long
sim_stat(const char *key)
{
	return simproc_stat(sim_port, key);
}

static void
test_primitives(void)
{
	redisContext *c = redis_conn();
	struct errbuf err;
	char tok[64], raw[PAYER_REDIS_SEALED_MAX], raw2[PAYER_REDIS_SEALED_MAX];
	unsigned char other[SECRETS_KEY_LEN] = "another key, 32 bytes long....";
	long long ttl = 0;
	long wait = 0;
	redisReply *r;
	int got, i;

	ok(c != NULL, "redis connection");
	if (c == NULL)
		return;
	ok(payer_redis_token_get(c, "t:k", wkey, tok, sizeof(tok), raw,
	    sizeof(raw), &ttl, &err) == 0, "no token yet");
	ok(payer_redis_token_put(c, "t:k", wkey, "tok-abc", 5000, &err) == 0,
	    "token stored");
	ok(payer_redis_token_get(c, "t:k", wkey, tok, sizeof(tok), raw,
	    sizeof(raw), &ttl, &err) == 1 && !strcmp(tok, "tok-abc") &&
	    ttl > 4000 && ttl <= 5000,
	    "token read with its lifetime (%lld ms)", ttl);
	/* what anyone reading Redis sees: no token */
	r = redisCommand(c, "GET t:k");
	ok(r != NULL && r->type == REDIS_REPLY_STRING &&
	    strstr(r->str, "tok-abc") == NULL && strcmp(r->str, raw) == 0 &&
	    r->len > 24 + 16, "the raw Redis value is sealed, not the token");
	if (r != NULL)
		freeReplyObject(r);
	ok(payer_redis_token_get(c, "t:k", other, tok, sizeof(tok), raw2,
	    sizeof(raw2), &ttl, &err) == -1 && strstr(err.msg, "tok-abc") ==
	    NULL, "another key cannot open it (%s)", err.msg);
	r = redisCommand(c, "COPY t:k t:k2");
	if (r != NULL)
		freeReplyObject(r);
	ok(payer_redis_token_get(c, "t:k2", wkey, tok, sizeof(tok), raw2,
	    sizeof(raw2), &ttl, &err) == -1,
	    "a value moved under another credential's key does not open");
	r = redisCommand(c, "SET t:k3 tok-abc PX 5000");
	if (r != NULL)
		freeReplyObject(r);
	ok(payer_redis_token_get(c, "t:k3", wkey, tok, sizeof(tok), raw2,
	    sizeof(raw2), &ttl, &err) == -1,
	    "a clear value planted in Redis is refused");
	ok(payer_redis_token_drop(c, "t:k", "other", &err) == 0 &&
	    payer_redis_token_get(c, "t:k", wkey, tok, sizeof(tok), raw2,
	    sizeof(raw2), &ttl, &err) == 1,
	    "drop of another token keeps it");
	ok(payer_redis_token_drop(c, "t:k", raw, &err) == 1 &&
	    payer_redis_token_get(c, "t:k", wkey, tok, sizeof(tok), raw2,
	    sizeof(raw2), &ttl, &err) == 0,
	    "drop of the refused token removes it");
	ok(payer_redis_lock(c, "t:l", "id1", 5000, &err) == 1, "lock taken");
	ok(payer_redis_lock(c, "t:l", "id2", 5000, &err) == 0,
	    "lock held: second taker refused");
	payer_redis_unlock(c, "t:l", "id2");
	ok(payer_redis_lock(c, "t:l", "id2", 5000, &err) == 0,
	    "unlock with the wrong id does nothing");
	payer_redis_unlock(c, "t:l", "id1");
	ok(payer_redis_lock(c, "t:l", "id2", 5000, &err) == 1,
	    "unlocked by its holder");

	/* bucket: rate 20/s, burst 5 */
	got = payer_redis_rate_take(c, "t:r", 20, 5, 8, &wait, &err);
	ok(got == 5 && wait > 0 && wait <= 50,
	    "burst of 5 granted, wait %ld ms", wait);
	got = payer_redis_rate_take(c, "t:r", 20, 5, 1, &wait, &err);
	ok(got == 0 && wait > 0, "empty bucket refuses");
	usleep(120000);
	got = payer_redis_rate_take(c, "t:r", 20, 5, 8, &wait, &err);
	ok(got >= 2 && got <= 5, "refilled at the rate: %d after 120 ms", got);
	for (i = 0, got = 0; i < 20; i++) {
		int g = payer_redis_rate_take(c, "t:r", 20, 5, 1, &wait, &err);

		got += g > 0 ? g : 0;
	}
	ok(got <= 1, "no more than the rate in a tight loop (%d)", got);
	redisFree(c);
}

/* One worker: a fresh engine and Redis connection, n claims, stats out. */
struct worker_out {
	int	 done, ok, failed;
	struct payer_stats st;
	long long ms;
};

struct wrun {
	int	 n, next, base;
	const char *claim0;	/* the one claim to send, or NULL */
	char	 claims[200][24];
	struct worker_out *out;
};

/* Claim numbers: prefix + worker + row; ERR5032: two 503s, then 200. */
static const char *claim_prefix = "ZR";

static int
w_next(void *arg, struct payer_claim *c)
{
	struct wrun *w = arg;

	if (w->next >= w->n)
		return 0;
	if (w->claim0 != NULL)
		snprintf(w->claims[w->next], sizeof(w->claims[0]), "%s",
		    w->claim0);
	else
		snprintf(w->claims[w->next], sizeof(w->claims[0]),
		    "%s%04d%05d", claim_prefix, w->base, w->next);
	c->claim_number = w->claims[w->next];
	c->row_number = ++w->next;
	simproc_member(c);
	return 1;
}

static int
w_done(void *arg, const struct payer_claim *c, const struct payer_result *r)
{
	struct wrun *w = arg;

	w->out->done++;
	if (strcmp(r->lookup_result, "PAYER_ERROR") == 0)
		w->out->failed++;
	else
		w->out->ok++;
	return 0;
}

static void
worker(int base, int n, double rate, int use_redis, const char *claim0,
    struct worker_out *out)
{
	char url[64];
	struct payer_endpoint ep = { "UHC", "CLAIM_STATUS", url,
	    "/apip/auth/v2/token", "/oihub/claim/inquiry/v1", "87726" };
	const struct payer_endpoint *eps[PAYER_TXN__MAX] = { &ep };
	struct payer_credential cr = { "bulkclaims-dev",
	    "bulkclaims-dev-secret", "123456789", "1234567890", "P" };
	struct payer_options o;
	struct payer_engine *pe;
	struct errbuf err;
	struct wrun *w;
	long long t0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", sim_port);
	memset(&o, 0, sizeof(o));
	memset(out, 0, sizeof(*out));
	o.concurrency = 16;
	o.timeout_ms = 5000;
	o.rate_limit = rate;
	o.max_in_flight = max_in_flight;
	o.redis = use_redis ? redis_conn() : NULL;
	o.token_key = wkey;
	if (use_redis == 2) {
		/* a context whose server is gone */
		redisFree(o.redis);
		o.redis = redisConnectUnix(tmpdir);	/* not a socket */
	}
	w = calloc(1, sizeof(*w));
	w->n = n;
	w->base = base;
	w->out = out;
	if ((pe = payer_engine_new(eps, &cr, &o, &err)) == NULL)
		return;
	if (claim0 != NULL) {
		/* just this one forced claim (E401...) */
		w->n = 1;
		w->claim0 = claim0;
	}
	t0 = util_mono_ms();
	if (payer_engine_run(pe, w_next, w_done, w, NULL, &err) == -1)
		out->failed = -1;
	out->ms = util_mono_ms() - t0;
	payer_engine_stats(pe, &out->st);
	payer_engine_free(pe);
	if (o.redis != NULL)
		redisFree(o.redis);
	free(w);
}

/* Runs `nw` workers at once in child processes; results in outs[]. */
static void
workers(int nw, int n, double rate, struct worker_out *outs)
{
	int fds[8][2], i;
	pid_t pids[8];

	for (i = 0; i < nw; i++) {
		if (pipe(fds[i]) == -1)
			return;
		fflush(stdout);
		if ((pids[i] = fork()) == 0) {
			struct worker_out o;

			close(fds[i][0]);
			worker(i + 1, n, rate, 1, NULL, &o);
			if (write(fds[i][1], &o, sizeof(o)) != sizeof(o))
				_exit(1);
			_exit(0);
		}
		close(fds[i][1]);
	}
	for (i = 0; i < nw; i++) {
		memset(&outs[i], 0, sizeof(outs[i]));
		if (read(fds[i][0], &outs[i], sizeof(outs[i])) !=
		    sizeof(outs[i]))
			outs[i].failed = -1;
		close(fds[i][0]);
		waitpid(pids[i], NULL, 0);
	}
}

static void
flushall(void)
{
	redisContext *c = redis_conn();
	redisReply *r;

	if (c != NULL && (r = redisCommand(c, "FLUSHALL")) != NULL)
		freeReplyObject(r);
	if (c != NULL)
		redisFree(c);
}

static void
test_shared_token(void)
{
	struct worker_out o[2], e;

	flushall();
	ok(sim_start(NULL) == 0, "simulator up");
	workers(2, 100, 0, o);
	ok(o[0].done == 100 && o[1].done == 100 && o[0].failed == 0 &&
	    o[1].failed == 0, "two workers, 100 claims each");
	ok(sim_stat("tokens_issued") == 1,
	    "the payer issued one token for both (%ld)",
	    sim_stat("tokens_issued"));
	ok(o[0].st.token_fetches + o[1].st.token_fetches == 1 &&
	    o[0].st.tokens_shared + o[1].st.tokens_shared == 1,
	    "one fetched it, the other took it from Redis");

	/* a 401: the refused token is replaced once, for everybody */
	worker(3, 1, 0, 1, "E401R0000001", &e);
	ok(e.done == 1 && e.ok == 1 && e.st.token_fetches == 1,
	    "401: one new token fetched (%lu), row answered",
	    e.st.token_fetches);
	workers(1, 20, 0, o);
	ok(o[0].done == 20 && o[0].st.token_fetches == 0 &&
	    o[0].st.tokens_shared == 1, "the next worker takes the new token");
	ok(sim_stat("tokens_issued") == 2, "two tokens issued in all (%ld)",
	    sim_stat("tokens_issued"));

	/* Redis gone: the job still runs on a worker-local token */
	worker(4, 20, 0, 2, NULL, &e);
	ok(e.done == 20 && e.ok == 20 && e.st.redis_errors > 0 &&
	    e.st.token_fetches == 1, "Redis down: falls back (%lu errors: %s)",
	    e.st.redis_errors, e.st.redis_error);
	stop(&sim_pid);
}

static void
test_shared_rate(void)
{
	struct worker_out o[2];
	long long t0, ms;
	long rps;

	flushall();
	/* the payer allows 60/s; the workers share 50/s */
	ok(sim_start("60") == 0, "simulator up (rate)");
	t0 = util_mono_ms();
	/* 2 workers x 50 claims at a shared 50/s: about 2 s in all */
	workers(2, 50, 50, o);
	ms = util_mono_ms() - t0;
	ok(o[0].done == 50 && o[1].done == 50, "both workers finished");
	ok(ms >= 1700, "100 requests at 50/s shared took %lld ms", ms);
	rps = sim_stat("max_offered_per_second");
	ok(rps > 0 && rps <= 56, "payer saw at most %ld requests/s (limit 50 "
	    "+ burst 5)", rps);
	ok(sim_stat("rate_limited") == 0, "and answered no 429 (%ld)",
	    sim_stat("rate_limited"));
	stop(&sim_pid);
}

/* Sum of the in-flight shares left in Redis (0 when all were given back). */
static long
shares_left(void)
{
	redisContext *c = redis_conn();
	redisReply *k, *v;
	long sum = 0;
	size_t i, j;

	if (c == NULL)
		return -1;
	k = redisCommand(c, "KEYS bulkclaims:payer:inflight:*");
	for (i = 0; k != NULL && i < k->elements; i++) {
		v = redisCommand(c, "HVALS %s", k->element[i]->str);
		for (j = 0; v != NULL && j < v->elements; j++)
			sum += strtol(v->element[j]->str, NULL, 10);
		if (v != NULL)
			freeReplyObject(v);
	}
	if (k != NULL)
		freeReplyObject(k);
	redisFree(c);
	return sum;
}

static void
test_shared_inflight(void)
{
	struct worker_out o[2];
	long mif;

	flushall();
	ok(sim_start(NULL) == 0, "simulator up (in flight)");
	/* 2 workers x concurrency 16, but 10 in flight for the payer */
	max_in_flight = 10;
	workers(2, 100, 0, o);
	max_in_flight = 0;
	ok(o[0].done == 100 && o[1].done == 100 && o[0].failed == 0 &&
	    o[1].failed == 0, "both workers finished under the shared cap");
	mif = sim_stat("max_in_flight");
	ok(mif > 1 && mif <= 10, "payer saw at most %ld in flight (cap 10)",
	    mif);
	ok(o[0].st.redis_errors == 0 && o[1].st.redis_errors == 0,
	    "no Redis errors");
	ok(shares_left() == 0, "every share given back (%ld left)",
	    shares_left());
	stop(&sim_pid);
}

/* A field of a hash as a number, 0 if absent. */
static long long
hget(const char *key, const char *field)
{
	redisContext *c = redis_conn();
	redisReply *r;
	long long v = 0;

	if (c == NULL)
		return -1;
	r = redisCommand(c, "HGET %s %s", key, field);
	if (r != NULL && r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	redisFree(c);
	return v;
}

/* Latency histogram and errors by cause, pushed to Redis by the engine. */
static void
test_metrics(void)
{
	struct worker_out o[2];
	long long sum = 0;
	int i;

	flushall();
	ok(sim_start(NULL) == 0, "simulator up (metrics)");
	claim_prefix = "ERR5032";
	workers(2, 30, 0, o);
	claim_prefix = "ZR";
	ok(o[0].done == 30 && o[1].done == 30 && o[0].failed == 0 &&
	    o[1].failed == 0, "two workers, 30 claims each, 503 twice");
	ok(o[0].st.requests == 90 && o[0].st.lat_count == 90 &&
	    o[1].st.lat_count == 90, "engine stats: 90 requests timed each "
	    "(%lu, %lu)", o[0].st.requests, o[0].st.lat_count);
	ok(o[0].st.nerr == 1 && strcmp(o[0].st.err[0].cause, "503") == 0 &&
	    o[0].st.err[0].n == 60, "engine stats: 60 errors 503");
	ok(hget(PAYER_REDIS_LATENCY, "count") == (long long)(o[0].st.requests +
	    o[1].st.requests), "Redis count %lld == requests sent",
	    hget(PAYER_REDIS_LATENCY, "count"));
	for (i = 0; i < PAYER_LAT_NBUCKETS; i++)
		sum += hget(PAYER_REDIS_LATENCY, payer_latency_le(i));
	ok(sum == 180, "Redis buckets add up to 180 (%lld)", sum);
	ok(hget(PAYER_REDIS_LATENCY, "sum_us") > 0, "Redis latency sum");
	ok(hget(PAYER_REDIS_ERRORS, "503") == 120, "Redis errors 503: %lld",
	    hget(PAYER_REDIS_ERRORS, "503"));
	ok(o[0].st.redis_errors == 0 && o[1].st.redis_errors == 0,
	    "no Redis errors");
	stop(&sim_pid);
}

int
main(void)
{
	sim_bin = simproc_setup();
	ok(access(sim_bin, X_OK) == 0, "simulator binary %s", sim_bin);
	ok(mkdtemp(tmpdir) != NULL, "temp dir");
	snprintf(sock, sizeof(sock), "%s/redis.sock", tmpdir);
	ok(redis_start() == 0, "redis-server up");
	if (redis_pid > 0 && access(sim_bin, X_OK) == 0) {
		test_primitives();
		test_shared_token();
		test_shared_rate();
		test_shared_inflight();
		test_metrics();
	}
	stop(&sim_pid);
	stop(&redis_pid);
	unlink(sock);
	rmdir(tmpdir);
	curl_global_cleanup();
	return done_testing();
}
