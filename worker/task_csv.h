/*
 * claims.tasks.process_csv_file(job_id): checks every unprocessed row of
 * a job with the payer and stores the results.
 */
#ifndef TASK_CSV_H
#define TASK_CSV_H

#include "tasks.h"

/* The task function registered in worker/tasks.c. */
int	task_process_csv_file(struct task_ctx *ctx, struct json_object *args,
	    struct json_object *kwargs, struct task_result *res);

/*
 * bulkclaims.notify_job(job_id) (task_notify.c): the email and webhook
 * at a job's end, retried with backoff.
 */
int	task_notify_job(struct task_ctx *ctx, struct json_object *args,
	    struct json_object *kwargs, struct task_result *res);

/* Queues bulkclaims.notify_job(job_id) on queue over c (NULL: no-op). */
void	notify_queue(redisContext *c, const char *queue, const char *job_id);

#endif
