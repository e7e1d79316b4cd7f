/*
 * POST /api/v1/claims/csv-jobs/{id}/cancel/.
 *
 * A queued job (PENDING) is cancelled at once: its message, when a
 * worker takes it, finds a job it may not claim and is acknowledged
 * away.  A running job (PROCESSING) becomes CANCELLING; the run sees
 * that at its next result flush (a fraction of a second while rows
 * flow, at most a second while it waits for the payer), stops its
 * payer engine, stores what it has and sets CANCELLED.  A running job
 * whose worker is gone (no heartbeat for watchdog.stale_s) has nobody
 * to see the request, so it is cancelled here too.  Rows done stay;
 * the rest stay unprocessed, and retry resumes them.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "log.h"

static void
rollback(PGconn *db)
{
	PGresult *res = PQexec(db, "ROLLBACK");

	PQclear(res);
}

void
cancel_handle(struct req *r)
{
	/* worker_gone: PROCESSING without a heartbeat for stale_s. */
	static const char sql_lock[] = "SELECT status,"
	    " COALESCE(worker_heartbeat_at, started_at, created_at)"
	    "  < now() - make_interval(secs => $3::int)"
	    " FROM csv_jobs WHERE organization_id = $1 AND id = $2"
	    " FOR UPDATE";
	static const char sql_now[] = "UPDATE csv_jobs SET"
	    " status = 'CANCELLED', cancel_requested_at = now(),"
	    " completed_at = now(), waiting_for_payer = false,"
	    " worker_heartbeat_at = NULL,"
	    " processing_duration = now() - COALESCE(started_at, created_at)"
	    " WHERE id = $1";
	static const char sql_later[] = "UPDATE csv_jobs SET"
	    " status = 'CANCELLING', cancel_requested_at = now()"
	    " WHERE id = $1";
	const char *params[1], *status, *next;
	char stale[24];
	struct json_object *o;
	struct errbuf err;
	PGresult *res;
	PGconn *db;
	int gone;

	snprintf(stale, sizeof(stale), "%ld",
	    config_get_long("watchdog.stale_s", 120));
	if ((res = jobs_lock(r, sql_lock, stale, &db)) == NULL)
		return;
	status = PQgetvalue(res, 0, 0);
	gone = PQgetvalue(res, 0, 1)[0] == 't';
	if (strcmp(status, "PENDING") == 0)
		next = "CANCELLED";
	else if (strcmp(status, "PROCESSING") == 0 ||
	    strcmp(status, "CANCELLING") == 0)
		next = gone ? "CANCELLED" : "CANCELLING";
	else {
		o = json_object_new_object();
		json_object_object_add(o, "status",
		    json_object_new_string(status));
		jobs_refuse(r, db, res, 409, "job_finished",
		    "The job has already finished.", o);
		return;
	}
	PQclear(res);
	params[0] = r->job_id;
	if (db_cmd(db, &err, strcmp(next, "CANCELLED") == 0 ? sql_now :
	    sql_later, 1, params) == -1)
		goto dberr;
	if (db_cmd(db, &err, "COMMIT", 0, NULL) == -1)
		goto dberr;
	log_info("cancel job=%s status=%s", r->job_id, next);
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(r->job_id));
	json_object_object_add(o, "status", json_object_new_string(next));
	resp_json(r, 202, o, NULL);
	return;
dberr:
	rollback(db);
	resp_db_error(r, &err);
}
