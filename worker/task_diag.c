/*
 * Diagnostic tasks for interop tests and operators (enabled only with
 * --diagnostic-tasks or worker.diagnostic_tasks): they exercise the
 * Celery machinery without a payer or a database.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "tasks.h"
#include "util.h"

/* Longest bulkclaims.sleep: keeps a typo from pinning a worker for days. */
#define DIAG_SLEEP_MAX	3600.0

/* bulkclaims.echo(*args, **kwargs) -> {"args": args, "kwargs": kwargs} */
int
task_diag_echo(struct task_ctx *ctx, struct json_object *args,
    struct json_object *kwargs, struct task_result *res)
{
	res->value = json_object_new_object();
	json_object_object_add(res->value, "args", json_object_get(args));
	json_object_object_add(res->value, "kwargs", json_object_get(kwargs));
	return 0;
}

/*
 * bulkclaims.sleep(seconds, stoppable=False) -> seconds.  Honours the
 * soft time limit (FAILURE SoftTimeLimitExceeded, as Celery raises it).
 * A warm shutdown lets it finish, as a Python worker lets running tasks
 * finish -- unless stoppable, then it stops and asks for a retry (the
 * pattern long tasks use: the worker requeues it unchanged).
 */
int
task_diag_sleep(struct task_ctx *ctx, struct json_object *args,
    struct json_object *kwargs, struct task_result *res)
{
	struct json_object *v = NULL, *st = NULL;
	struct timespec ts = { 0, 20 * 1000000L };
	double secs, end;
	int stoppable;

	if (json_object_array_length(args) > 0)
		v = json_object_array_get_idx(args, 0);
	else
		json_object_object_get_ex(kwargs, "seconds", &v);
	if (v == NULL || !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double))) {
		snprintf(res->exc_type, sizeof(res->exc_type), "TypeError");
		snprintf(res->exc_message, sizeof(res->exc_message),
		    "sleep() needs a number of seconds");
		return -1;
	}
	secs = json_object_get_double(v);
	stoppable = json_object_object_get_ex(kwargs, "stoppable", &st) &&
	    json_object_get_boolean(st);
	if (secs < 0)
		secs = 0;
	if (secs > DIAG_SLEEP_MAX)
		secs = DIAG_SLEEP_MAX;
	end = util_now() + secs;
	while (util_now() < end) {
		if (ctx->soft_deadline > 0 &&
		    util_now() >= ctx->soft_deadline) {
			snprintf(res->exc_type, sizeof(res->exc_type),
			    "SoftTimeLimitExceeded");
			res->exc_message[0] = '\0';
			return -1;
		}
		if (stoppable && *ctx->stop) {
			snprintf(res->exc_type, sizeof(res->exc_type),
			    "WorkerShutdown");
			res->retry = 1;
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	res->value = json_object_get(v);
	return 0;
}

/*
 * bulkclaims.fail(message="failed", retry=false, countdown=0):
 * FAILURE CTaskError(message), or with retry=true a Celery retry after
 * countdown seconds (FAILURE once max_retries is exceeded).
 */
int
task_diag_fail(struct task_ctx *ctx, struct json_object *args,
    struct json_object *kwargs, struct task_result *res)
{
	struct json_object *v = NULL;
	const char *msg = "failed";

	if (json_object_array_length(args) > 0)
		v = json_object_array_get_idx(args, 0);
	else
		json_object_object_get_ex(kwargs, "message", &v);
	if (v != NULL && json_object_is_type(v, json_type_string))
		msg = json_object_get_string(v);
	snprintf(res->exc_type, sizeof(res->exc_type), "CTaskError");
	snprintf(res->exc_message, sizeof(res->exc_message), "%s", msg);
	if (json_object_object_get_ex(kwargs, "retry", &v) &&
	    json_object_get_boolean(v)) {
		res->retry = 1;
		if (json_object_object_get_ex(kwargs, "countdown", &v))
			res->countdown = (long)json_object_get_int64(v);
	}
	return -1;
}

/*
 * bulkclaims.crash(): kills its own process with SIGKILL, to exercise
 * the worker-lost path (FAILURE WorkerLostError, process restarted).
 */
int
task_diag_crash(struct task_ctx *ctx, struct json_object *args,
    struct json_object *kwargs, struct task_result *res)
{
	raise(SIGKILL);
	snprintf(res->exc_type, sizeof(res->exc_type), "RuntimeError");
	return -1;
}
