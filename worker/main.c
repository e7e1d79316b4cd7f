/*
 * bulkclaims-worker: a Celery worker in C (see worker.h for the process
 * model).  The main process reads the configuration, starts one child
 * per --concurrency, and then runs the control plane: worker events and
 * heartbeats, remote control (pidbox.c), the visibility-timeout restore
 * sweep, hard time limits and restarting children that died.
 *
 * bulkclaims-worker [-c CONFIG] [-d] [-E] [--concurrency N]
 *     [--diagnostic-tasks] [-Q queue[,queue...]] [-n nodename]
 * bulkclaims-worker [-c CONFIG] --publish TASK [--args JSON]
 *     [--kwargs JSON] [--countdown S] [--expires S] [--priority P] [-Q q]
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <sodium.h>

#include "celery.h"
#include "celery_event.h"
#include "celery_transport.h"
#include "config.h"
#include "log.h"
#include "redisconn.h"
#include "tasks.h"
#include "util.h"
#include "worker.h"
#include "pidbox.h"
#include "watchdog.h"

#define SW_IDENT	"bulkclaims-c-celery"
#define SW_VER		"0.1.0"
/* Command connection timeout of the main process. */
#define MAIN_TIMEOUT_MS	5000
/* How long children get to finish and restore on a warm shutdown. */
#define WARM_GRACE_S	3600

static volatile int got_term, got_quit, got_chld;
static redisContext *rc_main, *rc_sub;
static double started;
static pid_t wd_pid;		/* the watchdog process (reliability) */
static double wd_spawned_at, wd_respawn_at;
/* Crash-loop guard: a child that dies young is restarted after a pause. */
static double spawned_at[CELERY_MAX_CONCURRENCY];
static double respawn_at[CELERY_MAX_CONCURRENCY];

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGQUIT)
		got_quit = 1;
	else
		got_term++;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bulkclaims-worker [-c config] [-d] [-E] "
	    "[--concurrency N] [--diagnostic-tasks]\n"
	    "         [-Q queue[,queue...]] [-n nodename]\n"
	    "       bulkclaims-worker [-c config] --publish task "
	    "[--args JSON] [--kwargs JSON]\n"
	    "         [--countdown S] [--expires S] [--priority P] "
	    "[-Q queue]\n");
	exit(2);
}

/* Expands Celery's %h (host name) and %n (short host name) in a node name. */
static void
expand_node(const char *in, char *out, size_t outsz)
{
	char host[256], shorthost[256], *dot;
	size_t o = 0;

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(shorthost, sizeof(shorthost), "%s", host);
	if ((dot = strchr(shorthost, '.')) != NULL)
		*dot = '\0';
	if (strchr(in, '@') == NULL) {
		/* Celery: a name without '@' gets "@<host>" appended. */
		if (snprintf(out, outsz, "%s@%s", in, host) >= (int)outsz)
			log_warnx("node name truncated");
		return;
	}
	for (; *in != '\0' && o + 1 < outsz; in++) {
		const char *sub = NULL;

		if (in[0] == '%' && in[1] == 'h')
			sub = host;
		else if (in[0] == '%' && in[1] == 'n')
			sub = shorthost;
		if (sub != NULL) {
			o += snprintf(out + o, outsz - o, "%s", sub);
			if (o >= outsz)
				o = outsz - 1;
			in++;
		} else
			out[o++] = *in;
	}
	out[o] = '\0';
}

static void
parse_queues(const char *list)
{
	const char *p = list, *e;
	size_t n;

	wk_cfg.nqueues = 0;
	while (*p != '\0' && wk_cfg.nqueues < CELERY_MAX_QUEUES) {
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		if (n > 0 && n < CELERY_NAME_MAX) {
			memcpy(wk_cfg.queues[wk_cfg.nqueues], p, n);
			wk_cfg.queues[wk_cfg.nqueues++][n] = '\0';
		}
		p = *e ? e + 1 : e;
	}
	if (wk_cfg.nqueues == 0)
		fatalx("no valid queue in \"%s\"", list);
}

/* --publish: the C producer as a command, for tests and operators. */
static int
publish_main(const char *task, const char *args_json, const char *kw_json,
    double countdown, double expires, int priority)
{
	struct celery_task_opts o;
	struct json_object *args, *kwargs = NULL;
	struct errbuf err;
	redisContext *c;
	char id[37];
	int rc;

	args = json_tokener_parse(args_json ? args_json : "[]");
	if (kw_json != NULL)
		kwargs = json_tokener_parse(kw_json);
	if (!json_object_is_type(args, json_type_array) ||
	    (kw_json != NULL && !json_object_is_type(kwargs,
	    json_type_object)))
		fatalx("--args must be a JSON array, --kwargs an object");
	if ((c = rconn_connect(wk_cfg.redis_url, MAIN_TIMEOUT_MS, &err))
	    == NULL)
		fatalx("%s", err.msg);
	util_uuid4(id);
	memset(&o, 0, sizeof(o));
	o.priority = priority;
	if (countdown > 0)
		o.eta = util_now() + countdown;
	if (expires > 0)
		o.expires = util_now() + expires;
	rc = celery_publish_ex(c, wk_cfg.queues[0], task, id, args, kwargs,
	    &o, &err);
	json_object_put(args);
	json_object_put(kwargs);
	redisFree(c);
	if (rc == -1)
		fatalx("publish: %s", err.msg);
	printf("%s\n", id);
	return 0;
}

/*
 * The main process's command connection.  It must never block the
 * control loop for long, so a dead connection gets one reconnect attempt
 * per second; after a reconnect the queue bindings are declared again
 * (a restarted Redis may have lost them).  NULL while Redis is away.
 */
redisContext *
worker_cmd(void)
{
	static double next_try;
	struct errbuf err;
	int i;

	if (!rconn_dead(rc_main))
		return rc_main;
	if (rc_main != NULL) {
		log_warnx("redis connection lost: %s", rc_main->errstr);
		redisFree(rc_main);
		rc_main = NULL;
	}
	if (util_now() < next_try)
		return NULL;
	next_try = util_now() + 1;
	if ((rc_main = rconn_connect(wk_cfg.redis_url, MAIN_TIMEOUT_MS,
	    &err)) == NULL) {
		log_warnx("%s", err.msg);
		return NULL;
	}
	for (i = 0; i < wk_cfg.nqueues; i++)
		if (celery_declare_queue(rc_main, wk_cfg.queues[i], &err) == -1)
			log_warnx("declare %s: %s", wk_cfg.queues[i], err.msg);
	return rc_main;
}

/* worker-online / worker-heartbeat / worker-offline (spec 7.3). */
void
worker_event(const char *type, int full)
{
	struct json_object *ev, *la;
	struct errbuf err;
	double loads[3];
	int i, active = 0;

	ev = celery_event_new(wk_cfg.node, getpid(), wk_clock_tick());
	json_object_object_add(ev, "freq", json_object_new_double(
	    full ? wk_cfg.heartbeat : 5.0));
	if (full) {
		wk_lock();
		for (i = 0; i < wk_cfg.concurrency; i++)
			active += wk_sh->slots[i].busy;
		json_object_object_add(ev, "active",
		    json_object_new_int(active));
		json_object_object_add(ev, "processed",
		    json_object_new_int64(wk_sh->processed));
		wk_unlock();
		la = json_object_new_array();
		if (getloadavg(loads, 3) != 3)
			loads[0] = loads[1] = loads[2] = 0;
		for (i = 0; i < 3; i++)
			json_object_array_add(la, json_object_new_double(
			    (double)(long)(loads[i] * 100 + 0.5) / 100));
		json_object_object_add(ev, "loadavg", la);
	}
	json_object_object_add(ev, "sw_ident",
	    json_object_new_string(SW_IDENT));
	json_object_object_add(ev, "sw_ver", json_object_new_string(SW_VER));
	json_object_object_add(ev, "sw_sys", json_object_new_string("Linux"));
	if (celery_event_send(worker_cmd(), wk_cfg.db, wk_cfg.node, type, ev,
	    &err) == -1)
		log_warnx("event %s: %s", type, err.msg);
}

double
worker_uptime(void)
{
	return util_now() - started;
}

static pid_t
spawn(int slot)
{
	pid_t pid;

	pid = fork();
	if (pid == -1) {
		log_warn("fork");
		return -1;
	}
	if (pid == 0) {
		/*
		 * The child must not use the parent's connections; freeing
		 * them only closes the child's copies of the sockets.  exit()
		 * (not _exit()) so leak checkers also see the children.
		 */
		if (rc_main != NULL)
			redisFree(rc_main);
		if (rc_sub != NULL)
			redisFree(rc_sub);
		rc_main = NULL;
		rc_sub = NULL;
		/* Reliability: no orphan runs a job once the worker is gone. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		exit(consumer_run(slot));
	}
	wk_lock();
	memset(&wk_sh->slots[slot], 0, sizeof(wk_sh->slots[slot]));
	wk_sh->slots[slot].pid = pid;
	wk_unlock();
	spawned_at[slot] = util_now();
	respawn_at[slot] = 0;
	return pid;
}

/*
 * A child is gone (crash or hard time limit): fail its running task as
 * Celery does, ack it, and put back every ETA message it held.
 */
static void
cleanup_slot(int slot, const char *exc_type, int status)
{
	struct wk_slot s;
	struct json_object *exc;
	struct celery_message m;
	struct errbuf err;
	char why[128];
	int i;

	wk_lock();
	memcpy(&s, &wk_sh->slots[slot], sizeof(s));
	memset(&wk_sh->slots[slot], 0, sizeof(wk_sh->slots[slot]));
	wk_unlock();
	if (s.busy) {
		memset(&m, 0, sizeof(m));
		snprintf(m.id, sizeof(m.id), "%s", s.cur.id);
		if (strcmp(exc_type, "TimeLimitExceeded") == 0) {
			exc = json_object_new_object();
			json_object_object_add(exc, "exc_type",
			    json_object_new_string(exc_type));
			json_object_object_add(exc, "exc_message",
			    json_tokener_parse("[]"));
			json_object_array_add(json_object_object_get(exc,
			    "exc_message"), json_object_new_double(
			    s.hard_limit));
			json_object_object_add(exc, "exc_module",
			    json_object_new_string("billiard.exceptions"));
		} else {
			snprintf(why, sizeof(why), "Worker exited prematurely: "
			    "%s %d", WIFSIGNALED(status) ? "signal" :
			    "exitcode", WIFSIGNALED(status) ?
			    WTERMSIG(status) : WEXITSTATUS(status));
			exc = celery_exc_new("WorkerLostError",
			    "billiard.exceptions", why);
		}
		log_warnx("task %s[%s]: %s", s.cur.name, s.cur.id, exc_type);
		if (celery_store_result(worker_cmd(), s.cur.id, "FAILURE", exc,
		    NULL, wk_cfg.result_expires, &err) == -1)
			log_warnx("task %s: %s", s.cur.id, err.msg);
		json_object_put(exc);
		if (celery_ack(worker_cmd(), s.cur.delivery_tag, &err) == -1)
			log_warnx("ack %s: %s", s.cur.id, err.msg);
	}
	for (i = 0; i < s.nheld && i < CELERY_MAX_HELD; i++)
		if (!s.held[i].stolen && celery_restore(worker_cmd(),
		    s.held[i].delivery_tag, 0, &err) == -1)
			log_warnx("restore %s: %s", s.held[i].id, err.msg);
}

/* Reliability: starts the watchdog process (worker/watchdog.c). */
static void
wd_spawn(void)
{
	pid_t pid;

	if ((pid = fork()) == -1) {
		log_warn("fork watchdog");
		wd_pid = 0;
		return;
	}
	if (pid == 0) {
		rc_main = NULL;
		rc_sub = NULL;
		_exit(watchdog_run());
	}
	wd_pid = pid;
	wd_spawned_at = util_now();
	wd_respawn_at = 0;
}

int
worker_terminate(const char *id, int signum)
{
	struct json_object *exc, *ev;
	struct errbuf err;
	char tag[CELERY_ID_MAX];
	pid_t pid;
	int i, status;

	for (i = 0; i < wk_cfg.concurrency; i++) {
		wk_lock();
		if (!wk_sh->slots[i].busy ||
		    strcmp(wk_sh->slots[i].cur.id, id) != 0) {
			wk_unlock();
			continue;
		}
		pid = wk_sh->slots[i].pid;
		memcpy(tag, wk_sh->slots[i].cur.delivery_tag, sizeof(tag));
		/* Under the lock: the process cannot start another task. */
		log_info("terminating task %s (process %ld)", id, (long)pid);
		/* Our tasks stop cleanly only at their own checks: kill. */
		kill(pid, SIGKILL);
		wk_unlock();
		waitpid(pid, &status, 0);
		exc = celery_exc_new("TaskRevokedError", "celery.exceptions",
		    "terminated");
		if (celery_store_result(worker_cmd(), id, "REVOKED", exc, NULL,
		    wk_cfg.result_expires, &err) == -1)
			log_warnx("task %s: %s", id, err.msg);
		json_object_put(exc);
		if (celery_ack(worker_cmd(), tag, &err) == -1)
			log_warnx("ack %s: %s", id, err.msg);
		if (__atomic_load_n(&wk_sh->task_events, __ATOMIC_RELAXED)) {
			ev = celery_event_new(wk_cfg.node, getpid(),
			    wk_clock_tick());
			json_object_object_add(ev, "uuid",
			    json_object_new_string(id));
			json_object_object_add(ev, "terminated",
			    json_object_new_boolean(1));
			json_object_object_add(ev, "signum",
			    json_object_new_int(signum));
			json_object_object_add(ev, "expired",
			    json_object_new_boolean(0));
			if (celery_event_send(worker_cmd(), wk_cfg.db,
			    wk_cfg.node, "task-revoked", ev, &err) == -1)
				log_warnx("event: %s", err.msg);
		}
		wk_lock();
		wk_sh->slots[i].busy = 0;
		wk_unlock();
		cleanup_slot(i, "TaskRevokedError", status);
		spawn(i);
		return 1;
	}
	return 0;
}

static int
slot_of(pid_t pid)
{
	int i;

	for (i = 0; i < wk_cfg.concurrency; i++)
		if (wk_sh->slots[i].pid == pid)
			return i;
	return -1;
}

/*
 * Reaps children; restarts them unless stopping.  After a cold shutdown
 * nothing is cleaned up: what the children held stays in unacked for a
 * visibility restore, as with Python.  Returns the live count.
 */
static int
reap(int stopping, int cold)
{
	pid_t pid;
	int status, slot, i, live = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == wd_pid) {
			/* Restarted; after a pause if it died young. */
			wd_pid = 0;
			wd_respawn_at = util_now() - wd_spawned_at < 1.0 ?
			    util_now() + 1.0 : util_now();
			continue;
		}
		if ((slot = slot_of(pid)) < 0)
			continue;
		if (!cold && (!stopping || wk_sh->slots[slot].busy ||
		    wk_sh->slots[slot].nheld > 0)) {
			if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
				log_warnx("process %ld exited with %s %d",
				    (long)pid, WIFSIGNALED(status) ? "signal" :
				    "status", WIFSIGNALED(status) ?
				    WTERMSIG(status) : WEXITSTATUS(status));
			cleanup_slot(slot, "WorkerLostError", status);
		}
		wk_sh->slots[slot].pid = 0;
		if (!stopping)
			respawn_at[slot] = util_now() -
			    spawned_at[slot] < 1.0 ? util_now() + 1.0 :
			    util_now();
	}
	if (!stopping && wd_pid == 0 && wd_respawn_at > 0 &&
	    util_now() >= wd_respawn_at)
		wd_spawn();
	for (i = 0; i < wk_cfg.concurrency; i++) {
		if (!stopping && wk_sh->slots[i].pid == 0 &&
		    respawn_at[i] > 0 && util_now() >= respawn_at[i])
			spawn(i);
		if (wk_sh->slots[i].pid > 0)
			live++;
	}
	return live;
}

/* Hard time limits (spec 5.7): kill the process, record the failure. */
static void
check_hard_limits(void)
{
	double now = util_now();
	pid_t pid;
	int i, status, kill_it;

	for (i = 0; i < wk_cfg.concurrency; i++) {
		struct wk_slot *s = &wk_sh->slots[i];

		/*
		 * Decide and kill under the lock, so the process cannot move
		 * on to its next task between the check and the kill.
		 */
		wk_lock();
		kill_it = s->busy && s->hard_deadline > 0 &&
		    now >= s->hard_deadline && s->pid > 0;
		pid = s->pid;
		if (kill_it) {
			log_warnx("hard time limit (%.0fs) exceeded for %s[%s]",
			    s->hard_limit, s->cur.name, s->cur.id);
			kill(pid, SIGKILL);
		}
		wk_unlock();
		if (!kill_it)
			continue;
		waitpid(pid, &status, 0);
		cleanup_slot(i, "TimeLimitExceeded", status);
		spawn(i);
	}
}

/*
 * Refreshes the unacked_index score of every message our processes
 * still hold (ETA messages, running acks_late tasks), so no worker's
 * visibility sweep restores them while we have them: the duplicate
 * delivery hazard of spec 2.6, which Python workers do not avoid.
 */
static void
touch_held(void)
{
	char tags[CELERY_MAX_HELD + 1][CELERY_ID_MAX];
	struct errbuf err;
	int i, j, n;

	for (i = 0; i < wk_cfg.concurrency; i++) {
		n = 0;
		wk_lock();
		if (wk_sh->slots[i].busy && wk_sh->slots[i].acks_late)
			memcpy(tags[n++], wk_sh->slots[i].cur.delivery_tag,
			    CELERY_ID_MAX);
		for (j = 0; j < wk_sh->slots[i].nheld && j < CELERY_MAX_HELD;
		    j++)
			if (!wk_sh->slots[i].held[j].stolen)
				memcpy(tags[n++],
				    wk_sh->slots[i].held[j].delivery_tag,
				    CELERY_ID_MAX);
		wk_unlock();
		for (j = 0; j < n; j++)
			if (tags[j][0] != '\0' && celery_unacked_touch(
			    worker_cmd(), tags[j], &err) == -1)
				log_warnx("touch: %s", err.msg);
	}
}

/*
 * ETA messages must not wait behind a long task: when one becomes due
 * while the process holding it is busy, put it back at the head of the
 * queue (the restore transaction) so an idle process, here or on another
 * node, runs it.  The holder forgets it (sync_held_locked()).
 */
static void
steal_due(void)
{
	char tag[CELERY_ID_MAX], id[CELERY_ID_MAX];
	struct errbuf err;
	double now = util_now();
	int i, j, found;

	for (i = 0; i < wk_cfg.concurrency; i++) {
		do {
			found = 0;
			wk_lock();
			for (j = 0; wk_sh->slots[i].busy &&
			    j < wk_sh->slots[i].nheld; j++) {
				struct wk_reqinfo *ri;

				ri = &wk_sh->slots[i].held[j];
				if (ri->stolen || ri->eta > now - 1.0)
					continue;
				ri->stolen = 1;
				memcpy(tag, ri->delivery_tag, sizeof(tag));
				memcpy(id, ri->id, sizeof(id));
				found = 1;
				break;
			}
			wk_unlock();
			if (found) {
				log_info("task %s is due but its process is "
				    "busy: back to the queue", id);
				if (celery_restore(worker_cmd(), tag, 0,
				    &err) == -1)
					log_warnx("restore %s: %s", id,
					    err.msg);
			}
		} while (found);
	}
}

static void
main_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Reliability: SIGHUP reloads the configuration (watchdog.c). */
	sa.sa_handler = reload_on_hup;
	sigaction(SIGHUP, &sa, NULL);
}

static void
signal_children(int sig)
{
	int i;

	for (i = 0; i < wk_cfg.concurrency; i++)
		if (wk_sh->slots[i].pid > 0)
			kill(wk_sh->slots[i].pid, sig);
}

/* The control loop of the main process. */
static int
control_loop(void)
{
	struct errbuf err;
	double next_hb, next_sweep, next_touch, touch_every, deadline = 0;
	int i, n, stopping = 0, cold = 0;

	next_hb = util_now() + wk_cfg.heartbeat;
	next_sweep = util_now() + wk_cfg.sweep_interval;
	touch_every = wk_cfg.visibility_timeout / 4;
	if (touch_every > 60)
		touch_every = 60;
	next_touch = util_now() + touch_every;
	for (;;) {
		if (got_quit && !cold) {
			cold = 1;
			log_info("cold shutdown");
			signal_children(SIGQUIT);
		} else if (got_term > 1 && !cold) {
			cold = 1;
			log_info("second signal: cold shutdown");
			signal_children(SIGQUIT);
		} else if ((got_term || pidbox_shutdown_requested()) &&
		    !stopping) {
			stopping = 1;
			deadline = util_now() + WARM_GRACE_S;
			log_info("warm shutdown: finishing running tasks");
			signal_children(SIGTERM);
			if (wd_pid > 0)
				kill(wd_pid, SIGTERM);
		}
		/* Reliability: SIGHUP reload, relayed to every child. */
		if (reload_if_asked()) {
			signal_children(SIGHUP);
			if (wd_pid > 0)
				kill(wd_pid, SIGHUP);
		}
		n = reap(stopping || cold, cold);
		if ((stopping || cold) && n == 0)
			break;
		if (stopping && util_now() > deadline)
			signal_children(SIGKILL);
		check_hard_limits();
		if (!stopping)
			steal_due();
		if (util_now() >= next_hb) {
			worker_event("worker-heartbeat", 1);
			next_hb = util_now() + wk_cfg.heartbeat;
		}
		if (util_now() >= next_touch) {
			touch_held();
			next_touch = util_now() + touch_every;
		}
		if (!stopping && util_now() >= next_sweep) {
			if (celery_restore_visible(worker_cmd(),
			    wk_cfg.visibility_timeout, &i, &err) == -1)
				log_warnx("restore sweep: %s", err.msg);
			else if (i > 0)
				log_info("restored %d message(s) past the "
				    "visibility timeout", i);
			next_sweep = util_now() + wk_cfg.sweep_interval;
		}
		/* Waits up to 100 ms for remote control requests. */
		pidbox_poll(&rc_sub, 100);
	}
	return cold ? 1 : 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "concurrency", required_argument, NULL, 'C' },
		{ "diagnostic-tasks", no_argument, NULL, 'D' },
		{ "publish", required_argument, NULL, 'P' },
		{ "args", required_argument, NULL, 'A' },
		{ "kwargs", required_argument, NULL, 'K' },
		{ "countdown", required_argument, NULL, 'T' },
		{ "expires", required_argument, NULL, 'X' },
		{ "priority", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfgfile = NULL, *queues = NULL, *node = NULL;
	const char *publish = NULL, *pargs = NULL, *pkwargs = NULL, *logfile;
	double countdown = 0, expires = 0;
	int ch, debug = 0, concurrency = -1, diag = 0, events = 0;
	int priority = 0, i, rc;
	struct rconn_url u;
	struct errbuf err;
	sigset_t all, old;
	char *end;

	while ((ch = getopt_long(argc, argv, "c:dEQ:n:h", longopts, NULL))
	    != -1) {
		switch (ch) {
		case 'c':
			cfgfile = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'E':
			events = 1;
			break;
		case 'Q':
			queues = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 'C':
			concurrency = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || concurrency < 1 ||
			    concurrency > CELERY_MAX_CONCURRENCY)
				usage();
			break;
		case 'D':
			diag = 1;
			break;
		case 'P':
			publish = optarg;
			break;
		case 'A':
			pargs = optarg;
			break;
		case 'K':
			pkwargs = optarg;
			break;
		case 'T':
			countdown = strtod(optarg, NULL);
			break;
		case 'X':
			expires = strtod(optarg, NULL);
			break;
		case 'R':
			priority = (int)strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (sodium_init() < 0)
		fatalx("sodium_init failed");
	reload_init(cfgfile);
	if (config_load(cfgfile, &err) == -1)
		fatalx("%s", err.msg);
	logfile = config_get("log.file", NULL);
	if (publish != NULL)
		logfile = NULL;
	if (log_init("bulkclaims-worker", logfile, debug || logfile == NULL,
	    debug) == -1)
		fatal("log file %s", logfile);

	snprintf(wk_cfg.redis_url, sizeof(wk_cfg.redis_url), "%s",
	    config_get("redis.url", "redis://127.0.0.1:6379/0"));
	if (rconn_parse_url(wk_cfg.redis_url, &u, &err) == -1)
		fatalx("redis.url: %s", err.msg);
	wk_cfg.db = u.db;
	parse_queues(queues ? queues : config_get("celery.queue", "celery"));
	if (publish != NULL)
		return publish_main(publish, pargs, pkwargs, countdown, expires,
		    priority);

	expand_node(node ? node : config_get("worker.nodename", "celery@%h"),
	    wk_cfg.node, sizeof(wk_cfg.node));
	if (concurrency < 0)
		concurrency = (int)config_get_long("worker.concurrency", 1);
	if (concurrency < 1 || concurrency > CELERY_MAX_CONCURRENCY)
		fatalx("worker.concurrency must be 1..%d",
		    CELERY_MAX_CONCURRENCY);
	wk_cfg.concurrency = concurrency;
	wk_cfg.diagnostic = diag ||
	    config_get_bool("worker.diagnostic_tasks", 0);
	wk_cfg.task_events = events ||
	    config_get_bool("worker.send_task_events", 0);
	wk_cfg.result_expires = config_get_long("celery.result_expires",
	    86400);
	wk_cfg.visibility_timeout = (double)config_get_long(
	    "celery.visibility_timeout", 3600);
	wk_cfg.sweep_interval = (double)config_get_long(
	    "worker.restore_interval", 90);
	wk_cfg.heartbeat = (double)config_get_long("worker.heartbeat_interval",
	    2);
	if (wk_cfg.heartbeat <= 0)
		wk_cfg.heartbeat = 2;
	if (wk_shared_init() == -1)
		fatal("shared memory");
	wk_sh->task_events = wk_cfg.task_events;
	for (i = 0; task_defs[i].name != NULL && i < WK_TOTALS_MAX; i++) {
		char key[CELERY_NAME_MAX + 64];
		double rate;

		snprintf(key, sizeof(key), "celery.task.%s.rate_limit",
		    task_defs[i].name);
		if ((rate = wk_parse_rate(config_get(key, NULL))) < 0)
			fatalx("%s: not a rate (10/s, 5/m, 100/h)", key);
		wk_sh->rate[i] = rate;
		wk_sh->rate_tokens[i] = 1;
		wk_sh->rate_last[i] = util_now();
	}
	started = util_now();

	/* Start-up waits for Redis (with backoff) until it answers. */
	if (rconn_reconnect(&rc_main, wk_cfg.redis_url, MAIN_TIMEOUT_MS,
	    &got_term, &err) == -1)
		fatalx("%s", err.msg);
	for (i = 0; i < wk_cfg.nqueues; i++)
		if (celery_declare_queue(rc_main, wk_cfg.queues[i], &err) == -1)
			log_warnx("declare %s: %s", wk_cfg.queues[i], err.msg);
	if (celery_restore_visible(rc_main, wk_cfg.visibility_timeout, &i,
	    &err) == -1)
		log_warnx("restore sweep: %s", err.msg);
	else if (i > 0)
		log_info("restored %d message(s) past the visibility timeout",
		    i);
	if (pidbox_start(&rc_sub, &err) == -1)
		log_warnx("remote control: %s", err.msg);
	log_info("%s ready: queues=%s%s concurrency=%d diagnostic=%d "
	    "events=%d", wk_cfg.node, wk_cfg.queues[0],
	    wk_cfg.nqueues > 1 ? ",..." : "", wk_cfg.concurrency,
	    wk_cfg.diagnostic, wk_cfg.task_events);

	/* Children start with signals blocked until their handlers exist. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	main_signals();
	for (i = 0; i < wk_cfg.concurrency; i++)
		spawn(i);
	wd_spawn();
	sigprocmask(SIG_SETMASK, &old, NULL);
	worker_event("worker-online", 1);

	rc = control_loop();

	worker_event("worker-offline", 1);
	pidbox_stop(worker_cmd());
	log_info("%s stopped", wk_cfg.node);
	if (rc_sub != NULL)
		redisFree(rc_sub);
	if (rc_main != NULL)
		redisFree(rc_main);
	config_free();
	return rc;
}
