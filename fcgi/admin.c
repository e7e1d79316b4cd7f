/*
 * Organisation admins' endpoints: the audit log (GET audit/, newest
 * first, DRF pagination, ?action= filter) and purging one job's rows and
 * results at once (POST claims/csv-jobs/{id}/purge/), plus the 410 gate
 * in front of a purged job's results.  Everything is scoped to the
 * caller's organisation in SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "drf.h"
#include "handlers.h"
#include "log.h"
#include "query.h"

#define EPOCH_US(c)	"(extract(epoch from " c ") * 1000000)::bigint"

static const char sql_count[] =
	"SELECT count(*) FROM audit_log WHERE organization_id = $1"
	" AND ($2::text IS NULL OR action = $2)";

static const char sql_page[] =
	"SELECT id, " EPOCH_US("at") ", user_id, username, address, action,"
	" job_id, outcome, via, detail FROM audit_log"
	" WHERE organization_id = $1 AND ($2::text IS NULL OR action = $2)"
	" ORDER BY id DESC LIMIT $3 OFFSET $4";

static const char sql_purge[] =
	"SELECT job_purge($2::uuid, $1::bigint, false),"
	" " EPOCH_US("(SELECT purged_at FROM csv_jobs WHERE id = $2::uuid"
	"  AND organization_id = $1::bigint)");

static const char sql_purged[] =
	"SELECT purged_at IS NOT NULL FROM csv_jobs"
	" WHERE organization_id = $1 AND id = $2";

/* A text column as JSON, NULL as null. */
static struct json_object *
col(const PGresult *res, int row, int c)
{
	if (PQgetisnull(res, row, c))
		return NULL;
	return json_object_new_string(PQgetvalue(res, row, c));
}

static struct json_object *
entry_json(const PGresult *res, int row)
{
	struct json_object *o = json_object_new_object();
	char when[DRF_TEXT_MAX];

	json_object_object_add(o, "id", json_object_new_int64(
	    strtoll(PQgetvalue(res, row, 0), NULL, 10)));
	drf_datetime(strtoll(PQgetvalue(res, row, 1), NULL, 10), when,
	    sizeof(when));
	json_object_object_add(o, "at", json_object_new_string(when));
	json_object_object_add(o, "user", PQgetisnull(res, row, 2) ? NULL :
	    json_object_new_int64(strtoll(PQgetvalue(res, row, 2), NULL, 10)));
	json_object_object_add(o, "username", col(res, row, 3));
	json_object_object_add(o, "address", col(res, row, 4));
	json_object_object_add(o, "action", col(res, row, 5));
	json_object_object_add(o, "job_id", col(res, row, 6));
	json_object_object_add(o, "outcome", col(res, row, 7));
	json_object_object_add(o, "via", col(res, row, 8));
	json_object_object_add(o, "detail", col(res, row, 9));
	return o;
}

void
audit_list(struct req *r)
{
	struct query q;
	const char *p[4], *act;
	char org[24];
	long count, size;
	struct errbuf err;
	PGresult *res;
	PGconn *db;

	if (query_parse(r->query, &q) == -1) {
		resp_error(r, 400, "invalid_query",
		    "The query string is malformed or too long.", NULL, NULL);
		return;
	}
	act = query_get(&q, "action");
	snprintf(org, sizeof(org), "%lld", r->org_id);
	p[0] = org;
	p[1] = act != NULL && *act != '\0' ? act : NULL;
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	if ((res = db_exec(db, &err, sql_count, 2, p)) == NULL) {
		resp_db_error(r, &err);
		return;
	}
	count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	size = AUDIT_PAGE_SIZE;
	if (query_get(&q, "page_size") != NULL) {
		size = drf_page_size(query_get(&q, "page_size"));
		if (size > AUDIT_PAGE_MAX)
			size = AUDIT_PAGE_MAX;
	}
	resp_page(r, db, &q, count, size, sql_page, 4, p, entry_json);
}

void
admin_purge(struct req *r)
{
	const char *p[2], *st;
	char org[24], when[DRF_TEXT_MAX];
	struct json_object *o;
	struct errbuf err;
	PGresult *res;
	PGconn *db;

	if (resp_job_id(r) == -1)
		return;
	snprintf(org, sizeof(org), "%lld", r->org_id);
	p[0] = org;
	p[1] = r->job_id;
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	if ((res = db_exec(db, &err, sql_purge, 2, p)) == NULL) {
		resp_db_error(r, &err);
		return;
	}
	st = PQgetvalue(res, 0, 0);
	if (strcmp(st, "not_found") == 0) {
		PQclear(res);
		resp_job_not_found(r);
		return;
	}
	if (strcmp(st, "running") == 0) {
		PQclear(res);
		resp_error(r, 409, "job_running",
		    "The job is still running; cancel it or wait until it "
		    "ends.", NULL, NULL);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(r->job_id));
	json_object_object_add(o, "purged", json_object_new_boolean(1));
	if (!PQgetisnull(res, 0, 1)) {
		drf_datetime(strtoll(PQgetvalue(res, 0, 1), NULL, 10), when,
		    sizeof(when));
		json_object_object_add(o, "purged_at",
		    json_object_new_string(when));
	}
	PQclear(res);
	log_info("purge job=%s", r->job_id);
	resp_json(r, 200, o, NULL);
}

int
purge_gate(struct req *r)
{
	const char *p[2];
	char org[24];
	struct errbuf err;
	PGresult *res;
	PGconn *db;
	int purged;

	if (!r->route.job_id_ok)
		return 0;
	snprintf(org, sizeof(org), "%lld", r->org_id);
	p[0] = org;
	p[1] = r->route.job_id;
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return -1;
	}
	if ((res = db_exec(db, &err, sql_purged, 2, p)) == NULL) {
		resp_db_error(r, &err);
		return -1;
	}
	purged = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!purged)
		return 0;
	snprintf(r->job_id, sizeof(r->job_id), "%s", r->route.job_id);
	resp_error(r, 410, "purged",
	    "The job's rows and results were deleted under the retention "
	    "policy.", NULL, NULL);
	return -1;
}
