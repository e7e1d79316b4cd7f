/*
 * A worker child: Celery's consumer loop.  BRPOP over the queues, record
 * the message in unacked, validate it (malformed messages are rejected,
 * see docs/celery.md), hold ETA messages, run the task from the registry,
 * write results and events, acknowledge where the task's acks_late option
 * says, retry by republishing.  Never dies on input: everything bad is
 * logged without its content and acknowledged away.
 */
#include <sys/time.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "celery.h"
#include "celery_event.h"
#include "celery_transport.h"
#include "log.h"
#include "redisconn.h"
#include "tasks.h"
#include "util.h"
#include "watchdog.h"
#include "worker.h"
#include "canvas.h"

/* Socket read timeout of the consumer connection: > the BRPOP timeout. */
#define CONSUMER_TIMEOUT_MS	5000
/* Command connection: results, acks; a healthy Redis answers at once. */
#define COMMAND_TIMEOUT_MS	10000

/* A message this process took from Redis and has not finished. */
struct held {
	struct celery_message	 msg;
	char			*raw;
	size_t			 rawlen;
	const struct task_def	*def;
};

static volatile int stop_flag;		/* warm shutdown requested */
static volatile int task_stop;		/* ctx->stop: shutdown or soft limit */
static redisContext *rc_cons, *rc_cmd;
static struct celery_consumer cons;
static struct held *held[CELERY_MAX_HELD];
static int nheld;
static int myslot;
static pid_t main_pid;

static void
on_term(int sig)
{
	stop_flag = 1;
	task_stop = 1;
}

static void
on_quit(int sig)
{
	/* Cold shutdown: held messages stay in unacked for a restore. */
	_exit(1);
}

static void
on_alarm(int sig)
{
	task_stop = 1;	/* the soft time limit */
}

/*
 * The command connection, reconnected (with backoff, until it works or
 * a shutdown starts) if it died.  NULL if Redis is unreachable; the
 * celery_* functions then fail cleanly.
 */
static redisContext *
cmd(void)
{
	struct errbuf err;
	int was = rc_cmd != NULL;

	if (rconn_dead(rc_cmd)) {
		if (rc_cmd != NULL)
			log_warnx("redis command connection lost: %s",
			    rc_cmd->errstr);
		if (stop_flag) {
			/* Shutting down: one try, do not hang. */
			if (rc_cmd != NULL)
				redisFree(rc_cmd);
			rc_cmd = rconn_connect(wk_cfg.redis_url,
			    COMMAND_TIMEOUT_MS, &err);
		} else if (rconn_reconnect(&rc_cmd, wk_cfg.redis_url,
		    COMMAND_TIMEOUT_MS, &stop_flag, &err) == -1)
			log_warnx("redis: %s", err.msg);
		else if (was)
			log_info("redis command connection restored");
	}
	return rc_cmd;
}

/* exc_module for an exception name, so Python rebuilds the right class. */
static const char *
exc_module(const char *type)
{
	static const char *builtins[] = { "ValueError", "TypeError",
	    "KeyError", "RuntimeError", "TimeoutError", "ConnectionError",
	    "LookupError", "OSError", NULL };
	int i;

	if (strcmp(type, "SoftTimeLimitExceeded") == 0 ||
	    strcmp(type, "TimeLimitExceeded") == 0)
		return "billiard.exceptions";
	if (strcmp(type, "NotRegistered") == 0 ||
	    strcmp(type, "TaskRevokedError") == 0 ||
	    strcmp(type, "InvalidTaskError") == 0 ||
	    strcmp(type, "MaxRetriesExceededError") == 0)
		return "celery.exceptions";
	for (i = 0; builtins[i] != NULL; i++)
		if (strcmp(type, builtins[i]) == 0)
			return "builtins";
	return NULL;	/* Python synthesizes a class of that name */
}

/* Exception result; an empty message gives exc_message [] as Python. */
static struct json_object *
exc_result(const char *type, const char *message)
{
	return celery_exc_new(type, exc_module(type),
	    message && *message ? message : NULL);
}

static void
store(const struct celery_message *m, const char *status,
    struct json_object *result, const char *tb, struct json_object *children)
{
	struct celery_result r;
	struct errbuf err;

	memset(&r, 0, sizeof(r));
	r.task_id = m->id;
	r.status = status;
	r.result = result;
	r.traceback = tb;
	r.children = children;
	r.group_id = m->group[0] ? m->group : NULL;
	r.parent_id = m->parent_id[0] ? m->parent_id : NULL;
	r.expires_s = wk_cfg.result_expires;
	if (celery_store_result_ex(cmd(), &r, &err) == -1)
		log_warnx("task %s: storing %s failed: %s", m->id, status,
		    err.msg);
}

static int
events_on(void)
{
	return __atomic_load_n(&wk_sh->task_events, __ATOMIC_RELAXED);
}

/* Sends a task event with ev's specific fields (ev taken). */
static void
task_event(const char *type, struct json_object *fields)
{
	struct json_object *ev;
	struct errbuf err;

	if (!events_on()) {
		json_object_put(fields);
		return;
	}
	ev = celery_event_new(wk_cfg.node, main_pid, wk_clock_tick());
	json_object_object_foreach(fields, k, v)
		json_object_object_add(ev, k, json_object_get(v));
	json_object_put(fields);
	if (celery_event_send(cmd(), wk_cfg.db, wk_cfg.node, type, ev,
	    &err) == -1)
		log_warnx("event %s: %s", type, err.msg);
}

static struct json_object *
ev_uuid(const char *id)
{
	struct json_object *f = json_object_new_object();

	json_object_object_add(f, "uuid", json_object_new_string(id));
	return f;
}

static void
ack(const struct celery_message *m)
{
	struct errbuf err;

	if (celery_ack(cmd(), m->delivery_tag, &err) == -1)
		log_warnx("task %s: ack failed: %s", m->id, err.msg);
}

/* REVOKED with reason "expired" or "revoked" (as Celery does), then ack. */
static void
revoke_msg(const struct celery_message *m, int expired)
{
	struct json_object *res, *f;

	log_info("task %s[%s] %s", m->task, m->id, expired ? "expired" :
	    "revoked, discarded");
	res = celery_exc_new("TaskRevokedError", "celery.exceptions",
	    expired ? "expired" : "revoked");
	if (!m->ignore_result)
		store(m, "REVOKED", res, NULL, NULL);
	json_object_put(res);
	f = ev_uuid(m->id);
	json_object_object_add(f, "terminated", json_object_new_boolean(0));
	json_object_object_add(f, "signum", NULL);
	json_object_object_add(f, "expired", json_object_new_boolean(expired));
	task_event("task-revoked", f);
	ack(m);
}

static void
reqinfo_fill(struct wk_reqinfo *ri, const struct celery_message *m)
{
	memset(ri, 0, sizeof(*ri));
	snprintf(ri->id, sizeof(ri->id), "%s", m->id);
	snprintf(ri->name, sizeof(ri->name), "%s", m->task);
	snprintf(ri->argsrepr, sizeof(ri->argsrepr), "%s", m->argsrepr);
	snprintf(ri->kwargsrepr, sizeof(ri->kwargsrepr), "%s", m->kwargsrepr);
	snprintf(ri->delivery_tag, sizeof(ri->delivery_tag), "%s",
	    m->delivery_tag);
	snprintf(ri->exchange, sizeof(ri->exchange), "%s", m->exchange);
	snprintf(ri->routing_key, sizeof(ri->routing_key), "%s",
	    m->routing_key);
	ri->priority = m->priority;
	ri->redelivered = m->redelivered;
	ri->eta = m->eta;
}

static void	held_free(struct held *);

/*
 * With the shared lock held: forgets held messages the main process
 * handed back to the queue while we were busy (they now belong to
 * whoever pops them: no ack, no restore), then mirrors the rest into the
 * shared slot for inspect, touching and restore.
 */
static void
sync_held_locked(void)
{
	struct wk_slot *s = &wk_sh->slots[myslot];
	int i, j;

	for (i = 0; i < nheld; i++)
		for (j = 0; j < s->nheld; j++)
			if (s->held[j].stolen && strcmp(s->held[j].delivery_tag,
			    held[i]->msg.delivery_tag) == 0) {
				log_info("task %s[%s] was handed to another "
				    "process", held[i]->msg.task,
				    held[i]->msg.id);
				held_free(held[i]);
				held[i--] = held[--nheld];
				break;
			}
	for (i = 0; i < nheld; i++)
		reqinfo_fill(&s->held[i], &held[i]->msg);
	s->nheld = nheld;
}

static void
publish_held(void)
{
	wk_lock();
	sync_held_locked();
	wk_unlock();
}

static void
count_task(const struct task_def *d)
{
	long idx = d - task_defs;

	wk_lock();
	wk_sh->processed++;
	if (idx >= 0 && idx < WK_TOTALS_MAX)
		wk_sh->totals[idx]++;
	wk_unlock();
}

static void
arm_soft_limit(double secs)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	if (secs > 0) {
		it.it_value.tv_sec = (time_t)secs;
		it.it_value.tv_usec = (suseconds_t)((secs -
		    (double)(time_t)secs) * 1e6);
		if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
			it.it_value.tv_usec = 1;
	}
	setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * Celery's retry (Task.retry): republish the same id with retries + 1 and
 * an ETA, store RETRY; past max_retries the exception is the FAILURE.
 * Returns 1 if retried, 0 if the caller must store FAILURE.
 */
static int
retry(const struct celery_message *m, const struct task_def *d,
    const struct task_result *res)
{
	struct celery_task_opts o;
	struct json_object *exc, *children, *f;
	struct errbuf err;
	long maxr = task_option(d, "max_retries"), countdown;
	char tb[700];

	if (maxr >= 0 && m->retries + 1 > maxr)
		return 0;
	countdown = res->countdown > 0 ? res->countdown :
	    task_option(d, "default_retry_delay");
	memset(&o, 0, sizeof(o));
	o.priority = m->priority;
	o.eta = util_now() + (double)countdown;
	o.expires = m->expires;
	o.time_limit = m->time_limit;
	o.soft_time_limit = m->soft_time_limit;
	o.retries = m->retries + 1;
	o.root_id = m->root_id;
	o.parent_id = m->id;
	o.group = m->group[0] ? m->group : NULL;
	o.reply_to = m->reply_to[0] ? m->reply_to : NULL;
	o.ignore_result = m->ignore_result;
	o.embed = m->embed;
	if (celery_publish_ex(cmd(), m->routing_key[0] ? m->routing_key :
	    wk_cfg.queues[0], m->task, m->id, m->args, m->kwargs, &o,
	    &err) == -1) {
		log_warnx("task %s: retry publish failed: %s", m->id, err.msg);
		return 0;
	}
	log_info("task %s[%s] retry %ld in %lds: %s", m->task, m->id,
	    o.retries, countdown, res->exc_type);
	exc = exc_result(res->exc_type, res->exc_message);
	snprintf(tb, sizeof(tb), "celery.exceptions.Retry: Retry in %lds: "
	    "%s('%s')\n", countdown, res->exc_type, res->exc_message);
	children = json_tokener_parse("[[[\"\", null], null]]");
	json_object_array_put_idx(json_object_array_get_idx(
	    json_object_array_get_idx(children, 0), 0), 0,
	    json_object_new_string(m->id));
	if (!m->ignore_result)
		store(m, "RETRY", exc, tb, children);
	json_object_put(children);
	json_object_put(exc);
	f = ev_uuid(m->id);
	json_object_object_add(f, "exception", json_object_new_string(
	    res->exc_type));
	json_object_object_add(f, "traceback", json_object_new_string(tb));
	task_event("task-retried", f);
	return 1;
}

/*
 * Runs one accepted message to completion: run the task, store the
 * result, send the events, acknowledge.
 */
static void
execute(struct held *h)
{
	struct celery_message *m = &h->msg;
	const struct task_def *d = h->def;
	struct wk_slot *s = &wk_sh->slots[myslot];
	struct task_result res;
	struct task_ctx ctx;
	struct json_object *v, *f, *children;
	double soft, hard, t0, now = util_now();
	struct errbuf err;
	int acks_late, rc, requeued = 0;
	char tb[1200], *repr;

	if (m->expires > 0 && now > m->expires) {
		revoke_msg(m, 1);
		return;
	}
	if (wk_is_revoked(m->id)) {
		revoke_msg(m, 0);
		return;
	}
	acks_late = (int)task_option(d, "acks_late");
	soft = (double)task_option(d, "soft_time_limit");
	hard = (double)task_option(d, "time_limit");
	if (d - task_defs >= 0 && d - task_defs < WK_TOTALS_MAX) {
		/* `celery control time_limit` changed the task's defaults. */
		wk_lock();
		if (wk_sh->soft_override[d - task_defs] >= 0)
			soft = wk_sh->soft_override[d - task_defs];
		if (wk_sh->hard_override[d - task_defs] >= 0)
			hard = wk_sh->hard_override[d - task_defs];
		wk_unlock();
	}
	/* The message's timelimit header wins over the task's own limits. */
	if (m->soft_time_limit > 0)
		soft = m->soft_time_limit;
	if (m->time_limit > 0)
		hard = m->time_limit;
	if (!acks_late)
		ack(m);
	wk_lock();
	reqinfo_fill(&s->cur, m);
	s->cur.time_start = now;
	s->cur.acknowledged = !acks_late;
	s->acks_late = acks_late;
	s->hard_limit = hard;
	s->hard_deadline = hard > 0 ? now + hard : 0;
	s->busy = 1;
	wk_unlock();
	task_event("task-started", ev_uuid(m->id));
	if (task_option(d, "track_started")) {
		v = json_object_new_object();
		json_object_object_add(v, "pid", json_object_new_int(
		    (int)getpid()));
		json_object_object_add(v, "hostname",
		    json_object_new_string(wk_cfg.node));
		store(m, "STARTED", v, NULL, NULL);
		json_object_put(v);
	}

	memset(&res, 0, sizeof(res));
	memset(&ctx, 0, sizeof(ctx));
	ctx.task_id = m->id;
	ctx.retries = m->retries;
	ctx.soft_deadline = soft > 0 ? now + soft : 0;
	ctx.stop = &task_stop;
	ctx.redis = cmd();
	ctx.hostname = wk_cfg.node;
	task_stop = stop_flag;
	arm_soft_limit(soft);
	t0 = util_now();
	rc = d->fn(&ctx, m->args, m->kwargs, &res);
	arm_soft_limit(0);
	task_stop = stop_flag;

	if (rc == 0) {
		log_info("task %s[%s] succeeded in %.3fs", m->task, m->id,
		    util_now() - t0);
		children = json_object_new_array();
		canvas_on_success(cmd(), m, res.value, children);
		if (!m->ignore_result)
			store(m, "SUCCESS", res.value, NULL, children);
		json_object_put(children);
		f = ev_uuid(m->id);
		repr = celery_pyrepr(res.value, 0);
		json_object_object_add(f, "result", json_object_new_string(
		    repr ? repr : "None"));
		free(repr);
		json_object_object_add(f, "runtime",
		    json_object_new_double(util_now() - t0));
		task_event("task-succeeded", f);
	} else if (res.retry && stop_flag && acks_late) {
		/*
		 * Stopped by a warm shutdown and asking to be retried: put
		 * the message back unchanged (no retry counted, no result),
		 * as if this worker had never taken it.
		 */
		if (celery_restore(cmd(), m->delivery_tag, 0, &err) == -1)
			log_warnx("task %s: requeue failed: %s", m->id,
			    err.msg);
		else
			log_info("task %s[%s] stopped by shutdown, requeued",
			    m->task, m->id);
		requeued = 1;
	} else if (!(res.retry && retry(m, d, &res))) {
		if (res.exc_type[0] == '\0')
			snprintf(res.exc_type, sizeof(res.exc_type),
			    "CTaskError");
		log_info("task %s[%s] failed: %s", m->task, m->id,
		    res.exc_type);
		v = exc_result(res.exc_type, res.exc_message);
		snprintf(tb, sizeof(tb), "Traceback (most recent call last):\n"
		    "  C task %s\n%s: %s\n", m->task, res.exc_type,
		    res.exc_message);
		if (!m->ignore_result)
			store(m, "FAILURE", v, tb, NULL);
		canvas_on_failure(cmd(), m, v, wk_cfg.result_expires);
		json_object_put(v);
		f = ev_uuid(m->id);
		snprintf(tb, sizeof(tb), "%s('%s')", res.exc_type,
		    res.exc_message);
		json_object_object_add(f, "exception",
		    json_object_new_string(tb));
		json_object_object_add(f, "traceback",
		    json_object_new_string(""));
		task_event("task-failed", f);
	}
	json_object_put(res.value);
	if (acks_late && !requeued)
		ack(m);
	wk_lock();
	s->busy = 0;
	s->hard_deadline = 0;
	wk_unlock();
	count_task(d);
}

static void
held_free(struct held *h)
{
	celery_message_free(&h->msg);
	free(h->raw);
	free(h);
}

/* A message that cannot run: log (no content), FAILURE if id known. */
static void
reject_invalid(struct celery_message *m, const char *why)
{
	struct json_object *exc, *f;

	log_warnx("rejected invalid message id=%s: %s",
	    m->id[0] ? m->id : "-", why);
	if (m->id[0] != '\0') {
		exc = celery_exc_new("InvalidTaskError", "celery.exceptions",
		    why);
		store(m, "FAILURE", exc, NULL, NULL);
		json_object_put(exc);
		f = ev_uuid(m->id);
		json_object_object_add(f, "requeue",
		    json_object_new_boolean(0));
		task_event("task-rejected", f);
	}
}

/*
 * Seconds until the task's rate limit lets one more run (0: run now,
 * token taken).  The bucket is shared by all processes of this worker,
 * as Celery's limit is per worker.
 */
static double
rate_delay(const struct task_def *d)
{
	long i = d - task_defs;
	double now = util_now(), wait = 0, r;

	if (i < 0 || i >= WK_TOTALS_MAX)
		return 0;
	wk_lock();
	if ((r = wk_sh->rate[i]) > 0) {
		wk_sh->rate_tokens[i] += (now - wk_sh->rate_last[i]) * r;
		if (wk_sh->rate_tokens[i] > 1)
			wk_sh->rate_tokens[i] = 1;
		wk_sh->rate_last[i] = now;
		if (wk_sh->rate_tokens[i] >= 1)
			wk_sh->rate_tokens[i] -= 1;
		else
			wait = (1 - wk_sh->rate_tokens[i]) / r;
	}
	wk_unlock();
	return wait;
}

/* Runs h now, or holds it until its rate limit (rate_limit) allows. */
static void
run_or_hold(struct held *h)
{
	struct timespec ts;
	double wait;

	while ((wait = rate_delay(h->def)) > 0 && !stop_flag) {
		if (nheld < CELERY_MAX_HELD) {
			h->msg.eta = util_now() + wait;
			held[nheld++] = h;
			publish_held();
			return;
		}
		ts.tv_sec = (time_t)wait;
		ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	execute(h);
	held_free(h);
}

/* Handles one popped message (Celery's consumer steps); takes raw. */
static void
handle(char *raw, size_t len)
{
	struct held *h;
	struct errbuf err;
	struct json_object *exc, *f;
	char buf[CELERY_NAME_MAX + 32], why[256];

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		log_warnx("out of memory; message dropped");
		free(raw);
		return;
	}
	h->raw = raw;
	h->rawlen = len;
	if (celery_message_parse(raw, len, &h->msg, &err) == -1) {
		reject_invalid(&h->msg, err.msg);
		held_free(h);
		return;
	}
	if (celery_unacked_add(cmd(), h->msg.delivery_tag, raw, len,
	    h->msg.exchange, h->msg.routing_key, &err) == -1)
		log_warnx("task %s: unacked record failed: %s", h->msg.id,
		    err.msg);
	if (stop_flag) {
		/* Popped while shutting down: put it straight back. */
		if (celery_restore(cmd(), h->msg.delivery_tag, 0, &err) == -1)
			log_warnx("task %s: restore failed: %s", h->msg.id,
			    err.msg);
		held_free(h);
		return;
	}
	if ((h->def = task_find(h->msg.task, wk_cfg.diagnostic)) == NULL) {
		/* Spec 6.3: FAILURE NotRegistered, traceback null. */
		log_warnx("received unregistered task id=%s", h->msg.id);
		exc = celery_exc_new("NotRegistered", "celery.exceptions",
		    h->msg.task);
		store(&h->msg, "FAILURE", exc, NULL, NULL);
		json_object_put(exc);
		f = ev_uuid(h->msg.id);
		snprintf(buf, sizeof(buf), "NotRegistered('%s')", h->msg.task);
		json_object_object_add(f, "exception",
		    json_object_new_string(buf));
		task_event("task-failed", f);
		ack(&h->msg);
		held_free(h);
		return;
	}
	if (canvas_check(&h->msg, why, sizeof(why)) == -1) {
		log_warnx("task %s: %s", h->msg.id, why);
		exc = celery_exc_new("NotImplementedError", "builtins", why);
		store(&h->msg, "FAILURE", exc, NULL, NULL);
		json_object_put(exc);
		ack(&h->msg);
		held_free(h);
		return;
	}
	if (h->msg.expires > 0 && util_now() > h->msg.expires) {
		revoke_msg(&h->msg, 1);
		held_free(h);
		return;
	}
	if (wk_is_revoked(h->msg.id)) {
		revoke_msg(&h->msg, 0);
		held_free(h);
		return;
	}
	log_info("received task %s[%s]%s", h->msg.task, h->msg.id,
	    h->msg.redelivered ? " (redelivered)" : "");
	f = ev_uuid(h->msg.id);
	json_object_object_add(f, "name", json_object_new_string(h->msg.task));
	json_object_object_add(f, "args",
	    json_object_new_string(h->msg.argsrepr));
	json_object_object_add(f, "kwargs",
	    json_object_new_string(h->msg.kwargsrepr));
	json_object_object_add(f, "root_id",
	    json_object_new_string(h->msg.root_id));
	json_object_object_add(f, "parent_id", h->msg.parent_id[0] ?
	    json_object_new_string(h->msg.parent_id) : NULL);
	json_object_object_add(f, "retries",
	    json_object_new_int64(h->msg.retries));
	json_object_object_add(f, "eta", h->msg.eta_text[0] ?
	    json_object_new_string(h->msg.eta_text) : NULL);
	json_object_object_add(f, "expires", h->msg.expires_text[0] ?
	    json_object_new_string(h->msg.expires_text) : NULL);
	task_event("task-received", f);
	if (h->msg.eta > util_now() && nheld < CELERY_MAX_HELD) {
		held[nheld++] = h;	/* ETA: held until due */
		publish_held();
		return;
	}
	run_or_hold(h);
}

/* Index of the held message due first, or -1. */
static int
next_due(double *due)
{
	int i, best = -1;

	for (i = 0; i < nheld; i++)
		if (best == -1 || held[i]->msg.eta < held[best]->msg.eta)
			best = i;
	if (best >= 0)
		*due = held[best]->msg.eta;
	return best;
}

/*
 * Takes the first due held message out of the list, atomically with
 * respect to the main process handing it back to the queue.
 */
static struct held *
take_due(void)
{
	struct held *h = NULL;
	double due;
	int i;

	wk_lock();
	sync_held_locked();
	if ((i = next_due(&due)) >= 0 && due <= util_now()) {
		h = held[i];
		held[i] = held[--nheld];
		sync_held_locked();
	}
	wk_unlock();
	return h;
}

static void
run_due(void)
{
	struct held *h;

	while (!stop_flag && (h = take_due()) != NULL)
		run_or_hold(h);
}

static void
restore_held(void)
{
	struct errbuf err;
	int i, n = 0;

	/* The main process does not hand messages back while stopping. */
	publish_held();
	for (i = 0; i < nheld; i++) {
		if (celery_restore(cmd(), held[i]->msg.delivery_tag, 0,
		    &err) == -1)
			log_warnx("restore %s: %s", held[i]->msg.id, err.msg);
		else
			n++;
		held_free(held[i]);
	}
	nheld = 0;
	publish_held();
	if (n > 0)
		log_info("restored %d unacknowledged message(s)", n);
}

static void
child_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* Tasks use libpq and libcurl: spare them EINTR where possible. */
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_quit;
	sigaction(SIGQUIT, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	/* Ctrl-C reaches the whole group; the main process relays it. */
	/* Reliability: SIGHUP reloads the configuration between tasks. */
	sa.sa_handler = reload_on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

int
consumer_run(int slot)
{
	const char *qs[CELERY_MAX_QUEUES];
	struct errbuf err;
	double due, timeout;
	size_t len;
	char *raw, queue[CELERY_NAME_MAX];
	sigset_t all;
	int i, rc;

	myslot = slot;
	main_pid = getppid();
	child_signals();
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (i = 0; i < wk_cfg.nqueues; i++)
		qs[i] = wk_cfg.queues[i];
	if (celery_consumer_init(&cons, qs, wk_cfg.nqueues, &err) == -1)
		fatalx("consumer: %s", err.msg);
	if (rconn_reconnect(&rc_cons, wk_cfg.redis_url, CONSUMER_TIMEOUT_MS,
	    &stop_flag, &err) == -1 || cmd() == NULL)
		return 0;
	while (!stop_flag) {
		reload_if_asked();
		run_due();
		if (stop_flag)
			break;
		timeout = 1.0;
		if (next_due(&due) >= 0 && due - util_now() < timeout)
			timeout = due - util_now();
		if (nheld >= CELERY_MAX_HELD) {
			/* Full: wait for an ETA instead of fetching more. */
			struct timespec ts = { 0, 100 * 1000000L };

			nanosleep(&ts, NULL);
			continue;
		}
		rc = celery_consumer_pop(rc_cons, &cons, timeout, &raw, &len,
		    queue, sizeof(queue), &err);
		if (rc == -1) {
			log_warnx("consumer: %s", err.msg);
			if (rconn_dead(rc_cons)) {
				if (rconn_reconnect(&rc_cons, wk_cfg.redis_url,
				    CONSUMER_TIMEOUT_MS, &stop_flag,
				    &err) == -1)
					break;
				log_info("redis consumer connection restored");
				/* The command connection died with it. */
				redisFree(rc_cmd);
				rc_cmd = NULL;
			}
			continue;
		}
		if (rc == 1)
			handle(raw, len);
	}
	restore_held();
	if (rc_cons != NULL)
		redisFree(rc_cons);
	if (rc_cmd != NULL)
		redisFree(rc_cmd);
	return 0;
}
