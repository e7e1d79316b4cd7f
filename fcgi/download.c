/*
 * GET claims/csv-jobs/{id}/results/: the results CSV, produced by
 * PostgreSQL (COPY ... TO STDOUT) and streamed chunk by chunk to the
 * FastCGI stream, so a 200,000-row file never sits in memory.  Column
 * order is the compatibility contract of DESIGN.md; text cells go
 * through csv_safe() so no cell can start a spreadsheet formula.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "log.h"
#include "util.h"

/*
 * COPY takes no parameters: the job id is spliced in, which is safe only
 * because it passed util_is_uuid() and the ownership query first.
 */
static const char copy_fmt[] =
	"COPY (SELECT row_number AS \"row\","
	" csv_safe(claim_number) AS claim_number,"
	/* A cancelled or failed job's rows without a result (reliability). */
	" csv_safe(CASE WHEN success IS NULL THEN 'Unprocessed'"
	"  ELSE status END) AS status,"
	" csv_safe(patient_name) AS patient_name,"
	" total_charged, total_paid,"
	" to_char(processed_date, 'YYYY-MM-DD') AS processed_date,"
	" CASE success WHEN true THEN 'true' WHEN false THEN 'false' END"
	"  AS success,"
	" csv_safe(CASE WHEN success IS NULL THEN 'Not processed: the job"
	"  ended before this row' ELSE error_message END) AS error_message"
	" FROM csv_job_rows WHERE job_id = '%s' ORDER BY row_number)"
	" TO STDOUT (FORMAT csv, HEADER)";

void
download_results(struct req *r)
{
	static const char sql_job[] = "SELECT status FROM csv_jobs"
	    " WHERE organization_id = $1 AND id = $2";
	const char *params[2], *status;
	char org[24], sql[sizeof(copy_fmt) + 64], hdr[256];
	struct errbuf err;
	PGresult *res;
	PGconn *db;
	char *buf;
	int n, failed = 0;
	long long t0 = util_mono_ms();

	if (!r->route.job_id_ok) {
		resp_job_not_found(r);
		return;
	}
	snprintf(r->job_id, sizeof(r->job_id), "%s", r->route.job_id);
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	snprintf(org, sizeof(org), "%lld", r->org_id);
	params[0] = org;
	params[1] = r->job_id;
	if ((res = db_exec(db, &err, sql_job, 2, params)) == NULL) {
		resp_db_error(r, &err);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_job_not_found(r);
		return;
	}
	status = PQgetvalue(res, 0, 0);
	if (strcmp(status, "COMPLETED") != 0 && strcmp(status, "FAILED") != 0 &&
	    strcmp(status, "CANCELLED") != 0) {
		PQclear(res);
		resp_error(r, 409, "job_not_finished",
		    "The job has not finished; results are available once it "
		    "is COMPLETED, FAILED or CANCELLED.", NULL, NULL);
		return;
	}
	PQclear(res);

	snprintf(hdr, sizeof(hdr),
	    "Content-Disposition: attachment; filename=\"results-%s.csv\"\r\n",
	    r->job_id);
	if (r->head) {
		resp_headers(r, 200, "text/csv; charset=utf-8", -1, hdr);
		return;
	}
	snprintf(sql, sizeof(sql), copy_fmt, r->job_id);
	res = PQexec(db, sql);
	if (res == NULL || PQresultStatus(res) != PGRES_COPY_OUT) {
		errbuf_set(&err, "COPY TO: %s", res ?
		    PQresultErrorField(res, PG_DIAG_SQLSTATE) : "no result");
		PQclear(res);
		resp_db_error(r, &err);
		return;
	}
	PQclear(res);

	/* From here the status is sent: a failure can only cut the body. */
	if (resp_headers(r, 200, "text/csv; charset=utf-8", -1, hdr) == -1)
		failed = 1;
	/*
	 * libpq hands over one row per call, ending in '\n'; RFC 4180 (and
	 * Python's csv module, which wrote the files this replaces) end
	 * records with CRLF.  Line breaks inside quoted cells stay as they are.
	 */
	while ((n = PQgetCopyData(db, &buf, 0)) > 0) {
		/* Keep draining after a client error: libpq needs the end. */
		if (!failed) {
			if (buf[n - 1] == '\n')
				n--;
			if (resp_write(r, buf, (size_t)n) == -1 ||
			    resp_write(r, "\r\n", 2) == -1)
				failed = 1;
		}
		PQfreemem(buf);
	}
	if (n == -2) {
		req_oneline(PQerrorMessage(db), err.msg, sizeof(err.msg));
		log_warnx("results job=%s: COPY failed: %s", r->job_id,
		    err.msg);
	}
	while ((res = PQgetResult(db)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			log_warnx("results job=%s: COPY ended with %s",
			    r->job_id, PQresStatus(PQresultStatus(res)));
		PQclear(res);
	}
	if (failed)
		log_warnx("results job=%s: client went away", r->job_id);
	log_info("results job=%s bytes=%lld ms=%lld", r->job_id, r->bytes,
	    util_mono_ms() - t0);
}
