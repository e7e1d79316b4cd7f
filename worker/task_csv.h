/*
 * The job tasks: claims.tasks.process_csv_file(job_id) (task_csv.c),
 * claims.tasks.process_csv_chunk (task_chunk.c) and
 * bulkclaims.notify_job (task_notify.c).  They share the job runner
 * (runner.h), the task connection (task_db.h) and the job state
 * (lib/job.h); none calls back into a file that calls it.
 */
#ifndef TASK_CSV_H
#define TASK_CSV_H

#include <libpq-fe.h>

#include "errbuf.h"
#include "tasks.h"

/* The task function registered in worker/tasks.c. */
int	task_process_csv_file(struct task_ctx *ctx, struct json_object *args,
	    struct json_object *kwargs, struct task_result *res);

/*
 * Chunking (task_chunk.c).  chunk_split_job: a claimed job with more
 * than chunk.rows unprocessed rows is cut into chunks, recorded in
 * csv_job_chunks and published as claims.tasks.process_csv_chunk
 * tasks.  Returns the number of chunks (0: small, run it inline) or -1
 * with err set (the job is released for a retry).
 */
int	chunk_split_job(struct task_ctx *ctx, PGconn *db, const char *job_id,
	    struct errbuf *err);

/* claims.tasks.process_csv_chunk(job_id, first_row, last_row). */
int	task_process_csv_chunk(struct task_ctx *ctx, struct json_object *args,
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
