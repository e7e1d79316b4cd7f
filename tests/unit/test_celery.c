/*
 * Unit tests for the Celery message and result code (lib/celery*.c) and
 * the Redis URL parser: captured Celery messages decoded verbatim,
 * every malformed message a worker must refuse, envelope round trips,
 * result meta.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "celery.h"
#include "redisconn.h"
#include "tap.h"
#include "util.h"

/*
 * Captured Celery messages, verbatim, in tests/unit/data/celery:
 * spec-3.4.json (echo.apply_async(..., queue='other')), a minimal
 * message, and a Task.retry republished message with its body placeholder
 * written "BODY".  Returns malloc'd NUL-terminated text.
 */
static char *
load(const char *name)
{
	char path[1024], *buf;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", CELERY_DATA_DIR, name);
	if ((f = fopen(path, "rb")) == NULL || (buf = calloc(1, 65536))
	    == NULL) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *spec_3_4, *spec_minimal, *spec_5_6;

/*
 * Builds a message from a template: headers JSON, properties JSON and a
 * body (base64-encoded here unless raw).  Returns malloc'd text.
 */
static char *
mkmsg(const char *ctype, const char *headers, const char *props,
    const char *body, int raw)
{
	char *b64 = NULL, *out;
	size_t n;

	if (!raw)
		b64 = celery_b64encode(body, strlen(body));
	n = strlen(headers) + strlen(props) + strlen(raw ? body : b64) + 256;
	out = malloc(n);
	snprintf(out, n, "{\"body\": \"%s\", \"content-encoding\": \"utf-8\", "
	    "\"content-type\": \"%s\", \"headers\": %s, \"properties\": %s}",
	    raw ? body : b64, ctype, headers, props);
	free(b64);
	return out;
}

#define HDRS	"{\"task\": \"tasks.add\", \"id\": \"id-1\"}"
#define PROPS	"{\"delivery_tag\": \"t1\", \"body_encoding\": " \
		"\"base64\", \"delivery_info\": {\"exchange\": \"\", " \
		"\"routing_key\": \"celery\"}}"
#define GOODBODY "[[2, 3], {}, {}]"

/* Parses text; returns the parse result, msg freed. id copied to idout. */
static int
try_parse(const char *text, char *idout, size_t idsz, char *why, size_t whysz)
{
	struct celery_message m;
	struct errbuf err;
	int rc;

	err.msg[0] = '\0';
	rc = celery_message_parse(text, strlen(text), &m, &err);
	if (idout != NULL)
		snprintf(idout, idsz, "%s", m.id);
	if (why != NULL)
		snprintf(why, whysz, "%s", err.msg);
	celery_message_free(&m);
	return rc;
}

static void
test_malformed(void)
{
	static const struct {
		const char *what, *ctype, *hdrs, *props, *body;
		int raw, want_rc;
		const char *want_id;
	} cases[] = {
		{ "valid control case", "application/json", HDRS, PROPS,
		    GOODBODY, 0, 0, "id-1" },
		{ "body not JSON", "application/json", HDRS, PROPS,
		    "[[2, 3], {}", 0, -1, "id-1" },
		{ "pickle content-type", "application/x-python-serialize",
		    HDRS, PROPS, GOODBODY, 0, -1, "id-1" },
		{ "unparsable eta", "application/json",
		    "{\"task\": \"t\", \"id\": \"id-1\", "
		    "\"eta\": \"not-a-date\"}",
		    PROPS, GOODBODY, 0, -1, "id-1" },
		{ "unparsable expires", "application/json",
		    "{\"task\": \"t\", \"id\": \"id-1\", "
		    "\"expires\": \"not-a-date\"}",
		    PROPS, GOODBODY, 0, -1, "id-1" },
		{ "no body_encoding: plain JSON body", "application/json",
		    HDRS, "{\"delivery_tag\": \"t1\", \"delivery_info\": "
		    "{\"exchange\": \"\", \"routing_key\": \"celery\"}}",
		    "[[2, 3], {}, {}]", 1, 0, "id-1" },
		{ "embed null", "application/json", HDRS, PROPS,
		    "[[2, 3], {}, null]", 0, 0, "id-1" },
		{ "delivery_info missing", "application/json", HDRS,
		    "{\"delivery_tag\": \"t1\", \"body_encoding\": \"base64\"}",
		    GOODBODY, 0, -1, "id-1" },
		{ "delivery_info without exchange", "application/json", HDRS,
		    "{\"delivery_tag\": \"t1\", \"body_encoding\": \"base64\", "
		    "\"delivery_info\": {\"routing_key\": \"celery\"}}",
		    GOODBODY, 0, -1, "id-1" },
		{ "delivery_tag missing", "application/json", HDRS,
		    "{\"body_encoding\": \"base64\", \"delivery_info\": "
		    "{\"exchange\": \"\", \"routing_key\": \"celery\"}}",
		    GOODBODY, 0, -1, "id-1" },
		{ "body of 2 elements", "application/json", HDRS, PROPS,
		    "[[2, 3], {}]", 0, -1, "id-1" },
		{ "body of 4 elements", "application/json", HDRS, PROPS,
		    "[[2, 3], {}, {}, 1]", 0, -1, "id-1" },
		{ "args not an array", "application/json", HDRS, PROPS,
		    "[{\"a\": 1}, {}, {}]", 0, -1, "id-1" },
		{ "kwargs not an object", "application/json", HDRS, PROPS,
		    "[[1], [2], {}]", 0, -1, "id-1" },
		{ "no task header, body not v1", "application/json",
		    "{\"id\": \"id-1\"}", PROPS, GOODBODY, 0, -1, "id-1" },
		{ "null headers, body not v1", "application/json", "null",
		    PROPS, GOODBODY, 0, -1, "" },
		{ "protocol v1 body", "application/json", "{}", PROPS,
		    "{\"task\": \"tasks.add\", \"id\": \"v1-id\", \"args\": "
		    "[2, 3], \"kwargs\": {}, \"retries\": 0, \"eta\": null}",
		    0, 0, "v1-id" },
		{ "v1 body with bad eta", "application/json", "{}", PROPS,
		    "{\"task\": \"tasks.add\", \"id\": \"v1-id\", \"eta\": 5}",
		    0, -1, "v1-id" },
		{ "task id missing", "application/json",
		    "{\"task\": \"tasks.add\"}", PROPS, GOODBODY, 0, -1, "" },
		{ "task name not a string", "application/json",
		    "{\"task\": 5, \"id\": \"id-1\"}", PROPS, GOODBODY, 0, -1,
		    "id-1" },
		{ "retries negative", "application/json",
		    "{\"task\": \"t\", \"id\": \"id-1\", \"retries\": -1}",
		    PROPS, GOODBODY, 0, -1, "id-1" },
		{ "timelimit not a pair", "application/json",
		    "{\"task\": \"t\", \"id\": \"id-1\", \"timelimit\": [1]}",
		    PROPS, GOODBODY, 0, -1, "id-1" },
		{ "body not base64", "application/json", HDRS, PROPS,
		    "!!!not base64!!!", 1, -1, "id-1" },
		{ "integer beyond uint64 (json-c would clamp)",
		    "application/json", HDRS, PROPS,
		    "[[18446744073709551616], {}, {}]", 0, -1, "id-1" },
		{ "integer below int64 in kwargs", "application/json", HDRS,
		    PROPS, "[[], {\"n\": -9223372036854775809}, {}]", 0, -1,
		    "id-1" },
		{ "large ints in range", "application/json", HDRS, PROPS,
		    "[[18446744073709551614, -9223372036854775807], {}, {}]",
		    0, 0, "id-1" },
		{ "body deeper than JSON_MAX_DEPTH", "application/json", HDRS,
		    PROPS, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]"
		    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], {}, {}]", 0, -1, "id-1" },
	};
	char id[CELERY_ID_MAX], why[512];
	size_t i;
	char *text;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		text = mkmsg(cases[i].ctype, cases[i].hdrs, cases[i].props,
		    cases[i].body, cases[i].raw);
		rc = try_parse(text, id, sizeof(id), why, sizeof(why));
		ok(rc == cases[i].want_rc, "malformed: %s -> %d (%s)",
		    cases[i].what, rc, rc ? why : "ok");
		ok(strcmp(id, cases[i].want_id) == 0,
		    "malformed: %s: id \"%s\" known", cases[i].what, id);
		free(text);
	}
	ok(try_parse("{\"body\": ", NULL, 0, NULL, 0) == -1,
	    "malformed: envelope not valid JSON");
	ok(try_parse("[1, 2, 3]", NULL, 0, NULL, 0) == -1,
	    "malformed: envelope not an object");
	ok(try_parse("{} trailing", NULL, 0, NULL, 0) == -1,
	    "malformed: trailing garbage");
	ok(try_parse("", NULL, 0, NULL, 0) == -1, "malformed: empty");
}

/* Random and truncated input must never crash or leak (ASan run). */
static void
test_garbage(void)
{
	unsigned char buf[512];
	struct celery_message m;
	struct errbuf err;
	size_t i, n, fails = 0;

	for (i = 0; i < 2000; i++) {
		n = randombytes_uniform(sizeof(buf));
		randombytes_buf(buf, n);
		if (celery_message_parse((const char *)buf, n, &m, &err) != 0)
			fails++;
		celery_message_free(&m);
	}
	ok(fails == 2000, "2000 random inputs all rejected");
	/* The text ends in "}\n": cutting only the newline leaves it whole. */
	n = strlen(spec_3_4) - 1;
	fails = 0;
	for (i = 0; i < n; i++) {
		if (celery_message_parse(spec_3_4, i, &m, &err) != 0)
			fails++;
		celery_message_free(&m);
	}
	ok(fails == n, "every truncation of a real message rejected");
}

static void
test_spec_messages(void)
{
	struct celery_message m;
	struct errbuf err;
	char *body, *text, *p;
	size_t n;
	double t;

	ok(celery_message_parse(spec_3_4, strlen(spec_3_4), &m, &err) == 0,
	    "the captured v2 message parses");
	ok(strcmp(m.id, "33333333-3333-3333-3333-333333333333") == 0, "id");
	ok(strcmp(m.task, "tasks.echo") == 0, "task name");
	ok(strcmp(m.delivery_tag, "065de328-31a4-460c-b301-a5bf7efcf979") == 0,
	    "delivery_tag");
	ok(m.has_delivery_info && strcmp(m.exchange, "") == 0 &&
	    strcmp(m.routing_key, "other") == 0, "delivery_info");
	ok(m.priority == 5, "priority 5");
	celery_parse_isotime("2026-11-28T11:55:59.989637+00:00", &t);
	ok(m.eta == t && m.eta > 1.79e9, "eta %.6f", m.eta);
	ok(m.expires - m.eta > 89.99 && m.expires - m.eta < 90.01,
	    "expires 90 s after eta");
	ok(m.time_limit == 0 && m.soft_time_limit == 0, "no time limits");
	ok(m.retries == 0 && m.parent_id[0] == '\0', "retries 0, no parent");
	ok(strcmp(m.root_id, m.id) == 0, "root_id");
	ok(strcmp(m.argsrepr, "('cd',)") == 0 &&
	    strcmp(m.kwargsrepr, "{'x': 1}") == 0, "argsrepr/kwargsrepr");
	ok(strcmp(json_object_to_json_string(m.args), "[ \"cd\" ]") == 0,
	    "args [\"cd\"]");
	ok(json_object_get_int(json_object_object_get(m.kwargs, "x")) == 1,
	    "kwargs {x: 1}");
	ok(m.embed != NULL && json_object_object_length(m.embed) == 4,
	    "embed with four keys");
	celery_message_free(&m);

	ok(celery_message_parse(spec_minimal, strlen(spec_minimal), &m,
	    &err) == 0, "the captured minimal v2 message parses");
	ok(strcmp(m.task, "tasks.add") == 0 &&
	    json_object_array_length(m.args) == 2 &&
	    strcmp(m.argsrepr, "(2, 3)") == 0 && m.priority == 0 &&
	    strcmp(m.root_id, m.id) == 0,
	    "minimal: task, args, built argsrepr");
	celery_message_free(&m);

	/* The retry example, its body placeholder replaced by the real body. */
	body = celery_b64encode("[[7], {}, {\"callbacks\": null, \"errbacks\": "
	    "null, \"chain\": null, \"chord\": null}]", 78);
	n = strlen(spec_5_6) + strlen(body) + 1;
	text = malloc(n);
	p = strstr(spec_5_6, "BODY");
	snprintf(text, n, "%.*s%s%s", (int)(p - spec_5_6), spec_5_6, body,
	    p + 4);
	ok(celery_message_parse(text, strlen(text), &m, &err) == 0,
	    "a retry message parses (extra properties ignored)");
	ok(m.retries == 1 && strcmp(m.parent_id, m.id) == 0 && m.eta > 0 &&
	    m.expires == 0, "retry: retries 1, parent_id, eta");
	ok(json_object_get_int(json_object_array_get_idx(m.args, 0)) == 7,
	    "retry: args [7]");
	celery_message_free(&m);
	free(text);
	free(body);
}

static void
test_envelope(void)
{
	struct json_object *args, *kwargs, *env, *h, *p, *v;
	struct celery_task_opts o;
	struct celery_message m;
	struct errbuf err;
	char *text, key[64];
	size_t len;

	args = json_tokener_parse("[\"cd\"]");
	kwargs = json_tokener_parse("{\"x\": 1}");
	text = celery_envelope_build("other", "tasks.echo",
	    "33333333-3333-3333-3333-333333333333", args, kwargs, NULL, &len,
	    &err);
	ok(text != NULL && len == strlen(text), "envelope built");
	ok(strstr(text, "\"body\": \"W1siY2QiXSwgeyJ4IjogMX0sIHsiY2FsbGJhY2tz"
	    "IjogbnVsbCwgImVycmJhY2tzIjogbnVsbCwgImNoYWluIjogbnVsbCwgImNob3JkI"
	    "jogbnVsbH1d\"") != NULL,
	    "body byte-identical to Python's");
	env = json_tokener_parse(text);
	h = json_object_object_get(env, "headers");
	p = json_object_object_get(env, "properties");
	ok(json_object_object_length(h) == 16, "16 headers as Python sends");
	ok(strcmp(json_object_get_string(json_object_object_get(h,
	    "argsrepr")), "('cd',)") == 0, "argsrepr Python-style");
	ok(strcmp(json_object_get_string(json_object_object_get(h,
	    "kwargsrepr")), "{'x': 1}") == 0, "kwargsrepr Python-style");
	ok(util_is_uuid(json_object_get_string(json_object_object_get(p,
	    "delivery_tag"))), "delivery_tag is a UUID");
	v = json_object_object_get(p, "delivery_info");
	ok(strcmp(json_object_get_string(json_object_object_get(v,
	    "exchange")), "") == 0 && strcmp(json_object_get_string(
	    json_object_object_get(v, "routing_key")), "other") == 0,
	    "delivery_info anonymous exchange, routing key = queue");
	ok(strcmp(json_object_get_string(json_object_object_get(p,
	    "body_encoding")), "base64") == 0, "body_encoding base64");
	ok(strncmp(text, "{\"body\": ", 9) == 0 &&
	    strstr(text, "\"content-encoding\": \"utf-8\", \"content-type\": "
	    "\"application/json\", \"headers\": {\"lang\": \"py\", \"task\"")
	    != NULL, "key order and separators as kombu");
	json_object_put(env);
	ok(celery_message_parse(text, len, &m, &err) == 0, "round trip parses");
	ok(strcmp(m.task, "tasks.echo") == 0 && strcmp(m.id,
	    "33333333-3333-3333-3333-333333333333") == 0 &&
	    json_object_equal(m.args, args) && json_object_equal(m.kwargs,
	    kwargs), "round trip: task, id, args, kwargs equal");
	celery_message_free(&m);
	free(text);

	memset(&o, 0, sizeof(o));
	o.priority = 6;
	o.eta = 1795866959.989637;
	o.expires = o.eta + 90;
	o.time_limit = 3;
	o.soft_time_limit = 1.5;
	o.retries = 2;
	o.parent_id = "parent-1";
	text = celery_envelope_build("q", "t", "id-2", args, NULL, &o, &len,
	    &err);
	ok(celery_message_parse(text, len, &m, &err) == 0,
	    "options round trip");
	ok(m.priority == 6 && m.retries == 2 && m.time_limit == 3 &&
	    m.soft_time_limit == 1.5 && strcmp(m.parent_id, "parent-1") == 0 &&
	    strcmp(m.root_id, "id-2") == 0, "priority, retries, limits, ids");
	ok(m.eta > o.eta - 1e-5 && m.eta < o.eta + 1e-5 &&
	    m.expires > o.expires - 1e-5 && m.expires < o.expires + 1e-5,
	    "eta and expires survive (%s)", m.eta_text);
	ok(strstr(text, "\"timelimit\": [3, 1.5]") != NULL,
	    "timelimit [hard, soft], int when whole");
	ok(strstr(text, "\"expiration\": \"") != NULL, "expiration property");
	celery_message_free(&m);
	free(text);

	ok(celery_envelope_build("q", "t", "id", kwargs, NULL, NULL, NULL,
	    &err) == NULL, "args must be an array");
	ok(celery_envelope_build("q", "", "id", args, NULL, NULL, NULL,
	    &err) == NULL, "task name required");

	ok(celery_queue_key("celery", 0, key, sizeof(key)) == 6 &&
	    strcmp(key, "celery") == 0, "priority 0 -> celery");
	ok(celery_queue_key("other", 5, key, sizeof(key)) == 8 &&
	    memcmp(key, "other\x06\x16" "3", 8) == 0, "priority 5 -> step 3");
	ok(celery_queue_key("other", 6, key, sizeof(key)) == 8 &&
	    key[7] == '6', "priority 6 -> step 6");
	ok(celery_queue_key("celery", 9, key, sizeof(key)) == 9 &&
	    key[8] == '9', "priority 9 -> step 9");
	ok(celery_queue_key("celery", 2, key, sizeof(key)) == 6,
	    "priority 2 -> step 0");
	json_object_put(args);
	json_object_put(kwargs);
}

static void
test_text_forms(void)
{
	struct json_object *o;
	char *s;
	double t;

	o = json_tokener_parse("[1, \"it's\", \"a\\\"b\", null, true, false, "
	    "2.5, {\"k\": [\"\\u00e9\\n\"]}, []]");
	s = celery_pyrepr(o, 1);
	ok(strcmp(s, "(1, \"it's\", 'a\"b', None, True, False, 2.5, "
	    "{'k': ['\xc3\xa9\\n']}, [])") == 0, "pyrepr: %s", s);
	free(s);
	s = celery_json_dump(o, NULL);
	ok(strcmp(s, "[1, \"it's\", \"a\\\"b\", null, true, false, 2.5, "
	    "{\"k\": [\"\\u00e9\\n\"]}, []]") == 0, "json_dump: %s", s);
	free(s);
	json_object_put(o);
	o = json_tokener_parse("[\"\\ud83d\\ude00\", \"\\u0001\"]");
	s = celery_json_dump(o, NULL);
	ok(strcmp(s, "[\"\\ud83d\\ude00\", \"\\u0001\"]") == 0,
	    "json_dump: surrogate pair, control char: %s", s);
	free(s);
	json_object_put(o);
	o = json_tokener_parse("[\"x\"]");
	s = celery_pyrepr(o, 1);
	ok(strcmp(s, "('x',)") == 0, "1-tuple repr");
	free(s);
	json_object_put(o);
	o = json_object_new_array();
	s = celery_pyrepr(o, 1);
	ok(strcmp(s, "()") == 0, "empty tuple repr");
	free(s);
	json_object_put(o);

	ok(celery_parse_isotime("1970-01-01T00:00:10Z", &t) == 0 && t == 10,
	    "iso Z");
	ok(celery_parse_isotime("1970-01-01T01:00:10+01:00", &t) == 0 &&
	    t == 10, "iso +01:00");
	ok(celery_parse_isotime("1970-01-01 00:00:10.5", &t) == 0 &&
	    t == 10.5, "iso naive with space and fraction");
	ok(celery_parse_isotime("2026-11-28T11:55:48", &t) == 0 &&
	    t == 1795866948, "iso without fraction");
	ok(celery_parse_isotime("not-a-date", &t) == -1, "not-a-date refused");
	ok(celery_parse_isotime("2026-13-01T00:00:00", &t) == -1,
	    "month 13 refused");
	ok(celery_parse_isotime("2026-11-28T11:55:48+00:00x", &t) == -1,
	    "trailing text refused");
}

static void
test_results(void)
{
	struct celery_result r;
	struct json_object *res, *o;
	char *meta;

	memset(&r, 0, sizeof(r));
	r.task_id = "22222222-2222-2222-2222-222222222222";
	r.status = "SUCCESS";
	res = json_tokener_parse("{\"args\": [1, \"two\", 3.0, null, true], "
	    "\"kwargs\": {\"k\": \"v\", \"n\": [1, 2]}}");
	r.result = res;
	meta = celery_result_meta(&r, NULL);
	ok(strncmp(meta, "{\"status\": \"SUCCESS\", \"result\": {\"args\": "
	    "[1, \"two\", 3.0, null, true], \"kwargs\": {\"k\": \"v\", \"n\": "
	    "[1, 2]}}, \"traceback\": null, \"children\": [], "
	    "\"date_done\": \"",
	    125) == 0, "SUCCESS meta as Python writes it: %.60s", meta);
	ok(strstr(meta, "\", \"task_id\": \"22222222-2222-2222-2222-"
	    "222222222222\"}") != NULL, "task_id last");
	o = json_tokener_parse(meta);
	ok(strlen(json_object_get_string(json_object_object_get(o,
	    "date_done"))) == 26, "date_done naive ISO with microseconds");
	json_object_put(o);
	free(meta);
	json_object_put(res);

	r.status = "STARTED";
	res = json_tokener_parse("{\"pid\": 1, \"hostname\": \"w@h\"}");
	r.result = res;
	r.parent_id = "p-1";
	meta = celery_result_meta(&r, NULL);
	ok(strstr(meta, "\"date_done\": null, \"parent_id\": \"p-1\", "
	    "\"task_id\"") != NULL, "STARTED: date_done null, parent_id");
	free(meta);
	json_object_put(res);

	res = celery_exc_new("NotRegistered", "celery.exceptions",
	    "tasks.does_not_exist");
	r.status = "FAILURE";
	r.result = res;
	r.parent_id = NULL;
	meta = celery_result_meta(&r, NULL);
	ok(strncmp(meta, "{\"status\": \"FAILURE\", \"result\": {\"exc_type\": "
	    "\"NotRegistered\", \"exc_message\": [\"tasks.does_not_exist\"], "
	    "\"exc_module\": \"celery.exceptions\"}, \"traceback\": null, "
	    "\"children\": [], \"date_done\": \"", 170) == 0,
	    "NotRegistered meta as Celery stores it");
	free(meta);
	json_object_put(res);
	res = celery_exc_new("CTaskError", NULL, NULL);
	meta = celery_json_dump(res, NULL);
	ok(strcmp(meta, "{\"exc_type\": \"CTaskError\", \"exc_message\": [], "
	    "\"exc_module\": null}") == 0, "exception with null module");
	free(meta);
	json_object_put(res);
}

static void
test_urls(void)
{
	struct rconn_url u;
	struct errbuf err;

	ok(rconn_parse_url("redis://127.0.0.1:6390/3", &u, &err) == 0 &&
	    !u.is_unix && strcmp(u.host, "127.0.0.1") == 0 &&
	    u.port == 6390 && u.db == 3, "redis://host:port/db");
	ok(rconn_parse_url("redis://localhost", &u, &err) == 0 &&
	    u.port == 6379 && u.db == 0, "defaults");
	ok(rconn_parse_url("unix:///tmp/x/redis.sock?db=2", &u, &err) == 0 &&
	    u.is_unix && strcmp(u.path, "/tmp/x/redis.sock") == 0 &&
	    u.db == 2, "unix path with db");
	ok(rconn_parse_url("redis+socket:///r.sock", &u, &err) == 0 &&
	    u.is_unix && u.db == 0, "redis+socket");
	ok(rconn_parse_url("redis://h:99999/0", &u, &err) == -1, "bad port");
	ok(rconn_parse_url("redis://h:1/x", &u, &err) == -1, "bad db");
	ok(rconn_parse_url("http://h/", &u, &err) == -1, "bad scheme");
	ok(rconn_parse_url("unix://relative", &u, &err) == -1,
	    "relative unix path");
	/* Redis 6 ACL credentials, percent-encoded as kombu writes them */
	ok(rconn_parse_url("redis://worker:p%40ss%3Aw@127.0.0.1:6390/2", &u,
	    &err) == 0 && u.has_password && strcmp(u.user, "worker") == 0 &&
	    strcmp(u.password, "p@ss:w") == 0 &&
	    strcmp(u.host, "127.0.0.1") == 0 && u.port == 6390 && u.db == 2,
	    "redis://user:password@host:port/db keeps the credentials");
	ok(rconn_parse_url("redis://:sekret@h/0", &u, &err) == 0 &&
	    u.has_password && u.user[0] == '\0' &&
	    strcmp(u.password, "sekret") == 0 && strcmp(u.host, "h") == 0,
	    "password without a user");
	ok(rconn_parse_url("redis+socket://app:pw@/run/r.sock?db=1", &u,
	    &err) == 0 && u.is_unix && strcmp(u.path, "/run/r.sock") == 0 &&
	    strcmp(u.user, "app") == 0 && strcmp(u.password, "pw") == 0 &&
	    u.db == 1, "unix socket url with credentials");
	ok(rconn_parse_url("redis://h/0", &u, &err) == 0 && !u.has_password,
	    "no credentials");
	ok(rconn_parse_url("redis://worker@h/0", &u, &err) == 0 &&
	    !u.has_password && strcmp(u.user, "worker") == 0 &&
	    strcmp(u.host, "h") == 0, "a user alone (password from a file)");
	ok(rconn_parse_url("redis://u:bad%zz@h/0", &u, &err) == -1 &&
	    strstr(err.msg, "bad%zz") == NULL,
	    "bad escape refused, not echoed");
	ok(rconn_parse_url("redis://u:nul%00x@h/0", &u, &err) == -1,
	    "NUL in a password refused");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	spec_3_4 = load("spec-3.4.json");
	spec_minimal = load("spec-3.4-minimal.json");
	spec_5_6 = load("spec-5.6-retry.json");
	test_spec_messages();
	test_malformed();
	test_garbage();
	test_envelope();
	test_text_forms();
	test_results();
	test_urls();
	free(spec_3_4);
	free(spec_minimal);
	free(spec_5_6);
	return done_testing();
}
