/*
 * What a handler reads of its request and its thread: FastCGI
 * parameters, and the thread's PostgreSQL and Redis connections,
 * (re)connected when needed.  Calls no handler.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "log.h"
#include "redisconn.h"

#define PROGNAME	"bulkclaims-fcgi"

void
req_oneline(const char *msg, char *out, size_t outsz)
{
	size_t i, n;

	/* In place (msg == out) is allowed. */
	if (msg != out)
		snprintf(out, outsz, "%s", msg ? msg : "");
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20)
			out[i] = ' ';
	n = strlen(out);
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
}

const char *
req_param(const struct req *r, const char *name)
{
	return FCGX_GetParam(name, r->rq->envp);
}

long
req_body(struct req *r, char *buf, size_t max)
{
	const char *cl = req_param(r, "CONTENT_LENGTH");
	long n;
	int got;

	if (cl == NULL || *cl == '\0')
		return 0;
	n = strtol(cl, NULL, 10);
	if (n < 0 || (size_t)n > max)
		return -1;
	got = FCGX_GetStr(buf, (int)n, r->rq->in);
	return got == (int)n ? n : -1;
}

/* Session settings, again after every reconnect (a reset loses them). */
static int
db_setup(PGconn *db)
{
	struct errbuf err;

	char line[512];

	if (PQsetClientEncoding(db, "UTF8") != 0 ||
	    db_cmd(db, &err, "SET statement_timeout = '60s'", 0, NULL) == -1) {
		req_oneline(PQerrorMessage(db), line, sizeof(line));
		log_warnx("database session setup failed: %s", line);
		return -1;
	}
	return 0;
}

PGconn *
req_db(struct req *r)
{
	struct worker *w = r->w;
	struct errbuf err;
	PGresult *res;
	char line[512];

	if (w->db == NULL) {
		if ((w->db = db_connect(w->app->database_url, PROGNAME,
		    &err)) == NULL) {
			req_oneline(err.msg, line, sizeof(line));
			log_warnx("thread %d: %s", w->id, line);
			return NULL;
		}
		if (db_setup(w->db) == -1)
			return NULL;
	} else if (PQstatus(w->db) != CONNECTION_OK) {
		if (!db_ensure(w->db)) {
			req_oneline(PQerrorMessage(w->db), line, sizeof(line));
			log_warnx("thread %d: database reconnect failed: %s",
			    w->id, line);
			return NULL;
		}
		log_info("thread %d: database reconnected", w->id);
		if (db_setup(w->db) == -1)
			return NULL;
	}
	/* A handler always ends its transaction; this is the safety net. */
	if (PQtransactionStatus(w->db) != PQTRANS_IDLE) {
		res = PQexec(w->db, "ROLLBACK");
		PQclear(res);
	}
	return w->db;
}

redisContext *
req_redis(struct req *r, struct errbuf *err)
{
	struct worker *w = r->w;

	if (w->redis != NULL && rconn_dead(w->redis))
		req_redis_drop(r);
	if (w->redis == NULL)
		w->redis = rconn_connect(w->app->redis_url,
		    w->app->redis_timeout_ms, err);
	return w->redis;
}

void
req_redis_drop(struct req *r)
{
	if (r->w->redis != NULL)
		redisFree(r->w->redis);
	r->w->redis = NULL;
}

void
req_worker_open(struct worker *w)
{
	struct errbuf err;
	char line[512];

	if ((w->db = db_connect(w->app->database_url, PROGNAME, &err)) ==
	    NULL) {
		req_oneline(err.msg, line, sizeof(line));
		log_warnx("thread %d: %s (will retry per request)", w->id,
		    line);
	}
	else if (db_setup(w->db) == -1) {
		PQfinish(w->db);
		w->db = NULL;
	}
}

void
req_worker_close(struct worker *w)
{
	if (w->db != NULL)
		PQfinish(w->db);
	w->db = NULL;
	if (w->redis != NULL)
		redisFree(w->redis);
	w->redis = NULL;
}
