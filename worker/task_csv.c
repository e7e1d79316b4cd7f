/*
 * claims.tasks.process_csv_file(job_id): the job's own task.  It claims
 * the job (worker node and a heartbeat on the row; a job another live
 * run holds is left alone), splits a big job into chunk tasks
 * (task_chunk.c) or runs its rows itself (runner.c), and ends the job:
 * COMPLETED, CANCELLED after a cancel, or released for a retry when
 * the worker stops.  Every state change is a transition of lib/job.c.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json.h>

#include "config.h"
#include "failpoint.h"
#include "job.h"
#include "log.h"
#include "runner.h"
#include "task_csv.h"
#include "task_db.h"
#include "util.h"

/*
 * Claims the job for this run (job_claim(): PENDING, or PROCESSING
 * without a live run).  Returns the claim's rows (none: not ours) or
 * NULL with err.
 */
static PGresult *
claim(PGconn *db, struct task_ctx *ctx, const char *job_id,
    struct errbuf *err)
{
	char node[300];

	/*
	 * Node name and the worker's main pid: two workers started with the
	 * same node name must not take each other's jobs for orphans.
	 */
	snprintf(node, sizeof(node), "%s/%ld", ctx->hostname != NULL ?
	    ctx->hostname : "", (long)getppid());
	return job_claim(db, err, job_id, ctx->task_id != NULL ?
	    ctx->task_id : "", node, config_get_long("watchdog.stale_s", 120));
}

int
task_process_csv_file(struct task_ctx *ctx, struct json_object *args,
    struct json_object *kwargs, struct task_result *res)
{
	const char *job_id = NULL;
	char org_id[32], provider[32], transaction[32];
	struct errbuf err;
	PGresult *r;
	PGconn *db;
	int rc, outcome;

	(void)kwargs;
	if (json_object_is_type(args, json_type_array) &&
	    json_object_array_length(args) >= 1)
		job_id = json_object_get_string(
		    json_object_array_get_idx(args, 0));
	if (!util_is_uuid(job_id))
		return task_fail(res, "ValueError", "process_csv_file expects "
		    "[job_id] with a UUID job id");
	if ((db = task_db_get(&err)) == NULL) {
		log_warnx("%s", err.msg);
		return task_db_retry(res, "database unavailable");
	}
	if ((r = claim(db, ctx, job_id, &err)) == NULL) {
		log_warnx("job=%s %s", job_id, err.msg);
		return task_db_retry(res, "database unavailable");
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		/*
		 * Finished, unknown, or held by another live run: report
		 * what is there; never redo it.
		 */
		if ((res->value = job_summary(db, &err, job_id)) != NULL) {
			log_info("job not claimed job=%s status=%s", job_id,
			    json_object_get_string(json_object_object_get(
			    res->value, "status")));
			return 0;
		}
		return task_fail(res, "JobNotFound", "job %s does not exist",
		    job_id);
	}
	snprintf(org_id, sizeof(org_id), "%s", PQgetvalue(r, 0, 0));
	snprintf(provider, sizeof(provider), "%s", PQgetvalue(r, 0, 1));
	snprintf(transaction, sizeof(transaction), "%s", PQgetvalue(r, 0, 2));
	PQclear(r);
	log_info("job started job=%s task=%s retries=%ld", job_id,
	    ctx->task_id, ctx->retries);
	failpoint("task_started");

	/* Big jobs go out as chunk tasks (task_chunk.c). */
	if ((rc = chunk_split_job(ctx, db, job_id, &err)) == -1) {
		log_warnx("job=%s %s", job_id, err.msg);
		return task_db_retry(res, "cannot split the job");
	}
	if (rc > 0) {
		res->value = job_summary(db, &err, job_id);
		return 0;
	}
	rc = run_rows(ctx, db, job_id, org_id, provider, transaction, 0,
	    0, res, &outcome);
	if (rc != 0)
		return rc;
	/* The connection may have been replaced during an outage. */
	if ((db = task_db_get(&err)) == NULL)
		return task_db_retry(res, "database unavailable");
	if (outcome == 2) {
		run_cancelled(db, job_id);
		res->value = job_summary(db, &err, job_id);
		return 0;
	}
	if (outcome == 1) {
		/* Stopped early: release the job; the retry does the rest. */
		job_release(db, NULL, job_id);
		res->retry = 1;
		res->countdown = 1;
		return task_fail(res, "Interrupted", "worker stopping or time "
		    "limit; job %s resumes later", job_id);
	}
	if ((rc = run_finish(ctx, db, job_id, &err)) == -1)
		return task_db_retry(res, "database unavailable");
	res->value = job_summary(db, &err, job_id);
	if (rc == 0) {
		/* Rows left (or the status changed under us): not done. */
		if (res->value != NULL && strcmp(json_object_get_string(
		    json_object_object_get(res->value, "status")),
		    "CANCELLING") == 0) {
			run_cancelled(db, job_id);
			return 0;
		}
		if (res->value != NULL && strcmp(json_object_get_string(
		    json_object_object_get(res->value, "status")),
		    "PROCESSING") == 0) {
			json_object_put(res->value);
			res->value = NULL;
			/* Let go, or the retry finds the job still held. */
			job_release(db, NULL, job_id);
			res->retry = 1;
			res->countdown = 1;
			return task_fail(res, "Incomplete", "job %s has rows "
			    "left; resuming", job_id);
		}
		return 0;
	}
	return 0;
}
