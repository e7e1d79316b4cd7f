/*
 * Supervision of the worker's children (pool.h): prefork spawn, reap,
 * hard time limits, restart, terminate, and the held messages' upkeep.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "celery.h"
#include "celery_event.h"
#include "celery_transport.h"
#include "log.h"
#include "util.h"
#include "worker.h"
#include "node.h"
#include "pool.h"
#include "watchdog.h"

static void (*child_setup)(void);
static pid_t wd_pid;		/* the watchdog process (reliability) */
static double wd_spawned_at, wd_respawn_at;
/* Crash-loop guard: a child that dies young is restarted after a pause. */
static double spawned_at[CELERY_MAX_CONCURRENCY];
static double respawn_at[CELERY_MAX_CONCURRENCY];

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
		node_cmd_close();
		if (child_setup != NULL)
			child_setup();
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
		if (celery_store_result(node_cmd(), s.cur.id, "FAILURE", exc,
		    NULL, wk_cfg.result_expires, &err) == -1)
			log_warnx("task %s: %s", s.cur.id, err.msg);
		json_object_put(exc);
		if (celery_ack(node_cmd(), s.cur.delivery_tag, &err) == -1)
			log_warnx("ack %s: %s", s.cur.id, err.msg);
	}
	for (i = 0; i < s.nheld && i < CELERY_MAX_HELD; i++)
		if (!s.held[i].stolen && celery_restore(node_cmd(),
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
		node_cmd_close();
		if (child_setup != NULL)
			child_setup();
		_exit(watchdog_run());
	}
	wd_pid = pid;
	wd_spawned_at = util_now();
	wd_respawn_at = 0;
}

int
pool_terminate(const char *id, int signum)
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
		if (celery_store_result(node_cmd(), id, "REVOKED", exc, NULL,
		    wk_cfg.result_expires, &err) == -1)
			log_warnx("task %s: %s", id, err.msg);
		json_object_put(exc);
		if (celery_ack(node_cmd(), tag, &err) == -1)
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
			if (celery_event_send(node_cmd(), wk_cfg.db,
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
 * After a cold shutdown nothing is cleaned up: what the children held
 * stays in unacked for a visibility restore, as with Python.
 */
int
pool_reap(int stopping, int cold)
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

/* Hard time limits (time_limit): kill the process, record the failure. */
void
pool_check_hard_limits(void)
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
 * delivery hazard of kombu's unacked restore, which Python workers do
 * not avoid.
 */
void
pool_touch_held(void)
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
			    node_cmd(), tags[j], &err) == -1)
				log_warnx("touch: %s", err.msg);
	}
}

/*
 * ETA messages must not wait behind a long task: when one becomes due
 * while the process holding it is busy, put it back at the head of the
 * queue (the restore transaction) so an idle process, here or on another
 * node, runs it.  The holder forgets it (sync_held_locked()).
 */
void
pool_steal_due(void)
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
				if (celery_restore(node_cmd(), tag, 0,
				    &err) == -1)
					log_warnx("restore %s: %s", id,
					    err.msg);
			}
		} while (found);
	}
}

void
pool_signal(int sig)
{
	int i;

	for (i = 0; i < wk_cfg.concurrency; i++)
		if (wk_sh->slots[i].pid > 0)
			kill(wk_sh->slots[i].pid, sig);
}

void
pool_signal_watchdog(int sig)
{
	if (wd_pid > 0)
		kill(wd_pid, sig);
}

void
pool_start(void (*setup)(void))
{
	int i;

	child_setup = setup;
	for (i = 0; i < wk_cfg.concurrency; i++)
		spawn(i);
	wd_spawn();
}
