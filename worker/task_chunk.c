/*
 * Chunking: claims.tasks.process_csv_file splits a big job
 * into claims.tasks.process_csv_chunk(job_id, first_row, last_row)
 * tasks that any worker process on any machine takes.
 *
 * PostgreSQL stays the source of truth.  The split (job_plan_chunks())
 * records its chunks in csv_job_chunks and sets csv_jobs.chunks_total;
 * a chunk checks only the rows of its range that have no result yet
 * (the job runner of runner.c with a row range), so a chunk delivered
 * again after a crash resumes and never repeats a stored row.  A
 * finished chunk counts itself once (job_chunk_done()); the chunk that
 * brings chunks_done to chunks_total finishes the job: COMPLETED when
 * no row lacks a result, CANCELLED if a cancel came.
 *
 * Fairness: chunks are published with a Celery priority that grows with
 * their index (chunk_plan.c), and a job's own message has priority 0, so
 * a small job uploaded after a big one runs before the big job's later
 * chunks.
 *
 * Liveness: a chunked job has no single task holding it; its chunks
 * refresh its heartbeat while they run, and every finished chunk also
 * refreshes the heartbeat of the other chunked jobs with chunks still
 * queued (they wait behind others; the workers are alive).  A job with
 * no chunk running or queued (one died with its worker: the message is
 * acknowledged then) goes stale; the watchdog requeues it and the new
 * split covers the rows left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "celery.h"
#include "chunk_plan.h"
#include "config.h"
#include "db.h"
#include "job.h"
#include "limits.h"
#include "log.h"
#include "runner.h"
#include "task_csv.h"
#include "task_db.h"
#include "util.h"

#define CHUNK_TASK	"claims.tasks.process_csv_chunk"

/* Publishes the chunks of res (first_row, last_row), in order. */
static int
chunk_publish_all(struct task_ctx *ctx, const char *job_id, PGresult *res,
    struct errbuf *err)
{
	struct celery_task_opts opts;
	struct json_object *args;
	char task_id[37];
	int i, rc;

	if (ctx->redis == NULL)
		return errbuf_set(err, "no Redis connection to publish chunks");
	for (i = 0; i < PQntuples(res); i++) {
		memset(&opts, 0, sizeof(opts));
		opts.priority = chunk_priority(i);
		util_uuid4(task_id);
		args = json_object_new_array();
		json_object_array_add(args, json_object_new_string(job_id));
		json_object_array_add(args, json_object_new_int64(
		    strtoll(PQgetvalue(res, i, 0), NULL, 10)));
		json_object_array_add(args, json_object_new_int64(
		    strtoll(PQgetvalue(res, i, 1), NULL, 10)));
		rc = celery_publish_ex(ctx->redis,
		    config_get("celery.queue", "celery"), CHUNK_TASK, task_id,
		    args, NULL, &opts, err);
		json_object_put(args);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/*
 * Splits a claimed job into chunk tasks when it has more than chunk.rows
 * unprocessed rows (task_csv.h).  Returns the number of chunks, 0 to run
 * it inline, or -1 with err set.
 */
int
chunk_split_job(struct task_ctx *ctx, PGconn *db, const char *job_id,
    struct errbuf *err)
{
	PGresult *res;
	long rows, per_chunk;
	int n;

	if ((rows = job_open_rows(db, err, job_id)) == -1)
		return -1;
	per_chunk = chunk_rows_per_chunk(rows, config_get_long("chunk.rows",
	    CHUNK_ROWS_DEFAULT), CHUNK_MAX);
	/* per_chunk 0: inline, and chunks of an earlier split forgotten. */
	if ((res = job_plan_chunks(db, err, job_id, per_chunk)) == NULL)
		return -1;
	if ((n = PQntuples(res)) == 0) {
		PQclear(res);
		return 0;
	}
	if (chunk_publish_all(ctx, job_id, res, err) != 0) {
		PQclear(res);
		/* Released: the retry of this task splits it again. */
		job_release(db, NULL, job_id);
		return -1;
	}
	PQclear(res);
	log_info("job split job=%s rows=%ld chunks=%d rows_per_chunk=%ld",
	    job_id, rows, n, per_chunk);
	return n;
}

/* Republishes process_csv_file for a job whose chunks left rows. */
static void
chunk_resplit(struct task_ctx *ctx, PGconn *db, const char *job_id)
{
	struct json_object *args;
	struct errbuf err;
	char task_id[37];

	util_uuid4(task_id);
	job_release(db, NULL, job_id);
	args = json_object_new_array();
	json_object_array_add(args, json_object_new_string(job_id));
	if (ctx->redis == NULL || celery_publish(ctx->redis,
	    config_get("celery.queue", "celery"),
	    "claims.tasks.process_csv_file", task_id, args, NULL, &err) != 0)
		log_warnx("job=%s rows left after its chunks; the watchdog "
		    "requeues it", job_id);
	else
		log_info("job=%s rows left after its chunks; split again",
		    job_id);
	json_object_put(args);
}

/*
 * Marks the chunk done and, if it was the last one, finishes the job.
 * Returns 0, or -1 when the database failed (the chunk is retried; it
 * has nothing left to check, so it only counts itself then).
 */
static int
chunk_finish(struct task_ctx *ctx, PGconn *db, const char *job_id,
    const char *first, const char *last, struct errbuf *err)
{
	char status[JOB_STATUS_MAX];
	int rc, lastchunk;

	rc = job_chunk_done(db, err, job_id, first, last, ctx->hostname !=
	    NULL ? ctx->hostname : "", &lastchunk, status);
	if (rc == -1)
		return -1;
	/* 0: counted before (a re-delivery) or replaced by a re-split. */
	if (rc == 0)
		return 0;
	log_info("chunk done job=%s rows=%s-%s%s", job_id, first, last,
	    lastchunk ? " (last)" : "");
	if (!lastchunk)
		return 0;
	if (strcmp(status, "CANCELLING") == 0) {
		run_cancelled(db, job_id);
		return 0;
	}
	if (strcmp(status, "PROCESSING") != 0)
		return 0;
	if ((rc = run_finish(ctx, db, job_id, err)) == -1)
		return -1;
	if (rc == 0)
		chunk_resplit(ctx, db, job_id);
	return 0;
}

/*
 * claims.tasks.process_csv_chunk(job_id, first_row, last_row): checks
 * the rows of the range still without a result, then counts the chunk
 * done (the last one finishes the job).  Bad arguments: ValueError
 * FAILURE; database down: retry; worker stopping: Interrupted retry
 * (acks_late, requeued unchanged).  Returns 0 with the job summary as
 * value, or -1 with res filled.
 */
int
task_process_csv_chunk(struct task_ctx *ctx, struct json_object *args,
    struct json_object *kwargs, struct task_result *res)
{
	const char *job_id, *p[3];
	char first[24], last[24], msg[200], org_id[32], provider[32],
	    transaction[32], status[32];
	struct errbuf err;
	long lo, hi;
	PGresult *r;
	PGconn *db;
	int rc, outcome, known, done;

	(void)kwargs;
	if (chunk_parse_args(args, &job_id, &lo, &hi, msg, sizeof(msg)) != 0)
		return task_fail(res, "ValueError", "%s", msg);
	snprintf(first, sizeof(first), "%ld", lo);
	snprintf(last, sizeof(last), "%ld", hi);
	p[0] = job_id;
	p[1] = first;
	p[2] = last;
	if ((db = task_db_get(&err)) == NULL ||
	    (r = db_exec(db, &err, "SELECT j.status, j.organization_id, "
	    "j.provider_code, j.transaction_code, c.job_id IS NOT NULL, "
	    "c.done_at IS NOT NULL FROM csv_jobs j LEFT JOIN csv_job_chunks c "
	    "ON c.job_id = j.id AND c.first_row = $2::int "
	    "AND c.last_row = $3::int WHERE j.id = $1", 3, p)) == NULL) {
		return task_db_retry(res, "database unavailable");
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		snprintf(msg, sizeof(msg), "job %s does not exist", job_id);
		return task_fail(res, "JobNotFound", "%s", msg);
	}
	snprintf(status, sizeof(status), "%s", PQgetvalue(r, 0, 0));
	snprintf(org_id, sizeof(org_id), "%s", PQgetvalue(r, 0, 1));
	snprintf(provider, sizeof(provider), "%s", PQgetvalue(r, 0, 2));
	snprintf(transaction, sizeof(transaction), "%s", PQgetvalue(r, 0, 3));
	known = PQgetvalue(r, 0, 4)[0] == 't';
	done = PQgetvalue(r, 0, 5)[0] == 't';
	PQclear(r);
	if (!known || done) {
		/* An older split's chunk, or this one delivered again. */
		log_info("chunk skipped job=%s rows=%s-%s (%s)", job_id, first,
		    last, known ? "done" : "not in the current split");
		res->value = job_summary(db, &err, job_id);
		return 0;
	}
	outcome = 0;
	if (strcmp(status, "PROCESSING") == 0) {
		job_chunk_start(db, NULL, job_id, first, last);
		log_info("chunk started job=%s rows=%s-%s task=%s", job_id,
		    first, last, ctx->task_id);
		rc = run_rows(ctx, db, job_id, org_id, provider,
		    transaction, lo, hi, res, &outcome);
		if (rc != 0)
			return rc;
		if ((db = task_db_get(&err)) == NULL) {
			return task_db_retry(res, "database unavailable");
		}
	} else if (strcmp(status, "PENDING") == 0) {
		/* Requeued by the watchdog: its next split replaces us. */
		res->value = job_summary(db, &err, job_id);
		return 0;
	}
	if (outcome == 1) {
		/* Warm shutdown or soft time limit: resumes later. */
		res->retry = 1;
		res->countdown = 1;
		snprintf(msg, sizeof(msg), "worker stopping or time limit; "
		    "chunk of job %s resumes later", job_id);
		return task_fail(res, "Interrupted", "%s", msg);
	}
	/* Done, or the job is cancelled/finished: the chunk counts. */
	if (chunk_finish(ctx, db, job_id, first, last, &err) != 0) {
		return task_db_retry(res, "database unavailable");
	}
	res->value = job_summary(db, &err, job_id);
	return 0;
}
