/*
 * A job's lifecycle state (job.h): thin calls of the transition
 * functions of sql/functions/job_state.sql.  The SQL decides; this file only
 * passes parameters and reads the answer.  The statements of the hot
 * paths (result flush, heartbeat, upload) are prepared once per
 * connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "job.h"

/* Runs a statement returning one boolean; 1 true, 0 false/no row, -1. */
static int
job_bool(PGconn *db, struct errbuf *err, const char *name, const char *sql,
    int n, const char *const *p)
{
	PGresult *res;
	int rc;

	res = name != NULL ? db_exec_prepared(db, err, name, sql, n, p) :
	    db_exec(db, err, sql, n, p);
	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
	    PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return rc;
}

/* Copies column col of row 0 into status ("" if none or NULL). */
static void
job_status_copy(PGresult *res, int col, char status[JOB_STATUS_MAX])
{
	status[0] = '\0';
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, col))
		snprintf(status, JOB_STATUS_MAX, "%s", PQgetvalue(res, 0, col));
}

/* Runs a statement returning a status text into status; 0 or -1. */
static int
job_status_of(PGconn *db, struct errbuf *err, const char *name,
    const char *sql, int n, const char *const *p,
    char status[JOB_STATUS_MAX])
{
	PGresult *res;

	if ((res = db_exec_prepared(db, err, name, sql, n, p)) == NULL)
		return -1;
	job_status_copy(res, 0, status);
	PQclear(res);
	return 0;
}

int
job_create(PGconn *db, struct errbuf *err, const char *job_id,
    const char *org_id, const char *user_id, const char *filename,
    const char *task_id, const char *sha256_hex, const char *workflow)
{
	const char *p[7] = { job_id, org_id, user_id, filename, task_id,
	    sha256_hex, workflow };

	return db_cmd_prepared(db, err, "job_create", "SELECT job_create($1, "
	    "$2, $3, $4, $5, decode($6, 'hex'), $7)", 7, p);
}

int
job_intake_done(PGconn *db, struct errbuf *err, const char *job_id,
    const char *total, const char *invalid, const char *columns)
{
	const char *p[4] = { job_id, total, invalid, columns };

	return job_bool(db, err, "job_intake_done", "SELECT job_intake_done("
	    "$1, $2::int, $3::int, $4::jsonb)", 4, p);
}

int
job_discard(PGconn *db, struct errbuf *err, const char *job_id)
{
	const char *p[1] = { job_id };

	return job_bool(db, err, NULL, "SELECT job_discard($1)", 1, p);
}

PGresult *
job_claim(PGconn *db, struct errbuf *err, const char *job_id,
    const char *task_id, const char *node, long stale_s)
{
	char stale[24];
	const char *p[4] = { job_id, task_id, node, stale };

	snprintf(stale, sizeof(stale), "%ld", stale_s);
	return db_exec(db, err, "SELECT organization_id, provider_code, "
	    "transaction_code FROM job_claim($1, $2, $3, $4::int)", 4, p);
}

#define STORE_RESULTS_SQL \
	"SELECT job_store_results($1, $2::json, $3::boolean, $4::jsonb)"

int
job_store_results(PGconn *db, struct errbuf *err, const char *job_id,
    const char *rows_json, const char *calls_json, int waiting,
    char status[JOB_STATUS_MAX])
{
	const char *p[4] = { job_id, rows_json, waiting ? "true" : "false",
	    calls_json };

	return job_status_of(db, err, "job_store_results",
	    STORE_RESULTS_SQL, 4, p, status);
}

int
job_store_results_send(PGconn *db, struct errbuf *err, const char *job_id,
    const char *rows_json, const char *calls_json, int waiting)
{
	const char *p[4] = { job_id, rows_json, waiting ? "true" : "false",
	    calls_json };

	return db_send_prepared(db, err, "job_store_results",
	    STORE_RESULTS_SQL, 4, p);
}

int
job_store_results_recv(PGconn *db, struct errbuf *err,
    char status[JOB_STATUS_MAX])
{
	PGresult *res;

	if ((res = db_recv(db, err)) == NULL)
		return -1;
	job_status_copy(res, 0, status);
	PQclear(res);
	return 0;
}

int
job_heartbeat(PGconn *db, struct errbuf *err, const char *job_id,
    int waiting, char status[JOB_STATUS_MAX])
{
	const char *p[2] = { job_id, waiting ? "true" : "false" };

	return job_status_of(db, err, "job_heartbeat",
	    "SELECT job_heartbeat($1, $2::boolean)", 2, p, status);
}

int
job_heartbeat_tasks(PGconn *db, struct errbuf *err, const char *tasks)
{
	const char *p[1] = { tasks };

	return db_cmd(db, err, "SELECT job_heartbeat_tasks($1::text[])", 1,
	    p);
}

int
job_release(PGconn *db, struct errbuf *err, const char *job_id)
{
	const char *p[1] = { job_id };

	return job_bool(db, err, NULL, "SELECT job_release($1)", 1, p);
}

PGresult *
job_plan_chunks(PGconn *db, struct errbuf *err, const char *job_id,
    long per_chunk)
{
	char per[24];
	const char *p[2] = { job_id, per };

	snprintf(per, sizeof(per), "%ld", per_chunk);
	return db_exec(db, err, "SELECT first_row, last_row "
	    "FROM job_plan_chunks($1, $2::int)", 2, p);
}

long
job_open_rows(PGconn *db, struct errbuf *err, const char *job_id)
{
	const char *p[1] = { job_id };
	PGresult *res;
	long n;

	res = db_exec(db, err, "SELECT count(*) FROM csv_job_rows r "
	    "JOIN csv_jobs j ON j.id = r.job_id WHERE r.job_id = $1 "
	    "AND job_row_open(j.workflow, r.success, r.details_result, "
	    "r.payments_result) AND r.duplicate_of IS NULL", 1, p);
	if (res == NULL)
		return -1;
	n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return n;
}

int
job_chunk_start(PGconn *db, struct errbuf *err, const char *job_id,
    const char *first, const char *last)
{
	const char *p[3] = { job_id, first, last };

	return job_bool(db, err, NULL, "SELECT job_chunk_start($1, $2::int, "
	    "$3::int)", 3, p);
}

int
job_chunk_done(PGconn *db, struct errbuf *err, const char *job_id,
    const char *first, const char *last, const char *by, int *last_chunk,
    char status[JOB_STATUS_MAX])
{
	const char *p[4] = { job_id, first, last, by };
	PGresult *res;
	int rc;

	*last_chunk = 0;
	status[0] = '\0';
	res = db_exec(db, err, "SELECT last_chunk, status "
	    "FROM job_chunk_done($1, $2::int, $3::int, $4)", 4, p);
	if (res == NULL)
		return -1;
	if ((rc = PQntuples(res) == 1)) {
		*last_chunk = PQgetvalue(res, 0, 0)[0] == 't';
		job_status_copy(res, 1, status);
	}
	PQclear(res);
	return rc;
}

int
job_finish(PGconn *db, struct errbuf *err, const char *job_id)
{
	const char *p[1] = { job_id };

	return job_bool(db, err, NULL, "SELECT job_finish($1)", 1, p);
}

int
job_fail(PGconn *db, struct errbuf *err, const char *job_id,
    const char *msg, const char *task_id)
{
	const char *p[3] = { job_id, msg, task_id };

	return job_bool(db, err, NULL, "SELECT job_fail($1, $2, $3)", 3, p);
}

int
job_cancel(PGconn *db, struct errbuf *err, const char *job_id,
    const char *org_id, long stale_s, char status[JOB_STATUS_MAX])
{
	char stale[24];
	const char *p[3] = { job_id, org_id, stale };
	PGresult *res;
	int rc;

	snprintf(stale, sizeof(stale), "%ld", stale_s);
	status[0] = '\0';
	res = db_exec(db, err, "SELECT applied, status "
	    "FROM job_cancel($1, $2::bigint, $3::int)", 3, p);
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1)
		rc = 2;
	else {
		rc = PQgetvalue(res, 0, 0)[0] == 't';
		job_status_copy(res, 1, status);
	}
	PQclear(res);
	return rc;
}

int
job_cancelled(PGconn *db, struct errbuf *err, const char *job_id)
{
	const char *p[1] = { job_id };

	return job_bool(db, err, NULL, "SELECT job_cancelled($1)", 1, p);
}

enum job_retry_result
job_retry(PGconn *db, struct errbuf *err, const char *job_id,
    const char *org_id, const char *task_id, long long *todo)
{
	static const char *const names[JOB_RETRY__MAX] = {
		"not_found", "running", "nothing_to_retry", "retried"
	};
	const char *p[3] = { job_id, org_id, task_id };
	enum job_retry_result rc = JOB_RETRY_ERROR;
	PGresult *res;
	int i;

	*todo = 0;
	res = db_exec(db, err, "SELECT result, todo "
	    "FROM job_retry($1, $2::bigint, $3)", 3, p);
	if (res == NULL)
		return JOB_RETRY_ERROR;
	if (PQntuples(res) == 1) {
		for (i = 0; i < JOB_RETRY__MAX; i++)
			if (strcmp(PQgetvalue(res, 0, 0), names[i]) == 0)
				rc = (enum job_retry_result)i;
		*todo = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	}
	if (rc == JOB_RETRY_ERROR)
		errbuf_set(err, "job_retry: unexpected answer");
	PQclear(res);
	return rc;
}

int
job_mark_notified(PGconn *db, struct errbuf *err, const char *job_id,
    const char *channel)
{
	const char *p[2] = { job_id, channel };

	return job_bool(db, err, NULL, "SELECT job_mark_notified($1, $2)", 2,
	    p);
}

PGresult *
job_fail_lost(PGconn *db, struct errbuf *err, long stale_s,
    long max_requeues)
{
	char stale[24], max[24];
	const char *p[2] = { stale, max };

	snprintf(stale, sizeof(stale), "%ld", stale_s);
	snprintf(max, sizeof(max), "%ld", max_requeues);
	return db_exec(db, err, "SELECT id FROM job_fail_lost($1::int, "
	    "$2::int) AS id", 2, p);
}

PGresult *
job_requeue(PGconn *db, struct errbuf *err, long stale_s, long max_requeues)
{
	char stale[24], max[24];
	const char *p[2] = { stale, max };

	snprintf(stale, sizeof(stale), "%ld", stale_s);
	snprintf(max, sizeof(max), "%ld", max_requeues);
	return db_exec(db, err, "SELECT id, celery_task_id "
	    "FROM job_requeue($1::int, $2::int)", 2, p);
}

PGresult *
job_requeue_orphans(PGconn *db, struct errbuf *err, const char *node,
    const char *running, long grace_s, long max_requeues)
{
	char grace[24], max[24];
	const char *p[4] = { node, running, grace, max };

	snprintf(grace, sizeof(grace), "%ld", grace_s);
	snprintf(max, sizeof(max), "%ld", max_requeues);
	return db_exec(db, err, "SELECT id, celery_task_id "
	    "FROM job_requeue_orphans($1, $2::text[], $3::int, $4::int)", 4,
	    p);
}

PGresult *
job_cancel_orphans(PGconn *db, struct errbuf *err, long stale_s)
{
	char stale[24];
	const char *p[1] = { stale };

	snprintf(stale, sizeof(stale), "%ld", stale_s);
	return db_exec(db, err, "SELECT id FROM job_cancel_orphans($1::int) "
	    "AS id", 1, p);
}

struct json_object *
job_summary(PGconn *db, struct errbuf *err, const char *job_id)
{
	const char *p[1] = { job_id };
	struct json_object *o;
	PGresult *res;
	int i;

	res = db_exec(db, err, "SELECT status, total_rows, processed_rows, "
	    "success_count, failure_count FROM csv_jobs WHERE id = $1", 1, p);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) != 1) {
		errbuf_set(err, "job %s does not exist", job_id);
		PQclear(res);
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "job_id", json_object_new_string(job_id));
	json_object_object_add(o, "status",
	    json_object_new_string(PQgetvalue(res, 0, 0)));
	for (i = 1; i < PQnfields(res); i++)
		json_object_object_add(o, PQfname(res, i),
		    json_object_new_int64(strtoll(PQgetvalue(res, 0, i),
		    NULL, 10)));
	PQclear(res);
	return o;
}
