/*
 * Celery task protocol v2 over kombu's Redis transport, as Debian's
 * python3-celery 5.2.6 / kombu 5.2.4 put it on the wire
 * (shared/spec/celery-protocol.md, "the spec" below).
 *
 * This module holds the messages and the result backend: building and
 * publishing task messages, decoding them (protocol v2 and v1, malformed
 * ones rejected), and writing results.  The pure functions need no Redis,
 * so unit tests and fuzzers call them directly.  json-c objects passed in
 * are borrowed unless a comment says "taken"; objects handed out are owned
 * by the caller (json_object_put) unless they live in a struct with a
 * _free().
 *
 * Thread safety: every function may be called from several threads, each
 * with its own redisContext.  A NULL redisContext (a reconnect that has
 * not succeeded yet) makes a function fail with -1 instead of crashing.
 */
#ifndef CELERY_H
#define CELERY_H

#include <stddef.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "errbuf.h"
#include "limits.h"

/* kombu's separator inside binding members and priority list names. */
#define CELERY_SEP	"\x06\x16"

/* Options of one task message; all-zero means Celery's defaults. */
struct celery_task_opts {
	int		 priority;	/* 0..9, picks the list */
	double		 eta;		/* epoch seconds, 0 = none */
	double		 expires;	/* epoch seconds, 0 = none */
	double		 time_limit;	/* hard limit, seconds, 0 = null */
	double		 soft_time_limit; /* seconds, 0 = null */
	long		 retries;
	const char	*root_id;	/* NULL: the task's own id */
	const char	*parent_id;	/* NULL: null */
	const char	*group;		/* NULL: null */
	const char	*origin;	/* NULL: "gen<pid>@<hostname>" */
	const char	*reply_to;	/* NULL: this process's oid */
	int		 ignore_result;
	struct json_object *embed;	/* borrowed; NULL: all four null */
};

/*
 * Builds the complete protocol v2 task envelope (every header, a
 * fresh delivery_tag, base64 body [args, kwargs, embed], argsrepr in
 * Python repr) for queue on the anonymous exchange.  args must be a JSON
 * array, kwargs an object or NULL ({}); both borrowed.  opts may be NULL.
 * Returns malloc'd NUL-terminated JSON text (length in *lenp if not
 * NULL), or NULL with err set.
 */
char	*celery_envelope_build(const char *queue, const char *task_name,
	    const char *task_id, struct json_object *args,
	    struct json_object *kwargs, const struct celery_task_opts *opts,
	    size_t *lenp, struct errbuf *err);

/*
 * Publishes a task with default options: declares the queue once per
 * process (SADD of its binding, as kombu does), then LPUSHes the
 * envelope to the list of priority 0.  args/kwargs as for
 * celery_envelope_build().  Returns 0, or -1 with err set.
 */
int	celery_publish(redisContext *c, const char *queue,
	    const char *task_name, const char *task_id,
	    struct json_object *args, struct json_object *kwargs,
	    struct errbuf *err);

/* celery_publish() with options (priority, eta, retries, ...). */
int	celery_publish_ex(redisContext *c, const char *queue,
	    const char *task_name, const char *task_id,
	    struct json_object *args, struct json_object *kwargs,
	    const struct celery_task_opts *opts, struct errbuf *err);

/*
 * Writes the Redis list name for queue and priority (kombu's priority
 * steps 0/3/6/9: "q", "q\x06\x163", ...) into out.  Returns its length,
 * or 0 if it does not fit.
 */
size_t	celery_queue_key(const char *queue, int priority, char *out,
	    size_t outsz);

/*
 * Declares queue as kombu does: SADD _kombu.binding.<q>
 * "<q>\x06\x16\x06\x16<q>".  Returns 0 or -1 with err set.
 */
int	celery_declare_queue(redisContext *c, const char *queue,
	    struct errbuf *err);

/* A decoded task message.  Strings are "" when absent. */
struct celery_message {
	int		 protocol;	/* 2, or 1 for a v1 body */
	char		 id[CELERY_ID_MAX];
	char		 task[CELERY_NAME_MAX];
	char		 delivery_tag[CELERY_ID_MAX];
	int		 has_delivery_info;
	char		 exchange[CELERY_NAME_MAX];
	char		 routing_key[CELERY_NAME_MAX];
	char		 root_id[CELERY_ID_MAX];
	char		 parent_id[CELERY_ID_MAX];
	char		 group[CELERY_ID_MAX];
	char		 origin[CELERY_NAME_MAX];
	char		 reply_to[CELERY_ID_MAX];
	char		 content_type[CELERY_NAME_MAX];
	long		 retries;
	double		 eta;		/* epoch seconds, 0 = none */
	double		 expires;	/* epoch seconds, 0 = none */
	char		 eta_text[64];	/* as received, for events */
	char		 expires_text[64];
	double		 time_limit;	/* hard, seconds, 0 = none */
	double		 soft_time_limit;
	int		 priority;	/* 0..9 */
	int		 ignore_result;
	int		 redelivered;
	char		*argsrepr;	/* malloc'd; from the header or built */
	char		*kwargsrepr;
	struct json_object *args;	/* array */
	struct json_object *kwargs;	/* object */
	struct json_object *embed;	/* object, or NULL */
	struct json_object *envelope;	/* the whole parsed envelope */
};

/*
 * Decodes a task message as popped from Redis.  Accepts protocol v2 and
 * v1 bodies; rejects (returns -1 with a reason in err, never any payload
 * content) everything a worker must not run: invalid JSON,
 * missing delivery_tag/delivery_info, content types other than JSON,
 * bodies that are not [args, kwargs, embed], bad eta/expires, unknown
 * messages.  Even on failure msg holds whatever could be read (id,
 * delivery_tag, ...) so the caller can store a FAILURE and ack; always
 * call celery_message_free().  An unknown task name is not an error
 * here: the registry decides.
 */
int	celery_message_parse(const char *json, size_t len,
	    struct celery_message *msg, struct errbuf *err);

/* Frees what msg owns and zeroes it. */
void	celery_message_free(struct celery_message *msg);

/* What one result record holds (Celery's result meta). */
struct celery_result {
	const char	*task_id;
	const char	*status;	/* STARTED, SUCCESS, FAILURE, ... */
	struct json_object *result;	/* borrowed; NULL = null */
	const char	*traceback;	/* NULL = null */
	struct json_object *children;	/* borrowed; NULL = [] */
	const char	*group_id;	/* NULL = absent */
	const char	*parent_id;	/* NULL = absent */
	long		 expires_s;	/* SETEX seconds; <= 0: plain SET */
};

/*
 * Builds Celery's result meta JSON in Python's key order (date_done set
 * for ready states SUCCESS/FAILURE/REVOKED only, task_id last).
 * Returns malloc'd text or NULL (out of memory / too large).
 */
char	*celery_result_meta(const struct celery_result *r, size_t *lenp);

/*
 * Stores a result as Celery does: GET (a stored SUCCESS is never
 * overwritten: returns 0 without writing), then MULTI SETEX PUBLISH EXEC.
 * result is borrowed.  expires_s as in struct celery_result.
 * Returns 0, or -1 with err set.
 */
int	celery_store_result(redisContext *c, const char *task_id,
	    const char *status, struct json_object *result,
	    const char *traceback, long expires_s, struct errbuf *err);

/* celery_store_result() with children, group_id and parent_id. */
int	celery_store_result_ex(redisContext *c, const struct celery_result *r,
	    struct errbuf *err);

/*
 * Returns a new exception result {"exc_type", "exc_message": [message],
 * "exc_module"} as Celery stores it.  message NULL gives [], module
 * NULL gives null (Python then synthesizes a class of that name).  Owned by the
 * caller.
 */
struct json_object *celery_exc_new(const char *exc_type,
	    const char *exc_module, const char *message);

/*
 * Serializes o as Python's json.dumps() does (", " and ": " separators,
 * ensure_ascii), so our messages look like kombu's.  Returns malloc'd
 * text (length in *lenp if not NULL) or NULL if it would exceed
 * CELERY_MAX_OUTPUT.
 */
char	*celery_json_dump(struct json_object *o, size_t *lenp);

/*
 * Python repr() of a JSON value (None/True/False, 'str', tuples when
 * as_tuple and o is an array), truncated to CELERY_REPR_MAX characters
 * like Celery's argsrepr.  Returns malloc'd text or NULL.
 */
char	*celery_pyrepr(struct json_object *o, int as_tuple);

/*
 * Parses an ISO-8601 date-time as Celery accepts it
 * ("2026-11-28T11:55:59.989637+00:00", "...Z", naive = UTC, 'T' or ' ').
 * Returns 0 and *out in epoch seconds, or -1.
 */
int	celery_parse_isotime(const char *s, double *out);

/* Writes "gen<pid>@<hostname>" (a producer's node name) into out. */
void	celery_origin(char *out, size_t outsz);

/* Base64 (standard, padded) of buf; malloc'd, NUL-terminated, or NULL. */
char	*celery_b64encode(const void *buf, size_t len);

#endif
