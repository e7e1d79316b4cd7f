/*
 * Celery events: JSON objects published on kombu's fanout
 * exchange "celeryev", i.e. PUBLISH /<db>.celeryev/<routing key>.
 */
#ifndef CELERY_EVENT_H
#define CELERY_EVENT_H

#include <sys/types.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "errbuf.h"

/*
 * Starts an event with the leading common fields in Python's order
 * (hostname, utcoffset, pid, clock).  The caller adds the type's own
 * fields, then passes it to celery_event_send().  Owned by the caller.
 */
struct json_object *celery_event_new(const char *hostname, pid_t pid,
	    unsigned long clock);

/*
 * Appends timestamp and type to ev (taken: freed here), wraps it in the
 * event envelope and publishes it on /<db>.celeryev/<type with '-'
 * replaced by '.'>.  Returns 0 or -1 with err set.
 */
int	celery_event_send(redisContext *c, int db, const char *hostname,
	    const char *type, struct json_object *ev, struct errbuf *err);

/*
 * Wraps body (borrowed) in a kombu envelope for a fanout or reply
 * message: headers (borrowed, NULL = {}), delivery_mode, exchange and
 * routing key in delivery_info, base64 body, fresh delivery_tag.
 * Returns malloc'd JSON text or NULL.
 */
char	*celery_kombu_envelope(struct json_object *body,
	    struct json_object *headers, int delivery_mode,
	    const char *exchange, const char *routing_key, size_t *lenp);

/* Python's time.timezone // 3600 (hours west of UTC, DST-aware). */
int	celery_utcoffset(void);

#endif
