/*
 * What the files of bulkclaims-fcgi share: the process settings, the
 * per-thread state, the per-request state, and the functions handlers
 * answer with (request.c, respond.c, page.c, jobs.c).  Internal to
 * fcgi/ (SQLite's "fooInt.h" idea).
 */
#ifndef FCGI_APP_H
#define FCGI_APP_H

#include <stddef.h>

#include <fcgiapp.h>
#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "errbuf.h"
#include "limits.h"
#include "router.h"

/* Process-wide settings, read once at start-up; read-only afterwards. */
struct app {
	const char	*database_url;
	const char	*redis_url;
	const char	*queue;		/* celery.queue */
	const char	*public_url;	/* public.url, no final '/'; or NULL */
	long		 max_bytes;	/* upload.max_bytes: the file part */
	long		 max_rows;	/* upload.max_rows */
	long		 duplicate_window_s; /* upload.duplicate_window_s */
	int		 redis_timeout_ms;
};

/* A request thread: its own connections (libpq, hiredis are not shared). */
struct worker {
	int		 id;
	int		 listen_fd;
	const struct app *app;
	PGconn		*db;		/* NULL until connected */
	redisContext	*redis;		/* NULL until needed, after errors */
};

/* One request, from accept to finish; nothing outlives it. */
struct req {
	FCGX_Request	*rq;
	struct worker	*w;
	const struct app *app;
	const char	*method;
	char		 path[FCGI_MAX_PATH];	/* decoded, without query */
	const char	*query;		/* QUERY_STRING, borrowed, may be "" */
	struct route_match route;
	int		 head;		/* HEAD: headers only */
	/* Set by auth_check(). */
	long long	 user_id;
	long long	 org_id;
	char		 role[16];
	int		 via_session;	/* cookie, not API token (CSRF) */
	/* For the access log. */
	int		 status;
	int		 sent;		/* headers are out */
	char		 job_id[37];	/* job the request touched, or "" */
	long		 rows;		/* rows stored (upload) or -1 */
	long long	 bytes;		/* upload file or response bytes */
	/*
	 * resp_json() keeps a copy of the JSON body it sends in
	 * captured (malloc'd, freed by the request loop) when capture is
	 * set, for Idempotency-Key replay.
	 */
	int		 capture;
	char		*captured;
	/*
	 * nginx's auth_request pass before an upload body is read: a
	 * refusal is sent as headers that nginx answers from (respond.c).
	 */
	int		 auth_only;
};

/* request.c: what handlers read of the request and the thread. */

/*
 * Copies a library message (libpq's span lines) into out as one line:
 * control characters become spaces, trailing ones are dropped.  msg
 * may be out (in place).
 */
void	 req_oneline(const char *msg, char *out, size_t outsz);

/* Returns the FastCGI parameter name, or NULL. */
const char *req_param(const struct req *r, const char *name);

/*
 * Reads the request body (CONTENT_LENGTH bytes) into buf, not
 * terminated.  Returns its length (0: none), or -1 if it is longer than
 * max or cannot be read whole.
 */
long	 req_body(struct req *r, char *buf, size_t max);

/*
 * The thread's database connection, connected or reset as needed (one
 * attempt).  Returns NULL, after logging why, if the database is
 * unreachable: the caller answers 503 with resp_db_error().
 */
PGconn	*req_db(struct req *r);

/* The thread's Redis connection (connects when needed), or NULL with err. */
redisContext *req_redis(struct req *r, struct errbuf *err);

/* Drops the Redis connection after an error so the next use reconnects. */
void	 req_redis_drop(struct req *r);

/*
 * Connects the thread's database at start-up (a failure is logged; the
 * first request tries again), and closes its connections at the end.
 */
void	 req_worker_open(struct worker *w);
void	 req_worker_close(struct worker *w);

/* respond.c: every response goes through these. */

/*
 * Sends the status line and headers: Content-Type ctype (NULL: JSON),
 * Cache-Control: no-store, Content-Length if clen >= 0, then extra
 * header lines (each ending in "\r\n", may be NULL).  Returns 0 or -1
 * if the client is gone.
 */
int	 resp_headers(struct req *r, int status, const char *ctype,
	    long long clen, const char *extra);

/* Writes body bytes (nothing for HEAD).  Returns 0 or -1. */
int	 resp_write(struct req *r, const void *buf, size_t len);

/*
 * Sends obj as the JSON body with status; takes obj (json_object_put).
 * extra as for resp_headers.
 */
void	 resp_json(struct req *r, int status, struct json_object *obj,
	    const char *extra);

/*
 * Sends {"error": {"code": code, "message": msg, ...fields}} with status.
 * fields (may be NULL) is an object whose members are added, and is
 * taken.  Adds WWW-Authenticate for 401; extra as for resp_headers.
 */
void	 resp_error(struct req *r, int status, const char *code,
	    const char *msg, struct json_object *fields, const char *extra);

/* 503 database_unavailable (details go to the log, not the client). */
void	 resp_db_error(struct req *r, const struct errbuf *err);

/* 404 not_found for a job id that is malformed or not the caller's. */
void	 resp_job_not_found(struct req *r);

/*
 * Copies the route's job id into r->job_id (for the logs) and returns
 * 0; answers 404 and returns -1 if the id is malformed.
 */
int	 resp_job_id(struct req *r);

/* resp_error() naming the input at fault: fields {"field": field}. */
void	 resp_field_error(struct req *r, int status, const char *code,
	    const char *field, const char *msg);

/* Builds the absolute URL of path for links (public.url or the params). */
int	 resp_base_url(struct req *r, const char *path, char *out,
	    size_t outsz);

/* page.c */

struct query;
/*
 * Answers 200 with one DRF page {count, next, previous, results} of
 * count rows in pages of size (?page as DRF validates it: 404 "Invalid
 * page.").  sql_page takes nparams parameters whose last two (LIMIT,
 * OFFSET) are filled here; row_fn makes one row's JSON object.  Returns
 * the rows sent, or -1 when an error answer was sent instead.
 */
int	 resp_page(struct req *r, PGconn *db, const struct query *q,
	    long count, long size, const char *sql_page, int nparams,
	    const char **params,
	    struct json_object *(*row_fn)(const PGresult *, int));
/*
 * resp_page() whose body starts with the members of head (taken; may
 * be NULL) before count, next, previous and results.
 */
int	 resp_page_head(struct req *r, PGconn *db, const struct query *q,
	    struct json_object *head, long count, long size,
	    const char *sql_page, int nparams, const char **params,
	    struct json_object *(*row_fn)(const PGresult *, int));

/* jobs.c: publishes claims.tasks.process_csv_file(job_id); 0 or -1. */
int	 jobs_publish(struct req *r, const char *job_id, const char *task_id,
	    struct errbuf *err);

#endif
