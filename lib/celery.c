/*
 * Celery task messages: the protocol v2 envelope, the producer recipe
 * (declare the queue, LPUSH the envelope) and the defensive decoder
 * (v1 bodies accepted, malformed messages rejected; see docs/celery.md).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <sodium.h>

#include "celery.h"
#include "celery_int.h"
#include "util.h"

/* Queues this process has declared (kombu declares once per queue). */
#define DECLARED_MAX	64
static char declared[DECLARED_MAX][CELERY_NAME_MAX];
static int ndeclared;
static pthread_mutex_t declared_mtx = PTHREAD_MUTEX_INITIALIZER;

/* The producer "oid" kombu puts in reply_to: one per process. */
static char proc_oid[37];
static pthread_once_t proc_oid_once = PTHREAD_ONCE_INIT;

static void
proc_oid_init(void)
{
	util_uuid4(proc_oid);
}

size_t
celery_queue_key(const char *queue, int priority, char *out, size_t outsz)
{
	int n, step;

	/* kombu's priority_steps [0, 3, 6, 9]: the largest step <= p. */
	if (priority < 0)
		priority = 0;
	if (priority > 9)
		priority = 9;
	step = priority - priority % 3;
	if (step == 0)
		n = snprintf(out, outsz, "%s", queue);
	else
		n = snprintf(out, outsz, "%s" CELERY_SEP "%d", queue, step);
	if (n < 0 || (size_t)n >= outsz)
		return 0;
	return (size_t)n;
}

int
celery_reply_done(redisContext *c, redisReply *r, const char *cmd,
    struct errbuf *err)
{
	int rc = 0;

	if (r == NULL)
		return errbuf_set(err, "redis %s: %s", cmd, c->errstr);
	if (r->type == REDIS_REPLY_ERROR)
		rc = errbuf_set(err, "redis %s: %s", cmd, r->str);
	freeReplyObject(r);
	return rc;
}

int
celery_declare_queue(redisContext *c, const char *queue, struct errbuf *err)
{
	char key[CELERY_NAME_MAX + 32], member[3 * CELERY_NAME_MAX];
	redisReply *r;
	int n;

	if (c == NULL)
		return errbuf_set(err, "no redis connection");
	snprintf(key, sizeof(key), "_kombu.binding.%s", queue);
	n = snprintf(member, sizeof(member), "%s" CELERY_SEP CELERY_SEP "%s",
	    queue, queue);
	if (n < 0 || (size_t)n >= sizeof(member))
		return errbuf_set(err, "queue name too long");
	r = redisCommand(c, "SADD %s %b", key, member, (size_t)n);
	return celery_reply_done(c, r, "SADD", err);
}

/* Declares queue unless this process already did. */
static int
declare_once(redisContext *c, const char *queue, struct errbuf *err)
{
	int i, found = 0;

	pthread_mutex_lock(&declared_mtx);
	for (i = 0; i < ndeclared; i++)
		if (strcmp(declared[i], queue) == 0)
			found = 1;
	pthread_mutex_unlock(&declared_mtx);
	if (found)
		return 0;
	if (celery_declare_queue(c, queue, err) == -1)
		return -1;
	pthread_mutex_lock(&declared_mtx);
	for (i = 0; i < ndeclared; i++)
		if (strcmp(declared[i], queue) == 0)
			found = 1;
	/* A full table only costs an extra SADD per publish. */
	if (!found && ndeclared < DECLARED_MAX)
		snprintf(declared[ndeclared++], CELERY_NAME_MAX, "%s", queue);
	pthread_mutex_unlock(&declared_mtx);
	return 0;
}

static struct json_object *
str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* A time limit as Python sends it: int when whole, else float, or null. */
static struct json_object *
limit_value(double v)
{
	if (v <= 0)
		return NULL;
	if (v == (double)(long long)v)
		return json_object_new_int64((long long)v);
	return json_object_new_double(v);
}

static struct json_object *
iso_or_null(double t)
{
	char iso[40];

	if (t <= 0)
		return NULL;
	util_isotime(t, 1, iso, sizeof(iso));
	return json_object_new_string(iso);
}

/* The body [args, kwargs, embed], serialized and base64-encoded. */
static char *
build_body(struct json_object *args, struct json_object *kwargs,
    struct json_object *embed)
{
	struct json_object *body, *e;
	char *text, *b64;
	size_t len;

	body = json_object_new_array();
	json_object_array_add(body, json_object_get(args));
	json_object_array_add(body, kwargs ? json_object_get(kwargs) :
	    json_object_new_object());
	if (embed != NULL)
		e = json_object_get(embed);
	else {
		e = json_object_new_object();
		json_object_object_add(e, "callbacks", NULL);
		json_object_object_add(e, "errbacks", NULL);
		json_object_object_add(e, "chain", NULL);
		json_object_object_add(e, "chord", NULL);
	}
	json_object_array_add(body, e);
	text = celery_json_dump(body, &len);
	json_object_put(body);
	if (text == NULL)
		return NULL;
	b64 = celery_b64encode(text, len);
	free(text);
	return b64;
}

struct json_object *
celery_env_new(const char *b64)
{
	struct json_object *env = json_object_new_object();

	json_object_object_add(env, "body", json_object_new_string(b64));
	json_object_object_add(env, "content-encoding",
	    json_object_new_string("utf-8"));
	json_object_object_add(env, "content-type",
	    json_object_new_string("application/json"));
	return env;
}

void
celery_props_end(struct json_object *p, const char *exchange,
    const char *routing_key, int priority)
{
	struct json_object *di;
	char tag[37];

	di = json_object_new_object();
	json_object_object_add(di, "exchange",
	    json_object_new_string(exchange));
	json_object_object_add(di, "routing_key",
	    json_object_new_string(routing_key));
	json_object_object_add(p, "delivery_info", di);
	json_object_object_add(p, "priority", json_object_new_int(priority));
	json_object_object_add(p, "body_encoding",
	    json_object_new_string("base64"));
	util_uuid4(tag);
	json_object_object_add(p, "delivery_tag", json_object_new_string(tag));
}

char *
celery_envelope_build(const char *queue, const char *task_name,
    const char *task_id, struct json_object *args, struct json_object *kwargs,
    const struct celery_task_opts *opts, size_t *lenp, struct errbuf *err)
{
	static const struct celery_task_opts defaults;
	struct json_object *env, *h, *p, *tl;
	char origin[CELERY_NAME_MAX], *b64, *repr, *text, ms[32];
	double left;

	if (opts == NULL)
		opts = &defaults;
	if (queue == NULL || task_name == NULL || task_id == NULL ||
	    *queue == '\0' || *task_name == '\0' || *task_id == '\0') {
		errbuf_set(err, "queue, task name and task id are required");
		return NULL;
	}
	if (strlen(queue) >= CELERY_NAME_MAX ||
	    strlen(task_name) >= CELERY_NAME_MAX ||
	    strlen(task_id) >= CELERY_ID_MAX) {
		errbuf_set(err, "queue, task name or task id too long");
		return NULL;
	}
	if (!json_object_is_type(args, json_type_array) ||
	    (kwargs != NULL && !json_object_is_type(kwargs,
	    json_type_object))) {
		errbuf_set(err, "args must be an array, kwargs an object");
		return NULL;
	}
	pthread_once(&proc_oid_once, proc_oid_init);
	if (opts->origin == NULL)
		celery_origin(origin, sizeof(origin));
	else
		snprintf(origin, sizeof(origin), "%s", opts->origin);
	if ((b64 = build_body(args, kwargs, opts->embed)) == NULL) {
		errbuf_set(err, "task body too large");
		return NULL;
	}

	env = celery_env_new(b64);
	free(b64);

	/* Headers in the order Python's Celery 5.2.6 sends them. */
	h = json_object_new_object();
	json_object_object_add(h, "lang", json_object_new_string("py"));
	json_object_object_add(h, "task", json_object_new_string(task_name));
	json_object_object_add(h, "id", json_object_new_string(task_id));
	json_object_object_add(h, "shadow", NULL);
	json_object_object_add(h, "eta", iso_or_null(opts->eta));
	json_object_object_add(h, "expires", iso_or_null(opts->expires));
	json_object_object_add(h, "group", str_or_null(opts->group));
	json_object_object_add(h, "group_index", NULL);
	json_object_object_add(h, "retries",
	    json_object_new_int64(opts->retries));
	tl = json_object_new_array();
	json_object_array_add(tl, limit_value(opts->time_limit));
	json_object_array_add(tl, limit_value(opts->soft_time_limit));
	json_object_object_add(h, "timelimit", tl);
	json_object_object_add(h, "root_id", json_object_new_string(
	    opts->root_id ? opts->root_id : task_id));
	json_object_object_add(h, "parent_id", str_or_null(opts->parent_id));
	repr = celery_pyrepr(args, 1);
	json_object_object_add(h, "argsrepr",
	    json_object_new_string(repr ? repr : "()"));
	free(repr);
	repr = kwargs ? celery_pyrepr(kwargs, 0) : NULL;
	json_object_object_add(h, "kwargsrepr",
	    json_object_new_string(repr ? repr : "{}"));
	free(repr);
	json_object_object_add(h, "origin", json_object_new_string(origin));
	json_object_object_add(h, "ignore_result",
	    json_object_new_boolean(opts->ignore_result));
	json_object_object_add(env, "headers", h);

	p = json_object_new_object();
	json_object_object_add(p, "correlation_id",
	    json_object_new_string(task_id));
	json_object_object_add(p, "reply_to", json_object_new_string(
	    opts->reply_to ? opts->reply_to : proc_oid));
	json_object_object_add(p, "delivery_mode", json_object_new_int(2));
	if (opts->expires > 0) {
		/* Informational on Redis; kombu sends milliseconds as text. */
		left = (opts->expires - util_now()) * 1000;
		snprintf(ms, sizeof(ms), "%lld",
		    left > 0 ? (long long)left : 0LL);
		json_object_object_add(p, "expiration",
		    json_object_new_string(ms));
	}
	celery_props_end(p, "", queue, opts->priority < 0 ? 0 :
	    opts->priority > 9 ? 9 : opts->priority);
	json_object_object_add(env, "properties", p);

	text = celery_json_dump(env, lenp);
	json_object_put(env);
	if (text == NULL)
		errbuf_set(err, "task message too large");
	return text;
}

int
celery_publish_ex(redisContext *c, const char *queue, const char *task_name,
    const char *task_id, struct json_object *args, struct json_object *kwargs,
    const struct celery_task_opts *opts, struct errbuf *err)
{
	char key[CELERY_NAME_MAX + 8], *text;
	size_t len, klen;
	redisReply *r;

	if (c == NULL)
		return errbuf_set(err, "no redis connection");
	text = celery_envelope_build(queue, task_name, task_id, args, kwargs,
	    opts, &len, err);
	if (text == NULL)
		return -1;
	klen = celery_queue_key(queue, opts ? opts->priority : 0, key,
	    sizeof(key));
	if (declare_once(c, queue, err) == -1) {
		free(text);
		return -1;
	}
	r = redisCommand(c, "LPUSH %b %b", key, klen, text, len);
	free(text);
	return celery_reply_done(c, r, "LPUSH", err);
}

int
celery_publish(redisContext *c, const char *queue, const char *task_name,
    const char *task_id, struct json_object *args, struct json_object *kwargs,
    struct errbuf *err)
{
	return celery_publish_ex(c, queue, task_name, task_id, args, kwargs,
	    NULL, err);
}

/* ---- decoding ---- */

/* Parses len bytes as one JSON value (depth-capped, nothing after it). */
static struct json_object *
parse_json(const char *s, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t off;

	if (len > CELERY_MAX_MESSAGE || len > (size_t)INT32_MAX)
		return NULL;
	if ((tok = json_tokener_new_ex(JSON_MAX_DEPTH)) == NULL)
		return NULL;
	/* Strict mode would refuse what Python accepts; default is lax. */
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1);
	off = (size_t)json_tokener_get_parse_end(tok);
	if (o != NULL && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (o == NULL)
		return NULL;
	while (off < len && (s[off] == ' ' || s[off] == '\n' ||
	    s[off] == '\r' || s[off] == '\t' || s[off] == '\0'))
		off++;
	if (off < len) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *
get(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return NULL;
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/*
 * Copies a string field into out.  Missing or null leaves "" and
 * returns 0; another type or an over-long value returns -1.
 */
static int
copy_str(struct json_object *o, const char *key, char *out, size_t outsz)
{
	struct json_object *v = get(o, key);
	size_t n;

	out[0] = '\0';
	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	n = (size_t)json_object_get_string_len(v);
	if (n >= outsz || memchr(json_object_get_string(v), '\0', n))
		return -1;
	memcpy(out, json_object_get_string(v), n + 1);
	return 0;
}

/* An optional ISO time field: 0 if null/missing, -1 if unparsable. */
static int
get_time(struct json_object *o, const char *key, double *t, char *text,
    size_t textsz)
{
	struct json_object *v = get(o, key);

	*t = 0;
	text[0] = '\0';
	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) >= textsz)
		return -1;
	snprintf(text, textsz, "%s", json_object_get_string(v));
	return celery_parse_isotime(text, t);
}

static int
is_number(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double);
}

/* Reads "timelimit": [hard, soft] (or v1's "timelimit" of the body). */
static int
get_timelimit(struct json_object *o, struct celery_message *msg)
{
	struct json_object *tl = get(o, "timelimit"), *h, *s;

	if (tl == NULL)
		return 0;
	if (!json_object_is_type(tl, json_type_array) ||
	    json_object_array_length(tl) != 2)
		return -1;
	h = json_object_array_get_idx(tl, 0);
	s = json_object_array_get_idx(tl, 1);
	if ((h != NULL && !is_number(h)) || (s != NULL && !is_number(s)))
		return -1;
	msg->time_limit = h ? json_object_get_double(h) : 0;
	msg->soft_time_limit = s ? json_object_get_double(s) : 0;
	if (msg->time_limit < 0 || msg->soft_time_limit < 0)
		return -1;
	return 0;
}

static int
get_long(struct json_object *o, const char *key, long *out)
{
	struct json_object *v = get(o, key);

	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	*out = (long)json_object_get_int64(v);
	return *out < 0 ? -1 : 0;
}

/*
 * 1 if o holds an integer json-c had to clamp: it silently turns numbers
 * beyond the 64-bit range into INT64_MIN / UINT64_MAX, and running a
 * task on a changed argument is worse than refusing it.
 */
static int
has_clamped_int(struct json_object *o, int depth)
{
	struct json_object_iterator it, end;
	size_t i, n;

	if (depth > JSON_MAX_DEPTH)
		return 1;
	switch (json_object_get_type(o)) {
	case json_type_int:
		return json_object_get_int64(o) == INT64_MIN ||
		    json_object_get_uint64(o) == UINT64_MAX;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			if (has_clamped_int(json_object_array_get_idx(o, i),
			    depth + 1))
				return 1;
		return 0;
	case json_type_object:
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it))
			if (has_clamped_int(json_object_iter_peek_value(&it),
			    depth + 1))
				return 1;
		return 0;
	default:
		return 0;
	}
}

/* Decodes the envelope's body text (base64 unless body_encoding says not). */
static struct json_object *
decode_body(struct json_object *env, struct json_object *props,
    struct errbuf *err)
{
	struct json_object *body = get(env, "body"), *enc, *o;
	const char *text, *end;
	unsigned char *bin;
	size_t n, binlen;

	if (body == NULL || !json_object_is_type(body, json_type_string)) {
		errbuf_set(err, "message body missing or not a string");
		return NULL;
	}
	text = json_object_get_string(body);
	n = (size_t)json_object_get_string_len(body);
	enc = get(props, "body_encoding");
	if (enc == NULL)
		return (o = parse_json(text, n)) ? o :
		    (errbuf_set(err, "can't decode message body"), NULL);
	if (!json_object_is_type(enc, json_type_string) ||
	    strcmp(json_object_get_string(enc), "base64") != 0) {
		errbuf_set(err, "unsupported body_encoding");
		return NULL;
	}
	if ((bin = malloc(n / 4 * 3 + 4)) == NULL) {
		errbuf_set(err, "out of memory");
		return NULL;
	}
	if (sodium_base642bin(bin, n / 4 * 3 + 4, text, n, "\r\n ", &binlen,
	    &end, sodium_base64_VARIANT_ORIGINAL) != 0 || end != text + n) {
		free(bin);
		errbuf_set(err, "message body is not valid base64");
		return NULL;
	}
	o = parse_json((const char *)bin, binlen);
	free(bin);
	if (o == NULL)
		errbuf_set(err, "can't decode message body: not JSON");
	return o;
}

/* Fills msg from a v2 body [args, kwargs, embed] and its headers. */
static int
parse_v2(struct json_object *h, struct json_object *body,
    struct celery_message *msg, struct errbuf *err)
{
	struct json_object *a, *k, *e, *v;

	if (!json_object_is_type(body, json_type_array) ||
	    json_object_array_length(body) != 3)
		return errbuf_set(err,
		    "task body is not [args, kwargs, embed]");
	a = json_object_array_get_idx(body, 0);
	k = json_object_array_get_idx(body, 1);
	e = json_object_array_get_idx(body, 2);
	if (!json_object_is_type(a, json_type_array) ||
	    !json_object_is_type(k, json_type_object))
		return errbuf_set(err, "task args must be an array and kwargs "
		    "an object");
	if (e != NULL && !json_object_is_type(e, json_type_object))
		return errbuf_set(err, "task embed must be an object or null");
	msg->args = json_object_get(a);
	msg->kwargs = json_object_get(k);
	msg->embed = e ? json_object_get(e) : NULL;
	if (copy_str(h, "task", msg->task, sizeof(msg->task)) == -1 ||
	    msg->task[0] == '\0')
		return errbuf_set(err, "bad task name header");
	if (get_long(h, "retries", &msg->retries) == -1)
		return errbuf_set(err, "bad retries header");
	if (get_time(h, "eta", &msg->eta, msg->eta_text,
	    sizeof(msg->eta_text)) == -1)
		return errbuf_set(err, "invalid ETA value");
	if (get_time(h, "expires", &msg->expires, msg->expires_text,
	    sizeof(msg->expires_text)) == -1)
		return errbuf_set(err, "invalid expires value");
	if (get_timelimit(h, msg) == -1)
		return errbuf_set(err, "bad timelimit header");
	if (copy_str(h, "root_id", msg->root_id, sizeof(msg->root_id)) ||
	    copy_str(h, "parent_id", msg->parent_id,
	    sizeof(msg->parent_id)) ||
	    copy_str(h, "group", msg->group, sizeof(msg->group)))
		return errbuf_set(err, "bad root_id/parent_id/group header");
	/* Informational only: a bad origin is not worth a rejection. */
	if (copy_str(h, "origin", msg->origin, sizeof(msg->origin)) == -1)
		msg->origin[0] = '\0';
	if ((v = get(h, "ignore_result")) != NULL)
		msg->ignore_result = json_object_get_boolean(v);
	if ((v = get(h, "argsrepr")) != NULL &&
	    json_object_is_type(v, json_type_string))
		msg->argsrepr = strdup(json_object_get_string(v));
	if ((v = get(h, "kwargsrepr")) != NULL &&
	    json_object_is_type(v, json_type_string))
		msg->kwargsrepr = strdup(json_object_get_string(v));
	return 0;
}

/* Fills msg from a Celery protocol v1 body object. */
static int
parse_v1(struct json_object *body, struct celery_message *msg,
    struct errbuf *err)
{
	struct json_object *a, *k;

	msg->protocol = 1;
	if (copy_str(body, "id", msg->id, sizeof(msg->id)) == -1)
		msg->id[0] = '\0';
	if (copy_str(body, "task", msg->task, sizeof(msg->task)) == -1 ||
	    msg->task[0] == '\0')
		return errbuf_set(err, "bad v1 task name");
	a = get(body, "args");
	k = get(body, "kwargs");
	if ((a != NULL && !json_object_is_type(a, json_type_array)) ||
	    (k != NULL && !json_object_is_type(k, json_type_object)))
		return errbuf_set(err, "v1 args must be an array and kwargs "
		    "an object");
	msg->args = a ? json_object_get(a) : json_object_new_array();
	msg->kwargs = k ? json_object_get(k) : json_object_new_object();
	if (get_long(body, "retries", &msg->retries) == -1)
		return errbuf_set(err, "bad v1 retries");
	if (get_time(body, "eta", &msg->eta, msg->eta_text,
	    sizeof(msg->eta_text)) == -1)
		return errbuf_set(err, "invalid ETA value");
	if (get_time(body, "expires", &msg->expires, msg->expires_text,
	    sizeof(msg->expires_text)) == -1)
		return errbuf_set(err, "invalid expires value");
	if (get_timelimit(body, msg) == -1)
		return errbuf_set(err, "bad v1 timelimit");
	if (copy_str(body, "taskset", msg->group, sizeof(msg->group)) == -1)
		msg->group[0] = '\0';
	return 0;
}

int
celery_message_parse(const char *json, size_t len, struct celery_message *msg,
    struct errbuf *err)
{
	struct json_object *env, *props, *h, *di, *v, *body = NULL;
	int rc = -1;

	memset(msg, 0, sizeof(*msg));
	msg->protocol = 2;
	if (len > CELERY_MAX_MESSAGE)
		return errbuf_set(err, "message larger than %d bytes",
		    CELERY_MAX_MESSAGE);
	if ((env = parse_json(json, len)) == NULL)
		return errbuf_set(err, "envelope is not valid JSON");
	msg->envelope = env;
	if (!json_object_is_type(env, json_type_object))
		return errbuf_set(err, "envelope is not a JSON object");
	props = get(env, "properties");
	h = get(env, "headers");
	if (h != NULL && !json_object_is_type(h, json_type_object))
		h = NULL;

	/* Read what identifies the message first, for a FAILURE result. */
	if (copy_str(h, "id", msg->id, sizeof(msg->id)) == -1)
		msg->id[0] = '\0';
	if (copy_str(props, "delivery_tag", msg->delivery_tag,
	    sizeof(msg->delivery_tag)) == -1)
		msg->delivery_tag[0] = '\0';
	di = get(props, "delivery_info");
	if (di != NULL && get(di, "exchange") != NULL &&
	    get(di, "routing_key") != NULL &&
	    copy_str(di, "exchange", msg->exchange,
	    sizeof(msg->exchange)) == 0 &&
	    copy_str(di, "routing_key", msg->routing_key,
	    sizeof(msg->routing_key)) == 0)
		msg->has_delivery_info = 1;
	if ((v = get(di, "redelivered")) != NULL &&
	    json_object_get_boolean(v))
		msg->redelivered = 1;
	if ((v = get(h, "redelivered")) != NULL && json_object_get_boolean(v))
		msg->redelivered = 1;
	if ((v = get(props, "priority")) != NULL &&
	    json_object_is_type(v, json_type_int)) {
		int64_t p = json_object_get_int64(v);

		msg->priority = p < 0 ? 0 : p > 9 ? 9 : (int)p;
	}
	if (copy_str(props, "reply_to", msg->reply_to,
	    sizeof(msg->reply_to)) == -1)
		msg->reply_to[0] = '\0';

	if (copy_str(env, "content-type", msg->content_type,
	    sizeof(msg->content_type)) == -1) {
		errbuf_set(err, "bad content-type");
		goto out;
	}
	/* Celery accepts only JSON by default (accept_content). */
	if (msg->content_type[0] != '\0' &&
	    strcmp(msg->content_type, "application/json") != 0) {
		errbuf_set(err, "refusing to deserialize content-type %.64s",
		    msg->content_type);
		goto out;
	}
	if ((body = decode_body(env, props, err)) == NULL)
		goto out;
	if (get(h, "task") != NULL) {
		if (parse_v2(h, body, msg, err) == -1)
			goto out;
	} else if (json_object_is_type(body, json_type_object) &&
	    get(body, "task") != NULL) {
		if (parse_v1(body, msg, err) == -1)
			goto out;
	} else {
		errbuf_set(err, "unknown message: no task header and not a "
		    "v1 task body");
		goto out;
	}
	if (msg->id[0] == '\0') {
		errbuf_set(err, "message has no task id");
		goto out;
	}
	/* Python workers die on these; we refuse them. */
	if (msg->delivery_tag[0] == '\0') {
		errbuf_set(err, "message has no properties.delivery_tag");
		goto out;
	}
	if (!msg->has_delivery_info) {
		errbuf_set(err, "message has no properties.delivery_info "
		    "exchange/routing_key");
		goto out;
	}
	if (has_clamped_int(msg->args, 0) || has_clamped_int(msg->kwargs, 0)) {
		errbuf_set(err, "integer argument outside the 64-bit range");
		goto out;
	}
	if (msg->root_id[0] == '\0')
		snprintf(msg->root_id, sizeof(msg->root_id), "%s", msg->id);
	if (msg->argsrepr == NULL)
		msg->argsrepr = celery_pyrepr(msg->args, 1);
	if (msg->kwargsrepr == NULL)
		msg->kwargsrepr = celery_pyrepr(msg->kwargs, 0);
	if (msg->argsrepr == NULL || msg->kwargsrepr == NULL) {
		errbuf_set(err, "out of memory");
		goto out;
	}
	rc = 0;
out:
	json_object_put(body);
	return rc;
}

void
celery_message_free(struct celery_message *msg)
{
	json_object_put(msg->args);
	json_object_put(msg->kwargs);
	json_object_put(msg->embed);
	json_object_put(msg->envelope);
	free(msg->argsrepr);
	free(msg->kwargsrepr);
	memset(msg, 0, sizeof(*msg));
	msg->protocol = 2;
}
