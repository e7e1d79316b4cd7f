/*
 * Redis connections from the redis.url configuration value, with the
 * read/write timeout applied (hiredis 0.14's connect timeout is for the
 * connect only; reads and writes need redisSetTimeout) and a reconnect
 * helper with backoff.
 *
 * Accepted URLs:
 *   redis://[user:password@]host[:port][/db]  (port 6379, db 0 by default)
 *   unix://[user:password@]/path/to/redis.sock[?db=N]
 *   redis+socket://[user:password@]/path?db=N (kombu's spelling)
 *
 * Credentials (Redis 6 ACL users) come from the URL's userinfo
 * (percent-encoded), else from redis.user and redis.password_file (the
 * password file's first line; per program: <prog>.redis.*, see
 * config_get_own()), so no secret need sit in a URL, argv or the
 * environment.  Without either, no AUTH is sent.
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
	char	 user[128];	/* ACL user ("": the default user) */
	char	 password[256];	/* decoded; wiped after AUTH */
	int	 has_password;
};

/*
 * Parses url (NUL-terminated) into u.  Pure: no I/O.
 * Returns 0, or -1 with err describing what is wrong.
 */
int	rconn_parse_url(const char *url, struct rconn_url *u,
	    struct errbuf *err);

/*
 * Fills u's user and password from redis.user / redis.password_file
 * when the URL carried none.  Returns 0 (nothing configured is fine), or
 * -1 with err when the file cannot be read or is open to others.
 */
int	rconn_credentials(struct rconn_url *u, struct errbuf *err);

/*
 * Connects to url, authenticates (see above), sets the read/write
 * timeout to timeout_ms (0: none, for connections that block in
 * BRPOP/PSUBSCRIBE longer than any sensible timeout) and SELECTs the
 * database.  Returns a context the
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
