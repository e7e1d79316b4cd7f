/*
 * Per-organisation caps checked before an upload is read: jobs running
 * at once (limits.org_running_jobs) and rows uploaded in the last 24
 * hours (limits.org_rows_per_day).  A cap that is reached answers 429
 * with a message a billing team can act on.
 *
 * The caps are soft: two uploads that pass at the same moment both
 * start, and the rows cap looks at the rows already uploaded (the new
 * file's rows are not known before it is parsed), so an organisation can
 * end up one file over.  That is the price of not serialising uploads.
 */
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "log.h"

/*
 * Both from the last 24 hours: a job still "running" after a day is a
 * lost one, and must not block its organisation for ever.
 */
static const char sql_usage[] =
	"SELECT"
	" count(*) FILTER (WHERE status IN ('PENDING', 'PROCESSING',"
	"  'CANCELLING')),"
	" coalesce(sum(total_rows), 0)"
	" FROM csv_jobs WHERE organization_id = $1"
	" AND created_at > now() - interval '1 day'";

int
quota_check(struct req *r)
{
	long running_cap, rows_cap, running, rows;
	char org[24], msg[160];
	const char *p[1];
	struct errbuf err;
	PGresult *res;
	PGconn *db;

	running_cap = config_get_long("limits.org_running_jobs",
	    QUOTA_RUNNING_JOBS);
	rows_cap = config_get_long("limits.org_rows_per_day",
	    QUOTA_ROWS_PER_DAY);
	if (running_cap <= 0 && rows_cap <= 0)
		return 0;
	snprintf(org, sizeof(org), "%lld", r->org_id);
	p[0] = org;
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return -1;
	}
	if ((res = db_exec_prepared(db, &err, "quota_usage", sql_usage,
	    1, p)) == NULL) {
		resp_db_error(r, &err);
		return -1;
	}
	running = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	rows = strtol(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	if (running_cap > 0 && running >= running_cap) {
		snprintf(msg, sizeof(msg), "Your organisation already has %ld "
		    "jobs waiting or running (the limit is %ld). Upload this "
		    "file when one of them has finished.", running,
		    running_cap);
		log_info("quota org=%lld running=%ld cap=%ld", r->org_id,
		    running, running_cap);
		resp_error(r, 429, "too_many_running_jobs", msg, NULL,
		    "Retry-After: 60\r\n");
		return -1;
	}
	if (rows_cap > 0 && rows >= rows_cap) {
		snprintf(msg, sizeof(msg), "Your organisation has uploaded %ld "
		    "rows in the last 24 hours (the limit is %ld). Please try "
		    "again later.", rows, rows_cap);
		log_info("quota org=%lld rows_24h=%ld cap=%ld", r->org_id,
		    rows, rows_cap);
		resp_error(r, 429, "daily_row_limit", msg, NULL,
		    "Retry-After: 3600\r\n");
		return -1;
	}
	return 0;
}
