/*
 * Celery remote control (celery inspect / control): requests arrive on the
 * fanout channel /<db>.celery.pidbox; replies go to the client's reply
 * queue, found via the binding set of exchange reply.celery.pidbox.  This
 * is what `celery inspect`, `celery status` and `celery control` talk to.
 */
#include <sys/resource.h>

#include <fnmatch.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <sodium.h>

#include "celery.h"
#include "celery_event.h"
#include "config.h"
#include "log.h"
#include "redisconn.h"
#include "tasks.h"
#include "util.h"
#include "worker.h"
#include "node.h"
#include "pidbox.h"
#include "pool.h"

/* Seconds between reconnect attempts of the subscriber connection. */
#define SUB_RETRY_S	1.0

static int shutdown_requested;
static double next_retry;

int
pidbox_shutdown_requested(void)
{
	return shutdown_requested;
}

static size_t
binding_member(char *out, size_t outsz)
{
	int n = snprintf(out, outsz, CELERY_SEP CELERY_SEP "%s.celery.pidbox",
	    wk_cfg.node);

	return n < 0 || (size_t)n >= outsz ? 0 : (size_t)n;
}

int
pidbox_start(redisContext **sub, struct errbuf *err)
{
	char member[CELERY_NAME_MAX + 32];
	redisReply *r;
	size_t n;

	if (*sub != NULL)
		redisFree(*sub);
	/* No read timeout: this connection only waits for messages. */
	if ((*sub = rconn_connect(wk_cfg.redis_url, 0, err)) == NULL)
		return -1;
	n = binding_member(member, sizeof(member));
	if (node_cmd() != NULL && (r = redisCommand(node_cmd(),
	    "SADD _kombu.binding.celery.pidbox %b", member, n)) != NULL)
		freeReplyObject(r);
	r = redisCommand(*sub, "PSUBSCRIBE /%d.celery.pidbox", wk_cfg.db);
	if (r == NULL) {
		errbuf_set(err, "PSUBSCRIBE: %s", (*sub)->errstr);
		redisFree(*sub);
		*sub = NULL;
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

void
pidbox_stop(redisContext *c)
{
	char member[CELERY_NAME_MAX + 32], key[CELERY_NAME_MAX + 32];
	redisReply *r;
	size_t n;
	int p;

	if (c == NULL || c->err)
		return;
	n = binding_member(member, sizeof(member));
	r = redisCommand(c, "SREM _kombu.binding.celery.pidbox %b", member, n);
	if (r != NULL)
		freeReplyObject(r);
	for (p = 0; p <= 9; p += 3) {
		char q[CELERY_NAME_MAX + 16];

		snprintf(q, sizeof(q), "%s.celery.pidbox", wk_cfg.node);
		n = celery_queue_key(q, p, key, sizeof(key));
		if ((r = redisCommand(c, "DEL %b", key, n)) != NULL)
			freeReplyObject(r);
	}
}

/* {"ok": text} */
static struct json_object *
ok_reply(const char *text)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_string(text));
	return o;
}

/* Celery's request info (Request.info()) for a slot's message. */
static struct json_object *
reqinfo_json(const struct wk_reqinfo *ri, pid_t pid, int active)
{
	struct json_object *o, *di;

	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(ri->id));
	json_object_object_add(o, "name", json_object_new_string(ri->name));
	json_object_object_add(o, "args", json_object_new_string(ri->argsrepr));
	json_object_object_add(o, "kwargs",
	    json_object_new_string(ri->kwargsrepr));
	json_object_object_add(o, "type", json_object_new_string(ri->name));
	json_object_object_add(o, "hostname",
	    json_object_new_string(wk_cfg.node));
	json_object_object_add(o, "time_start", active ?
	    json_object_new_double(ri->time_start) : NULL);
	json_object_object_add(o, "acknowledged",
	    json_object_new_boolean(ri->acknowledged));
	di = json_object_new_object();
	json_object_object_add(di, "exchange",
	    json_object_new_string(ri->exchange));
	json_object_object_add(di, "routing_key",
	    json_object_new_string(ri->routing_key));
	json_object_object_add(di, "priority",
	    json_object_new_int(ri->priority));
	json_object_object_add(di, "redelivered",
	    json_object_new_boolean(ri->redelivered));
	json_object_object_add(o, "delivery_info", di);
	json_object_object_add(o, "worker_pid", active ?
	    json_object_new_int((int)pid) : NULL);
	return o;
}

static struct json_object *
cmd_active(void)
{
	struct json_object *a = json_object_new_array();
	int i;

	wk_lock();
	for (i = 0; i < wk_cfg.concurrency; i++)
		if (wk_sh->slots[i].busy)
			json_object_array_add(a, reqinfo_json(
			    &wk_sh->slots[i].cur, wk_sh->slots[i].pid, 1));
	wk_unlock();
	return a;
}

static struct json_object *
cmd_scheduled(void)
{
	struct json_object *a = json_object_new_array(), *e;
	char iso[40];
	int i, j;

	wk_lock();
	for (i = 0; i < wk_cfg.concurrency; i++)
		for (j = 0; j < wk_sh->slots[i].nheld; j++) {
			const struct wk_reqinfo *ri = &wk_sh->slots[i].held[j];

			if (ri->stolen)
				continue;
			e = json_object_new_object();
			util_isotime(ri->eta, 1, iso, sizeof(iso));
			json_object_object_add(e, "eta",
			    json_object_new_string(iso));
			/* Celery shows the timer priority here, always 6. */
			json_object_object_add(e, "priority",
			    json_object_new_int(6));
			json_object_object_add(e, "request",
			    reqinfo_json(ri, 0, 0));
			json_object_array_add(a, e);
		}
	wk_unlock();
	return a;
}

static struct json_object *
cmd_registered(void)
{
	struct json_object *a = json_object_new_array();
	const struct task_def *d;

	for (d = task_defs; d->name != NULL; d++)
		if (!d->diagnostic || wk_cfg.diagnostic)
			json_object_array_add(a,
			    json_object_new_string(d->name));
	return a;
}

static struct json_object *
cmd_revoked(void)
{
	struct json_object *a = json_object_new_array();
	int i, n;

	wk_lock();
	n = wk_sh->nrevoked < WK_REVOKED_MAX ? wk_sh->nrevoked :
	    WK_REVOKED_MAX;
	for (i = 0; i < n; i++)
		json_object_array_add(a,
		    json_object_new_string(wk_sh->revoked[i]));
	wk_unlock();
	return a;
}

static struct json_object *
cmd_active_queues(void)
{
	struct json_object *a = json_object_new_array(), *q, *ex;
	int i;

	for (i = 0; i < wk_cfg.nqueues; i++) {
		const char *n = wk_cfg.queues[i];

		q = json_object_new_object();
		json_object_object_add(q, "name", json_object_new_string(n));
		ex = json_object_new_object();
		json_object_object_add(ex, "name", json_object_new_string(n));
		json_object_object_add(ex, "type",
		    json_object_new_string("direct"));
		json_object_object_add(ex, "arguments", NULL);
		json_object_object_add(ex, "durable",
		    json_object_new_boolean(1));
		json_object_object_add(ex, "passive",
		    json_object_new_boolean(0));
		json_object_object_add(ex, "auto_delete",
		    json_object_new_boolean(0));
		json_object_object_add(ex, "delivery_mode", NULL);
		json_object_object_add(ex, "no_declare",
		    json_object_new_boolean(0));
		json_object_object_add(q, "exchange", ex);
		json_object_object_add(q, "routing_key",
		    json_object_new_string(n));
		json_object_object_add(q, "queue_arguments", NULL);
		json_object_object_add(q, "binding_arguments", NULL);
		json_object_object_add(q, "consumer_arguments", NULL);
		json_object_object_add(q, "durable",
		    json_object_new_boolean(1));
		json_object_object_add(q, "exclusive",
		    json_object_new_boolean(0));
		json_object_object_add(q, "auto_delete",
		    json_object_new_boolean(0));
		json_object_object_add(q, "no_ack",
		    json_object_new_boolean(0));
		json_object_object_add(q, "alias", NULL);
		json_object_object_add(q, "bindings", json_object_new_array());
		json_object_object_add(q, "no_declare", NULL);
		json_object_object_add(q, "expires", NULL);
		json_object_object_add(q, "message_ttl", NULL);
		json_object_object_add(q, "max_length", NULL);
		json_object_object_add(q, "max_length_bytes", NULL);
		json_object_object_add(q, "max_priority", NULL);
		json_object_array_add(a, q);
	}
	return a;
}

static struct json_object *
cmd_stats(void)
{
	struct json_object *o, *t, *pool, *procs, *b, *ru;
	const struct task_def *d;
	struct rusage r;
	struct rconn_url u;
	char clk[32];
	long held = 0;
	int i;

	o = json_object_new_object();
	t = json_object_new_object();
	wk_lock();
	for (d = task_defs, i = 0; d->name != NULL && i < WK_TOTALS_MAX;
	    d++, i++)
		if (wk_sh->totals[i] > 0)
			json_object_object_add(t, d->name,
			    json_object_new_int64(wk_sh->totals[i]));
	procs = json_object_new_array();
	for (i = 0; i < wk_cfg.concurrency; i++) {
		if (wk_sh->slots[i].pid > 0)
			json_object_array_add(procs, json_object_new_int(
			    (int)wk_sh->slots[i].pid));
		held += wk_sh->slots[i].nheld;
	}
	wk_unlock();
	json_object_object_add(o, "total", t);
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	snprintf(clk, sizeof(clk), "%lu", wk_clock_tick());
	json_object_object_add(o, "clock", json_object_new_string(clk));
	json_object_object_add(o, "uptime",
	    json_object_new_int64((int64_t)node_uptime()));
	pool = json_object_new_object();
	json_object_object_add(pool, "max-concurrency",
	    json_object_new_int(wk_cfg.concurrency));
	json_object_object_add(pool, "processes", procs);
	json_object_object_add(pool, "max-tasks-per-child",
	    json_object_new_string("N/A"));
	json_object_object_add(pool, "put-guarded-by-semaphore",
	    json_object_new_boolean(0));
	json_object_object_add(pool, "timeouts", json_tokener_parse("[0, 0]"));
	json_object_object_add(o, "pool", pool);
	b = json_object_new_object();
	rconn_parse_url(wk_cfg.redis_url, &u, NULL);
	json_object_object_add(b, "hostname", json_object_new_string(
	    u.is_unix ? u.path : u.host));
	json_object_object_add(b, "userid", NULL);
	snprintf(clk, sizeof(clk), "%d", u.db);
	json_object_object_add(b, "virtual_host", json_object_new_string(clk));
	json_object_object_add(b, "port", u.is_unix ? NULL :
	    json_object_new_int(u.port));
	json_object_object_add(b, "insist", json_object_new_boolean(0));
	json_object_object_add(b, "ssl", json_object_new_boolean(0));
	json_object_object_add(b, "transport", json_object_new_string(
	    u.is_unix ? "redis+socket" : "redis"));
	json_object_object_add(b, "connect_timeout", json_object_new_int(5));
	json_object_object_add(b, "transport_options",
	    json_object_new_object());
	json_object_object_add(b, "login_method", NULL);
	json_object_object_add(b, "uri_prefix", NULL);
	json_object_object_add(b, "heartbeat", json_object_new_double(0));
	json_object_object_add(b, "failover_strategy",
	    json_object_new_string("round-robin"));
	json_object_object_add(b, "alternates", json_object_new_array());
	json_object_object_add(o, "broker", b);
	json_object_object_add(o, "prefetch_count",
	    json_object_new_int64(wk_cfg.concurrency + held));
	ru = json_object_new_object();
	getrusage(RUSAGE_SELF, &r);
	json_object_object_add(ru, "utime", json_object_new_double(
	    r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6));
	json_object_object_add(ru, "stime", json_object_new_double(
	    r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6));
	json_object_object_add(ru, "maxrss", json_object_new_int64(
	    r.ru_maxrss));
	json_object_object_add(ru, "minflt", json_object_new_int64(
	    r.ru_minflt));
	json_object_object_add(ru, "majflt", json_object_new_int64(
	    r.ru_majflt));
	json_object_object_add(ru, "nvcsw", json_object_new_int64(r.ru_nvcsw));
	json_object_object_add(ru, "nivcsw", json_object_new_int64(
	    r.ru_nivcsw));
	json_object_object_add(o, "rusage", ru);
	return o;
}

/* task_id: a string or a list of strings. */
static struct json_object *
cmd_revoke(struct json_object *args, int terminate)
{
	struct json_object *ids = NULL, *v;
	char msg[512];
	size_t i, n, o = 0;
	int signum = 15;

	json_object_object_get_ex(args, "task_id", &ids);
	if (json_object_object_get_ex(args, "terminate", &v) &&
	    json_object_get_boolean(v))
		terminate = 1;
	/* Python names the signal ("SIGTERM"); we always SIGKILL. */
	msg[0] = '\0';
	if (json_object_is_type(ids, json_type_string)) {
		wk_revoke(json_object_get_string(ids));
		if (terminate)
			pool_terminate(json_object_get_string(ids), signum);
		snprintf(msg, sizeof(msg), "%s", json_object_get_string(ids));
	} else if (json_object_is_type(ids, json_type_array)) {
		n = json_object_array_length(ids);
		for (i = 0; i < n; i++) {
			v = json_object_array_get_idx(ids, i);
			if (!json_object_is_type(v, json_type_string))
				continue;
			wk_revoke(json_object_get_string(v));
			if (terminate)
				pool_terminate(json_object_get_string(v),
				    signum);
			if (o < sizeof(msg))
				o += snprintf(msg + o, sizeof(msg) - o, "%s%s",
				    o ? ", " : "", json_object_get_string(v));
		}
	}
	log_info("revoke request for %s", msg);
	{
		char out[600];

		if (terminate)
			snprintf(out, sizeof(out), "terminate: tasks %s "
			    "flagged as revoked", msg);
		else
			snprintf(out, sizeof(out), "tasks %s flagged as "
			    "revoked", msg);
		return ok_reply(out);
	}
}

static struct json_object *
cmd_query_task(struct json_object *args)
{
	struct json_object *o = json_object_new_object(), *ids = NULL, *e;
	size_t i, n;
	int s;

	json_object_object_get_ex(args, "ids", &ids);
	if (json_object_is_type(ids, json_type_string)) {
		struct json_object *a = json_object_new_array();

		json_object_array_add(a, json_object_get(ids));
		ids = a;
	} else
		ids = json_object_get(ids);
	n = json_object_is_type(ids, json_type_array) ?
	    json_object_array_length(ids) : 0;
	wk_lock();
	for (i = 0; i < n; i++) {
		const char *id = json_object_get_string(
		    json_object_array_get_idx(ids, i));

		for (s = 0; id != NULL && s < wk_cfg.concurrency; s++) {
			if (!wk_sh->slots[s].busy ||
			    strcmp(wk_sh->slots[s].cur.id, id) != 0)
				continue;
			e = json_object_new_array();
			json_object_array_add(e,
			    json_object_new_string("active"));
			json_object_array_add(e, reqinfo_json(
			    &wk_sh->slots[s].cur, wk_sh->slots[s].pid, 1));
			json_object_object_add(o, id, e);
		}
	}
	wk_unlock();
	json_object_put(ids);
	return o;
}

static struct json_object *
cmd_hello(struct json_object *args)
{
	struct json_object *o, *rev, *from = NULL, *in = NULL, *e;
	int i, n;

	json_object_object_get_ex(args, "from_node", &from);
	if (from != NULL && strcmp(json_object_get_string(from),
	    wk_cfg.node) == 0)
		return NULL;
	if (json_object_object_get_ex(args, "revoked", &in) &&
	    json_object_is_type(in, json_type_object)) {
		json_object_object_foreach(in, k, v) {
			(void)v;
			wk_revoke(k);
		}
	}
	o = json_object_new_object();
	rev = json_object_new_object();
	wk_lock();
	n = wk_sh->nrevoked < WK_REVOKED_MAX ? wk_sh->nrevoked :
	    WK_REVOKED_MAX;
	for (i = 0; i < n; i++) {
		e = json_object_new_array();
		json_object_array_add(e, json_object_new_double(
		    (double)util_mono_ms() / 1000));
		json_object_array_add(e,
		    json_object_new_string(wk_sh->revoked[i]));
		json_object_object_add(rev, wk_sh->revoked[i], e);
	}
	wk_unlock();
	json_object_object_add(o, "revoked", rev);
	json_object_object_add(o, "clock", json_object_new_int64(
	    (int64_t)wk_clock_tick()));
	return o;
}

/* time_limit(task_name, soft, hard): new defaults for one task. */
static struct json_object *
cmd_time_limit(struct json_object *args)
{
	struct json_object *n = NULL, *sv = NULL, *hv = NULL, *o;
	const struct task_def *d;
	long idx;

	json_object_object_get_ex(args, "task_name", &n);
	json_object_object_get_ex(args, "soft", &sv);
	json_object_object_get_ex(args, "hard", &hv);
	if (!json_object_is_type(n, json_type_string) ||
	    (d = task_find(json_object_get_string(n), wk_cfg.diagnostic))
	    == NULL || (idx = d - task_defs) >= WK_TOTALS_MAX) {
		o = json_object_new_object();
		json_object_object_add(o, "error",
		    json_object_new_string("unknown task"));
		return o;
	}
	wk_lock();
	wk_sh->soft_override[idx] = sv ? json_object_get_double(sv) : 0;
	wk_sh->hard_override[idx] = hv ? json_object_get_double(hv) : 0;
	wk_unlock();
	log_info("new time limits for %s: soft %.1f hard %.1f", d->name,
	    wk_sh->soft_override[idx], wk_sh->hard_override[idx]);
	return ok_reply("time limits set successfully");
}

/* rate_limit(task_name, rate_limit): "10/s", "5/m", a number, or null. */
static struct json_object *
cmd_rate_limit(struct json_object *args)
{
	struct json_object *n = NULL, *v = NULL, *o;
	const struct task_def *d;
	double rate;
	long idx;

	json_object_object_get_ex(args, "task_name", &n);
	json_object_object_get_ex(args, "rate_limit", &v);
	rate = v == NULL ? 0 : json_object_is_type(v, json_type_string) ?
	    wk_parse_rate(json_object_get_string(v)) :
	    json_object_get_double(v);
	o = json_object_new_object();
	if (!json_object_is_type(n, json_type_string) ||
	    (d = task_find(json_object_get_string(n), wk_cfg.diagnostic))
	    == NULL || (idx = d - task_defs) >= WK_TOTALS_MAX) {
		json_object_object_add(o, "error",
		    json_object_new_string("unknown task"));
		return o;
	}
	if (rate < 0) {
		json_object_object_add(o, "error",
		    json_object_new_string("invalid rate limit string"));
		return o;
	}
	wk_lock();
	wk_sh->rate[idx] = rate;
	wk_sh->rate_tokens[idx] = 1;
	wk_sh->rate_last[idx] = util_now();
	wk_unlock();
	log_info("rate limit of %s: %.3f/s", d->name, rate);
	json_object_put(o);
	return ok_reply(rate > 0 ? "new rate limit set successfully" :
	    "rate limit disabled successfully");
}

/* conf: the settings that matter on the wire (broker without secrets). */
static struct json_object *
cmd_conf(void)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "task_default_queue",
	    json_object_new_string(wk_cfg.queues[0]));
	json_object_object_add(o, "worker_concurrency",
	    json_object_new_int(wk_cfg.concurrency));
	json_object_object_add(o, "result_expires",
	    json_object_new_int64(wk_cfg.result_expires));
	json_object_object_add(o, "worker_send_task_events",
	    json_object_new_boolean(wk_sh->task_events));
	json_object_object_add(o, "broker_transport_options",
	    json_object_new_object());
	json_object_object_add(json_object_object_get(o,
	    "broker_transport_options"), "visibility_timeout",
	    json_object_new_double(wk_cfg.visibility_timeout));
	json_object_object_add(o, "task_serializer",
	    json_object_new_string("json"));
	json_object_object_add(o, "accept_content", json_tokener_parse(
	    "[\"json\"]"));
	return o;
}

/*
 * Runs method; returns the reply object, or NULL for no reply.  *error
 * is set for unknown methods (Celery replies {"error": "KeyError(...)"}).
 */
static struct json_object *
dispatch(const char *method, struct json_object *args)
{
	struct json_object *o;
	char buf[CELERY_NAME_MAX + 64];

	if (strcmp(method, "ping") == 0)
		return ok_reply("pong");
	if (strcmp(method, "stats") == 0)
		return cmd_stats();
	if (strcmp(method, "active") == 0)
		return cmd_active();
	if (strcmp(method, "reserved") == 0)
		return json_object_new_array();	/* we reserve nothing */
	if (strcmp(method, "scheduled") == 0)
		return cmd_scheduled();
	if (strcmp(method, "registered") == 0)
		return cmd_registered();
	if (strcmp(method, "revoked") == 0)
		return cmd_revoked();
	if (strcmp(method, "active_queues") == 0)
		return cmd_active_queues();
	if (strcmp(method, "query_task") == 0)
		return cmd_query_task(args);
	if (strcmp(method, "clock") == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "clock", json_object_new_int64(
		    (int64_t)wk_clock_tick()));
		return o;
	}
	if (strcmp(method, "report") == 0) {
		snprintf(buf, sizeof(buf), "software -> bulkclaims-worker "
		    "(C, Celery protocol 2)\nnode -> %s", wk_cfg.node);
		return ok_reply(buf);
	}
	if (strcmp(method, "hello") == 0)
		return cmd_hello(args);
	if (strcmp(method, "time_limit") == 0)
		return cmd_time_limit(args);
	if (strcmp(method, "rate_limit") == 0)
		return cmd_rate_limit(args);
	if (strcmp(method, "conf") == 0)
		return cmd_conf();
	if (strcmp(method, "revoke") == 0)
		return cmd_revoke(args, 0);
	if (strcmp(method, "terminate") == 0)
		return cmd_revoke(args, 1);
	if (strcmp(method, "enable_events") == 0) {
		if (__atomic_exchange_n(&wk_sh->task_events, 1,
		    __ATOMIC_SEQ_CST))
			return ok_reply("task events already enabled");
		return ok_reply("task events enabled");
	}
	if (strcmp(method, "disable_events") == 0) {
		if (!__atomic_exchange_n(&wk_sh->task_events, 0,
		    __ATOMIC_SEQ_CST))
			return ok_reply("task events already disabled");
		return ok_reply("task events disabled");
	}
	if (strcmp(method, "heartbeat") == 0) {
		node_event("worker-heartbeat", 0);
		return NULL;
	}
	if (strcmp(method, "shutdown") == 0) {
		log_info("shutdown requested by remote control");
		shutdown_requested = 1;
		return NULL;
	}
	o = json_object_new_object();
	snprintf(buf, sizeof(buf), "KeyError('%.200s')", method);
	json_object_object_add(o, "error", json_object_new_string(buf));
	return o;
}

/* Does this request address us (destination, or pattern + matcher)? */
static int
for_us(struct json_object *req)
{
	struct json_object *dest = NULL, *pat = NULL, *mat = NULL;
	const char *m;
	regex_t re;
	size_t i, n;
	int yes;

	json_object_object_get_ex(req, "destination", &dest);
	json_object_object_get_ex(req, "pattern", &pat);
	json_object_object_get_ex(req, "matcher", &mat);
	if (json_object_is_type(dest, json_type_array)) {
		n = json_object_array_length(dest);
		for (i = 0; i < n; i++) {
			m = json_object_get_string(
			    json_object_array_get_idx(dest, i));
			if (m != NULL && strcmp(m, wk_cfg.node) == 0)
				return 1;
		}
		if (!json_object_is_type(pat, json_type_string))
			return 0;
	}
	if (json_object_is_type(pat, json_type_string)) {
		m = json_object_get_string(mat);
		if (m != NULL && strcmp(m, "pcre") == 0) {
			if (regcomp(&re, json_object_get_string(pat),
			    REG_EXTENDED | REG_NOSUB) != 0)
				return 0;
			yes = regexec(&re, wk_cfg.node, 0, NULL, 0) == 0;
			regfree(&re);
			return yes;
		}
		return fnmatch(json_object_get_string(pat), wk_cfg.node, 0)
		    == 0;
	}
	return 1;
}

/* LPUSHes the reply to every queue bound to the reply routing key. */
static void
send_reply(struct json_object *reply_to, const char *ticket,
    struct json_object *result)
{
	struct json_object *body, *h, *rk = NULL;
	const char *p, *s1, *s2, *key;
	char q[CELERY_NAME_MAX + 32], *text;
	redisReply *r, *r2;
	redisContext *c = node_cmd();
	size_t i, len;

	if (c == NULL || !json_object_object_get_ex(reply_to, "routing_key",
	    &rk) || !json_object_is_type(rk, json_type_string))
		return;
	key = json_object_get_string(rk);
	body = json_object_new_object();
	json_object_object_add(body, wk_cfg.node, json_object_get(result));
	h = json_object_new_object();
	json_object_object_add(h, "ticket", json_object_new_string(ticket));
	json_object_object_add(h, "clock", json_object_new_int64(
	    (int64_t)wk_clock_tick()));
	text = celery_kombu_envelope(body, h, 1, "reply.celery.pidbox", key,
	    &len);
	json_object_put(body);
	json_object_put(h);
	if (text == NULL)
		return;
	r = redisCommand(c, "SMEMBERS _kombu.binding.reply.celery.pidbox");
	for (i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY &&
	    i < r->elements; i++) {
		p = r->element[i]->str;
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    (s1 = strstr(p, CELERY_SEP)) == NULL ||
		    (s2 = strstr(s1 + 2, CELERY_SEP)) == NULL ||
		    (size_t)(s1 - p) != strlen(key) ||
		    strncmp(p, key, strlen(key)) != 0)
			continue;
		snprintf(q, sizeof(q), "%s", s2 + 2);
		r2 = redisCommand(c, "LPUSH %s %b", q, text, len);
		if (r2 != NULL)
			freeReplyObject(r2);
	}
	if (r != NULL)
		freeReplyObject(r);
	free(text);
}

/*
 * Remote-control methods that stop the worker, kill its tasks or change
 * how it runs them (Celery's pool and consumer commands answer KeyError
 * here anyway, but are refused by name first so the log says so).
 * Anyone allowed to PUBLISH on the broker could send them; they are
 * refused unless worker.remote_control_dangerous is on.  Inspection
 * (ping, stats, active, ...) and plain revoke stay allowed.
 */
static int
dangerous(const char *method, struct json_object *args)
{
	static const char *const names[] = {
		"shutdown", "terminate", "pool_restart", "pool_grow",
		"pool_shrink", "autoscale", "add_consumer", "cancel_consumer",
		"time_limit", "rate_limit", NULL
	};
	struct json_object *v;
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(method, names[i]) == 0)
			return 1;
	/* revoke(terminate=True) kills a running task */
	return strcmp(method, "revoke") == 0 && args != NULL &&
	    json_object_object_get_ex(args, "terminate", &v) &&
	    json_object_get_boolean(v);
}

/* Decodes and answers one pidbox request envelope. */
static void
handle_request(const char *payload, size_t len)
{
	struct json_object *env, *h, *v, *body = NULL, *req = NULL, *args;
	struct json_object *reply_to = NULL, *ticket = NULL, *method = NULL;
	struct json_object *result;
	unsigned char *bin = NULL;
	const char *b64;
	size_t n, blen;

	if ((env = json_tokener_parse(payload)) == NULL || len == 0) {
		log_warnx("pidbox: undecodable request ignored");
		return;
	}
	if (json_object_object_get_ex(env, "headers", &h) &&
	    json_object_object_get_ex(h, "clock", &v) &&
	    json_object_is_type(v, json_type_int))
		wk_clock_seen((unsigned long)json_object_get_int64(v));
	if (!json_object_object_get_ex(env, "body", &body) ||
	    !json_object_is_type(body, json_type_string))
		goto out;
	b64 = json_object_get_string(body);
	n = (size_t)json_object_get_string_len(body);
	if ((bin = malloc(n + 1)) == NULL ||
	    sodium_base642bin(bin, n + 1, b64, n, "\r\n", &blen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		goto out;
	bin[blen] = '\0';
	if ((req = json_tokener_parse((char *)bin)) == NULL ||
	    !json_object_object_get_ex(req, "method", &method) ||
	    !json_object_is_type(method, json_type_string))
		goto out;
	if (!for_us(req))
		goto out;
	if (!json_object_object_get_ex(req, "arguments", &args) ||
	    !json_object_is_type(args, json_type_object))
		args = NULL;
	log_debug("pidbox: %s", json_object_get_string(method));
	if (dangerous(json_object_get_string(method), args) &&
	    !config_get_bool("worker.remote_control_dangerous", 0)) {
		log_warnx("remote control: %s refused "
		    "(worker.remote_control_dangerous is off)",
		    json_object_get_string(method));
		result = json_object_new_object();
		json_object_object_add(result, "error", json_object_new_string(
		    "refused: worker.remote_control_dangerous is off"));
	} else
		result = dispatch(json_object_get_string(method), args);
	json_object_object_get_ex(req, "reply_to", &reply_to);
	json_object_object_get_ex(req, "ticket", &ticket);
	if (result != NULL && json_object_is_type(reply_to,
	    json_type_object) && json_object_is_type(ticket,
	    json_type_string))
		send_reply(reply_to, json_object_get_string(ticket), result);
	json_object_put(result);
out:
	free(bin);
	json_object_put(req);
	json_object_put(env);
}

static void
handle_reply(redisReply *r)
{
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(r->element[0]->str, "pmessage") == 0 &&
	    r->element[3]->type == REDIS_REPLY_STRING)
		handle_request(r->element[3]->str, r->element[3]->len);
}

void
pidbox_poll(redisContext **sub, int ms)
{
	struct pollfd pfd;
	struct errbuf err;
	redisReply *r;
	void *rp;

	if (rconn_dead(*sub)) {
		if (util_now() >= next_retry) {
			next_retry = util_now() + SUB_RETRY_S;
			if (pidbox_start(sub, &err) == -1)
				log_warnx("remote control: %s", err.msg);
			else
				log_info("remote control reconnected");
		}
		if (rconn_dead(*sub)) {
			poll(NULL, 0, ms);
			return;
		}
	}
	pfd.fd = (*sub)->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, ms) <= 0)
		return;
	if (redisBufferRead(*sub) != REDIS_OK)
		return;		/* dead; reconnected next time */
	for (;;) {
		rp = NULL;
		if (redisReaderGetReply((*sub)->reader, &rp) != REDIS_OK) {
			(*sub)->err = REDIS_ERR_PROTOCOL;
			return;
		}
		if (rp == NULL)
			break;
		r = rp;
		handle_reply(r);
		freeReplyObject(r);
	}
}
