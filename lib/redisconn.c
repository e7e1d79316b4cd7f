/*
 * Redis connections from a URL, with timeouts and reconnect backoff.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <sodium.h>

#include "config.h"
#include "redisconn.h"
#include "secrets.h"

/* Connect timeout: Redis is local or on the same LAN. */
#define RCONN_CONNECT_MS	5000
/* Backoff bounds for rconn_reconnect(). */
#define RCONN_BACKOFF_MIN_MS	100
#define RCONN_BACKOFF_MAX_MS	5000

static int
parse_int(const char *s, size_t n, int lo, int hi, int *out)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* Reads "db=N" from a query string (other parameters are ignored). */
static int
parse_query(const char *q, int *db)
{
	const char *p = q, *e;

	while (*p != '\0') {
		e = strchr(p, '&');
		if (e == NULL)
			e = p + strlen(p);
		if (strncmp(p, "db=", 3) == 0 &&
		    parse_int(p + 3, e - p - 3, 0, 65535, db) == -1)
			return -1;
		p = *e ? e + 1 : e;
	}
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes n bytes of RFC 3986 percent-encoding into out (outsz), strictly
 * (a bad escape is an error, not kept as fcgi/query.c's form decoder
 * does: a password must not be guessed at).
 */
static int
pct_decode(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (o + 1 >= outsz)
			return -1;
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= n ||
		    (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
			return -1;
		if ((out[o++] = (char)(hi << 4 | lo)) == '\0')
			return -1;
		i += 2;
	}
	out[o] = '\0';
	return 0;
}

/*
 * "user:password@" (RFC 3986 userinfo) at *p, before the first '/':
 * copied decoded into u and skipped.  A password without a user
 * (":password@", Redis's requirepass / the default user) is allowed.
 */
static int
parse_userinfo(const char **p, struct rconn_url *u)
{
	const char *at, *slash, *colon;

	at = strchr(*p, '@');
	slash = strchr(*p, '/');
	if (at == NULL || (slash != NULL && slash < at))
		return 0;
	colon = memchr(*p, ':', (size_t)(at - *p));
	if (colon == NULL) {
		/* a user alone, as redis-py reads it; the password comes
		 * from redis.password_file */
		if (pct_decode(*p, (size_t)(at - *p), u->user,
		    sizeof(u->user)) == -1)
			return -1;
	} else if (pct_decode(*p, (size_t)(colon - *p), u->user,
	    sizeof(u->user)) == -1 || pct_decode(colon + 1,
	    (size_t)(at - colon - 1), u->password, sizeof(u->password)) == -1)
		return -1;
	if (u->password[0] != '\0')
		u->has_password = 1;
	*p = at + 1;
	return 0;
}

int
rconn_parse_url(const char *url, struct rconn_url *u, struct errbuf *err)
{
	const char *p, *hs, *he, *q;
	size_t n;

	memset(u, 0, sizeof(*u));
	u->port = 6379;
	if (url == NULL || *url == '\0')
		return errbuf_set(err, "redis url is empty");
	if (strncmp(url, "unix://", 7) == 0 ||
	    strncmp(url, "redis+socket://", 15) == 0) {
		p = strstr(url, "://") + 3;
		if (parse_userinfo(&p, u) == -1)
			return errbuf_set(err, "bad credentials in redis url");
		if (*p != '/')
			return errbuf_set(err,
			    "unix url needs an absolute path");
		q = strchr(p, '?');
		n = q ? (size_t)(q - p) : strlen(p);
		if (n >= sizeof(u->path))
			return errbuf_set(err, "unix socket path too long");
		memcpy(u->path, p, n);
		u->path[n] = '\0';
		u->is_unix = 1;
		if (q != NULL && parse_query(q + 1, &u->db) == -1)
			return errbuf_set(err, "bad db in redis url");
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0)
		return errbuf_set(err, "redis url must start with redis:// "
		    "or unix://");
	p = url + 8;
	if (parse_userinfo(&p, u) == -1)
		return errbuf_set(err, "bad credentials in redis url");
	hs = p;
	if (*hs == '[') {		/* [v6 address] */
		he = strchr(hs, ']');
		if (he == NULL)
			return errbuf_set(err, "bad IPv6 host in redis url");
		hs++;
		p = he + 1;
	} else {
		he = hs + strcspn(hs, ":/?");
		p = he;
	}
	n = he - hs;
	if (n >= sizeof(u->host))
		return errbuf_set(err, "host too long in redis url");
	memcpy(u->host, hs, n);
	u->host[n] = '\0';
	if (n == 0)
		snprintf(u->host, sizeof(u->host), "127.0.0.1");
	if (*p == ':') {
		p++;
		n = strcspn(p, "/?");
		if (parse_int(p, n, 1, 65535, &u->port) == -1)
			return errbuf_set(err, "bad port in redis url");
		p += n;
	}
	if (*p == '/') {
		p++;
		n = strcspn(p, "?");
		if (n > 0 && parse_int(p, n, 0, 65535, &u->db) == -1)
			return errbuf_set(err, "bad db in redis url");
		p += n;
	}
	if (*p == '?' && parse_query(p + 1, &u->db) == -1)
		return errbuf_set(err, "bad db in redis url");
	return 0;
}

int
rconn_credentials(struct rconn_url *u, struct errbuf *err)
{
	const char *user, *pwfile;

	if (u->has_password)
		return 0;
	user = config_get_own("redis.user", NULL);
	pwfile = config_get_own("redis.password_file", NULL);
	if (pwfile == NULL || *pwfile == '\0') {
		if ((user != NULL && *user != '\0') || u->user[0] != '\0')
			return errbuf_set(err, "a redis user is set but "
			    "redis.password_file is not");
		return 0;
	}
	if (secrets_read_line(pwfile, u->password, sizeof(u->password),
	    err) == -1)
		return -1;
	/* the URL's user, else redis.user */
	if (u->user[0] == '\0')
		snprintf(u->user, sizeof(u->user), "%s",
		    user != NULL ? user : "");
	u->has_password = 1;
	return 0;
}

/*
 * AUTH [user] password (Redis 6 ACL; without a user, the "default" user
 * or requirepass).  The password never reaches err.
 */
static int
auth(redisContext *c, struct rconn_url *u, struct errbuf *err)
{
	redisReply *r;
	int rv = 0;

	if (rconn_credentials(u, err) == -1)
		return -1;
	if (!u->has_password)
		return 0;
	if (u->user[0] != '\0')
		r = redisCommand(c, "AUTH %s %s", u->user, u->password);
	else
		r = redisCommand(c, "AUTH %s", u->password);
	sodium_memzero(u->password, sizeof(u->password));
	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		rv = errbuf_set(err, "redis AUTH as %s: %.120s",
		    u->user[0] ? u->user : "default",
		    r ? r->str : c->errstr);
	if (r != NULL)
		freeReplyObject(r);
	return rv;
}

redisContext *
rconn_connect(const char *url, int timeout_ms, struct errbuf *err)
{
	struct rconn_url u;
	struct timeval tv;
	redisContext *c;
	redisReply *r;

	if (rconn_parse_url(url, &u, err) == -1)
		return NULL;
	tv.tv_sec = RCONN_CONNECT_MS / 1000;
	tv.tv_usec = (RCONN_CONNECT_MS % 1000) * 1000;
	if (u.is_unix)
		c = redisConnectUnixWithTimeout(u.path, tv);
	else
		c = redisConnectWithTimeout(u.host, u.port, tv);
	if (c == NULL) {
		errbuf_set(err, "redis: out of memory");
		return NULL;
	}
	if (c->err) {
		errbuf_set(err, "redis connect %s: %s",
		    u.is_unix ? u.path : u.host, c->errstr);
		redisFree(c);
		return NULL;
	}
	if (auth(c, &u, err) == -1) {
		redisFree(c);
		return NULL;
	}
	/* 0.14 applies the connect timeout only; reads need their own. */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		errbuf_set(err, "redis set timeout: %s", c->errstr);
		redisFree(c);
		return NULL;
	}
	if (u.db != 0) {
		r = redisCommand(c, "SELECT %d", u.db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			errbuf_set(err, "redis SELECT %d: %s", u.db,
			    r ? r->str : c->errstr);
			if (r != NULL)
				freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	return c;
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
rconn_reconnect(redisContext **c, const char *url, int timeout_ms,
    volatile const int *stop, struct errbuf *err)
{
	long delay = RCONN_BACKOFF_MIN_MS, slept, step;

	if (*c != NULL)
		redisFree(*c);
	*c = NULL;
	for (;;) {
		if (stop != NULL && *stop)
			return errbuf_set(err, "stopped while reconnecting");
		*c = rconn_connect(url, timeout_ms, err);
		if (*c != NULL)
			return 0;
		/* Full jitter, so workers restarted together spread out. */
		step = delay / 2 + randombytes_uniform((uint32_t)delay / 2 + 1);
		/* Sleep in slices so a stop request is seen promptly. */
		for (slept = 0; slept < step; slept += 100) {
			if (stop != NULL && *stop)
				break;
			sleep_ms(step - slept < 100 ? step - slept : 100);
		}
		delay *= 2;
		if (delay > RCONN_BACKOFF_MAX_MS)
			delay = RCONN_BACKOFF_MAX_MS;
	}
}

int
rconn_dead(const redisContext *c)
{
	return c == NULL || c->err != 0;
}
