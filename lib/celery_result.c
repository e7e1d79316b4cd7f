/*
 * Celery's Redis result backend: the meta record and the
 * GET / MULTI SETEX PUBLISH EXEC write that Python clients wait on.
 */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "celery.h"
#include "util.h"

/* Key and channel prefix of results. */
#define META_PREFIX	"celery-task-meta-"

static int
is_ready(const char *status)
{
	return strcmp(status, "SUCCESS") == 0 ||
	    strcmp(status, "FAILURE") == 0 || strcmp(status, "REVOKED") == 0;
}

char *
celery_result_meta(const struct celery_result *r, size_t *lenp)
{
	struct json_object *o;
	char iso[40], *text;

	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(r->status));
	json_object_object_add(o, "result", json_object_get(r->result));
	json_object_object_add(o, "traceback", r->traceback ?
	    json_object_new_string(r->traceback) : NULL);
	json_object_object_add(o, "children", r->children ?
	    json_object_get(r->children) : json_object_new_array());
	if (is_ready(r->status)) {
		util_isotime(util_now(), 0, iso, sizeof(iso));
		json_object_object_add(o, "date_done",
		    json_object_new_string(iso));
	} else
		json_object_object_add(o, "date_done", NULL);
	if (r->group_id != NULL)
		json_object_object_add(o, "group_id",
		    json_object_new_string(r->group_id));
	if (r->parent_id != NULL)
		json_object_object_add(o, "parent_id",
		    json_object_new_string(r->parent_id));
	json_object_object_add(o, "task_id",
	    json_object_new_string(r->task_id));
	text = celery_json_dump(o, lenp);
	json_object_put(o);
	return text;
}

/* 1 if the stored meta says SUCCESS (Celery never overwrites it). */
static int
stored_success(const redisReply *r)
{
	struct json_object *o, *s;
	int yes = 0;

	if (r->type != REDIS_REPLY_STRING)
		return 0;
	if ((o = json_tokener_parse(r->str)) == NULL)
		return 0;
	if (json_object_object_get_ex(o, "status", &s) &&
	    json_object_is_type(s, json_type_string) &&
	    strcmp(json_object_get_string(s), "SUCCESS") == 0)
		yes = 1;
	json_object_put(o);
	return yes;
}

int
celery_store_result_ex(redisContext *c, const struct celery_result *r,
    struct errbuf *err)
{
	char key[sizeof(META_PREFIX) + CELERY_ID_MAX], *meta;
	redisReply *rep;
	size_t len;
	int i, rc = 0;

	if (c == NULL)
		return errbuf_set(err, "no redis connection");
	if (r->task_id == NULL || *r->task_id == '\0' ||
	    strlen(r->task_id) >= CELERY_ID_MAX)
		return errbuf_set(err, "result without a valid task id");
	snprintf(key, sizeof(key), META_PREFIX "%s", r->task_id);
	rep = redisCommand(c, "GET %s", key);
	if (rep == NULL)
		return errbuf_set(err, "redis GET: %s", c->errstr);
	if (stored_success(rep)) {
		freeReplyObject(rep);
		return 0;
	}
	freeReplyObject(rep);
	if ((meta = celery_result_meta(r, &len)) == NULL)
		return errbuf_set(err, "result too large");
	redisAppendCommand(c, "MULTI");
	if (r->expires_s > 0)
		redisAppendCommand(c, "SETEX %s %ld %b", key, r->expires_s,
		    meta, len);
	else
		redisAppendCommand(c, "SET %s %b", key, meta, len);
	redisAppendCommand(c, "PUBLISH %s %b", key, meta, len);
	redisAppendCommand(c, "EXEC");
	free(meta);
	for (i = 0; i < 4; i++) {
		if (redisGetReply(c, (void **)&rep) != REDIS_OK)
			return errbuf_set(err, "redis result write: %s",
			    c->errstr);
		if (rep->type == REDIS_REPLY_ERROR && rc == 0)
			rc = errbuf_set(err, "redis result write: %s",
			    rep->str);
		if (i == 3 && rep->type != REDIS_REPLY_ARRAY && rc == 0)
			rc = errbuf_set(err, "redis EXEC aborted");
		freeReplyObject(rep);
	}
	return rc;
}

int
celery_store_result(redisContext *c, const char *task_id, const char *status,
    struct json_object *result, const char *traceback, long expires_s,
    struct errbuf *err)
{
	struct celery_result r;

	memset(&r, 0, sizeof(r));
	r.task_id = task_id;
	r.status = status;
	r.result = result;
	r.traceback = traceback;
	r.expires_s = expires_s;
	return celery_store_result_ex(c, &r, err);
}

struct json_object *
celery_exc_new(const char *exc_type, const char *exc_module,
    const char *message)
{
	struct json_object *o, *m;

	o = json_object_new_object();
	json_object_object_add(o, "exc_type", json_object_new_string(exc_type));
	m = json_object_new_array();
	if (message != NULL)
		json_object_array_add(m, json_object_new_string(message));
	json_object_object_add(o, "exc_message", m);
	json_object_object_add(o, "exc_module", exc_module ?
	    json_object_new_string(exc_module) : NULL);
	return o;
}
