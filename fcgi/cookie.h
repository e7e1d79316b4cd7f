/*
 * The pure parts of browser sessions: finding the session cookie in a
 * Cookie header, comparing CSRF tokens, and reading the login request's
 * JSON.  No FastCGI, no database, so unit tests and fuzzers call them.
 */
#ifndef COOKIE_H
#define COOKIE_H

#include <stddef.h>

#include "limits.h"

/* The session cookie's name (the browser frontend relies on it). */
#define COOKIE_SESSION_NAME	"__Host-bc_session"

/*
 * Looks for the cookie name in a Cookie header value (RFC 6265 §4.2.1:
 * "a=b; c=d"; spaces around pairs ignored, a quoted value unquoted) and
 * copies its value, NUL-terminated, into out.  Only the first cookie of
 * that name counts (RFC 6265 §5.4: the most specific path comes first).
 * Values with characters outside RFC 6265's cookie-octet are refused.
 * Returns the value's length, or -1 when absent, malformed, or it does
 * not fit in outsz - 1 bytes.
 */
int	cookie_find(const void *hdr, size_t len, const char *name, char *out,
	    size_t outsz);

/*
 * Compares the session's CSRF token with the one a request sent, in
 * time independent of where they differ.  got may be NULL (header
 * missing).  Returns 1 when equal and not empty, 0 otherwise.
 */
int	csrf_equal(const char *expected, const char *got);

/*
 * Parses the login body {"username": "...", "password": "..."} (strict
 * JSON, valid UTF-8, depth 4, other members ignored) into user and pw,
 * NUL-terminated.  Returns 0, or -1 with a reason in *why (a static
 * string for the client) when the body is not such an object, a field is
 * missing, not a string, empty, contains NUL, or too long.
 */
int	login_parse(const void *buf, size_t len,
	    char user[LOGIN_MAX_USERNAME + 1], char pw[LOGIN_MAX_PASSWORD + 1],
	    const char **why);

#endif
