/*
 * bulkclaims.notify_job(job_id): the job-end notifications,
 * as a task of its own so that a slow mail server or a webhook receiver
 * that is down never holds up a job, and so that delivery is retried
 * with Celery's retry: countdown notify.retry_base_s (5) times 3 to the
 * number of retries so far (5 s, 15 s, 45 s, ... up to 30 min), 6
 * retries.  Each channel is sent once: email_sent_at / webhook_sent_at
 * on the job record say what is done, so a retry only resends what
 * failed.
 *
 * Email: to the uploading user's address, from notify.from, through
 * notify.smtp_url (no URL: no email), STARTTLS required unless
 * notify.smtp_require_tls = 0.  Webhook: the organisation's row in
 * organization_webhooks, if active, its secret sealed under
 * secrets.key_file (bulkclaimsctl set-webhook), signed with a timestamp.
 * Both say only the job id, its status, the counts and a link
 * (public.url); nothing from the rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "celery.h"
#include "config.h"
#include "db.h"
#include "job.h"
#include "log.h"
#include "notify.h"
#include "redisconn.h"
#include "secrets.h"
#include "task_csv.h"
#include "task_db.h"
#include "util.h"

#define NOTIFY_TASK	"bulkclaims.notify_job"

static PGconn *notify_db;

static PGconn *
db_get(struct errbuf *err)
{
	return task_db_keep(&notify_db, "bulkclaims-notify", err);
}

void
notify_queue(redisContext *c, const char *queue, const char *job_id)
{
	struct json_object *args;
	struct errbuf err;
	redisContext *fresh = NULL;
	char id[37];
	int rc;

	if (!config_get_bool("notify.enabled", 1))
		return;
	/* The caller's connection may have died with a Redis restart. */
	if (c == NULL || rconn_dead(c))
		c = fresh = rconn_connect(config_get_own("redis.url",
		    "redis://127.0.0.1:6379/0"), 5000, &err);
	if (c == NULL) {
		log_warnx("notify job=%s: cannot queue: %s", job_id, err.msg);
		return;
	}
	args = json_object_new_array();
	json_object_array_add(args, json_object_new_string(job_id));
	util_uuid4(id);
	rc = celery_publish(c, queue, NOTIFY_TASK, id, args, NULL, &err);
	if (rc == -1)
		log_warnx("notify job=%s: cannot queue: %s", job_id, err.msg);
	json_object_put(args);
	if (fresh != NULL)
		redisFree(fresh);
}

static long
backoff_s(long retries)
{
	long d = config_get_long("notify.retry_base_s", 5);

	while (retries-- > 0 && d < 1800)
		d *= 3;
	return d > 1800 ? 1800 : (d < 1 ? 1 : d);
}

/* A channel delivered: recorded (a retry skips it), logged, reported. */
static void
delivered(PGconn *db, const char *job_id, const char *channel,
    struct json_object *out, const char *what)
{
	if (job_mark_notified(db, NULL, job_id, channel) == -1)
		log_warnx("notify job=%s: cannot record the %s", job_id,
		    channel);
	log_info("notify job=%s: %s", job_id, what);
	json_object_object_add(out, channel, json_object_new_boolean(1));
}

/*
 * Opens the webhook secret of the query's row (column 9 sealed, 12 the
 * organisation) into *out (malloc'd; the caller wipes and frees it).
 * Returns 0, or -1 with err.
 */
static int
webhook_secret(PGresult *r, char **out, struct errbuf *err)
{
	unsigned char key[SECRETS_KEY_LEN], *sealed;
	size_t sealedlen;
	char ad[64];
	int rc;

	if (PQgetisnull(r, 0, 9))
		return errbuf_set(err, "webhook secret not sealed (run "
		    "bulkclaimsctl set-webhook)");
	sealed = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 9),
	    &sealedlen);
	if (sealed == NULL)
		return errbuf_set(err, "out of memory");
	snprintf(ad, sizeof(ad), "webhook:%s", PQgetvalue(r, 0, 12));
	rc = secrets_key_load(config_get("secrets.key_file", NULL), key,
	    err) == 0 && secrets_open(key, ad, sealed, sealedlen, out,
	    err) == 0 ? 0 : -1;
	sodium_memzero(key, sizeof(key));
	PQfreemem(sealed);
	return rc;
}

int
task_notify_job(struct task_ctx *ctx, struct json_object *args,
    struct json_object *kwargs, struct task_result *res)
{
	const char *job_id = NULL, *p[1], *smtp, *from, *pub;
	char link[1024], *msg, *body, *secret;
	struct notify_job j;
	struct json_object *out;
	struct errbuf err;
	PGresult *r;
	PGconn *db;
	int failed = 0;
	long tmo;

	(void)kwargs;
	if (json_object_is_type(args, json_type_array) &&
	    json_object_array_length(args) >= 1)
		job_id = json_object_get_string(
		    json_object_array_get_idx(args, 0));
	if (!util_is_uuid(job_id)) {
		snprintf(res->exc_type, sizeof(res->exc_type), "ValueError");
		snprintf(res->exc_message, sizeof(res->exc_message),
		    "notify_job expects [job_id]");
		return -1;
	}
	if ((db = db_get(&err)) == NULL)
		goto retry;
	p[0] = job_id;
	r = db_exec(db, &err, "SELECT j.status, j.total_rows, "
	    "j.processed_rows, j.success_count, j.failure_count, "
	    "extract(epoch FROM COALESCE(j.completed_at, now()))::bigint, "
	    "COALESCE(u.email, ''), j.email_sent_at IS NOT NULL, "
	    "COALESCE(w.url, ''), w.secret_enc, "
	    "COALESCE(w.is_active, false), j.webhook_sent_at IS NOT NULL, "
	    "j.organization_id "
	    "FROM csv_jobs j JOIN users u ON u.id = j.user_id "
	    "LEFT JOIN organization_webhooks w "
	    "ON w.organization_id = j.organization_id WHERE j.id = $1", 1, p);
	if (r == NULL)
		goto retry;
	out = json_object_new_object();
	res->value = out;
	if (PQntuples(r) != 1 || (strcmp(PQgetvalue(r, 0, 0), "COMPLETED") !=
	    0 && strcmp(PQgetvalue(r, 0, 0), "FAILED") != 0)) {
		/* Gone, or retried meanwhile: nothing to say. */
		json_object_object_add(out, "skipped",
		    json_object_new_boolean(1));
		PQclear(r);
		return 0;
	}
	pub = config_get("public.url", NULL);
	snprintf(link, sizeof(link), "%s/api/v1/claims/csv-jobs/%s/",
	    pub ? pub : "", job_id);
	memset(&j, 0, sizeof(j));
	j.job_id = job_id;
	j.status = PQgetvalue(r, 0, 0);
	j.total_rows = strtol(PQgetvalue(r, 0, 1), NULL, 10);
	j.processed_rows = strtol(PQgetvalue(r, 0, 2), NULL, 10);
	j.success_count = strtol(PQgetvalue(r, 0, 3), NULL, 10);
	j.failure_count = strtol(PQgetvalue(r, 0, 4), NULL, 10);
	j.finished_at = strtod(PQgetvalue(r, 0, 5), NULL);
	j.link = pub != NULL && *pub != '\0' ? link : NULL;
	tmo = config_get_long("notify.timeout_ms", 10000);

	smtp = config_get("notify.smtp_url", NULL);
	from = config_get("notify.from", "bulkclaims@localhost");
	if (smtp != NULL && *smtp != '\0' && PQgetvalue(r, 0, 6)[0] != '\0' &&
	    PQgetvalue(r, 0, 7)[0] != 't') {
		msg = notify_email_build(&j, from, PQgetvalue(r, 0, 6), &err);
		if (msg == NULL)
			log_warnx("notify job=%s: %s", job_id, err.msg);
		else if (notify_email_send(smtp, from, PQgetvalue(r, 0, 6), msg,
		    config_get_bool("notify.smtp_require_tls", 1), tmo,
		    &err) == -1) {
			log_warnx("notify job=%s: %s", job_id, err.msg);
			failed = 1;
		} else
			delivered(db, job_id, "email", out, "email sent");
		free(msg);
	}
	if (PQgetvalue(r, 0, 8)[0] != '\0' && PQgetvalue(r, 0, 10)[0] == 't' &&
	    PQgetvalue(r, 0, 11)[0] != 't') {
		secret = NULL;
		if ((body = notify_webhook_body(&j)) == NULL)
			failed = 1;
		else if (webhook_secret(r, &secret, &err) == -1 ||
		    notify_webhook_send(PQgetvalue(r, 0, 8), secret, body, tmo,
		    &err) == -1) {
			log_warnx("notify job=%s: %s (retry %ld)", job_id,
			    err.msg, ctx->retries);
			failed = 1;
		} else
			delivered(db, job_id, "webhook", out,
			    "webhook delivered");
		if (secret != NULL) {
			sodium_memzero(secret, strlen(secret));
			free(secret);
		}
		free(body);
	}
	PQclear(r);
	if (!failed)
		return 0;
	json_object_put(res->value);
	res->value = NULL;
	snprintf(err.msg, sizeof(err.msg), "a notification was not delivered");
retry:
	res->retry = 1;
	res->countdown = backoff_s(ctx->retries);
	snprintf(res->exc_type, sizeof(res->exc_type), "NotificationError");
	snprintf(res->exc_message, sizeof(res->exc_message),
	    "job %s: notification not delivered yet", job_id);
	return -1;
}
