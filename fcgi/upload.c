/*
 * POST claims/bulk/upload/: the multipart body nginx wrote to a file
 * (REQUEST_BODY_FILE) is mapped, its "file" part validated by csvin and
 * streamed row by row into csv_job_rows with COPY, in the transaction
 * that creates the job: all rows or nothing.  After COMMIT the Celery
 * task is published; if Redis refuses, the job is deleted again, so a
 * client never sees a job that nobody will run.
 *
 * Duplicates: the same file (SHA-256 of the part) from the same
 * organisation within upload.duplicate_window_s answers 409 unless
 * ?allow_duplicate=1, and an Idempotency-Key header makes a retried
 * request get its first answer (dedup.c).  upload_read() is shared with
 * the validate-only endpoint (validate.c).
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

#include <sodium.h>

#include "app.h"
#include "copyrow.h"
#include "csvin.h"
#include "db.h"
#include "dedup.h"
#include "failpoint.h"
#include "form.h"
#include "handlers.h"
#include "job.h"
#include "log.h"
#include "multipart.h"
#include "query.h"
#include "results.h"
#include "upload.h"
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

void
upload_reject_csv(struct req *r, enum csvin_err e,
    const struct csvin_summary *sum, const struct errbuf *err)
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
 * A claim number repeated in the file is checked once (the copying
 * trigger is in sql/functions/job_state.sql): later valid rows point at
 * the first valid one (duplicate_of), which gets has_duplicates and a
 * warning naming the other rows, so both sides of the repeat say so.
 * Invalid rows are never checked, so they are left out on both sides.
 */
static int
mark_duplicates(PGconn *db, const char *job_id, struct errbuf *err)
{
	static const char sql_mark[] = "WITH d AS (SELECT * FROM"
	    " (SELECT row_number, min(row_number) OVER"
	    " (PARTITION BY claim_number) AS first FROM csv_job_rows"
	    " WHERE job_id = $1 AND success IS NULL) w"
	    " WHERE first <> row_number)"
	    " UPDATE csv_job_rows r SET duplicate_of = d.first FROM d"
	    " WHERE r.job_id = $1 AND r.row_number = d.row_number";
	static const char sql_first[] = "WITH g AS (SELECT duplicate_of,"
	    " count(*) AS n, string_agg(row_number::text, ', '"
	    " ORDER BY row_number) AS others FROM csv_job_rows"
	    " WHERE job_id = $1 AND duplicate_of IS NOT NULL"
	    " GROUP BY duplicate_of)"
	    " UPDATE csv_job_rows r SET has_duplicates = true,"
	    " warning = concat_ws('; ', r.warning, format("
	    "'claim_number: ''%s'' also appears on %s %s', r.claim_number,"
	    " CASE WHEN g.n > 1 THEN 'rows' ELSE 'row' END, g.others))"
	    " FROM g WHERE r.job_id = $1 AND r.row_number = g.duplicate_of";
	const char *params[1] = { job_id };

	/*
	 * The rows were inserted in this transaction, so the statistics
	 * still describe the table without them: the planner takes the
	 * job for one row and would rescan it per row in a nested loop
	 * (minutes for 200,000 rows).  Hash joins read it once.
	 */
	if (db_cmd(db, err, "SET LOCAL enable_nestloop = off", 0,
	    NULL) == -1 ||
	    db_cmd(db, err, sql_mark, 1, params) == -1 ||
	    db_cmd(db, err, sql_first, 1, params) == -1 ||
	    db_cmd(db, err, "SET LOCAL enable_nestloop = on", 0, NULL) == -1)
		return -1;
	return 0;
}

/* What store_job() needs beyond the file. */
struct store {
	const char	*job_id;
	const char	*task_id;
	const char	*filename;
	const char	*workflow;
	const unsigned char *sha;
	int		 allow_duplicate;
	/* Out: */
	long		 rows;
	int		 cp1252;
	char		 earlier[37];	/* the duplicate's job id */
};

/*
 * The job and its rows, in one transaction.  Returns 0 with st->rows and
 * st->cp1252 set, 1 if the CSV was rejected (answered), 2 if the same
 * file came within the duplicate window (st->earlier set, not
 * answered), -1 on a database error (err set, transaction rolled back,
 * not answered).
 */
static int
store_job(struct req *r, struct store *st, const void *data, size_t len,
    struct errbuf *err)
{
	static const char sql_copy[] = "COPY csv_job_rows (" COPYROW_COLUMNS
	    ") FROM STDIN (FORMAT csv)";
	struct csvin_summary sum;
	struct json_object *cols;
	struct errbuf cerr;
	struct copyin *c;
	enum csvin_err e;
	char org[24], user[24], total[24], invalid[24];
	char hex[DEDUP_SHA256_BYTES * 2 + 1];
	PGresult *res;
	PGconn *db = r->w->db;
	size_t i;
	long dups;
	int rc;

	snprintf(org, sizeof(org), "%lld", r->org_id);
	snprintf(user, sizeof(user), "%lld", r->user_id);
	for (i = 0; i < DEDUP_SHA256_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", st->sha[i]);
	if (db_cmd(db, err, "BEGIN", 0, NULL) == -1)
		return -1;
	if (!st->allow_duplicate) {
		rc = dedup_find(db, r->org_id, st->sha,
		    r->app->duplicate_window_s, st->earlier, err);
		if (rc == -1)
			goto fail;
		if (rc == 1) {
			rollback(db);
			return 2;
		}
	}
	if (job_create(db, err, st->job_id, org, user, st->filename,
	    st->task_id, hex, st->workflow) == -1)
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
	c->job_id = st->job_id;
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
		upload_reject_csv(r, e, &sum, &cerr);
		free(c);
		csvin_summary_free(&sum);
		return 1;
	}
	st->rows = sum.rows;
	st->cp1252 = sum.converted_from_cp1252;
	dups = sum.duplicate_rows;
	snprintf(total, sizeof(total), "%ld", sum.rows);
	snprintf(invalid, sizeof(invalid), "%ld", c->invalid);
	free(c);
	cols = results_input_columns(&sum);
	csvin_summary_free(&sum);
	if (copy_end(db, NULL, err) == -1) {
		json_object_put(cols);
		goto fail;
	}
	if (dups > 0 && mark_duplicates(db, st->job_id, err) == -1) {
		json_object_put(cols);
		goto fail;
	}
	rc = job_intake_done(db, err, st->job_id, total, invalid,
	    json_object_to_json_string_ext(cols, JSON_C_TO_STRING_PLAIN));
	json_object_put(cols);
	if (rc == -1 || db_cmd(db, err, "COMMIT", 0, NULL) == -1)
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

static void
too_large(struct req *r)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "The file is larger than %ld bytes.",
	    r->app->max_bytes);
	resp_error(r, 413, "file_too_large", msg, NULL, NULL);
}

/* A spreadsheet workbook by its part's type or name: worth a hint. */
static int
is_workbook(const struct mp_part *part)
{
	const char *ct = part->content_type, *fn = part->filename, *dot;

	if (ct != NULL && (strncasecmp(ct, "application/vnd.openxmlformats-"
	    "officedocument.spreadsheetml", 46) == 0 ||
	    strncasecmp(ct, "application/vnd.oasis.opendocument.spreadsheet",
	    46) == 0))
		return 1;
	if (fn != NULL && (dot = strrchr(fn, '.')) != NULL &&
	    (strcasecmp(dot, ".xlsx") == 0 || strcasecmp(dot, ".xls") == 0 ||
	    strcasecmp(dot, ".xlsm") == 0 || strcasecmp(dot, ".ods") == 0))
		return 1;
	return 0;
}

void
upload_in_free(struct upload_in *in)
{
	mp_body_free(&in->body);
	memset(&in->body, 0, sizeof(in->body));
	if (in->inbuf != NULL) {
		free(in->inbuf);
		in->inbuf = NULL;
		in->map.buf = NULL;
		in->map.len = 0;
	}
	mp_unmap(&in->map);
	memset(&in->map, 0, sizeof(in->map));
}

/*
 * The optional "workflow" field into in->workflow: which payer calls
 * the job makes per row (csv_jobs.workflow).  Absent or empty: status.
 * Returns 0, or -1 after answering 400.
 */
static int
read_workflow(struct req *r, struct upload_in *in)
{
	static const char *const workflows[] = {
		"status", "details", "payment", "full"
	};
	const struct mp_part *part;
	const char *v;
	size_t i;

	snprintf(in->workflow, sizeof(in->workflow), "status");
	if ((part = mp_find(&in->body, "workflow")) == NULL ||
	    part->length == 0)
		return 0;
	v = (const char *)in->map.buf + part->offset;
	for (i = 0; i < sizeof(workflows) / sizeof(workflows[0]); i++)
		if (part->length == strlen(workflows[i]) &&
		    memcmp(v, workflows[i], part->length) == 0) {
			snprintf(in->workflow, sizeof(in->workflow), "%s",
			    workflows[i]);
			return 0;
		}
	resp_field_error(r, 400, "invalid_workflow", "workflow",
	    "workflow must be status, details, payment or full.");
	return -1;
}

int
upload_read(struct req *r, struct upload_in *in)
{
	const char *ctype, *cl, *path;
	char boundary[MP_MAX_BOUNDARY + 1];
	long long clen = -1;
	size_t maxbody;
	const struct mp_part *part;
	struct errbuf err;
	struct stat st;

	memset(in, 0, sizeof(*in));
	maxbody = (size_t)r->app->max_bytes + UPLOAD_ENVELOPE_SLACK;
	ctype = req_param(r, "CONTENT_TYPE");
	if (ctype == NULL ||
	    strncasecmp(ctype, "multipart/form-data", 19) != 0) {
		resp_error(r, 415, "unsupported_media_type",
		    "Send the CSV as multipart/form-data in the field 'file'.",
		    NULL, NULL);
		return -1;
	}
	if (mp_boundary(ctype, boundary, sizeof(boundary), &err) == -1) {
		resp_error(r, 400, "malformed_multipart", err.msg, NULL, NULL);
		return -1;
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
			return -1;
		}
		if ((unsigned long long)st.st_size > maxbody) {
			too_large(r);
			return -1;
		}
		if (mp_map(path, clen, maxbody, &in->map, &err) == -1) {
			if (clen != -1 && (long long)st.st_size != clen) {
				resp_error(r, 400, "truncated_body", err.msg,
				    NULL, NULL);
				return -1;
			}
			req_oneline(err.msg, err.msg, sizeof(err.msg));
			log_warnx("upload: %s", err.msg);
			resp_error(r, 503, "upload_unreadable",
			    "The uploaded body could not be read.", NULL, NULL);
			return -1;
		}
	} else if (path == NULL && clen > 0) {
		if ((unsigned long long)clen > maxbody) {
			too_large(r);
			return -1;
		}
		if (read_stdin(r, clen, &in->inbuf) == -1) {
			resp_error(r, 400, "truncated_body",
			    "The request body is shorter than its "
			    "Content-Length.", NULL, NULL);
			return -1;
		}
		in->map.buf = in->inbuf;
		in->map.len = (size_t)clen;
	}
	if (in->map.len == 0) {
		resp_error(r, 400, "empty_body",
		    "The request has no body; send the CSV in the field "
		    "'file'.", NULL, NULL);
		return -1;
	}
	r->bytes = (long long)in->map.len;

	if (mp_parse(in->map.buf, in->map.len, boundary, &in->body,
	    &err) == -1) {
		resp_error(r, 400, "malformed_multipart", err.msg, NULL, NULL);
		return -1;
	}
	if ((part = mp_find(&in->body, "file")) == NULL ||
	    part->filename == NULL) {
		resp_field_error(r, 400, "missing_file", "file",
		    "No file was submitted: send the CSV as a file in the "
		    "field 'file'.");
		return -1;
	}
	if (part->length > (size_t)r->app->max_bytes) {
		too_large(r);
		return -1;
	}
	if (!form_csv_type_ok(part->content_type)) {
		resp_field_error(r, 415, "unsupported_media_type", "file",
		    is_workbook(part) ? "The file is an Excel workbook, not a "
		    "CSV: in Excel choose File > Save As > \"CSV UTF-8 (Comma "
		    "delimited)\" and upload that file." :
		    "The file is not a CSV (text/csv or text/plain expected).");
		return -1;
	}
	form_filename(part->filename, in->filename, sizeof(in->filename));
	in->data = (const char *)in->map.buf + part->offset;
	in->len = part->length;
	return read_workflow(r, in);
}

/* ?allow_duplicate=1 (or true, yes, on). */
static int
allow_duplicate(const struct req *r)
{
	struct query q;
	const char *v;

	if (query_parse(r->query, &q) == -1 ||
	    (v = query_get(&q, "allow_duplicate")) == NULL)
		return 0;
	return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
	    strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0;
}

/* Stores the job and publishes its task; answers in every case. */
static void
upload_store(struct req *r, struct upload_in *in, const unsigned char *sha)
{
	char job_id[37], task_id[37];
	long long t0 = util_mono_ms();
	struct json_object *o;
	struct errbuf err;
	struct store st;
	int rc;

	if (req_db(r) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	util_uuid4(job_id);
	util_uuid4(task_id);
	memset(&st, 0, sizeof(st));
	st.job_id = job_id;
	st.task_id = task_id;
	st.filename = in->filename;
	st.workflow = in->workflow;
	st.sha = sha;
	st.allow_duplicate = allow_duplicate(r);
	snprintf(r->job_id, sizeof(r->job_id), "%s", job_id);
	rc = store_job(r, &st, in->data, in->len, &err);
	if (rc == 1)
		return;
	if (rc == 2) {
		snprintf(r->job_id, sizeof(r->job_id), "%s", st.earlier);
		log_info("upload duplicate of job=%s", st.earlier);
		o = json_object_new_object();
		json_object_object_add(o, "job_id",
		    json_object_new_string(st.earlier));
		resp_error(r, 409, "duplicate_upload",
		    "The same file was uploaded a short while ago; open the "
		    "earlier job, or add ?allow_duplicate=1 to upload it "
		    "again.", o, NULL);
		return;
	}
	if (rc == -1) {
		resp_db_error(r, &err);
		return;
	}
	r->rows = st.rows;

	/* Tests: a crash here leaves a PENDING job for the watchdog. */
	failpoint("after_commit_before_publish");
	if (jobs_publish(r, job_id, task_id, &err) == -1) {
		struct errbuf derr;

		req_oneline(err.msg, err.msg, sizeof(err.msg));
		log_warnx("upload job=%s: publish failed, deleting the job: %s",
		    job_id, err.msg);
		if (job_discard(r->w->db, &derr, job_id) == -1) {
			req_oneline(derr.msg, derr.msg, sizeof(derr.msg));
			log_warnx("upload job=%s: delete failed: %s", job_id,
			    derr.msg);
		}
		resp_error(r, 503, "queue_unavailable",
		    "The task queue is unavailable; the upload was not stored. "
		    "Try again later.", NULL, NULL);
		return;
	}
	log_info("upload job=%s task=%s rows=%ld bytes=%zu ms=%lld", job_id,
	    task_id, st.rows, in->len, util_mono_ms() - t0);
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(job_id));
	json_object_object_add(o, "status", json_object_new_string("PENDING"));
	json_object_object_add(o, "celery_task_id",
	    json_object_new_string(task_id));
	json_object_object_add(o, "filename",
	    json_object_new_string(in->filename));
	json_object_object_add(o, "total_rows", json_object_new_int64(st.rows));
	json_object_object_add(o, "workflow",
	    json_object_new_string(in->workflow));
	/* Say so when the text was not UTF-8 (additive keys). */
	if (st.cp1252)
		json_object_object_add(o, "converted_from",
		    json_object_new_string("windows-1252"));
	json_object_object_add(o, "converted_from_cp1252",
	    json_object_new_boolean(st.cp1252));
	resp_json(r, 201, o, NULL);
}

void
upload_handle(struct req *r)
{
	unsigned char sha[DEDUP_SHA256_BYTES];
	struct upload_in in;
	const char *key;
	int rc;

	if (upload_read(r, &in) == -1)
		goto out;
	crypto_hash_sha256(sha, in.data, in.len);
	key = req_param(r, "HTTP_IDEMPOTENCY_KEY");
	if (key != NULL && *key == '\0')
		key = NULL;
	if (key != NULL) {
		if (req_db(r) == NULL) {
			resp_db_error(r, NULL);
			goto out;
		}
		if ((rc = idem_begin(r, key, sha)) != 0)
			goto out;
		r->capture = 1;
	}
	upload_store(r, &in, sha);
	if (key != NULL)
		idem_finish(r, key);
out:
	upload_in_free(&in);
}
