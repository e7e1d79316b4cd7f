/*
 * Celery canvas in the C worker (the callbacks, errbacks and chain
 * headers of protocol v2, see docs/celery.md): link callbacks
 * (`link=`), error callbacks (`link_error=`) and chains are supported;
 * chords, and groups or chords nested in callbacks/chains, are refused
 * up front with a clear FAILURE (NotImplementedError) rather than half
 * executed.  A plain `group` needs nothing from the worker: each member
 * is an ordinary task message.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "celery.h"
#include "config.h"
#include "log.h"
#include "util.h"
#include "worker.h"
#include "canvas.h"

/* Signatures one message may carry in callbacks + errbacks + chain. */
#define CANVAS_MAX_SIGS	64

static struct json_object *
member(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* A plain task signature we can publish: task name, args, kwargs. */
static int
plain_sig(struct json_object *sig)
{
	struct json_object *t = member(sig, "task"), *st, *a, *k;

	st = member(sig, "subtask_type");
	a = member(sig, "args");
	k = member(sig, "kwargs");
	return json_object_is_type(t, json_type_string) && st == NULL &&
	    (a == NULL || json_object_is_type(a, json_type_array)) &&
	    (k == NULL || json_object_is_type(k, json_type_object));
}

/* Checks a list field (null or an array of plain signatures). */
static int
check_list(struct json_object *l, int *n)
{
	size_t i, len;

	if (l == NULL)
		return 0;
	if (!json_object_is_type(l, json_type_array))
		return -1;
	len = json_object_array_length(l);
	for (i = 0; i < len; i++)
		if (!plain_sig(json_object_array_get_idx(l, i)))
			return -1;
	*n += (int)len;
	return 0;
}

int
canvas_check(const struct celery_message *m, char *why, size_t whysz)
{
	int n = 0;

	if (m->embed == NULL)
		return 0;
	if (member(m->embed, "chord") != NULL) {
		snprintf(why, whysz, "chords are not supported by "
		    "bulkclaims-worker");
		return -1;
	}
	if (check_list(member(m->embed, "callbacks"), &n) == -1 ||
	    check_list(member(m->embed, "errbacks"), &n) == -1 ||
	    check_list(member(m->embed, "chain"), &n) == -1) {
		snprintf(why, whysz, "only plain task signatures are "
		    "supported in link, link_error and chain");
		return -1;
	}
	if (n > CANVAS_MAX_SIGS) {
		snprintf(why, whysz, "more than %d canvas signatures",
		    CANVAS_MAX_SIGS);
		return -1;
	}
	return 0;
}

/*
 * Publishes sig with first (borrowed, may be NULL) prepended to its args
 * unless the signature is immutable; embed as the new message's embed.
 * Adds [[id, null], null] to children.  Returns 0 or -1.
 */
static int
send_sig(redisContext *c, const struct celery_message *m,
    struct json_object *sig, struct json_object *first,
    struct json_object *embed, struct json_object *children)
{
	struct json_object *opts = member(sig, "options"), *a, *args, *v, *e;
	struct celery_task_opts o;
	struct errbuf err;
	const char *queue;
	char id[CELERY_ID_MAX];
	size_t i, n;
	int rc;

	memset(&o, 0, sizeof(o));
	v = member(opts, "task_id");
	if (json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0 &&
	    json_object_get_string_len(v) < CELERY_ID_MAX)
		snprintf(id, sizeof(id), "%s", json_object_get_string(v));
	else
		util_uuid4(id);
	v = member(opts, "queue");
	queue = json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : config_get("celery.queue", "celery");
	v = member(opts, "priority");
	if (json_object_is_type(v, json_type_int))
		o.priority = json_object_get_int(v);
	v = member(opts, "reply_to");
	if (json_object_is_type(v, json_type_string))
		o.reply_to = json_object_get_string(v);
	o.root_id = m->root_id;
	o.parent_id = m->id;
	o.embed = embed;

	args = json_object_new_array();
	v = member(sig, "immutable");
	if (first != NULL && !json_object_get_boolean(v))
		json_object_array_add(args, json_object_get(first));
	a = member(sig, "args");
	n = a ? json_object_array_length(a) : 0;
	for (i = 0; i < n; i++)
		json_object_array_add(args,
		    json_object_get(json_object_array_get_idx(a, i)));
	rc = celery_publish_ex(c, queue, json_object_get_string(member(sig,
	    "task")), id, args, member(sig, "kwargs"), &o, &err);
	json_object_put(args);
	if (rc == -1) {
		log_warnx("task %s: publishing follow-up failed: %s", m->id,
		    err.msg);
		return -1;
	}
	e = json_tokener_parse("[[\"\", null], null]");
	json_object_array_put_idx(json_object_array_get_idx(e, 0), 0,
	    json_object_new_string(id));
	json_object_array_add(children, e);
	return 0;
}

int
canvas_on_success(redisContext *c, const struct celery_message *m,
    struct json_object *retval, struct json_object *children)
{
	struct json_object *cbs = member(m->embed, "callbacks");
	struct json_object *chain = member(m->embed, "chain"), *rest, *embed;
	size_t i, n;
	int rc = 0;

	n = json_object_is_type(cbs, json_type_array) ?
	    json_object_array_length(cbs) : 0;
	for (i = 0; i < n; i++)
		if (send_sig(c, m, json_object_array_get_idx(cbs, i), retval,
		    NULL, children) == -1)
			rc = -1;
	n = json_object_is_type(chain, json_type_array) ?
	    json_object_array_length(chain) : 0;
	if (n > 0) {
		/* The chain is stored last step first: pop the end. */
		rest = json_object_new_array();
		for (i = 0; i + 1 < n; i++)
			json_object_array_add(rest, json_object_get(
			    json_object_array_get_idx(chain, i)));
		embed = json_object_new_object();
		json_object_object_add(embed, "callbacks", NULL);
		json_object_object_add(embed, "errbacks", NULL);
		json_object_object_add(embed, "chain", rest);
		json_object_object_add(embed, "chord", NULL);
		if (send_sig(c, m, json_object_array_get_idx(chain, n - 1),
		    retval, embed, children) == -1)
			rc = -1;
		json_object_put(embed);
	}
	return rc;
}

int
canvas_on_failure(redisContext *c, const struct celery_message *m,
    struct json_object *exc, long result_expires)
{
	struct json_object *ebs = member(m->embed, "errbacks");
	struct json_object *chain = member(m->embed, "chain"), *first, *v;
	struct json_object *children = json_object_new_array();
	struct errbuf err;
	size_t i, n;

	/* Old-style errbacks get the failed task's id first, as in Celery. */
	first = json_object_new_string(m->id);
	n = json_object_is_type(ebs, json_type_array) ?
	    json_object_array_length(ebs) : 0;
	for (i = 0; i < n; i++)
		send_sig(c, m, json_object_array_get_idx(ebs, i), first, NULL,
		    children);
	json_object_put(first);
	json_object_put(children);
	/* Celery marks the remaining chain steps failed too. */
	n = json_object_is_type(chain, json_type_array) ?
	    json_object_array_length(chain) : 0;
	for (i = 0; i < n; i++) {
		v = member(member(json_object_array_get_idx(chain, i),
		    "options"), "task_id");
		if (json_object_is_type(v, json_type_string) &&
		    celery_store_result(c, json_object_get_string(v),
		    "FAILURE", exc, NULL, result_expires, &err) == -1)
			log_warnx("task %s: chain failure: %s", m->id,
			    err.msg);
	}
	return 0;
}
