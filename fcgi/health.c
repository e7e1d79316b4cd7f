/*
 * GET /api/v1/health/ and GET /metrics: unauthenticated views
 * of the system's state for load balancers, monitoring and alerts.
 *
 * Both read the same facts: PostgreSQL answers, Redis answers, how many
 * workers are alive (the Redis keys bulkclaims:worker:<node> that each
 * worker's watchdog refreshes every watchdog.interval_s with a TTL of
 * three intervals), the queue length, jobs by status.  Nothing here is
 * patient data: counts, ages, worker node names.
 *
 * /health answers 200 when PostgreSQL and Redis answer and at least one
 * worker is alive, else 503.  Anybody may ask (load balancers send no
 * credentials), so the public answer is {"status": ...} alone, from the
 * cheap checks (SELECT 1, PING, the worker keys); which check failed,
 * job counts, the oldest pending job's age and the queue length are for
 * the local host and for admins (token or session).
 * /metrics is the Prometheus text format; nginx serves it to loopback
 * only, and the app refuses other REMOTE_ADDRs too (metrics.allow_remote
 * = 1 lifts that for a scraper elsewhere).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "app.h"
#include "auth.h"
#include "celery.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "payer.h"
#include "payer_redis.h"

/* Room for the metrics text; far above what the queries can produce. */
#define METRICS_MAX	(64 * 1024)
/* Worker keys looked at (SCAN); a farm larger than this is reported so. */
#define WORKERS_MAX	1000

struct facts {
	int	 pg_ok, redis_ok;
	long	 workers;
	long	 queue_len;
	long long queue_head_age;
	long long redis_mem, redis_maxmem;
	char	 pg_error[128], redis_error[128];
};

/*
 * How long the message at the head of the queue (the next one a worker
 * takes, highest priority first) has been there, in seconds, as seen by
 * the scrapes: the head's digest and the time (the app's clock) it was
 * first seen are kept in QUEUE_HEAD_KEY; a new head starts again at 0.
 * Celery messages carry no sending time, so this is a lower bound of
 * the head's wait, exact enough to say that the queue does not move.
 */
#define QUEUE_HEAD_KEY	"bulkclaims:metrics:queue_head"
static const char queue_head_lua[] =
    "local h = nil\n"
    "for i = 1, #KEYS - 1 do\n"
    "  h = redis.call('LINDEX', KEYS[i], -1)\n"
    "  if h then break end\n"
    "end\n"
    "if not h then redis.call('DEL', KEYS[#KEYS]) return 0 end\n"
    "local id = redis.sha1hex(h)\n"
    "local now = tonumber(ARGV[1])\n"
    "local old = redis.call('HMGET', KEYS[#KEYS], 'id', 'since')\n"
    "if old[1] == id then return now - tonumber(old[2]) end\n"
    "redis.call('HSET', KEYS[#KEYS], 'id', id, 'since', now)\n"
    "return 0\n";

static long long
queue_head_age(redisContext *c, const char *queue)
{
	char keys[4][CELERY_NAME_MAX + 8];
	const char *argv[9];
	char nkeys[8], now[24];
	size_t n = 0;
	redisReply *rep;
	long long age = 0;
	int pr;

	argv[n++] = "EVAL";
	argv[n++] = queue_head_lua;
	argv[n++] = NULL;		/* the number of keys, below */
	for (pr = 0; pr <= 9; pr += 3)
		if (celery_queue_key(queue, pr, keys[pr / 3],
		    sizeof(keys[0])) != 0)
			argv[n++] = keys[pr / 3];
	argv[n++] = QUEUE_HEAD_KEY;
	snprintf(nkeys, sizeof(nkeys), "%zu", n - 3);
	argv[2] = nkeys;
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	argv[n++] = now;
	rep = redisCommandArgv(c, (int)n, argv, NULL);
	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER)
		age = rep->integer;
	freeReplyObject(rep);
	return age;
}

/*
 * Redis: PING, live worker keys; with detail also the queue length and
 * head age, used and maximum memory.
 */
static void
redis_facts(struct req *r, struct facts *f, int detail)
{
	struct errbuf err;
	redisContext *c;
	redisReply *rep;
	char cursor[32] = "0", key[CELERY_NAME_MAX + 8];
	const char *p;
	int pr, rounds = 0;

	if ((c = req_redis(r, &err)) == NULL) {
		snprintf(f->redis_error, sizeof(f->redis_error), "unreachable");
		return;
	}
	rep = redisCommand(c, "PING");
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		freeReplyObject(rep);
		req_redis_drop(r);
		snprintf(f->redis_error, sizeof(f->redis_error), "unreachable");
		return;
	}
	freeReplyObject(rep);
	f->redis_ok = 1;
	do {
		rep = redisCommand(c, "SCAN %s MATCH bulkclaims:worker:* "
		    "COUNT 1000", cursor);
		if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
		    rep->elements != 2) {
			freeReplyObject(rep);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		f->workers += (long)rep->element[1]->elements;
		freeReplyObject(rep);
	} while (strcmp(cursor, "0") != 0 && f->workers < WORKERS_MAX &&
	    ++rounds < 100);
	if (!detail) {
		if (c->err != 0)
			req_redis_drop(r);
		return;
	}
	for (pr = 0; pr <= 9; pr += 3) {
		if (celery_queue_key(r->app->queue, pr, key, sizeof(key)) == 0)
			continue;
		rep = redisCommand(c, "LLEN %s", key);
		if (rep != NULL && rep->type == REDIS_REPLY_INTEGER)
			f->queue_len += rep->integer;
		freeReplyObject(rep);
	}
	f->queue_head_age = queue_head_age(c, r->app->queue);
	rep = redisCommand(c, "INFO memory");
	if (rep != NULL && rep->type == REDIS_REPLY_STRING) {
		if ((p = strstr(rep->str, "used_memory:")) != NULL)
			f->redis_mem = strtoll(p + strlen("used_memory:"),
			    NULL, 10);
		/* 0: no limit set. */
		if ((p = strstr(rep->str, "\nmaxmemory:")) != NULL)
			f->redis_maxmem = strtoll(p + strlen("\nmaxmemory:"),
			    NULL, 10);
	}
	freeReplyObject(rep);
	if (c->err != 0)
		req_redis_drop(r);
}

static PGconn *
pg_facts(struct req *r, struct facts *f)
{
	PGconn *db;
	PGresult *res;

	if ((db = req_db(r)) == NULL) {
		snprintf(f->pg_error, sizeof(f->pg_error), "unreachable");
		return NULL;
	}
	if ((res = db_exec(db, NULL, "SELECT 1", 0, NULL)) == NULL) {
		snprintf(f->pg_error, sizeof(f->pg_error), "unreachable");
		return NULL;
	}
	PQclear(res);
	f->pg_ok = 1;
	return db;
}

/* 1 when REMOTE_ADDR is the local host (or nginx's unix socket). */
static int
local_caller(struct req *r)
{
	const char *a = req_param(r, "REMOTE_ADDR");

	return a != NULL && (strcmp(a, "127.0.0.1") == 0 ||
	    strcmp(a, "::1") == 0 || strncmp(a, "unix:", 5) == 0);
}

/*
 * Whether the caller sees the checks' details: the local host, or an
 * admin.  Credentials are looked at only when sent; bad ones are
 * answered 401 (returns -1), none give the public view (0).
 */
static int
health_detail(struct req *r)
{
	const char *h = req_param(r, "HTTP_AUTHORIZATION");
	const char *c = req_param(r, "HTTP_COOKIE");

	if (local_caller(r))
		return 1;
	if ((h == NULL || *h == '\0') && (c == NULL || *c == '\0'))
		return 0;
	if (auth_check(r, 0) == -1)
		return -1;
	return strcmp(r->role, "admin") == 0;
}

static void
health(struct req *r)
{
	struct json_object *o, *checks, *c;
	struct facts f;
	PGresult *res;
	PGconn *db;
	int ok, detail;

	if ((detail = health_detail(r)) == -1)
		return;
	memset(&f, 0, sizeof(f));
	db = pg_facts(r, &f);
	redis_facts(r, &f, detail);
	ok = f.pg_ok && f.redis_ok && f.workers > 0;
	if (!ok)
		log_warnx("health: postgresql=%d redis=%d workers=%ld",
		    f.pg_ok, f.redis_ok, f.workers);
	o = json_object_new_object();
	json_object_object_add(o, "status",
	    json_object_new_string(ok ? "ok" : "unavailable"));
	if (!detail) {
		resp_json(r, ok ? 200 : 503, o, NULL);
		return;
	}
	checks = json_object_new_object();

	c = json_object_new_object();
	json_object_object_add(c, "ok", json_object_new_boolean(f.pg_ok));
	if (!f.pg_ok)
		json_object_object_add(c, "error",
		    json_object_new_string(f.pg_error));
	if (db != NULL && (res = db_exec(db, NULL, "SELECT "
	    "count(*) FILTER (WHERE status = 'PENDING'), "
	    "count(*) FILTER (WHERE status IN ('PROCESSING', 'CANCELLING')), "
	    "COALESCE(extract(epoch FROM now() - min(created_at) FILTER "
	    "(WHERE status = 'PENDING'))::bigint, 0) "
	    "FROM csv_jobs WHERE status IN ('PENDING', 'PROCESSING', "
	    "'CANCELLING')", 0, NULL)) != NULL) {
		json_object_object_add(c, "jobs_pending", json_object_new_int64(
		    strtoll(PQgetvalue(res, 0, 0), NULL, 10)));
		json_object_object_add(c, "jobs_running", json_object_new_int64(
		    strtoll(PQgetvalue(res, 0, 1), NULL, 10)));
		json_object_object_add(c, "oldest_pending_age_seconds",
		    json_object_new_int64(strtoll(PQgetvalue(res, 0, 2), NULL,
		    10)));
		PQclear(res);
	}
	json_object_object_add(checks, "postgresql", c);

	c = json_object_new_object();
	json_object_object_add(c, "ok", json_object_new_boolean(f.redis_ok));
	if (!f.redis_ok)
		json_object_object_add(c, "error",
		    json_object_new_string(f.redis_error));
	else
		json_object_object_add(c, "queue_length",
		    json_object_new_int64(f.queue_len));
	json_object_object_add(checks, "redis", c);

	c = json_object_new_object();
	json_object_object_add(c, "ok", json_object_new_boolean(f.workers > 0));
	json_object_object_add(c, "alive", json_object_new_int64(f.workers));
	if (f.redis_ok && f.workers == 0)
		json_object_object_add(c, "error", json_object_new_string(
		    "no worker heartbeat"));
	json_object_object_add(checks, "workers", c);
	json_object_object_add(o, "checks", checks);
	resp_json(r, ok ? 200 : 503, o, NULL);
}

/* Appends to the metrics buffer; silently stops at its end. */
static void
put(char *buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
put(char *buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= METRICS_MAX - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, METRICS_MAX - *len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*len += (size_t)n;
	if (*len > METRICS_MAX - 1)
		*len = METRICS_MAX - 1;
}

/* A label value: only [A-Za-z0-9_] kept (our values are codes). */
static const char *
label(const char *in, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; in[i] != '\0' && o + 1 < outsz; i++)
		if ((in[i] >= 'A' && in[i] <= 'Z') || (in[i] >= 'a' &&
		    in[i] <= 'z') || (in[i] >= '0' && in[i] <= '9') ||
		    in[i] == '_')
			out[o++] = in[i];
	out[o] = '\0';
	return o > 0 ? out : "none";
}

/*
 * The payer metrics every worker adds to Redis (payer_redis.h): request
 * latency histogram and errors by cause.  Missing hashes give zeros.
 */
static void
payer_metrics(struct req *r, char *buf, size_t *len)
{
	unsigned long long bucket[PAYER_LAT_NBUCKETS], sum_us = 0;
	struct errbuf err;
	redisContext *c;
	redisReply *rep;
	char lb[64];
	size_t i;
	int b;

	memset(bucket, 0, sizeof(bucket));
	if ((c = req_redis(r, &err)) == NULL)
		return;
	rep = redisCommand(c, "HGETALL %s", PAYER_REDIS_LATENCY);
	if (rep != NULL && rep->type == REDIS_REPLY_ARRAY)
		for (i = 0; i + 1 < rep->elements; i += 2) {
			if (rep->element[i]->type != REDIS_REPLY_STRING ||
			    rep->element[i + 1]->type != REDIS_REPLY_STRING)
				continue;
			if (strcmp(rep->element[i]->str, "sum_us") == 0)
				sum_us = strtoull(rep->element[i + 1]->str,
				    NULL, 10);
			for (b = 0; b < PAYER_LAT_NBUCKETS; b++)
				if (strcmp(rep->element[i]->str,
				    payer_latency_le(b)) == 0)
					bucket[b] = strtoull(
					    rep->element[i + 1]->str, NULL, 10);
		}
	freeReplyObject(rep);
	put(buf, len, "# HELP bulkclaims_payer_request_duration_seconds "
	    "Payer claim request latency (every attempt).\n"
	    "# TYPE bulkclaims_payer_request_duration_seconds histogram\n");
	if (*len < METRICS_MAX - 1)
		*len += payer_latency_render(
		    "bulkclaims_payer_request_duration_seconds", bucket, sum_us,
		    buf + *len, METRICS_MAX - *len);
	if (*len > METRICS_MAX - 1)
		*len = METRICS_MAX - 1;
	put(buf, len, "# HELP bulkclaims_payer_errors_total Failed payer "
	    "claim requests by cause (HTTP status, timeout, network, "
	    "malformed).\n# TYPE bulkclaims_payer_errors_total counter\n");
	rep = redisCommand(c, "HGETALL %s", PAYER_REDIS_ERRORS);
	if (rep != NULL && rep->type == REDIS_REPLY_ARRAY)
		for (i = 0; i + 1 < rep->elements; i += 2)
			if (rep->element[i]->type == REDIS_REPLY_STRING &&
			    rep->element[i + 1]->type == REDIS_REPLY_STRING)
				put(buf, len, "bulkclaims_payer_errors_total{"
				    "cause=\"%s\"} %llu\n",
				    label(rep->element[i]->str, lb, sizeof(lb)),
				    strtoull(rep->element[i + 1]->str, NULL,
				    10));
	if (rep == NULL)
		req_redis_drop(r);
	freeReplyObject(rep);
}

static int
loopback(struct req *r)
{
	const char *a = req_param(r, "REMOTE_ADDR");

	if (config_get_bool("metrics.allow_remote", 0))
		return 1;
	return a != NULL && (strcmp(a, "127.0.0.1") == 0 ||
	    strcmp(a, "::1") == 0 || strncmp(a, "unix:", 5) == 0);
}

static void
metrics(struct req *r)
{
	static const char *const statuses[] = { "PENDING", "PROCESSING",
	    "COMPLETED", "FAILED", "CANCELLING", "CANCELLED" };
	struct facts f;
	PGresult *res;
	PGconn *db;
	const char *queue;
	char *buf, lb[64];
	size_t len = 0, i;
	int row;

	if (!loopback(r)) {
		resp_error(r, 403, "permission_denied",
		    "Metrics are served to the local host only.", NULL, NULL);
		return;
	}
	if ((buf = malloc(METRICS_MAX)) == NULL) {
		resp_error(r, 503, "unavailable", "Out of memory.", NULL, NULL);
		return;
	}
	buf[0] = '\0';
	memset(&f, 0, sizeof(f));
	db = pg_facts(r, &f);
	redis_facts(r, &f, 1);
	put(buf, &len, "# HELP bulkclaims_up Whether a dependency answers.\n"
	    "# TYPE bulkclaims_up gauge\n"
	    "bulkclaims_up{dependency=\"postgresql\"} %d\n"
	    "bulkclaims_up{dependency=\"redis\"} %d\n", f.pg_ok, f.redis_ok);
	put(buf, &len, "# HELP bulkclaims_workers Workers with a live "
	    "heartbeat key.\n# TYPE bulkclaims_workers gauge\n"
	    "bulkclaims_workers %ld\n", f.workers);
	queue = label(r->app->queue, lb, sizeof(lb));
	if (f.redis_ok)
		put(buf, &len, "# HELP bulkclaims_queue_length Task messages "
		    "waiting in the Celery queue.\n"
		    "# TYPE bulkclaims_queue_length gauge\n"
		    "bulkclaims_queue_length{queue=\"%s\"} %ld\n"
		    "# HELP bulkclaims_queue_head_age_seconds How long the "
		    "next task message has waited at the head of the queue, "
		    "as seen by the scrapes (0: empty).\n"
		    "# TYPE bulkclaims_queue_head_age_seconds gauge\n"
		    "bulkclaims_queue_head_age_seconds{queue=\"%s\"} %lld\n"
		    "# HELP bulkclaims_redis_used_memory_bytes Redis "
		    "used_memory.\n"
		    "# TYPE bulkclaims_redis_used_memory_bytes gauge\n"
		    "bulkclaims_redis_used_memory_bytes %lld\n"
		    "# HELP bulkclaims_redis_maxmemory_bytes Redis maxmemory "
		    "(0: no limit).\n"
		    "# TYPE bulkclaims_redis_maxmemory_bytes gauge\n"
		    "bulkclaims_redis_maxmemory_bytes %lld\n",
		    queue, f.queue_len, queue, f.queue_head_age, f.redis_mem,
		    f.redis_maxmem);
	if (db != NULL && (res = db_exec(db, NULL, "SELECT status, count(*), "
	    "COALESCE(sum(processed_rows), 0), "
	    "COALESCE(sum(success_count), 0), "
	    "COALESCE(sum(failure_count), 0), "
	    "count(*) FILTER (WHERE waiting_for_payer), "
	    "COALESCE(extract(epoch FROM now() - min(created_at))::bigint, 0) "
	    "FROM csv_jobs GROUP BY status", 0, NULL)) != NULL) {
		long long ok = 0, bad = 0, waiting = 0, oldest = 0;

		put(buf, &len, "# HELP bulkclaims_jobs Jobs by status.\n"
		    "# TYPE bulkclaims_jobs gauge\n");
		for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
			long long n = 0;

			for (row = 0; row < PQntuples(res); row++)
				if (strcmp(PQgetvalue(res, row, 0),
				    statuses[i]) == 0)
					n = strtoll(PQgetvalue(res, row, 1),
					    NULL, 10);
			put(buf, &len, "bulkclaims_jobs{status=\"%s\"} %lld\n",
			    statuses[i], n);
		}
		for (row = 0; row < PQntuples(res); row++) {
			ok += strtoll(PQgetvalue(res, row, 3), NULL, 10);
			bad += strtoll(PQgetvalue(res, row, 4), NULL, 10);
			waiting += strtoll(PQgetvalue(res, row, 5), NULL, 10);
			if (strcmp(PQgetvalue(res, row, 0), "PENDING") == 0)
				oldest = strtoll(PQgetvalue(res, row, 6), NULL,
				    10);
		}
		PQclear(res);
		put(buf, &len, "# HELP bulkclaims_rows_processed_total Rows "
		    "with a stored result, by outcome.\n"
		    "# TYPE bulkclaims_rows_processed_total counter\n"
		    "bulkclaims_rows_processed_total{success=\"true\"} %lld\n"
		    "bulkclaims_rows_processed_total{success=\"false\"} %lld\n"
		    "# HELP bulkclaims_jobs_waiting_for_payer Running jobs "
		    "paused by a payer outage.\n"
		    "# TYPE bulkclaims_jobs_waiting_for_payer gauge\n"
		    "bulkclaims_jobs_waiting_for_payer %lld\n"
		    "# HELP bulkclaims_oldest_pending_job_age_seconds Age of "
		    "the oldest PENDING job (0: none).\n"
		    "# TYPE bulkclaims_oldest_pending_job_age_seconds gauge\n"
		    "bulkclaims_oldest_pending_job_age_seconds %lld\n",
		    ok, bad, waiting, oldest);
	}
	if (f.redis_ok)
		payer_metrics(r, buf, &len);
	/* Failed rows by cause; FOUND/NOT_FOUND/PAYER_ERROR/... */
	if (db != NULL && (res = db_exec(db, NULL, "SELECT "
	    "COALESCE(lookup_result, 'NONE'), success, count(*) "
	    "FROM csv_job_rows WHERE success IS NOT NULL "
	    "GROUP BY 1, 2 ORDER BY 1, 2", 0, NULL)) != NULL) {
		put(buf, &len, "# HELP bulkclaims_rows_by_result_total Stored "
		    "rows by lookup_result.\n"
		    "# TYPE bulkclaims_rows_by_result_total counter\n");
		for (row = 0; row < PQntuples(res); row++)
			put(buf, &len, "bulkclaims_rows_by_result_total{"
			    "lookup_result=\"%s\",success=\"%s\"} %s\n",
			    label(PQgetvalue(res, row, 0), lb, sizeof(lb)),
			    PQgetvalue(res, row, 1)[0] == 't' ? "true" :
			    "false", PQgetvalue(res, row, 2));
		PQclear(res);
	}
	if (resp_headers(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	    (long long)len, NULL) == 0)
		resp_write(r, buf, len);
	r->bytes = (long long)len;
	free(buf);
}

/* Serves GET or HEAD with fn; other methods get 405. */
static void
get_only(struct req *r, void (*fn)(struct req *))
{
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		resp_error(r, 405, "method_not_allowed", "Method not allowed.",
		    NULL, "Allow: GET, HEAD\r\n");
		return;
	}
	r->head = strcmp(r->method, "HEAD") == 0;
	fn(r);
}

int
health_dispatch(struct req *r)
{
	if (strcmp(r->path, "/api/v1/health/") == 0 ||
	    strcmp(r->path, "/api/v1/health") == 0) {
		get_only(r, health);
		return 1;
	}
	if (strcmp(r->path, "/metrics") == 0) {
		get_only(r, metrics);
		return 1;
	}
	return 0;
}
