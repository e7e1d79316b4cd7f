/*
 * The task registry: Celery task name -> C function, with the per-task
 * options Celery keeps on the task class (acks_late, retries, limits).
 * The worker looks names up here; each task lives in its own file
 * (task_diag.c, task_csv.c, ...) and is listed in task_defs[] in tasks.c.
 */
#ifndef TASKS_H
#define TASKS_H

#include <hiredis/hiredis.h>
#include <json-c/json.h>

struct task_result {
	struct json_object *value;	/* SUCCESS value (owned; the worker puts it), or NULL */
	char	 exc_type[64];		/* FAILURE/RETRY: e.g. "JobNotFound" (exc_module null) */
	char	 exc_message[512];	/* no PHI */
	int	 retry;			/* 1: ask the worker to retry (Celery retry semantics) */
	long	 countdown;		/* seconds before the retry; 0 = task default */
};

struct task_ctx {			/* what a task may use; owned by the worker */
	const char	*task_id;
	long		 retries;
	double		 soft_deadline;	/* util_now() value after which the task should stop cleanly, 0 = none */
	volatile const int *stop;	/* set non-zero on warm shutdown / soft time limit: stop cleanly and return */
	redisContext	*redis;		/* the worker's command connection (for token caches etc.) */
	const char	*hostname;	/* worker node name */
};

/* 0 = SUCCESS (res->value set), -1 = FAILURE or retry (exc_* set, res->retry). */
typedef int (*task_fn)(struct task_ctx *ctx, struct json_object *args,
    struct json_object *kwargs, struct task_result *res);

struct task_def {
	const char	*name;
	task_fn		 fn;
	int		 acks_late, track_started, diagnostic;
	long		 max_retries, default_retry_delay, soft_time_limit, time_limit;
};

extern const struct task_def task_defs[];	/* in worker/tasks.c, NULL-name terminated */

/*
 * Finds name in task_defs[]; diagnostic tasks only when diag_enabled.
 * Returns the entry or NULL (unknown: the worker answers NotRegistered).
 */
const struct task_def *task_find(const char *name, int diag_enabled);

/*
 * The effective value of option opt ("max_retries", "default_retry_delay",
 * "soft_time_limit", "time_limit", "acks_late", "track_started") of def:
 * config key celery.task.<name>.<opt> if set, else the table's value.
 */
long	task_option(const struct task_def *def, const char *opt);

/* Diagnostic tasks (task_diag.c), enabled by --diagnostic-tasks. */
int	task_diag_echo(struct task_ctx *, struct json_object *,
	    struct json_object *, struct task_result *);
int	task_diag_sleep(struct task_ctx *, struct json_object *,
	    struct json_object *, struct task_result *);
int	task_diag_fail(struct task_ctx *, struct json_object *,
	    struct json_object *, struct task_result *);

#endif
