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

/* What a task hands back. */
struct task_result {
	/* SUCCESS value (owned; the worker puts it), or NULL */
	struct json_object *value;
	/* FAILURE/RETRY: e.g. "JobNotFound" (exc_module null) */
	char	 exc_type[64];
	char	 exc_message[512];	/* no PHI */
	/* 1: ask the worker to retry (Celery retry semantics) */
	int	 retry;
	long	 countdown;	/* seconds before the retry; 0 = task default */
};

/* What a task may use; owned by the worker. */
struct task_ctx {
	const char	*task_id;
	long		 retries;
	/* util_now() after which the task should stop cleanly; 0 = none */
	double		 soft_deadline;
	/* non-zero on warm shutdown / soft time limit: stop cleanly, return */
	volatile const int *stop;
	/* the worker's command connection (token caches etc.); may be NULL */
	redisContext	*redis;
	const char	*hostname;	/* worker node name */
};

/*
 * 0 = SUCCESS (res->value set), -1 = FAILURE or retry (exc_* set,
 * res->retry).  A task that stops because *ctx->stop was set by a warm
 * shutdown (not a soft time limit: then util_now() >= ctx->soft_deadline)
 * and returns a retry is requeued unchanged if it is acks_late: no retry
 * is counted.
 */
typedef int (*task_fn)(struct task_ctx *ctx, struct json_object *args,
    struct json_object *kwargs, struct task_result *res);

struct task_def {
	const char	*name;
	task_fn		 fn;
	int		 acks_late, track_started, diagnostic;
	long		 max_retries, default_retry_delay, soft_time_limit,
			 time_limit;
};

/* In worker/tasks.c, NULL-name terminated. */
extern const struct task_def task_defs[];

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
int	task_diag_crash(struct task_ctx *, struct json_object *,
	    struct json_object *, struct task_result *);

#endif
