/*
 * Redis connections from the redis.url configuration value, with the
 * read/write timeout applied (hiredis 0.14 sets only the connect timeout,
 * see notes/c-engineering.md 5.1) and a reconnect helper with backoff.
 *
 * Accepted URLs:
 *   redis://host[:port][/db]          (port 6379, db 0 by default)
 *   unix:///path/to/redis.sock[?db=N]
 *   redis+socket:///path?db=N         (kombu's spelling, same meaning)
 */
#ifndef REDISCONN_H
#define REDISCONN_H

#include <hiredis/hiredis.h>

#include "errbuf.h"

/* A parsed redis.url. */
struct rconn_url {
	int	 is_unix;
	char	 host[256];	/* TCP host name or address */
	int	 port;
	char	 path[256];	/* unix socket path */
	int	 db;		/* database number (SELECT) */
};

/*
 * Parses url (NUL-terminated) into u.  Pure: no I/O.
 * Returns 0, or -1 with err describing what is wrong.
 */
int	rconn_parse_url(const char *url, struct rconn_url *u,
	    struct errbuf *err);

/*
 * Connects to url, sets the read/write timeout to timeout_ms (0: none,
 * for connections that block in BRPOP/PSUBSCRIBE longer than any
 * sensible timeout) and SELECTs the database.  Returns a context the
 * caller frees with redisFree(), or NULL with err set.  The connect itself
 * times out after 5 s.
 */
redisContext *rconn_connect(const char *url, int timeout_ms,
	    struct errbuf *err);

/*
 * Reconnects after a failure: frees *c (may be NULL), then tries
 * rconn_connect() with exponential backoff and jitter (100 ms doubling
 * up to 5 s) until it succeeds or *stop becomes non-zero (stop may be
 * NULL).  On success *c is the new context and 0 is returned; on stop,
 * *c is NULL and -1 is returned with err holding the last error.
 */
int	rconn_reconnect(redisContext **c, const char *url, int timeout_ms,
	    volatile const int *stop, struct errbuf *err);

/*
 * 1 if the context is unusable (hiredis marks a context dead once c->err
 * is set: every later command fails the same way).
 */
int	rconn_dead(const redisContext *c);

#endif
