/*
 * claims.tasks.process_csv_file(job_id): checks every unprocessed row of
 * a job with the payer and stores the results.
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
 * The job runner's parts shared with the chunk task (task_chunk.c).
 *
 * csv_run_rows: checks the unprocessed rows of job_id numbered
 * range_lo..range_hi (0, 0: all) with the payer and stores the results.
 * Returns 0 or -1 with res filled (retry or failure; a payer refusal
 * marks the job FAILED).  *outcome: 0 done, 1 stopped (resume later),
 * 2 cancelled or no longer PROCESSING.
 */
int	csv_run_rows(struct task_ctx *ctx, PGconn *db, const char *job_id,
	    const char *org_id, const char *provider, const char *transaction,
	    long range_lo, long range_hi, struct task_result *res,
	    int *outcome);
/* CANCELLING becomes CANCELLED; any other status is left alone. */
void	csv_job_cancelled(PGconn *db, const char *job_id);
/* The Celery result value (job id, status, counts); owned by caller. */
struct json_object *csv_job_summary(PGconn *db, const char *job_id,
	    struct errbuf *err);
/* The worker process's PostgreSQL connection (owned), or NULL + err. */
PGconn	*task_db_get(struct errbuf *err);
/*
 * The connection kept in *keep, checked and reconnected (as appname)
 * when broken; NULL with err set when the database is down.
 */
PGconn	*task_db_keep(PGconn **keep, const char *appname,
	    struct errbuf *err);
/*
 * Fills res for a database outage: DatabaseError with msg, retried in
 * 5 s.  Returns -1 for "return csv_db_retry(...)".
 */
int	csv_db_retry(struct task_result *res, const char *msg);

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
