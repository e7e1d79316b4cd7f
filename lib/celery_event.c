/*
 * Celery events on kombu's Redis fanout exchange.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "celery.h"
#include "celery_int.h"
#include "celery_event.h"
#include "util.h"

int
celery_utcoffset(void)
{
	struct tm tm;
	time_t now = time(NULL);

	tzset();
	localtime_r(&now, &tm);
	/* tm_gmtoff is east of UTC; Python reports hours west, floored. */
	return (int)floor(-(double)tm.tm_gmtoff / 3600.0);
}

struct json_object *
celery_event_new(const char *hostname, pid_t pid, unsigned long clock)
{
	struct json_object *ev = json_object_new_object();

	json_object_object_add(ev, "hostname",
	    json_object_new_string(hostname));
	json_object_object_add(ev, "utcoffset",
	    json_object_new_int(celery_utcoffset()));
	json_object_object_add(ev, "pid", json_object_new_int((int)pid));
	json_object_object_add(ev, "clock",
	    json_object_new_int64((int64_t)clock));
	return ev;
}

char *
celery_kombu_envelope(struct json_object *body, struct json_object *headers,
    int delivery_mode, const char *exchange, const char *routing_key,
    size_t *lenp)
{
	struct json_object *env, *p;
	char *text, *b64;
	size_t len;

	if ((text = celery_json_dump(body, &len)) == NULL)
		return NULL;
	b64 = celery_b64encode(text, len);
	free(text);
	if (b64 == NULL)
		return NULL;
	env = celery_env_new(b64);
	free(b64);
	json_object_object_add(env, "headers", headers ?
	    json_object_get(headers) : json_object_new_object());
	p = json_object_new_object();
	json_object_object_add(p, "delivery_mode",
	    json_object_new_int(delivery_mode));
	celery_props_end(p, exchange, routing_key, 0);
	json_object_object_add(env, "properties", p);
	text = celery_json_dump(env, lenp);
	json_object_put(env);
	return text;
}

int
celery_event_send(redisContext *c, int db, const char *hostname,
    const char *type, struct json_object *ev, struct errbuf *err)
{
	struct json_object *h;
	char rk[128], chan[160], *text;
	redisReply *r;
	size_t len, i;

	if (c == NULL) {
		json_object_put(ev);
		return errbuf_set(err, "no redis connection");
	}
	json_object_object_add(ev, "timestamp",
	    json_object_new_double(util_now()));
	json_object_object_add(ev, "type", json_object_new_string(type));
	snprintf(rk, sizeof(rk), "%s", type);
	for (i = 0; rk[i] != '\0'; i++)
		if (rk[i] == '-')
			rk[i] = '.';
	snprintf(chan, sizeof(chan), "/%d.celeryev/%s", db, rk);
	h = json_object_new_object();
	json_object_object_add(h, "hostname", json_object_new_string(hostname));
	text = celery_kombu_envelope(ev, h, 1, "celeryev", rk, &len);
	json_object_put(h);
	json_object_put(ev);
	if (text == NULL)
		return errbuf_set(err, "event too large");
	r = redisCommand(c, "PUBLISH %s %b", chan, text, len);
	free(text);
	return celery_reply_done(c, r, "PUBLISH", err);
}
