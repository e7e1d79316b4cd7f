/*
 * GET claims/csv-jobs/{id}/results/: the results CSV, produced by
 * PostgreSQL (COPY ... TO STDOUT) and streamed chunk by chunk to the
 * FastCGI stream, so a 200,000-row file never sits in memory.  Column
 * order is the compatibility contract of the API; text cells go
 * through csv_safe() so no cell can start a spreadsheet formula.
 *
 * Variants: ?format=extended, ?rows=, ?as=input and ?bom=1 (results.h
 * builds the statement and the header line; the header is written here,
 * the rows by COPY).  Claim details: ?format=lines, ?format=payments
 * and ?format=payments&summary=1.  Claims ledger: ?format=changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "results.h"
#include "util.h"

/* Streams the rows of a COPY ... TO STDOUT already started; 0 or -1. */
static int
stream_copy(struct req *r, PGconn *db)
{
	struct errbuf err;
	PGresult *res;
	char *buf;
	int n, failed = 0;

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
	return failed ? -1 : 0;
}

/*
 * The job's input columns (csv_jobs.input_columns, or for older jobs
 * the canonical five and the extras of the first row).  0 or -1.
 */
static int
load_cols(PGconn *db, const PGresult *job, const char *job_id,
    struct results_cols *c, struct json_object **hold, struct errbuf *err)
{
	static const char sql_extra[] = "SELECT extra::text FROM csv_job_rows"
	    " WHERE job_id = $1 AND extra IS NOT NULL"
	    " ORDER BY row_number LIMIT 1";
	const char *params[1] = { job_id };
	PGresult *res;
	int rc;

	if (!PQgetisnull(job, 0, 1))
		rc = results_cols_load(PQgetvalue(job, 0, 1), NULL, c, hold);
	else {
		if ((res = db_exec(db, err, sql_extra, 1, params)) == NULL)
			return -1;
		rc = results_cols_load(NULL, PQntuples(res) == 1 ?
		    PQgetvalue(res, 0, 0) : NULL, c, hold);
		PQclear(res);
	}
	if (rc == -1)
		errbuf_set(err, "job=%s: stored input columns are malformed",
		    job_id);
	return rc;
}

void
download_results(struct req *r)
{
	static const char sql_job[] = "SELECT status, input_columns::text,"
	    " workflow <> 'status', to_regclass('carc_codes') IS NOT NULL"
	    " FROM csv_jobs WHERE organization_id = $1 AND id = $2";
	const char *params[2], *status, *bad;
	char org[24], hdr[256], fname[128], *sql = NULL, *head = NULL;
	struct results_opts opts;
	struct results_cols *cols = NULL;
	struct json_object *hold = NULL;
	struct errbuf err;
	PGresult *res, *job = NULL;
	PGconn *db;
	int n;
	long long t0 = util_mono_ms();

	err.msg[0] = '\0';
	if (resp_job_id(r) == -1)
		return;
	if (results_opts_parse(r->query, &opts, &bad) == -1) {
		resp_field_error(r, 400, "invalid_query", bad, "Unknown value: "
		    "format is csv, extended, lines, payments or changes; "
		    "summary is 0 "
		    "or 1 (with format=payments); rows is all, failed, "
		    "succeeded or unprocessed; as is results or input (not "
		    "with lines or payments); bom is 0 or 1.");
		return;
	}
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	snprintf(org, sizeof(org), "%lld", r->org_id);
	params[0] = org;
	params[1] = r->job_id;
	if ((job = db_exec(db, &err, sql_job, 2, params)) == NULL) {
		resp_db_error(r, &err);
		return;
	}
	if (PQntuples(job) != 1) {
		resp_job_not_found(r);
		goto out;
	}
	status = PQgetvalue(job, 0, 0);
	opts.details = PQgetvalue(job, 0, 2)[0] == 't';
	/* The reference texts come with a later migration than the rows. */
	opts.carc = PQgetvalue(job, 0, 3)[0] == 't';
	if (strcmp(status, "COMPLETED") != 0 && strcmp(status, "FAILED") != 0 &&
	    strcmp(status, "CANCELLED") != 0) {
		resp_error(r, 409, "job_not_finished",
		    "The job has not finished; results are available once it "
		    "is COMPLETED, FAILED or CANCELLED.", NULL, NULL);
		goto out;
	}
	if ((cols = calloc(1, sizeof(*cols))) == NULL ||
	    (head = malloc(RESULTS_HEADER_MAX)) == NULL ||
	    (sql = malloc(RESULTS_SQL_MAX)) == NULL) {
		errbuf_set(&err, "out of memory");
		resp_db_error(r, &err);
		goto out;
	}
	if (load_cols(db, job, r->job_id, cols, &hold, &err) == -1 ||
	    results_header(&opts, cols, head, RESULTS_HEADER_MAX) == -1 ||
	    results_sql(&opts, cols, r->job_id, sql, RESULTS_SQL_MAX) == -1) {
		if (err.msg[0] == '\0')
			errbuf_set(&err, "results query does not fit");
		resp_db_error(r, &err);
		goto out;
	}

	results_filename(&opts, r->job_id, fname, sizeof(fname));
	snprintf(hdr, sizeof(hdr),
	    "Content-Disposition: attachment; filename=\"%s\"\r\n", fname);
	if (r->head) {
		resp_headers(r, 200, "text/csv; charset=utf-8", -1, hdr);
		goto out;
	}
	res = PQexec(db, sql);
	if (res == NULL || PQresultStatus(res) != PGRES_COPY_OUT) {
		errbuf_set(&err, "COPY TO: %s", res ?
		    PQresultErrorField(res, PG_DIAG_SQLSTATE) : "no result");
		PQclear(res);
		resp_db_error(r, &err);
		goto out;
	}
	PQclear(res);

	/* From here the status is sent: a failure can only cut the body. */
	n = resp_headers(r, 200, "text/csv; charset=utf-8", -1, hdr);
	if (n == 0 && opts.bom)
		n = resp_write(r, "\xef\xbb\xbf", 3);
	if (n == 0)
		n = resp_write(r, head, strlen(head));
	if (n == -1)
		log_warnx("results job=%s: client went away", r->job_id);
	(void)stream_copy(r, db);
	log_info("results job=%s bytes=%lld ms=%lld", r->job_id, r->bytes,
	    util_mono_ms() - t0);
out:
	PQclear(job);
	json_object_put(hold);
	free(cols);
	free(head);
	free(sql);
}
