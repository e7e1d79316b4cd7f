/*
 * POST claims/bulk/upload/: the multipart body nginx wrote to a file
 * (REQUEST_BODY_FILE) is mapped, its "file" part validated by csvin and
 * streamed row by row into csv_job_rows with COPY, in the transaction
 * that creates the job: all rows or nothing.  After COMMIT the Celery
 * task is published; if Redis refuses, the job is deleted again, so a
 * client never sees a job that nobody will run.
 *
 * Never log row contents: job id, counts, bytes and durations only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "app.h"
#include "copyrow.h"
#include "csvin.h"
#include "db.h"
#include "failpoint.h"
#include "form.h"
#include "log.h"
#include "multipart.h"
#include "util.h"

/* COPY state shared with the csvin row callback. */
struct copyin {
	PGconn		*db;
	const char	*job_id;
	const struct csvin_summary *sum;	/* header names of extras */
	long		 invalid;	/* rows stored as failed ('Invalid') */
	struct copybuf	 buf;
};

static int
copy_send(void *arg, const char *buf, size_t len)
{
	PGconn *db = arg;

	/* Chunks are at most COPY_BUF_BYTES, far below INT_MAX. */
	return PQputCopyData(db, buf, (int)len) == 1 ? 0 : -1;
}

/* csvin callback: one COPY line per data row. */
static int
copy_row(void *arg, const struct csvin_row *row)
{
	struct copyin *c = arg;

	if (row->error != NULL)
		c->invalid++;
	return copyrow_write(&c->buf, c->job_id, row, c->sum) == -1 ? 1 : 0;
}

static void
rollback(PGconn *db)
{
	PGresult *res = PQexec(db, "ROLLBACK");

	PQclear(res);
}

/* Ends the COPY (abort_msg non-NULL aborts it); 0 if it succeeded. */
static int
copy_end(PGconn *db, const char *abort_msg, struct errbuf *err)
{
	PGresult *res;
	int rc = 0;

	if (PQputCopyEnd(db, abort_msg) != 1) {
		errbuf_set(err, "COPY end: %s", PQerrorMessage(db));
		return -1;
	}
	while ((res = PQgetResult(db)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			/* SQLSTATE only: the message may quote row data. */
			errbuf_set(err, "COPY failed: SQLSTATE %s",
			    PQresultErrorField(res, PG_DIAG_SQLSTATE) ?
			    PQresultErrorField(res, PG_DIAG_SQLSTATE) : "?");
			rc = -1;
		}
		PQclear(res);
	}
	return rc;
}

/* The 400 for a structural CSV error: code, message, line, columns. */
static void
reject_csv(struct req *r, enum csvin_err e, const struct csvin_summary *sum,
    const struct errbuf *err)
{
	struct json_object *f, *a;
	size_t i;
	int col;

	f = json_object_new_object();
	json_object_object_add(f, "field", json_object_new_string("file"));
	if (sum->error_line > 0)
		json_object_object_add(f, "line",
		    json_object_new_int64(sum->error_line));
	if (e == CSVIN_MISSING_COLUMNS || e == CSVIN_DUPLICATE_COLUMN) {
		a = json_object_new_array();
		for (col = 0; col < CSVIN_COL__MAX; col++)
			if (sum->column_index[col] < 0)
				json_object_array_add(a, json_object_new_string(
				    csvin_col_names[col]));
		json_object_object_add(f, "missing_columns", a);
		a = json_object_new_array();
		for (i = 0; i < sum->ncolumns && i < CSV_MAX_COLUMNS; i++)
			json_object_array_add(a, json_object_new_string(
			    sum->header[i] ? sum->header[i] : ""));
		json_object_object_add(f, "found_columns", a);
	}
	log_info("upload rejected code=%s line=%ld rows=%ld",
	    csvin_err_codes[e], sum->error_line, sum->rows);
	resp_error(r, 400, csvin_err_codes[e], err->msg, f, NULL);
}

/*
 * The job and its rows, in one transaction.  Returns 0 with the row
 * count in *rows and *cp1252 set if the file was converted from
 * Windows-1252, 1 if the CSV was rejected (answered), -1 on a database
 * error (err set, transaction rolled back, not answered).
 */
static int
store_job(struct req *r, const char *job_id, const char *task_id,
    const char *filename, const void *data, size_t len, long *rows,
    int *cp1252, struct errbuf *err)
{
	static const char sql_job[] = "INSERT INTO csv_jobs (id,"
	    " organization_id, user_id, filename, status, celery_task_id)"
	    " VALUES ($1, $2, $3, $4, 'PENDING', $5)";
	static const char sql_copy[] = "COPY csv_job_rows (" COPYROW_COLUMNS
	    ") FROM STDIN (FORMAT csv)";
	static const char sql_counts[] = "UPDATE csv_jobs SET total_rows = $2,"
	    " processed_rows = $3, failure_count = $3 WHERE id = $1";
	struct csvin_summary sum;
	struct errbuf cerr;
	struct copyin *c;
	enum csvin_err e;
	const char *params[5];
	char org[24], user[24], total[24], invalid[24];
	PGresult *res;
	PGconn *db = r->w->db;

	snprintf(org, sizeof(org), "%lld", r->org_id);
	snprintf(user, sizeof(user), "%lld", r->user_id);
	params[0] = job_id;
	params[1] = org;
	params[2] = user;
	params[3] = filename;
	params[4] = task_id;
	if (db_cmd(db, err, "BEGIN", 0, NULL) == -1)
		return -1;
	if (db_cmd(db, err, sql_job, 5, params) == -1)
		goto fail;
	res = PQexec(db, sql_copy);
	if (res == NULL || PQresultStatus(res) != PGRES_COPY_IN) {
		errbuf_set(err, "COPY FROM: %s", PQerrorMessage(db));
		PQclear(res);
		goto fail;
	}
	PQclear(res);

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		errbuf_set(err, "out of memory");
		(void)copy_end(db, "out of memory", &cerr);
		goto fail;
	}
	c->db = db;
	copybuf_init(&c->buf, copy_send, db);
	c->job_id = job_id;
	c->sum = &sum;
	cerr.msg[0] = '\0';
	e = csvin_parse(data, len, r->app->max_rows, NULL, copy_row, c, &sum,
	    &cerr);
	if (e == CSVIN_OK && copybuf_flush(&c->buf) == -1)
		e = CSVIN_ABORTED;
	if (e != CSVIN_OK) {
		(void)copy_end(db, "upload rejected", err);
		rollback(db);
		if (c->buf.failed) {
			errbuf_set(err, "COPY data: %s", PQerrorMessage(db));
			free(c);
			csvin_summary_free(&sum);
			return -1;
		}
		reject_csv(r, e, &sum, &cerr);
		free(c);
		csvin_summary_free(&sum);
		return 1;
	}
	*rows = sum.rows;
	*cp1252 = sum.converted_from_cp1252;
	snprintf(total, sizeof(total), "%ld", sum.rows);
	snprintf(invalid, sizeof(invalid), "%ld", c->invalid);
	free(c);
	csvin_summary_free(&sum);
	if (copy_end(db, NULL, err) == -1)
		goto fail;
	params[1] = total;
	params[2] = invalid;
	if (db_cmd(db, err, sql_counts, 3, params) == -1 ||
	    db_cmd(db, err, "COMMIT", 0, NULL) == -1)
		goto fail;
	return 0;
fail:
	rollback(db);
	return -1;
}

/*
 * The body when no file was handed over: FastCGI stdin (nginx with
 * fastcgi_pass_request_body on, or cgi-fcgi).  *out is malloc'd.
 */
static int
read_stdin(struct req *r, long long clen, char **out)
{
	char *buf;
	int n;
	long long got = 0;

	if ((buf = malloc((size_t)clen)) == NULL)
		return -1;
	while (got < clen) {
		n = FCGX_GetStr(buf + got, (int)(clen - got > 65536 ?
		    65536 : clen - got), r->rq->in);
		if (n <= 0)
			break;
		got += n;
	}
	if (got != clen) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

void
upload_handle(struct req *r)
{
	const char *ctype, *cl, *path;
	char boundary[MP_MAX_BOUNDARY + 1], filename[FORM_FILENAME_MAX + 1];
	char job_id[37], task_id[37], *inbuf = NULL;
	long long clen = -1, t0 = util_mono_ms();
	size_t maxbody;
	struct mp_map map;
	struct mp_body body;
	const struct mp_part *part;
	const void *data;
	struct json_object *o;
	struct errbuf err;
	struct stat st;
	long rows = 0;
	int rc, cp1252 = 0;

	memset(&map, 0, sizeof(map));
	memset(&body, 0, sizeof(body));
	maxbody = (size_t)r->app->max_bytes + UPLOAD_ENVELOPE_SLACK;
	ctype = req_param(r, "CONTENT_TYPE");
	if (ctype == NULL ||
	    strncasecmp(ctype, "multipart/form-data", 19) != 0) {
		resp_error(r, 415, "unsupported_media_type",
		    "Send the CSV as multipart/form-data in the field 'file'.",
		    NULL, NULL);
		return;
	}
	if (mp_boundary(ctype, boundary, sizeof(boundary), &err) == -1) {
		resp_error(r, 400, "malformed_multipart", err.msg, NULL, NULL);
		return;
	}
	if ((cl = req_param(r, "CONTENT_LENGTH")) != NULL && *cl != '\0') {
		char *ep;

		errno = 0;
		clen = strtoll(cl, &ep, 10);
		if (errno != 0 || *ep != '\0' || clen < 0)
			clen = -1;
	}

	path = req_param(r, "REQUEST_BODY_FILE");
	if (path != NULL && *path != '\0') {
		if (stat(path, &st) == -1) {
			log_warn("upload: body file");
			resp_error(r, 503, "upload_unreadable",
			    "The uploaded body could not be read.", NULL, NULL);
			return;
		}
		if ((unsigned long long)st.st_size > maxbody)
			goto too_large;
		if (mp_map(path, clen, maxbody, &map, &err) == -1) {
			if (clen != -1 && (long long)st.st_size != clen) {
				resp_error(r, 400, "truncated_body", err.msg,
				    NULL, NULL);
				return;
			}
			req_oneline(err.msg, err.msg, sizeof(err.msg));
			log_warnx("upload: %s", err.msg);
			resp_error(r, 503, "upload_unreadable",
			    "The uploaded body could not be read.", NULL, NULL);
			return;
		}
	} else if (path == NULL && clen > 0) {
		if ((unsigned long long)clen > maxbody)
			goto too_large;
		if (read_stdin(r, clen, &inbuf) == -1) {
			resp_error(r, 400, "truncated_body",
			    "The request body is shorter than its "
			    "Content-Length.", NULL, NULL);
			return;
		}
		map.buf = inbuf;
		map.len = (size_t)clen;
	}
	if (map.len == 0) {
		resp_error(r, 400, "empty_body",
		    "The request has no body; send the CSV in the field "
		    "'file'.", NULL, NULL);
		goto out;
	}
	r->bytes = (long long)map.len;

	if (mp_parse(map.buf, map.len, boundary, &body, &err) == -1) {
		resp_error(r, 400, "malformed_multipart", err.msg, NULL, NULL);
		goto out;
	}
	if ((part = mp_find(&body, "file")) == NULL || part->filename == NULL) {
		o = json_object_new_object();
		json_object_object_add(o, "field",
		    json_object_new_string("file"));
		resp_error(r, 400, "missing_file",
		    "No file was submitted: send the CSV as a file in the "
		    "field 'file'.", o, NULL);
		goto out;
	}
	if (part->length > (size_t)r->app->max_bytes)
		goto too_large;
	if (!form_csv_type_ok(part->content_type)) {
		o = json_object_new_object();
		json_object_object_add(o, "field",
		    json_object_new_string("file"));
		resp_error(r, 415, "unsupported_media_type",
		    "The file is not a CSV (text/csv or text/plain expected).",
		    o, NULL);
		goto out;
	}
	form_filename(part->filename, filename, sizeof(filename));
	data = (const char *)map.buf + part->offset;

	if (req_db(r) == NULL) {
		resp_db_error(r, NULL);
		goto out;
	}
	util_uuid4(job_id);
	util_uuid4(task_id);
	snprintf(r->job_id, sizeof(r->job_id), "%s", job_id);
	rc = store_job(r, job_id, task_id, filename, data, part->length, &rows,
	    &cp1252, &err);
	if (rc == 1)
		goto out;
	if (rc == -1) {
		resp_db_error(r, &err);
		goto out;
	}
	r->rows = rows;

	/* Tests: a crash here leaves a PENDING job for the watchdog. */
	failpoint("after_commit_before_publish");
	if (jobs_publish(r, job_id, task_id, &err) == -1) {
		const char *params[1] = { job_id };
		struct errbuf derr;

		req_oneline(err.msg, err.msg, sizeof(err.msg));
		log_warnx("upload job=%s: publish failed, deleting the job: %s",
		    job_id, err.msg);
		if (db_cmd(r->w->db, &derr,
		    "DELETE FROM csv_jobs WHERE id = $1", 1, params) == -1) {
			req_oneline(derr.msg, derr.msg, sizeof(derr.msg));
			log_warnx("upload job=%s: delete failed: %s", job_id,
			    derr.msg);
		}
		resp_error(r, 503, "queue_unavailable",
		    "The task queue is unavailable; the upload was not stored. "
		    "Try again later.", NULL, NULL);
		goto out;
	}
	log_info("upload job=%s task=%s rows=%ld bytes=%zu ms=%lld", job_id,
	    task_id, rows, part->length, util_mono_ms() - t0);
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(job_id));
	json_object_object_add(o, "status", json_object_new_string("PENDING"));
	json_object_object_add(o, "celery_task_id",
	    json_object_new_string(task_id));
	json_object_object_add(o, "filename", json_object_new_string(filename));
	json_object_object_add(o, "total_rows", json_object_new_int64(rows));
	/* Issue 5: say so when the text was not UTF-8 (an additive key). */
	if (cp1252)
		json_object_object_add(o, "converted_from",
		    json_object_new_string("windows-1252"));
	resp_json(r, 201, o, NULL);
	goto out;

too_large:
	{
		char msg[128];

		snprintf(msg, sizeof(msg), "The file is larger than %ld bytes.",
		    r->app->max_bytes);
		resp_error(r, 413, "file_too_large", msg, NULL, NULL);
	}
out:
	mp_body_free(&body);
	if (inbuf != NULL) {
		free(inbuf);
		map.buf = NULL;
		map.len = 0;
	}
	mp_unmap(&map);
}
