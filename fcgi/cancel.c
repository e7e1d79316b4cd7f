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

#include "app.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "job.h"
#include "log.h"

/* The transition and its refusal are job_cancel()'s (lib/job.c). */
void
cancel_handle(struct req *r)
{
	char org[24], status[JOB_STATUS_MAX];
	struct json_object *o;
	struct errbuf err;
	PGconn *db;
	int rc;

	if (resp_job_id(r) == -1)
		return;
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	snprintf(org, sizeof(org), "%lld", r->org_id);
	rc = job_cancel(db, &err, r->job_id, org,
	    config_get_long("watchdog.stale_s", 120), status);
	if (rc == -1) {
		resp_db_error(r, &err);
		return;
	}
	if (rc == 2) {
		resp_job_not_found(r);
		return;
	}
	if (rc == 0) {
		o = json_object_new_object();
		json_object_object_add(o, "status",
		    json_object_new_string(status));
		resp_error(r, 409, "job_finished",
		    "The job has already finished.", o, NULL);
		return;
	}
	log_info("cancel job=%s status=%s", r->job_id, status);
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(r->job_id));
	json_object_object_add(o, "status", json_object_new_string(status));
	resp_json(r, 202, o, NULL);
}
