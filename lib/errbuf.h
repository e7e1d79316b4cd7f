/*
 * A fixed-size error message filled by library code (hiredis style):
 * functions in lib/ never print, they return -1 and describe the problem
 * here.  The caller decides whether to log it or send it to a client.
 */
#ifndef ERRBUF_H
#define ERRBUF_H

#include <stdarg.h>
#include <stdio.h>

struct errbuf {
	char	msg[512];
};

/* Formats into e (may be NULL); returns -1 for "return errbuf_set(...)". */
static inline int __attribute__((format(printf, 2, 3)))
errbuf_set(struct errbuf *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

#endif
