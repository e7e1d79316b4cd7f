/*
 * The watchdog: one extra child of every worker's main process.
 *
 * Why a process of its own: it talks to PostgreSQL, whose calls block
 * for seconds when the database is down; the main process must keep
 * answering remote control, enforcing hard time limits and reaping
 * children meanwhile.  Being a child of the main process it lives
 * exactly as long as the worker (PR_SET_PDEATHSIG), and it can read the
 * shared slot table to see which tasks this node is running.
 *
 * Every watchdog.interval_s (default 5) it
 *  1. refreshes csv_jobs.worker_heartbeat_at of the jobs whose task a
 *     slot of this node is running (so a job waiting for the payer or
 *     for a slow batch never looks dead), and sets the Redis key
 *     bulkclaims:worker:<node> (TTL 3 intervals) that /health and
 *     /metrics count as a live worker.  A job this node claimed that
 *     no slot runs any more (its process crashed or hit the hard time
 *     limit: the main process acknowledged its message as Celery does)
 *     is requeued at once, without waiting for watchdog.stale_s: this
 *     node knows for sure that nobody runs it;
 *  2. sweeps, under a PostgreSQL advisory lock so one watchdog of all
 *     nodes does it at a time:
 *     - a PROCESSING job without a heartbeat for watchdog.stale_s
 *       (default 120) lost its worker: it goes back to PENDING and its
 *       message is put back (restored from unacked if a dead worker
 *       still holds it there, else published again with the same task
 *       id).  After watchdog.max_requeues (default 5) it is FAILED: a
 *       job that kills its worker every time must not loop forever;
 *     - a CANCELLING job without a heartbeat is CANCELLED (nobody is
 *       left to see the request);
 *     - a PENDING job older than watchdog.pending_s (default 60) whose
 *       task id is neither in the queue nor in unacked never reached
 *       Redis (the app died between commit and publish, or Redis was
 *       down): it is published again.
 * Duplicate messages are harmless: the task claims a job only when it
 * is PENDING or its heartbeat is stale (job_claim(), lib/job.c).
 * Every job state change here is a transition of lib/job.c.
 */
#include <sys/prctl.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "celery.h"
#include "celery_transport.h"
#include "config.h"
#include "db.h"
#include "job.h"
#include "log.h"
#include "redisconn.h"
#include "task_csv.h"
#include "util.h"
#include "watchdog.h"
#include "worker.h"

#define TASK_NAME	"claims.tasks.process_csv_file"
/* Any constant shared by every watchdog: the sweep's advisory lock. */
#define SWEEP_LOCK	"8080808"
/* Messages looked at in one queue scan (a longer queue: the rest unseen). */
#define SCAN_MAX	10000

static volatile int wd_stop;
static int wd_db_down;		/* logged once per outage */
static volatile sig_atomic_t hup;
static char *cfg_path;
static PGconn *wd_db;
static redisContext *wd_redis;

static void
wd_on_term(int sig)
{
	(void)sig;
	wd_stop = 1;
}

static PGconn *
wd_pg(void)
{
	struct errbuf err;

	if (wd_db != NULL && db_ensure(wd_db))
		return wd_db;
	if (wd_db != NULL)
		PQfinish(wd_db);
	wd_db = db_connect(config_get_own("database.url", NULL),
	    "bulkclaims-watchdog", &err);
	if (wd_db == NULL && !wd_db_down)
		log_warnx("watchdog: %s (retrying quietly)", err.msg);
	else if (wd_db != NULL && wd_db_down)
		log_info("watchdog: database back");
	wd_db_down = wd_db == NULL;
	return wd_db;
}

static redisContext *
wd_rd(void)
{
	struct errbuf err;

	if (wd_redis != NULL && !rconn_dead(wd_redis))
		return wd_redis;
	if (wd_redis != NULL)
		redisFree(wd_redis);
	wd_redis = rconn_connect(wk_cfg.redis_url, 5000, &err);
	if (wd_redis == NULL)
		log_warnx("watchdog: redis: %s", err.msg);
	return wd_redis;
}

/* The task ids of process_csv_file runs on this node, as a PG array. */
static int
busy_tasks(char *out, size_t outsz)
{
	size_t o = 0;
	int i, n = 0;

	o += (size_t)snprintf(out, outsz, "{");
	wk_lock();
	for (i = 0; i < wk_cfg.concurrency; i++) {
		struct wk_slot *s = &wk_sh->slots[i];

		if (!s->busy || strcmp(s->cur.name, TASK_NAME) != 0 ||
		    !util_is_uuid(s->cur.id))
			continue;
		if (o + 40 >= outsz)
			break;
		o += (size_t)snprintf(out + o, outsz - o, "%s%s",
		    n > 0 ? "," : "", s->cur.id);
		n++;
	}
	wk_unlock();
	snprintf(out + o, outsz - o, "}");
	return n;
}

static void wd_requeue(const char *, const char *, int);

/*
 * Jobs this node claimed that none of its slots runs: requeued now.
 * A slot is marked busy before its task claims the job and the job is
 * finished before the slot is freed, so such a job lost its process;
 * the grace of three intervals without a heartbeat covers the moments
 * in between.  A job past watchdog.max_requeues is left to the sweep,
 * which fails it.
 */
static void
wd_orphans(PGconn *db, const char *ids, long interval)
{
	char node[CELERY_NAME_MAX + 24];
	PGresult *res;
	int i;

	/* As the claim writes it (task_csv.c); our parent is the main. */
	snprintf(node, sizeof(node), "%s/%ld", wk_cfg.node, (long)getppid());
	res = job_requeue_orphans(db, NULL, node, ids, interval * 3,
	    config_get_long("watchdog.max_requeues", 5));
	for (i = 0; res != NULL && i < PQntuples(res); i++) {
		log_warnx("watchdog: job=%s is not running on this node any "
		    "more; requeued", PQgetvalue(res, i, 0));
		wd_requeue(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), 0);
	}
	PQclear(res);
}

/* Step 1: heartbeats of running jobs and the node's liveness key. */
static void
wd_heartbeat(long interval)
{
	char ids[CELERY_MAX_CONCURRENCY * 40 + 8], key[CELERY_NAME_MAX + 32];
	struct json_object *o;
	redisContext *c;
	redisReply *rep;
	PGconn *db;
	int n, i, active = 0;

	n = busy_tasks(ids, sizeof(ids));
	if ((db = wd_pg()) != NULL) {
		if (n > 0 && job_heartbeat_tasks(db, NULL, ids) != 0)
			log_warnx("watchdog: heartbeat update failed");
		wd_orphans(db, ids, interval);
	}
	wk_lock();
	for (i = 0; i < wk_cfg.concurrency; i++)
		active += wk_sh->slots[i].busy;
	wk_unlock();
	if ((c = wd_rd()) == NULL)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "node", json_object_new_string(wk_cfg.node));
	json_object_object_add(o, "pid", json_object_new_int((int)getppid()));
	json_object_object_add(o, "concurrency",
	    json_object_new_int(wk_cfg.concurrency));
	json_object_object_add(o, "active", json_object_new_int(active));
	json_object_object_add(o, "ts", json_object_new_double(util_now()));
	snprintf(key, sizeof(key), "bulkclaims:worker:%s", wk_cfg.node);
	rep = redisCommand(c, "SET %s %s EX %ld", key,
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    interval * 3 > 15 ? interval * 3 : 15);
	if (rep == NULL)
		log_warnx("watchdog: redis: %s", c->errstr);
	freeReplyObject(rep);
	json_object_put(o);
}

/* The task id of a raw envelope (headers.id), copied into id; 0 or -1. */
static int
envelope_task_id(struct json_object *env, char *id, size_t idsz)
{
	struct json_object *h, *v;

	if (!json_object_object_get_ex(env, "headers", &h) ||
	    !json_object_object_get_ex(h, "id", &v) ||
	    !json_object_is_type(v, json_type_string))
		return -1;
	snprintf(id, idsz, "%s", json_object_get_string(v));
	return 0;
}

/* Candidates looked up in one scan of the queues and unacked. */
#define LOOKUP_MAX	100
#define LOOKUP_MAX_S	"100"

struct lookup {
	const char	*task_id;
	int		 where;		/* 0 nowhere, 1 queue, 2 unacked */
	char		 tag[CELERY_ID_MAX];	/* delivery tag if unacked */
};

/* Marks the candidates whose task id is id as found at where. */
static void
lookup_mark(struct lookup *l, int n, const char *id, int where,
    const char *tag)
{
	int i;

	for (i = 0; i < n; i++)
		if (l[i].where == 0 && strcmp(l[i].task_id, id) == 0) {
			l[i].where = where;
			if (tag != NULL)
				snprintf(l[i].tag, sizeof(l[i].tag), "%s",
				    tag);
		}
}

/*
 * Looks for the candidates' task ids among the messages waiting in the
 * queues (up to SCAN_MAX each) and held in unacked: one pass for all of
 * them, each message parsed once.  Returns 0, or -1 on a Redis error.
 */
static int
find_messages(redisContext *c, struct lookup *l, int n)
{
	struct json_object *v, *env;
	redisReply *rep;
	char qkey[CELERY_NAME_MAX + 8], id[CELERY_ID_MAX];
	size_t i;
	int q, pr;

	for (q = 0; q < wk_cfg.nqueues; q++) {
		for (pr = 0; pr <= 9; pr += 3) {
			if (celery_queue_key(wk_cfg.queues[q], pr, qkey,
			    sizeof(qkey)) == 0)
				continue;
			rep = redisCommand(c, "LRANGE %s 0 %d", qkey,
			    SCAN_MAX - 1);
			if (rep == NULL)
				return -1;
			for (i = 0; rep->type == REDIS_REPLY_ARRAY &&
			    i < rep->elements; i++) {
				env = json_tokener_parse(rep->element[i]->str);
				if (env != NULL && envelope_task_id(env, id,
				    sizeof(id)) == 0)
					lookup_mark(l, n, id, 1, NULL);
				json_object_put(env);
			}
			freeReplyObject(rep);
		}
	}
	if ((rep = redisCommand(c, "HGETALL unacked")) == NULL)
		return -1;
	for (i = 0; rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements;
	    i += 2) {
		/* [envelope, exchange, routing_key] */
		v = json_tokener_parse(rep->element[i + 1]->str);
		env = json_object_array_get_idx(v, 0);
		if (env != NULL && envelope_task_id(env, id, sizeof(id)) == 0)
			lookup_mark(l, n, id, 2, rep->element[i]->str);
		json_object_put(v);
	}
	freeReplyObject(rep);
	return 0;
}

/*
 * Makes sure a message for the job is queued; publishes it again when
 * it is nowhere.  holder_dead: the job's worker is known to be gone,
 * so a message of the job in unacked is restored (put back on the
 * queue); otherwise a message in unacked is a live worker's.  l: the
 * job's lookup if done already (several jobs at once), or NULL.
 */
static void
wd_requeue_looked(const char *job_id, const char *task_id, int holder_dead,
    struct lookup *l)
{
	struct json_object *args;
	struct lookup one;
	struct errbuf err;
	redisContext *c;

	if ((c = wd_rd()) == NULL)
		return;
	if (l == NULL) {
		memset(&one, 0, sizeof(one));
		one.task_id = task_id;
		l = &one;
		if (find_messages(c, l, 1) == -1) {
			log_warnx("watchdog: redis: %s", c->errstr);
			return;
		}
	}
	if (l->where == 1 || (l->where == 2 && !holder_dead))
		return;
	if (l->where == 2) {
		if (celery_restore(c, l->tag, 0, &err) == -1)
			log_warnx("watchdog: restore job=%s: %s", job_id,
			    err.msg);
		else
			log_info("watchdog: restored the message of job=%s "
			    "task=%s", job_id, task_id);
		return;
	}
	args = json_object_new_array();
	json_object_array_add(args, json_object_new_string(job_id));
	if (celery_publish(c, wk_cfg.queues[0], TASK_NAME, task_id, args, NULL,
	    &err) == -1)
		log_warnx("watchdog: publish job=%s: %s", job_id, err.msg);
	else
		log_info("watchdog: published job=%s task=%s again", job_id,
		    task_id);
	json_object_put(args);
}

static void
wd_requeue(const char *job_id, const char *task_id, int holder_dead)
{
	wd_requeue_looked(job_id, task_id, holder_dead, NULL);
}

/* Step 2: the sweep over unfinished jobs. */
static void
wd_sweep(void)
{
	char pend[24];
	const char *p[1];
	long stale_s, max_rq;
	PGresult *res, *lk;
	PGconn *db;
	int i;

	if ((db = wd_pg()) == NULL)
		return;
	lk = db_exec(db, NULL, "SELECT pg_try_advisory_lock(" SWEEP_LOCK ")",
	    0, NULL);
	if (lk == NULL || PQgetvalue(lk, 0, 0)[0] != 't') {
		PQclear(lk);
		return;
	}
	PQclear(lk);
	stale_s = config_get_long("watchdog.stale_s", 120);
	max_rq = config_get_long("watchdog.max_requeues", 5);
	snprintf(pend, sizeof(pend), "%ld",
	    config_get_long("watchdog.pending_s", 60));

	/* Jobs that lost their worker too often: FAILED. */
	res = job_fail_lost(db, NULL, stale_s, max_rq);
	for (i = 0; res != NULL && i < PQntuples(res); i++) {
		log_warnx("watchdog: job=%s failed: worker lost %ld times",
		    PQgetvalue(res, i, 0), max_rq);
		notify_queue(wd_rd(), wk_cfg.queues[0], PQgetvalue(res, i, 0));
	}
	PQclear(res);

	/* Lost workers: back to PENDING, message put back. */
	res = job_requeue(db, NULL, stale_s, max_rq);
	for (i = 0; res != NULL && i < PQntuples(res); i++) {
		log_warnx("watchdog: job=%s lost its worker; requeued",
		    PQgetvalue(res, i, 0));
		wd_requeue(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), 1);
	}
	PQclear(res);

	/* Cancel requests nobody is left to see. */
	res = job_cancel_orphans(db, NULL, stale_s);
	for (i = 0; res != NULL && i < PQntuples(res); i++)
		log_info("watchdog: job=%s cancelled (no worker)",
		    PQgetvalue(res, i, 0));
	PQclear(res);

	/* PENDING jobs whose message never reached Redis. */
	p[0] = pend;
	res = db_exec(db, NULL, "SELECT id, celery_task_id FROM csv_jobs "
	    "WHERE status = 'PENDING' AND celery_task_id IS NOT NULL "
	    "AND created_at < now() - make_interval(secs => $1::int) "
	    "ORDER BY created_at LIMIT " LOOKUP_MAX_S, 1, p);
	if (res != NULL && PQntuples(res) > 0 && wd_rd() != NULL) {
		struct lookup l[LOOKUP_MAX];
		int n = PQntuples(res) < LOOKUP_MAX ? PQntuples(res) :
		    LOOKUP_MAX;

		memset(l, 0, sizeof(l));
		for (i = 0; i < n; i++)
			l[i].task_id = PQgetvalue(res, i, 1);
		if (find_messages(wd_rd(), l, n) == -1)
			log_warnx("watchdog: redis: queue scan failed");
		else
			for (i = 0; i < n; i++)
				wd_requeue_looked(PQgetvalue(res, i, 0),
				    l[i].task_id, 0, &l[i]);
	}
	PQclear(res);

	PQclear(db_exec(db, NULL, "SELECT pg_advisory_unlock(" SWEEP_LOCK ")",
	    0, NULL));
}

void
reload_init(const char *path)
{
	free(cfg_path);
	cfg_path = path != NULL ? strdup(path) : NULL;
}

void
reload_on_hup(int sig)
{
	(void)sig;
	hup = 1;
}

int
reload_if_asked(void)
{
	struct errbuf err;

	if (!hup)
		return 0;
	hup = 0;
	log_reopen();
	if (config_load(cfg_path, &err) == -1) {
		/* config_load keeps the old configuration: say why. */
		log_warnx("configuration reload failed: %s", err.msg);
		return 1;
	}
	log_info("configuration reloaded");
	return 1;
}

int
watchdog_run(void)
{
	struct sigaction sa;
	struct timespec ts;
	long interval;
	double next = 0;
	sigset_t none;

	/* Dies with the worker: no orphan keeps a job's heartbeat alive. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = wd_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sa.sa_handler = reload_on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (getppid() == 1)
		return 1;
	interval = config_get_long("watchdog.interval_s", 5);
	if (interval < 1)
		interval = 1;
	if (!config_get_bool("watchdog.enabled", 1))
		log_info("watchdog: sweep disabled (watchdog.enabled = 0)");
	while (!wd_stop) {
		if (reload_if_asked()) {
			interval = config_get_long("watchdog.interval_s", 5);
			if (interval < 1)
				interval = 1;
		}
		if (util_now() >= next) {
			wd_heartbeat(interval);
			if (config_get_bool("watchdog.enabled", 1))
				wd_sweep();
			next = util_now() + (double)interval;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = 200 * 1000000L;
		nanosleep(&ts, NULL);
	}
	if (wd_db != NULL)
		PQfinish(wd_db);
	if (wd_redis != NULL)
		redisFree(wd_redis);
	return 0;
}
