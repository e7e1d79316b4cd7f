/*
 * The job endpoints: list (DRF PageNumberPagination), detail, progress
 * and retry, plus publishing the Celery task that upload and retry
 * share.  Every query is scoped to the caller's organisation: another
 * organisation's job is indistinguishable from a missing one (404).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "celery.h"
#include "db.h"
#include "drf.h"
#include "handlers.h"
#include "job.h"
#include "log.h"
#include "query.h"
#include "results.h"
#include "util.h"

#define TASK_NAME	"claims.tasks.process_csv_file"

/* Epoch microseconds of a timestamptz / interval column, or NULL. */
#define EPOCH_US(c)	"(extract(epoch from " c ") * 1000000)::bigint"

/* The columns job_json() reads, in this order. */
#define JOB_COLS							\
	"id, user_id, filename, status, total_rows, processed_rows,"	\
	" success_count, failure_count, celery_task_id, result_file,"	\
	" error_message, " EPOCH_US("created_at") ","			\
	" " EPOCH_US("started_at") ", " EPOCH_US("completed_at") ","	\
	" " EPOCH_US("processing_duration") ","				\
	" " EPOCH_US("clock_timestamp()") ","				\
	" " EPOCH_US("purged_at") ","					\
	" waiting_for_payer, chunks_total, chunks_done, workflow,"	\
	" calls_status, calls_details, calls_payment, calls_triage"
enum {
	C_ID, C_USER, C_FILENAME, C_STATUS, C_TOTAL, C_PROCESSED, C_SUCCESS,
	C_FAILURE, C_TASK, C_RESULT_FILE, C_ERROR, C_CREATED, C_STARTED,
	C_COMPLETED, C_DURATION, C_NOW, C_PURGED, C_WAITING, C_CHUNKS_TOTAL,
	C_CHUNKS_DONE, C_WORKFLOW, C_CALLS_STATUS, C_CALLS_DETAILS,
	C_CALLS_PAYMENT, C_CALLS_TRIAGE
};

static const char *const statuses[] = {
	"PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLING",
	"CANCELLED"
};

static struct json_object *
col_str(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return json_object_new_string(PQgetvalue(res, row, col));
}

static long long
col_ll(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static struct json_object *
col_int(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return json_object_new_int64(col_ll(res, row, col));
}

static struct json_object *
col_time(const PGresult *res, int row, int col)
{
	char buf[DRF_TEXT_MAX];

	if (PQgetisnull(res, row, col))
		return NULL;
	drf_datetime(col_ll(res, row, col), buf, sizeof(buf));
	return json_object_new_string(buf);
}

/* A JSON number written as Python's repr(round(v, 2)). */
static struct json_object *
float2(double v)
{
	char buf[DRF_TEXT_MAX];

	drf_float2(v, buf, sizeof(buf));
	return json_object_new_double_s(v, buf);
}

static double
percentage(long long processed, long long total)
{
	if (total <= 0)
		return 0.0;
	return (double)processed / (double)total * 100.0;
}

/*
 * Payer requests the job sent, per transaction, and the not-found
 * triage's extra calls (retries included).
 */
static struct json_object *
payer_calls(const PGresult *res, int row)
{
	struct json_object *calls = json_object_new_object();

	json_object_object_add(calls, "status",
	    col_int(res, row, C_CALLS_STATUS));
	json_object_object_add(calls, "details",
	    col_int(res, row, C_CALLS_DETAILS));
	json_object_object_add(calls, "payment",
	    col_int(res, row, C_CALLS_PAYMENT));
	json_object_object_add(calls, "triage",
	    col_int(res, row, C_CALLS_TRIAGE));
	return calls;
}

/* The whole job record, as the DRF serializer rendered it. */
static struct json_object *
job_json(const PGresult *res, int row)
{
	struct json_object *o = json_object_new_object();
	char buf[DRF_TEXT_MAX];

	json_object_object_add(o, "id", col_str(res, row, C_ID));
	json_object_object_add(o, "user", col_int(res, row, C_USER));
	json_object_object_add(o, "filename", col_str(res, row, C_FILENAME));
	json_object_object_add(o, "status", col_str(res, row, C_STATUS));
	json_object_object_add(o, "total_rows", col_int(res, row, C_TOTAL));
	json_object_object_add(o, "processed_rows",
	    col_int(res, row, C_PROCESSED));
	json_object_object_add(o, "success_count",
	    col_int(res, row, C_SUCCESS));
	json_object_object_add(o, "failure_count",
	    col_int(res, row, C_FAILURE));
	json_object_object_add(o, "celery_task_id", col_str(res, row, C_TASK));
	json_object_object_add(o, "result_file",
	    col_str(res, row, C_RESULT_FILE));
	json_object_object_add(o, "error_message", col_str(res, row, C_ERROR));
	json_object_object_add(o, "created_at", col_time(res, row, C_CREATED));
	json_object_object_add(o, "started_at", col_time(res, row, C_STARTED));
	json_object_object_add(o, "completed_at",
	    col_time(res, row, C_COMPLETED));
	if (PQgetisnull(res, row, C_DURATION))
		json_object_object_add(o, "processing_duration", NULL);
	else {
		drf_duration(col_ll(res, row, C_DURATION), buf, sizeof(buf));
		json_object_object_add(o, "processing_duration",
		    json_object_new_string(buf));
	}
	json_object_object_add(o, "progress_percentage",
	    float2(percentage(col_ll(res, row, C_PROCESSED),
	    col_ll(res, row, C_TOTAL))));
	/* Set once retention or an admin deleted the rows (results: 410). */
	json_object_object_add(o, "purged_at", col_time(res, row, C_PURGED));
	json_object_object_add(o, "workflow", col_str(res, row, C_WORKFLOW));
	json_object_object_add(o, "payer_calls", payer_calls(res, row));
	return o;
}

/* Fetches the caller's job r->route.job_id; NULL after answering. */
static PGresult *
job_fetch(struct req *r)
{
	static const char sql[] = "SELECT " JOB_COLS " FROM csv_jobs"
	    " WHERE organization_id = $1 AND id = $2";
	const char *params[2];
	char org[24];
	struct errbuf err;
	PGresult *res;
	PGconn *db;

	if (!r->route.job_id_ok) {
		resp_job_not_found(r);
		return NULL;
	}
	snprintf(r->job_id, sizeof(r->job_id), "%s", r->route.job_id);
	snprintf(org, sizeof(org), "%lld", r->org_id);
	params[0] = org;
	params[1] = r->route.job_id;
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return NULL;
	}
	if ((res = db_exec_prepared(db, &err, "job_fetch", sql, 2,
	    params)) == NULL) {
		resp_db_error(r, &err);
		return NULL;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_job_not_found(r);
		return NULL;
	}
	return res;
}

/*
 * The job's money in one aggregate over its rows, for a manager: what
 * was billed, allowed, paid, left to the patient and denied (decimal
 * strings as DRF renders them; null while no row carries the amount).
 */
static const char *const totals_keys[] = {
	"billed", "allowed", "paid", "patient_responsibility", "denied"
};

static struct json_object *
job_totals(struct req *r, struct errbuf *err)
{
	static const char sql[] = "SELECT sum(total_charged)::text,"
	    " sum(total_allowed)::text, sum(total_paid)::text,"
	    " sum(patient_responsibility)::text, sum(denied_amount)::text"
	    " FROM csv_job_rows WHERE job_id = $1";
	const char *params[1];
	struct json_object *o;
	PGresult *res;
	PGconn *db;
	size_t i;

	params[0] = r->job_id;
	if ((db = req_db(r)) == NULL)
		return NULL;
	if ((res = db_exec_prepared(db, err, "job_totals", sql, 1,
	    params)) == NULL)
		return NULL;
	o = json_object_new_object();
	for (i = 0; i < sizeof(totals_keys) / sizeof(totals_keys[0]); i++)
		json_object_object_add(o, totals_keys[i], col_str(res, 0,
		    (int)i));
	PQclear(res);
	return o;
}

/*
 * {bucket: {count, billed, paid}} over the job's rows by action
 * (sql/functions/claim_actions.sql), every bucket present, amounts as
 * strings like the totals ("0.00" for none).
 */
static struct json_object *
job_actions(struct req *r, struct errbuf *err)
{
	static const char sql[] = "SELECT a, count(*),"
	    " coalesce(sum(total_charged), 0)::numeric(14,2)::text,"
	    " coalesce(sum(total_paid), 0)::numeric(14,2)::text"
	    " FROM (SELECT " RESULTS_ACTION " AS a, total_charged,"
	    " total_paid FROM csv_job_rows WHERE job_id = $1) x GROUP BY a";
	struct json_object *o, *b;
	const char *params[1];
	PGresult *res;
	PGconn *db;
	int i, row;

	params[0] = r->job_id;
	if ((db = req_db(r)) == NULL)
		return NULL;
	if ((res = db_exec_prepared(db, err, "job_actions", sql, 1,
	    params)) == NULL)
		return NULL;
	o = json_object_new_object();
	for (i = 0; i < RESULTS_NACTIONS; i++) {
		b = json_object_new_object();
		for (row = 0; row < PQntuples(res); row++)
			if (strcmp(PQgetvalue(res, row, 0),
			    results_actions[i]) == 0)
				break;
		json_object_object_add(b, "count", json_object_new_int64(
		    row < PQntuples(res) ? strtoll(PQgetvalue(res, row, 1),
		    NULL, 10) : 0));
		json_object_object_add(b, "billed", json_object_new_string(
		    row < PQntuples(res) ? PQgetvalue(res, row, 2) : "0.00"));
		json_object_object_add(b, "paid", json_object_new_string(
		    row < PQntuples(res) ? PQgetvalue(res, row, 3) : "0.00"));
		json_object_object_add(o, results_actions[i], b);
	}
	PQclear(res);
	return o;
}

/*
 * {new, changed, unchanged}: the job's answered rows compared with the
 * claims' latest earlier checks in the claims ledger
 * (sql/functions/claims_ledger.sql).
 */
static struct json_object *
job_changes(struct req *r, struct errbuf *err)
{
	static const char sql[] = "SELECT"
	    " count(*) FILTER (WHERE c.change = 'new'),"
	    " count(*) FILTER (WHERE c.change = 'changed'),"
	    " count(*) FILTER (WHERE c.change = 'unchanged')"
	    " FROM csv_job_rows r, LATERAL csv_row_change(r) c"
	    " WHERE r.job_id = $1 AND r.success IS NOT NULL";
	static const char *const keys[] = { "new", "changed", "unchanged" };
	struct json_object *o;
	const char *params[1];
	PGresult *res;
	PGconn *db;
	int i;

	params[0] = r->job_id;
	if ((db = req_db(r)) == NULL)
		return NULL;
	if ((res = db_exec_prepared(db, err, "job_changes", sql, 1,
	    params)) == NULL)
		return NULL;
	o = json_object_new_object();
	for (i = 0; i < 3; i++)
		json_object_object_add(o, keys[i], json_object_new_int64(
		    strtoll(PQgetvalue(res, 0, i), NULL, 10)));
	PQclear(res);
	return o;
}

void
jobs_detail(struct req *r)
{
	struct json_object *o, *totals, *actions, *changes;
	struct errbuf err;
	PGresult *res;

	if ((res = job_fetch(r)) == NULL)
		return;
	o = job_json(res, 0);
	PQclear(res);
	err.msg[0] = '\0';
	if ((totals = job_totals(r, &err)) == NULL) {
		json_object_put(o);
		resp_db_error(r, err.msg[0] != '\0' ? &err : NULL);
		return;
	}
	json_object_object_add(o, "totals", totals);
	if ((actions = job_actions(r, &err)) == NULL) {
		json_object_put(o);
		resp_db_error(r, err.msg[0] != '\0' ? &err : NULL);
		return;
	}
	json_object_object_add(o, "actions", actions);
	if ((changes = job_changes(r, &err)) == NULL) {
		json_object_put(o);
		resp_db_error(r, err.msg[0] != '\0' ? &err : NULL);
		return;
	}
	json_object_object_add(o, "changes", changes);
	resp_json(r, 200, o, NULL);
}

void
jobs_progress(struct req *r)
{
	struct json_object *o;
	PGresult *res;
	const char *status;
	long long total, processed, started, end;
	double elapsed, rate = -1.0;
	int terminal;

	if ((res = job_fetch(r)) == NULL)
		return;
	status = PQgetvalue(res, 0, C_STATUS);
	total = col_ll(res, 0, C_TOTAL);
	processed = col_ll(res, 0, C_PROCESSED);
	terminal = strcmp(status, "COMPLETED") == 0 ||
	    strcmp(status, "FAILED") == 0 || strcmp(status, "CANCELLED") == 0;

	o = json_object_new_object();
	json_object_object_add(o, "status", col_str(res, 0, C_STATUS));
	json_object_object_add(o, "total_rows", col_int(res, 0, C_TOTAL));
	json_object_object_add(o, "processed_rows",
	    col_int(res, 0, C_PROCESSED));
	json_object_object_add(o, "success_count", col_int(res, 0, C_SUCCESS));
	json_object_object_add(o, "failure_count", col_int(res, 0, C_FAILURE));
	json_object_object_add(o, "progress_percentage",
	    float2(percentage(processed, total)));

	/* Rate over the time since started_at (to completed_at if done). */
	if (!PQgetisnull(res, 0, C_STARTED)) {
		started = col_ll(res, 0, C_STARTED);
		end = PQgetisnull(res, 0, C_COMPLETED) ?
		    col_ll(res, 0, C_NOW) : col_ll(res, 0, C_COMPLETED);
		elapsed = (double)(end - started) / 1e6;
		if (elapsed > 0.0)
			rate = (double)processed / elapsed;
	}
	json_object_object_add(o, "rows_per_second",
	    rate >= 0.0 ? float2(rate) : NULL);
	if (terminal || (processed >= total &&
	    strcmp(status, "PROCESSING") == 0))
		json_object_object_add(o, "eta_seconds",
		    json_object_new_int64(0));
	else if (strcmp(status, "PROCESSING") == 0 && rate > 0.0)
		json_object_object_add(o, "eta_seconds", json_object_new_int64(
		    (long long)ceil((double)(total - processed) / rate)));
	else
		json_object_object_add(o, "eta_seconds", NULL);
	/* Reliability: the payer is down and the run waits for it. */
	json_object_object_add(o, "waiting_for_payer", json_object_new_boolean(
	    PQgetvalue(res, 0, C_WAITING)[0] == 't'));
	json_object_object_add(o, "unprocessed_rows",
	    json_object_new_int64(total > processed ? total - processed : 0));
	/* Chunking: 0 and 0 for a job run as one task. */
	json_object_object_add(o, "chunks_total",
	    col_int(res, 0, C_CHUNKS_TOTAL));
	json_object_object_add(o, "chunks_done",
	    col_int(res, 0, C_CHUNKS_DONE));
	/* Claim details: which calls the job makes, and how many it made. */
	json_object_object_add(o, "workflow", col_str(res, 0, C_WORKFLOW));
	json_object_object_add(o, "payer_calls", payer_calls(res, 0));
	/*
	 * nginx may answer the next polls of a running job for up to 1 s
	 * from its cache (nginx/bulkclaims-locations.conf.in): never a
	 * finished job's (a retry must show at once) nor a browser's.
	 */
	resp_json(r, 200, o, terminal || r->via_session ? NULL :
	    "X-Accel-Expires: 1\r\n");
	PQclear(res);
}

void
jobs_list(struct req *r)
{
	static const char sql_count[] = "SELECT count(*) FROM csv_jobs"
	    " WHERE organization_id = $1 AND ($2::text IS NULL OR status = $2)";
	static const char sql_page[] = "SELECT " JOB_COLS " FROM csv_jobs"
	    " WHERE organization_id = $1 AND ($2::text IS NULL OR status = $2)"
	    " ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4";
	struct query q;
	const char *params[4], *st;
	char org[24], status[16];
	long count, size;
	struct json_object *o;
	struct errbuf err;
	PGresult *res;
	PGconn *db;
	size_t i;

	if (query_parse(r->query, &q) == -1) {
		resp_error(r, 400, "invalid_query",
		    "The query string is malformed or too long.", NULL, NULL);
		return;
	}
	params[1] = NULL;
	if ((st = query_get(&q, "status")) != NULL && *st != '\0') {
		for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
			if (strcasecmp(st, statuses[i]) == 0)
				break;
		if (i == sizeof(statuses) / sizeof(statuses[0])) {
			o = json_object_new_object();
			json_object_object_add(o, "field",
			    json_object_new_string("status"));
			resp_error(r, 400, "invalid_status",
			    "Select a valid choice: PENDING, PROCESSING, "
			    "COMPLETED, FAILED, CANCELLING or CANCELLED.",
			    o, NULL);
			return;
		}
		snprintf(status, sizeof(status), "%s", statuses[i]);
		params[1] = status;
	}
	snprintf(org, sizeof(org), "%lld", r->org_id);
	params[0] = org;
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	if ((res = db_exec(db, &err, sql_count, 2, params)) == NULL) {
		resp_db_error(r, &err);
		return;
	}
	count = (long)col_ll(res, 0, 0);
	PQclear(res);

	size = drf_page_size(query_get(&q, "page_size"));
	resp_page(r, db, &q, count, size, sql_page, 4, params, job_json);
}

int
jobs_publish(struct req *r, const char *job_id, const char *task_id,
    struct errbuf *err)
{
	struct json_object *args, *kwargs;
	redisContext *c;
	int attempt, rc = -1;

	args = json_object_new_array();
	json_object_array_add(args, json_object_new_string(job_id));
	kwargs = json_object_new_object();
	/*
	 * Two attempts: Redis may have closed an idle connection
	 * (timeout), which only shows on first use; a fresh one decides.
	 */
	for (attempt = 0; attempt < 2 && rc == -1; attempt++) {
		if ((c = req_redis(r, err)) == NULL)
			break;
		rc = celery_publish(c, r->app->queue, TASK_NAME, task_id, args,
		    kwargs, err);
		if (rc == -1)
			req_redis_drop(r);
	}
	json_object_put(args);
	json_object_put(kwargs);
	return rc;
}

void
jobs_retry(struct req *r)
{
	char org[24], task[37];
	enum job_retry_result rc;
	long long todo;
	struct json_object *o;
	struct errbuf err;
	PGconn *db;

	if (resp_job_id(r) == -1)
		return;
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	snprintf(org, sizeof(org), "%lld", r->org_id);
	util_uuid4(task);
	rc = job_retry(db, &err, r->job_id, org, task, &todo);
	switch (rc) {
	case JOB_RETRY_RETRIED:
		break;
	case JOB_RETRY_NOT_FOUND:
		resp_job_not_found(r);
		return;
	case JOB_RETRY_RUNNING:
		resp_error(r, 409, "job_running",
		    "The job is still queued or running.", NULL, NULL);
		return;
	case JOB_RETRY_NOTHING:
		resp_error(r, 409, "nothing_to_retry",
		    "The job completed without failed rows.", NULL, NULL);
		return;
	default:
		resp_db_error(r, &err);
		return;
	}

	if (jobs_publish(r, r->job_id, task, &err) == -1) {
		req_oneline(err.msg, err.msg, sizeof(err.msg));
		log_warnx("retry job=%s: publish failed: %s", r->job_id,
		    err.msg);
		/* Leave a retryable state, not a PENDING job nobody runs. */
		if (job_fail(db, &err, r->job_id, "The retry could not be "
		    "queued: the task queue is unavailable.", task) == -1) {
			req_oneline(err.msg, err.msg, sizeof(err.msg));
			log_warnx("retry job=%s: undo failed: %s", r->job_id,
			    err.msg);
		}
		resp_error(r, 503, "queue_unavailable",
		    "The task queue is unavailable; try again later.",
		    NULL, NULL);
		return;
	}
	log_info("retry job=%s task=%s rows=%lld", r->job_id, task, todo);
	r->rows = (long)todo;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(r->job_id));
	json_object_object_add(o, "status", json_object_new_string("PENDING"));
	json_object_object_add(o, "celery_task_id",
	    json_object_new_string(task));
	json_object_object_add(o, "retried_rows", json_object_new_int64(todo));
	resp_json(r, 202, o, NULL);
}
