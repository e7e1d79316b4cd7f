/*
 * Private helpers shared by the celery_*.c files: a growable text buffer
 * with a hard cap (curl's dynbuf idea).  Not for use outside lib/celery*.
 */
#ifndef CELERY_INT_H
#define CELERY_INT_H

#include <stddef.h>

#include <json-c/json.h>

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

#endif
