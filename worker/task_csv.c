/*
 * claims.tasks.process_csv_file: the job runner.
 *
 * PostgreSQL is the source of truth.  The task reads the rows that have
 * no result yet (so a re-run after a crash resumes where the last one
 * stopped and never asks the payer twice for a stored row), feeds them to
 * the payer engine, and stores results in batches: each batch updates the
 * rows and the job counters in one statement, and only rows still
 * without a result count, so the counters always equal the stored rows.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>
#include <sodium.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "payer.h"
#include "secrets.h"
#include "task_csv.h"
#include "util.h"

/* Rows fetched from PostgreSQL per query (keyset pagination). */
#define FETCH_ROWS		500
/* Results are stored every FLUSH_ROWS results or FLUSH_MS, first wins. */
#define FLUSH_ROWS		100
#define FLUSH_MS		250

/* One fetched page of rows; freed once all its claims are done. */
struct batch {
	PGresult	*res;
	int		 next;		/* next row to hand to the engine */
	int		 pending;	/* handed out and not yet done */
	struct batch	*older;
};

struct run {
	PGconn		*db;
	const char	*job_id;
	struct batch	*feed;		/* newest batch, being handed out */
	long		 last_row;	/* highest row_number fetched */
	int		 exhausted;
	json_object	*results;	/* array of rows waiting to be stored */
	long long	 last_flush_ms;
	long		 stored;
	int		 db_failed;
	struct errbuf	 err;
};

static PGconn *task_db;

/* The process's connection, reconnected when broken. */
static PGconn *
task_db_get(struct errbuf *err)
{
	if (task_db != NULL && db_ensure(task_db))
		return task_db;
	if (task_db != NULL)
		PQfinish(task_db);
	task_db = db_connect(config_get("database.url", NULL),
	    "bulkclaims-worker", err);
	return task_db;
}

static int
fail(struct task_result *res, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills a FAILURE outcome; returns -1 for "return fail(...)". */
static int
fail(struct task_result *res, const char *type, const char *fmt, ...)
{
	va_list ap;

	snprintf(res->exc_type, sizeof(res->exc_type), "%s", type);
	va_start(ap, fmt);
	vsnprintf(res->exc_message, sizeof(res->exc_message), fmt, ap);
	va_end(ap);
	return -1;
}

static void
batch_free_done(struct run *r)
{
	struct batch **bp = &r->feed->older, *b;

	/* Older batches are fully handed out; drop those with no claim left. */
	while ((b = *bp) != NULL) {
		if (b->pending == 0) {
			*bp = b->older;
			PQclear(b->res);
			free(b);
		} else
			bp = &b->older;
	}
}

/* Fetches the next page of unprocessed rows; 0 when none are left. */
static int
batch_fetch(struct run *r)
{
	char last[32], limit[32];
	const char *p[3] = { r->job_id, last, limit };
	struct batch *b;
	PGresult *res;

	snprintf(last, sizeof(last), "%ld", r->last_row);
	snprintf(limit, sizeof(limit), "%d", FETCH_ROWS);
	res = db_exec(r->db, &r->err, "SELECT row_number, claim_number, "
	    "first_name, last_name, date_of_birth, subscriber_id "
	    "FROM csv_job_rows WHERE job_id = $1 AND success IS NULL "
	    /* intake: a repeated claim number is checked once (sql/004). */
	    "AND duplicate_of IS NULL "
	    "AND row_number > $2 ORDER BY row_number LIMIT $3", 3, p);
	if (res == NULL) {
		r->db_failed = 1;
		return 0;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		PQclear(res);
		r->db_failed = 1;
		return 0;
	}
	b->res = res;
	b->older = r->feed;
	r->feed = b;
	r->last_row = strtol(PQgetvalue(res, PQntuples(res) - 1, 0), NULL, 10);
	batch_free_done(r);
	return 1;
}

/* payer_next_fn: hands the engine the next unprocessed row. */
static int
next_claim(void *arg, struct payer_claim *c)
{
	struct run *r = arg;
	struct batch *b;
	int i;

	if (r->exhausted)
		return 0;
	if (r->feed == NULL || r->feed->next >= PQntuples(r->feed->res)) {
		if (!batch_fetch(r)) {
			r->exhausted = 1;
			return 0;
		}
	}
	b = r->feed;
	i = b->next++;
	b->pending++;
	c->row_number = strtol(PQgetvalue(b->res, i, 0), NULL, 10);
	c->claim_number = PQgetvalue(b->res, i, 1);
	c->first_name = PQgetvalue(b->res, i, 2);
	c->last_name = PQgetvalue(b->res, i, 3);
	c->date_of_birth = PQgetvalue(b->res, i, 4);
	c->subscriber_id = PQgetvalue(b->res, i, 5);
	return 1;
}

/* Adds a result field: a JSON string, or null when empty. */
static void
add_str(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key,
	    value[0] ? json_object_new_string(value) : NULL);
}

/*
 * Stores the buffered results and bumps the job counters in one
 * statement.  Rows that already have a result are skipped, so a result
 * is never counted twice.
 */
static int
flush(struct run *r)
{
	const char *p[2];
	PGresult *res;

	if (json_object_array_length(r->results) == 0)
		return 0;
	p[0] = r->job_id;
	p[1] = json_object_to_json_string_ext(r->results,
	    JSON_C_TO_STRING_PLAIN);
	res = db_exec(r->db, &r->err,
	    "WITH v AS (SELECT * FROM json_to_recordset($2::json) AS x("
	    "row_number int, status text, patient_name text, "
	    "total_charged numeric, total_paid numeric, processed_date date, "
	    "success boolean, error_message text, attempts int, "
	    "lookup_result text, status_category_code text, status_code text, "
	    "status_description text, payer_claim_number text, "
	    "total_allowed numeric, patient_responsibility numeric, "
	    "check_number text, check_date date, member_match boolean)), "
	    "u AS (UPDATE csv_job_rows r SET status = v.status, "
	    "patient_name = v.patient_name, total_charged = v.total_charged, "
	    "total_paid = v.total_paid, processed_date = v.processed_date, "
	    "success = v.success, error_message = v.error_message, "
	    "attempts = r.attempts + v.attempts, checked_at = now(), "
	    "lookup_result = v.lookup_result, "
	    "status_category_code = v.status_category_code, "
	    "status_code = v.status_code, "
	    "status_description = v.status_description, "
	    "payer_claim_number = v.payer_claim_number, "
	    "total_allowed = v.total_allowed, "
	    "patient_responsibility = v.patient_responsibility, "
	    "check_number = v.check_number, check_date = v.check_date, "
	    "member_match = v.member_match FROM v "
	    "WHERE r.job_id = $1 AND r.row_number = v.row_number "
	    "AND r.success IS NULL RETURNING r.success) "
	    "UPDATE csv_jobs SET "
	    "processed_rows = processed_rows + (SELECT count(*) FROM u), "
	    "success_count = success_count + "
	    "(SELECT count(*) FROM u WHERE success), "
	    "failure_count = failure_count + "
	    "(SELECT count(*) FROM u WHERE NOT success) WHERE id = $1", 2, p);
	if (res == NULL) {
		r->db_failed = 1;
		return -1;
	}
	PQclear(res);
	r->stored += json_object_array_length(r->results);
	json_object_put(r->results);
	r->results = json_object_new_array();
	r->last_flush_ms = util_mono_ms();
	return 0;
}

/* payer_done_fn: buffers one row's result, stores when due. */
static int
claim_done(void *arg, const struct payer_claim *c,
    const struct payer_result *pr)
{
	struct run *r = arg;
	struct batch *b;
	json_object *o;

	for (b = r->feed; b != NULL; b = b->older) {
		long first = strtol(PQgetvalue(b->res, 0, 0), NULL, 10);

		if (c->row_number >= first) {
			b->pending--;
			break;
		}
	}
	o = json_object_new_object();
	json_object_object_add(o, "row_number",
	    json_object_new_int64(c->row_number));
	add_str(o, "status", pr->status);
	add_str(o, "patient_name", pr->patient_name);
	add_str(o, "total_charged", pr->total_charged);
	add_str(o, "total_paid", pr->total_paid);
	add_str(o, "processed_date", pr->processed_date);
	json_object_object_add(o, "success",
	    json_object_new_boolean(pr->success));
	add_str(o, "error_message", pr->error_message);
	json_object_object_add(o, "attempts",
	    json_object_new_int(pr->attempts));
	add_str(o, "lookup_result", pr->lookup_result);
	add_str(o, "status_category_code", pr->status_category_code);
	add_str(o, "status_code", pr->status_code);
	add_str(o, "status_description", pr->status_description);
	add_str(o, "payer_claim_number", pr->payer_claim_number);
	add_str(o, "total_allowed", pr->total_allowed);
	add_str(o, "patient_responsibility", pr->patient_responsibility);
	add_str(o, "check_number", pr->check_number);
	add_str(o, "check_date", pr->check_date);
	json_object_object_add(o, "member_match", pr->member_match < 0 ? NULL :
	    json_object_new_boolean(pr->member_match));
	json_object_array_add(r->results, o);
	if (!pr->success)
		log_debug("row failed job=%s row=%ld attempts=%d", r->job_id,
		    c->row_number, pr->attempts);
	if (json_object_array_length(r->results) >= FLUSH_ROWS ||
	    util_mono_ms() - r->last_flush_ms >= FLUSH_MS)
		return flush(r) != 0;
	return 0;
}

/* Marks the job FAILED with a message (no PHI) unless it finished. */
static void
job_failed(PGconn *db, const char *job_id, const char *msg)
{
	const char *p[2] = { job_id, msg };

	if (db_cmd(db, NULL, "UPDATE csv_jobs SET status = 'FAILED', "
	    "error_message = $2, completed_at = now(), "
	    "processing_duration = now() - COALESCE(started_at, created_at) "
	    "WHERE id = $1 AND status IN ('PENDING', 'PROCESSING')",
	    2, p) != 0)
		log_warnx("cannot mark job failed job=%s", job_id);
}

/* The Celery result value: job id and counts, no PHI. */
static json_object *
job_summary(PGconn *db, const char *job_id, struct errbuf *err)
{
	const char *p[1] = { job_id };
	json_object *o;
	PGresult *res;
	int i;

	res = db_exec(db, err, "SELECT status, total_rows, processed_rows, "
	    "success_count, failure_count FROM csv_jobs WHERE id = $1", 1, p);
	if (res == NULL || PQntuples(res) != 1) {
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

/*
 * Loads the endpoint and the practice's decrypted credentials for the
 * job's organisation.  Returns the PGresult holding the borrowed strings
 * (caller PQclears) and *secret (caller wipes and frees), or NULL with err.
 */
static PGresult *
load_payer(PGconn *db, const char *org_id, const char *provider,
    const char *transaction, struct payer_endpoint *ep,
    struct payer_credential *cred, char **secret, struct errbuf *err)
{
	const char *p[3] = { org_id, provider, transaction };
	unsigned char key[SECRETS_KEY_LEN];
	const unsigned char *raw;
	unsigned char *sealed;
	char ad[128];
	size_t sealedlen;
	PGresult *res;

	*secret = NULL;
	res = db_exec(db, err, "SELECT e.base_url, e.token_path, e.api_path, "
	    "e.payer_id, c.client_id, c.client_secret_enc, p.tin, "
	    "COALESCE(p.npi, ''), p.name, p.id "
	    "FROM organizations o "
	    "JOIN practices p ON p.organization_id = o.id AND p.tin = o.tin "
	    "JOIN payer_endpoints e ON e.provider_code = $2 "
	    "AND e.transaction_code = $3 AND e.is_active "
	    "LEFT JOIN payer_credentials c ON c.practice_id = p.id "
	    "AND c.provider_code = $2 WHERE o.id = $1", 3, p);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) != 1) {
		errbuf_set(err, "no practice with the organization's TIN, or "
		    "no %s/%s payer endpoint configured", provider,
		    transaction);
		PQclear(res);
		return NULL;
	}
	if (PQgetisnull(res, 0, 5)) {
		errbuf_set(err, "no %s payer credentials are configured for "
		    "the practice", provider);
		PQclear(res);
		return NULL;
	}
	raw = (const unsigned char *)PQgetvalue(res, 0, 5);
	sealed = PQunescapeBytea(raw, &sealedlen);
	snprintf(ad, sizeof(ad), "practice:%s:%s", PQgetvalue(res, 0, 9),
	    provider);
	if (sealed == NULL ||
	    secrets_key_load(config_get("secrets.key_file", NULL), key,
	    err) != 0 ||
	    secrets_open(key, ad, sealed, sealedlen, secret, err) != 0) {
		if (sealed == NULL)
			errbuf_set(err, "out of memory");
		sodium_memzero(key, sizeof(key));
		PQfreemem(sealed);
		PQclear(res);
		return NULL;
	}
	sodium_memzero(key, sizeof(key));
	PQfreemem(sealed);
	ep->provider_code = provider;
	ep->transaction_code = transaction;
	ep->base_url = PQgetvalue(res, 0, 0);
	ep->token_path = PQgetvalue(res, 0, 1);
	ep->api_path = PQgetvalue(res, 0, 2);
	ep->payer_id = PQgetvalue(res, 0, 3);
	cred->client_id = PQgetvalue(res, 0, 4);
	cred->client_secret = *secret;
	cred->tin = PQgetvalue(res, 0, 6);
	cred->npi = PQgetvalue(res, 0, 7);
	cred->practice_name = PQgetvalue(res, 0, 8);
	return res;
}

/* Runs the payer over every unprocessed row of the job. */
static int
run_rows(struct task_ctx *ctx, PGconn *db, const char *job_id,
    const char *org_id, const char *provider, const char *transaction,
    struct task_result *res)
{
	struct payer_endpoint ep;
	struct payer_credential cred;
	struct payer_options opt;
	struct payer_engine *pe;
	struct run r;
	struct batch *b;
	PGresult *pres;
	char *secret;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&ep, 0, sizeof(ep));
	memset(&cred, 0, sizeof(cred));
	pres = load_payer(db, org_id, provider, transaction, &ep, &cred,
	    &secret, &r.err);
	if (pres == NULL) {
		job_failed(db, job_id, r.err.msg);
		log_warnx("job failed job=%s reason=\"%s\"", job_id, r.err.msg);
		return fail(res, "PayerConfigurationError", "%s", r.err.msg);
	}
	memset(&opt, 0, sizeof(opt));
	payer_options_load(&opt);
	/* Tokens, rate limit and in-flight cap shared by all workers. */
	opt.redis = ctx->redis;
	pe = payer_engine_new(&ep, &cred, &opt, &r.err);
	if (pe == NULL) {
		sodium_memzero(secret, strlen(secret));
		free(secret);
		PQclear(pres);
		job_failed(db, job_id, r.err.msg);
		return fail(res, "PayerConfigurationError", "%s", r.err.msg);
	}
	r.db = db;
	r.job_id = job_id;
	r.results = json_object_new_array();
	r.last_flush_ms = util_mono_ms();
	rc = payer_engine_run(pe, next_claim, claim_done, &r, ctx->stop,
	    &r.err);
	if (!r.db_failed)
		flush(&r);
	payer_engine_free(pe);
	sodium_memzero(secret, strlen(secret));
	free(secret);
	PQclear(pres);
	json_object_put(r.results);
	while ((b = r.feed) != NULL) {
		r.feed = b->older;
		PQclear(b->res);
		free(b);
	}
	if (r.db_failed) {
		log_warnx("database error job=%s: %s", job_id, r.err.msg);
		res->retry = 1;
		return fail(res, "DatabaseError", "database unavailable while "
		    "storing results");
	}
	if (rc != 0) {
		job_failed(db, job_id, r.err.msg);
		log_warnx("job failed job=%s reason=\"%s\"", job_id, r.err.msg);
		return fail(res, "PayerError", "%s", r.err.msg);
	}
	log_info("rows stored job=%s rows=%ld", job_id, r.stored);
	return 0;
}

int
task_process_csv_file(struct task_ctx *ctx, struct json_object *args,
    struct json_object *kwargs, struct task_result *res)
{
	const char *job_id = NULL, *p[1];
	char org_id[32], provider[32], transaction[32];
	struct errbuf err;
	PGresult *r;
	PGconn *db;
	int rc;

	(void)kwargs;
	if (json_object_is_type(args, json_type_array) &&
	    json_object_array_length(args) >= 1)
		job_id = json_object_get_string(
		    json_object_array_get_idx(args, 0));
	if (!util_is_uuid(job_id))
		return fail(res, "ValueError", "process_csv_file expects "
		    "[job_id] with a UUID job id");
	if ((db = task_db_get(&err)) == NULL) {
		log_warnx("%s", err.msg);
		res->retry = 1;
		return fail(res, "DatabaseError", "database unavailable");
	}
	p[0] = job_id;
	r = db_exec(db, &err, "UPDATE csv_jobs SET status = 'PROCESSING', "
	    "started_at = COALESCE(started_at, now()), error_message = NULL "
	    "WHERE id = $1 AND status IN ('PENDING', 'PROCESSING') "
	    "RETURNING organization_id, provider_code, transaction_code", 1, p);
	if (r == NULL) {
		log_warnx("job=%s %s", job_id, err.msg);
		res->retry = 1;
		return fail(res, "DatabaseError", "database unavailable");
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		/* Finished or unknown: report what is there; never redo it. */
		if ((res->value = job_summary(db, job_id, &err)) != NULL)
			return 0;
		return fail(res, "JobNotFound", "job %s does not exist",
		    job_id);
	}
	snprintf(org_id, sizeof(org_id), "%s", PQgetvalue(r, 0, 0));
	snprintf(provider, sizeof(provider), "%s", PQgetvalue(r, 0, 1));
	snprintf(transaction, sizeof(transaction), "%s", PQgetvalue(r, 0, 2));
	PQclear(r);
	log_info("job started job=%s task=%s retries=%ld", job_id,
	    ctx->task_id, ctx->retries);

	rc = run_rows(ctx, db, job_id, org_id, provider, transaction, res);
	if (rc != 0)
		return rc;
	if (ctx->stop != NULL && *ctx->stop) {
		/* Stopped early: the redelivered message does the rest. */
		res->retry = 1;
		res->countdown = 1;
		return fail(res, "Interrupted", "worker stopping; job %s "
		    "resumes later", job_id);
	}
	if (db_cmd(db, &err, "UPDATE csv_jobs SET status = 'COMPLETED', "
	    "completed_at = now(), processing_duration = now() - started_at "
	    "WHERE id = $1 AND status = 'PROCESSING' AND NOT EXISTS ("
	    "SELECT 1 FROM csv_job_rows WHERE job_id = $1 AND success IS NULL)",
	    1, p) != 0) {
		res->retry = 1;
		return fail(res, "DatabaseError", "database unavailable");
	}
	res->value = job_summary(db, job_id, &err);
	log_info("job finished job=%s", job_id);
	return 0;
}
