/*
 * Private helpers shared by the celery_*.c files: a growable text buffer
 * with a hard cap (curl's dynbuf idea), the envelope's common parts and
 * the reply check.  Not for use outside lib/celery*.
 */
#ifndef CELERY_INT_H
#define CELERY_INT_H

#include <stddef.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "errbuf.h"

struct celery_buf {
	char	*p;
	size_t	 len, cap, max;
	int	 failed;	/* set once an append failed; sticky */
};

void	 celery_buf_init(struct celery_buf *b, size_t max);
int	 celery_buf_add(struct celery_buf *b, const void *s, size_t n);
int	 celery_buf_puts(struct celery_buf *b, const char *s);
int	 celery_buf_printf(struct celery_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Hands the NUL-terminated text over (NULL if an append failed). */
char	*celery_buf_take(struct celery_buf *b, size_t *lenp);
void	 celery_buf_free(struct celery_buf *b);

/* Appends the Python json.dumps() form of o; -1 on failure. */
int	 celery_buf_json(struct celery_buf *b, struct json_object *o);

/*
 * celery.c: the parts every kombu envelope shares.  celery_env_new()
 * starts one with body b64 (copied) and its encodings; the caller adds
 * "headers" and "properties".  celery_props_end() ends properties p with
 * delivery_info, priority, body_encoding and a fresh delivery_tag.
 */
struct json_object *celery_env_new(const char *b64);
void	 celery_props_end(struct json_object *p, const char *exchange,
	    const char *routing_key, int priority);

/*
 * celery_transport.c: the outcome of a command's reply r (NULL: c
 * failed).  Frees r; returns 0, or -1 with err "redis CMD: why".
 */
int	 celery_reply_done(redisContext *c, redisReply *r, const char *cmd,
	    struct errbuf *err);

#endif
