/*
 * The registry table.  Options follow Celery's task attributes; 0 for a
 * time limit means none.  Add a task: write its function in its own file,
 * declare it in tasks.h, list it here and in mk/.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "task_csv.h"
#include "tasks.h"

const struct task_def task_defs[] = {
	/* name, fn, acks_late, track_started, diagnostic,
	 * max_retries, default_retry_delay, soft_time_limit, time_limit */
	{ "claims.tasks.process_csv_file", task_process_csv_file,
	    1, 1, 0, 3, 60, 25 * 60, 30 * 60 },
	/* Chunking: one range of a big job (task_chunk.c). */
	{ "claims.tasks.process_csv_chunk", task_process_csv_chunk,
	    1, 1, 0, 3, 60, 25 * 60, 30 * 60 },
	/* Reliability: job-end email and webhook (worker/task_notify.c). */
	{ "bulkclaims.notify_job", task_notify_job, 1, 0, 0, 6, 5, 0, 120 },
	{ "bulkclaims.echo", task_diag_echo, 0, 0, 1, 3, 180, 0, 0 },
	{ "bulkclaims.sleep", task_diag_sleep, 1, 1, 1, 3, 1, 0, 0 },
	{ "bulkclaims.fail", task_diag_fail, 0, 0, 1, 3, 180, 0, 0 },
	{ "bulkclaims.crash", task_diag_crash, 1, 0, 1, 3, 180, 0, 0 },
	{ NULL, NULL, 0, 0, 0, 0, 0, 0, 0 }
};

const struct task_def *
task_find(const char *name, int diag_enabled)
{
	const struct task_def *d;

	for (d = task_defs; d->name != NULL; d++)
		if (strcmp(d->name, name) == 0)
			return (d->diagnostic && !diag_enabled) ? NULL : d;
	return NULL;
}

long
task_option(const struct task_def *def, const char *opt)
{
	char key[512];
	long v;

	if (strcmp(opt, "max_retries") == 0)
		v = def->max_retries;
	else if (strcmp(opt, "default_retry_delay") == 0)
		v = def->default_retry_delay;
	else if (strcmp(opt, "soft_time_limit") == 0)
		v = def->soft_time_limit;
	else if (strcmp(opt, "time_limit") == 0)
		v = def->time_limit;
	else if (strcmp(opt, "acks_late") == 0)
		v = def->acks_late;
	else if (strcmp(opt, "track_started") == 0)
		v = def->track_started;
	else
		return 0;
	snprintf(key, sizeof(key), "celery.task.%s.%s", def->name, opt);
	if (strcmp(opt, "acks_late") == 0 || strcmp(opt, "track_started") == 0)
		return config_get_bool(key, (int)v);
	return config_get_long(key, v);
}
