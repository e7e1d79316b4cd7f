/*
 * kombu 5.2.4's Redis transport, consumer side: BRPOP with priority
 * rotation, unacked bookkeeping, restore and the visibility sweep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "celery.h"
#include "celery_int.h"
#include "celery_transport.h"
#include "util.h"

#define UNACKED		"unacked"
#define UNACKED_INDEX	"unacked_index"
#define UNACKED_MUTEX	"unacked_mutex"
/* kombu's unacked_mutex_expire (300 s). */
#define MUTEX_PX	300000
/* Attempts of the WATCH transaction before giving up for this sweep. */
#define RESTORE_TRIES	8
/* Queues a direct-exchange binding lookup may fan out to. */
#define RESTORE_MAX_TARGETS	16

/* redis-py's Lock.release(): delete the key only if it holds our token. */
static const char release_script[] =
    "local token = redis.call('get', KEYS[1]) "
    "if not token or token ~= ARGV[1] then return 0 end "
    "redis.call('del', KEYS[1]) return 1";

static int step_of[4] = { 0, 3, 6, 9 };

int
celery_consumer_init(struct celery_consumer *cs, const char *const *queues,
    int nqueues, struct errbuf *err)
{
	int i;

	memset(cs, 0, sizeof(*cs));
	if (nqueues < 1 || nqueues > CELERY_MAX_QUEUES)
		return errbuf_set(err, "between 1 and %d queues",
		    CELERY_MAX_QUEUES);
	for (i = 0; i < nqueues; i++) {
		if (queues[i][0] == '\0' ||
		    strlen(queues[i]) >= CELERY_NAME_MAX)
			return errbuf_set(err, "bad queue name");
		snprintf(cs->queues[i], CELERY_NAME_MAX, "%s", queues[i]);
	}
	cs->nqueues = nqueues;
	return 0;
}

/* Moves queue i to the end of the list (kombu's round robin). */
static void
rotate(struct celery_consumer *cs, int i)
{
	char tmp[CELERY_NAME_MAX];

	memcpy(tmp, cs->queues[i], sizeof(tmp));
	memmove(cs->queues[i], cs->queues[i + 1],
	    (size_t)(cs->nqueues - i - 1) * sizeof(cs->queues[0]));
	memcpy(cs->queues[cs->nqueues - 1], tmp, sizeof(tmp));
}

int
celery_consumer_pop(redisContext *c, struct celery_consumer *cs,
    double timeout, char **out, size_t *lenp, char *queue, size_t queuesz,
    struct errbuf *err)
{
	char keys[CELERY_MAX_QUEUES * 4][CELERY_NAME_MAX + 4], tmo[32];
	const char *argv[CELERY_MAX_QUEUES * 4 + 2];
	size_t argl[CELERY_MAX_QUEUES * 4 + 2], n;
	redisReply *r, *k, *v;
	int argc = 0, s, q, i;

	if (c == NULL)
		return errbuf_set(err, "no redis connection");
	argv[argc] = "BRPOP";
	argl[argc++] = 5;
	for (s = 0; s < 4; s++)
		for (q = 0; q < cs->nqueues; q++) {
			n = celery_queue_key(cs->queues[q], step_of[s],
			    keys[argc], sizeof(keys[0]));
			argv[argc] = keys[argc];
			argl[argc++] = n;
		}
	snprintf(tmo, sizeof(tmo), "%.3f", timeout < 0.01 ? 0.01 : timeout);
	argv[argc] = tmo;
	argl[argc++] = strlen(tmo);
	r = redisCommandArgv(c, argc, argv, argl);
	if (r == NULL)
		return errbuf_set(err, "redis BRPOP: %s", c->errstr);
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return 0;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		errbuf_set(err, "redis BRPOP: %s",
		    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	k = r->element[0];
	v = r->element[1];
	/* Strip "\x06\x16<digit>" to get the queue name. */
	n = k->len;
	if (n >= 3 && k->str[n - 3] == '\x06' && k->str[n - 2] == '\x16')
		n -= 3;
	snprintf(queue, queuesz, "%.*s", (int)n, k->str);
	for (i = 0; i < cs->nqueues; i++)
		if (strcmp(cs->queues[i], queue) == 0) {
			rotate(cs, i);
			break;
		}
	if ((*out = malloc(v->len + 1)) == NULL) {
		freeReplyObject(r);
		return errbuf_set(err, "out of memory");
	}
	memcpy(*out, v->str, v->len);
	(*out)[v->len] = '\0';
	*lenp = v->len;
	freeReplyObject(r);
	return 1;
}

/* Reads n pipelined replies; -1 if any failed or EXEC was aborted. */
static int
replies(redisContext *c, int n, const char *what, struct errbuf *err)
{
	redisReply *r;
	int i, rc = 0;

	for (i = 0; i < n; i++) {
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			return errbuf_set(err, "redis %s: %s", what, c->errstr);
		if (rc == 0 && r->type == REDIS_REPLY_ERROR)
			rc = errbuf_set(err, "redis %s: %s", what, r->str);
		else if (rc == 0 && i == n - 1 && r->type == REDIS_REPLY_NIL)
			rc = errbuf_set(err, "redis %s: transaction aborted",
			    what);
		freeReplyObject(r);
	}
	return rc;
}

int
celery_unacked_add(redisContext *c, const char *tag, const char *envelope,
    size_t len, const char *exchange, const char *routing_key,
    struct errbuf *err)
{
	struct json_object *ex, *rk;
	char *val;
	size_t vlen, elen, rlen;
	const char *es, *rs;
	int rc;

	if (c == NULL)
		return errbuf_set(err, "no redis connection");
	/* The value is the JSON array [envelope, exchange, routing_key]. */
	ex = json_object_new_string(exchange);
	rk = json_object_new_string(routing_key);
	es = json_object_to_json_string_ext(ex, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	rs = json_object_to_json_string_ext(rk, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	elen = strlen(es);
	rlen = strlen(rs);
	vlen = len + elen + rlen + 6;
	if ((val = malloc(vlen + 1)) == NULL) {
		json_object_put(ex);
		json_object_put(rk);
		return errbuf_set(err, "out of memory");
	}
	val[0] = '[';
	memcpy(val + 1, envelope, len);
	memcpy(val + 1 + len, ", ", 2);
	memcpy(val + 3 + len, es, elen);
	memcpy(val + 3 + len + elen, ", ", 2);
	memcpy(val + 5 + len + elen, rs, rlen);
	val[vlen - 1] = ']';
	val[vlen] = '\0';
	json_object_put(ex);
	json_object_put(rk);
	redisAppendCommand(c, "MULTI");
	redisAppendCommand(c, "ZADD " UNACKED_INDEX " %.6f %s", util_now(),
	    tag);
	redisAppendCommand(c, "HSET " UNACKED " %s %b", tag, val, vlen);
	redisAppendCommand(c, "EXEC");
	free(val);
	rc = replies(c, 4, "unacked add", err);
	return rc;
}

int
celery_unacked_touch(redisContext *c, const char *tag, struct errbuf *err)
{
	redisReply *r;

	if (c == NULL)
		return errbuf_set(err, "no redis connection");
	/* XX: never re-create an entry someone acked or restored. */
	r = redisCommand(c, "ZADD " UNACKED_INDEX " XX %.6f %s", util_now(),
	    tag);
	return celery_reply_done(c, r, "ZADD", err);
}

int
celery_ack(redisContext *c, const char *tag, struct errbuf *err)
{
	if (c == NULL)
		return errbuf_set(err, "no redis connection");
	redisAppendCommand(c, "MULTI");
	redisAppendCommand(c, "ZREM " UNACKED_INDEX " %s", tag);
	redisAppendCommand(c, "HDEL " UNACKED " %s", tag);
	redisAppendCommand(c, "EXEC");
	return replies(c, 4, "ack", err);
}

/*
 * The lists a stored [envelope, exchange, routing_key] goes back to:
 * the routing key for the anonymous exchange, else every queue bound to
 * the exchange with that routing key.  Writes list names and lengths.
 */
static int
restore_targets(redisContext *c, const char *exchange, const char *rk,
    int priority, char keys[][CELERY_NAME_MAX + 4], size_t *lens,
    struct errbuf *err)
{
	const char *p, *s1, *s2;
	char q[CELERY_NAME_MAX];
	redisReply *r;
	size_t i, n = 0;

	if (exchange[0] == '\0') {
		lens[0] = celery_queue_key(rk, priority, keys[0],
		    CELERY_NAME_MAX + 4);
		return lens[0] ? 1 : errbuf_set(err, "bad routing key");
	}
	r = redisCommand(c, "SMEMBERS _kombu.binding.%s", exchange);
	if (r == NULL)
		return errbuf_set(err, "redis SMEMBERS: %s", c->errstr);
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		p = r->element[i]->str;
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    (s1 = strstr(p, CELERY_SEP)) == NULL ||
		    (s2 = strstr(s1 + 2, CELERY_SEP)) == NULL)
			continue;
		if ((size_t)(s1 - p) != strlen(rk) ||
		    strncmp(p, rk, strlen(rk)) != 0)
			continue;
		snprintf(q, sizeof(q), "%s", s2 + 2);
		if (n < RESTORE_MAX_TARGETS && (lens[n] = celery_queue_key(q,
		    priority, keys[n], CELERY_NAME_MAX + 4)) > 0)
			n++;
	}
	freeReplyObject(r);
	return (int)n;
}

/* Marks the envelope redelivered (headers and delivery_info). */
static void
mark_redelivered(struct json_object *env)
{
	struct json_object *h, *p, *di;

	if (!json_object_object_get_ex(env, "headers", &h) ||
	    !json_object_is_type(h, json_type_object)) {
		h = json_object_new_object();
		json_object_object_add(env, "headers", h);
	}
	json_object_object_add(h, "redelivered", json_object_new_boolean(1));
	if (json_object_object_get_ex(env, "properties", &p) &&
	    json_object_object_get_ex(p, "delivery_info", &di) &&
	    json_object_is_type(di, json_type_object))
		json_object_object_add(di, "redelivered",
		    json_object_new_boolean(1));
}

/* One attempt of the restore transaction: 1, 0, -1, or 2 to retry. */
static int
restore_once(redisContext *c, const char *tag, int to_back,
    struct errbuf *err)
{
	char keys[RESTORE_MAX_TARGETS][CELERY_NAME_MAX + 4], *text = NULL;
	struct json_object *stored = NULL, *env, *ex, *rk, *p, *pr;
	size_t lens[RESTORE_MAX_TARGETS], tlen;
	redisReply *r;
	int n, i, prio = 0, rc;

	r = redisCommand(c, "WATCH " UNACKED);
	if (r == NULL)
		return errbuf_set(err, "redis WATCH: %s", c->errstr);
	freeReplyObject(r);
	r = redisCommand(c, "HGET " UNACKED " %s", tag);
	if (r == NULL)
		return errbuf_set(err, "redis HGET: %s", c->errstr);
	if (r->type != REDIS_REPLY_STRING) {
		/* Gone: drop a stale index entry, nothing to put back. */
		freeReplyObject(r);
		if ((r = redisCommand(c, "UNWATCH")) != NULL)
			freeReplyObject(r);
		if ((r = redisCommand(c, "ZREM " UNACKED_INDEX " %s", tag)))
			freeReplyObject(r);
		return 0;
	}
	stored = json_tokener_parse(r->str);
	freeReplyObject(r);
	if (stored == NULL || !json_object_is_type(stored, json_type_array) ||
	    json_object_array_length(stored) != 3 ||
	    !json_object_is_type((env = json_object_array_get_idx(stored, 0)),
	    json_type_object) ||
	    !json_object_is_type((ex = json_object_array_get_idx(stored, 1)),
	    json_type_string) ||
	    !json_object_is_type((rk = json_object_array_get_idx(stored, 2)),
	    json_type_string)) {
		/* Unrestorable garbage would loop forever: drop it. */
		json_object_put(stored);
		redisAppendCommand(c, "MULTI");
		redisAppendCommand(c, "ZREM " UNACKED_INDEX " %s", tag);
		redisAppendCommand(c, "HDEL " UNACKED " %s", tag);
		redisAppendCommand(c, "EXEC");
		rc = replies(c, 4, "restore", err);
		return rc == -1 ? -1 : errbuf_set(err, "unacked entry %s is "
		    "not [envelope, exchange, routing_key]; dropped", tag);
	}
	if (json_object_object_get_ex(env, "properties", &p) &&
	    json_object_object_get_ex(p, "priority", &pr) &&
	    json_object_is_type(pr, json_type_int))
		prio = json_object_get_int(pr);
	n = restore_targets(c, json_object_get_string(ex),
	    json_object_get_string(rk), prio, keys, lens, err);
	if (n < 0) {
		json_object_put(stored);
		if ((r = redisCommand(c, "UNWATCH")) != NULL)
			freeReplyObject(r);
		return -1;
	}
	mark_redelivered(env);
	text = celery_json_dump(env, &tlen);
	json_object_put(stored);
	if (text == NULL) {
		if ((r = redisCommand(c, "UNWATCH")) != NULL)
			freeReplyObject(r);
		return errbuf_set(err, "out of memory");
	}
	redisAppendCommand(c, "MULTI");
	redisAppendCommand(c, "ZREM " UNACKED_INDEX " %s", tag);
	redisAppendCommand(c, "HDEL " UNACKED " %s", tag);
	for (i = 0; i < n; i++)
		redisAppendCommand(c, to_back ? "LPUSH %b %b" : "RPUSH %b %b",
		    keys[i], lens[i], text, tlen);
	redisAppendCommand(c, "EXEC");
	free(text);
	for (i = 0; i < n + 4; i++) {
		if (redisGetReply(c, (void **)&r) != REDIS_OK)
			return errbuf_set(err, "redis restore: %s", c->errstr);
		rc = r->type;
		freeReplyObject(r);
		if (i == n + 3 && rc == REDIS_REPLY_NIL)
			return 2;	/* WATCH fired: unacked changed */
	}
	return 1;
}

int
celery_restore(redisContext *c, const char *tag, int to_back,
    struct errbuf *err)
{
	int i, rc = 2;

	if (c == NULL)
		return errbuf_set(err, "no redis connection");
	for (i = 0; i < RESTORE_TRIES && rc == 2; i++)
		rc = restore_once(c, tag, to_back, err);
	if (rc == 2)
		return errbuf_set(err, "restore of %s kept conflicting", tag);
	return rc;
}

int
celery_restore_visible(redisContext *c, double visibility_timeout,
    int *nrestored, struct errbuf *err)
{
	char token[37];
	redisReply *r, *rel;
	size_t i;
	int n = 0, rc = 0;

	if (nrestored != NULL)
		*nrestored = 0;
	if (c == NULL)
		return errbuf_set(err, "no redis connection");
	util_uuid4(token);
	r = redisCommand(c, "SET " UNACKED_MUTEX " %s PX %d NX", token,
	    MUTEX_PX);
	if (r == NULL)
		return errbuf_set(err, "redis SET mutex: %s", c->errstr);
	if (r->type != REDIS_REPLY_STATUS) {
		freeReplyObject(r);
		return 0;	/* another worker is sweeping */
	}
	freeReplyObject(r);
	r = redisCommand(c, "ZREVRANGEBYSCORE " UNACKED_INDEX " %.6f 0 "
	    "WITHSCORES", util_now() - visibility_timeout);
	if (r == NULL) {
		rc = errbuf_set(err, "redis ZREVRANGEBYSCORE: %s", c->errstr);
		goto release;
	}
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements;
	    i += 2) {
		if (r->element[i]->type != REDIS_REPLY_STRING)
			continue;
		switch (celery_restore(c, r->element[i]->str, 0, err)) {
		case 1:
			n++;
			break;
		case -1:
			rc = -1;
			break;
		}
		if (rc == -1 && c->err)
			break;
	}
	freeReplyObject(r);
release:
	if (!c->err) {
		rel = redisCommand(c, "EVAL %s 1 " UNACKED_MUTEX " %s",
		    release_script, token);
		if (rel != NULL)
			freeReplyObject(rel);
	}
	if (nrestored != NULL)
		*nrestored = n;
	return rc;
}
