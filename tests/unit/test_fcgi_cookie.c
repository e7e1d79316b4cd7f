/*
 * Session cookie lookup (RFC 6265), CSRF token comparison and the login
 * body parser of fcgi/cookie.c.
 */
#include <string.h>

#include <sodium.h>

#include "cookie.h"
#include "tap.h"

#define TOK	"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"

static int
find(const char *hdr, char *out, size_t outsz)
{
	return cookie_find(hdr, strlen(hdr), COOKIE_SESSION_NAME, out, outsz);
}

static void
test_cookie(void)
{
	char out[64], small[4], big[COOKIE_MAX_HEADER + 64];
	size_t i;

	ok(find("__Host-bc_session=" TOK, out, sizeof(out)) == 43 &&
	    strcmp(out, TOK) == 0, "single cookie");
	ok(find("a=1; __Host-bc_session=" TOK "; b=2", out,
	    sizeof(out)) == 43 &&
	    strcmp(out, TOK) == 0, "among others");
	ok(find("  a=1 ;__Host-bc_session = " TOK " ", out,
	    sizeof(out)) == 43 &&
	    strcmp(out, TOK) == 0, "spaces around name and value");
	ok(find("__Host-bc_session=\"" TOK "\"", out, sizeof(out)) == 43 &&
	    strcmp(out, TOK) == 0, "quoted value unquoted");
	ok(find("__Host-bc_session=first; __Host-bc_session=second", out,
	    sizeof(out)) == 5 && strcmp(out, "first") == 0,
	    "first of two wins");
	/* The prefix is part of the name (RFC 6265bis __Host-). */
	ok(find("bc_session=" TOK, out, sizeof(out)) == -1,
	    "the name without __Host- is another cookie");
	ok(find("x__Host-bc_session=1; __Host-bc_sessionx=2", out,
	    sizeof(out)) == -1,
	    "names match exactly, not as prefixes");
	ok(find("BC_SESSION=1", out, sizeof(out)) == -1,
	    "names are case-sensitive");
	ok(find("", out, sizeof(out)) == -1, "empty header");
	ok(find(";;;", out, sizeof(out)) == -1, "only separators");
	ok(find("__Host-bc_session", out, sizeof(out)) == -1,
	    "name without '='");
	ok(find("__Host-bc_session=", out, sizeof(out)) == 0 && out[0] == '\0',
	    "empty value");
	ok(find("__Host-bc_session=a\"b", out, sizeof(out)) == -1,
	    "quote inside a value refused");
	ok(find("__Host-bc_session=a\\b", out, sizeof(out)) == -1,
	    "backslash refused");
	ok(find("__Host-bc_session=a,b", out, sizeof(out)) == -1,
	    "comma refused");
	ok(find("__Host-bc_session=a\x01" "b", out, sizeof(out)) == -1,
	    "control character refused");
	ok(find("__Host-bc_session=\xc3\xa9", out, sizeof(out)) == -1,
	    "non-ASCII refused");
	ok(find("__Host-bc_session=" TOK, small, sizeof(small)) == -1,
	    "too long for the buffer: refused, not truncated");
	ok(cookie_find("__Host-bc_session=abc", 20, COOKIE_SESSION_NAME, out,
	    sizeof(out)) == 2 && strcmp(out, "ab") == 0,
	    "length bounds the header (no NUL needed)");
	ok(cookie_find(NULL, 0, COOKIE_SESSION_NAME, out, sizeof(out)) == -1,
	    "NULL header");

	/* A cookie past the header cap is not looked at. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "x=", 2);
	i = COOKIE_MAX_HEADER + 2;
	memcpy(big + i - 2, "; __Host-bc_session=zz", 22);
	big[i + 20] = '\0';
	ok(find(big, out, sizeof(out)) == -1, "beyond COOKIE_MAX_HEADER");
}

static void
test_csrf(void)
{
	ok(csrf_equal(TOK, TOK) == 1, "equal tokens");
	ok(csrf_equal(TOK, TOK "x") == 0, "longer refused");
	ok(csrf_equal(TOK, "AbCd") == 0, "prefix refused");
	ok(csrf_equal(TOK, "bbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde") ==
	    0, "first byte differs");
	ok(csrf_equal(TOK, "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdf") ==
	    0, "last byte differs");
	ok(csrf_equal(TOK, NULL) == 0, "missing header");
	ok(csrf_equal(TOK, "") == 0, "empty header");
	ok(csrf_equal("", "") == 0, "empty token never matches");
	ok(csrf_equal(NULL, TOK) == 0, "no session token");
}

static int
parse(const char *s, char *u, char *p, const char **why)
{
	return login_parse(s, strlen(s), u, p, why);
}

static void
test_login(void)
{
	char u[LOGIN_MAX_USERNAME + 1], p[LOGIN_MAX_PASSWORD + 1];
	char body[LOGIN_MAX_BODY + 16];
	const char *why;
	size_t n;

	ok(parse("{\"username\": \"alice\", \"password\": \"s3cret pw\"}", u,
	    p, &why) == 0 && strcmp(u, "alice") == 0 &&
	    strcmp(p, "s3cret pw") == 0 && why == NULL, "plain login");
	ok(parse("{\"password\":\"x\\u00e9\",\"username\":\"b\",\"x\":[1]}\n",
	    u, p, &why) == 0 && strcmp(p, "x\xc3\xa9") == 0 &&
	    strcmp(u, "b") == 0, "escapes, order, extra member, trailing "
	    "newline");
	ok(parse("{\"username\":\"a\"}", u, p, &why) == -1 && why != NULL,
	    "password missing");
	ok(parse("{\"username\":\"a\",\"password\":1}", u, p, &why) == -1,
	    "password not a string");
	ok(parse("{\"username\":\"\",\"password\":\"x\"}", u, p, &why) == -1,
	    "empty user name");
	ok(parse("{\"username\":\"a\\u0000b\",\"password\":\"x\"}", u, p,
	    &why) == -1, "NUL inside a field");
	ok(parse("[\"username\",\"password\"]", u, p, &why) == -1,
	    "array refused");
	ok(parse("{\"username\":\"a\",\"password\":\"x\"} {}", u, p,
	    &why) == -1, "trailing value refused");
	ok(parse("{\"username\":\"a\",\"password\":\"x\"", u, p, &why) == -1,
	    "truncated");
	ok(parse("{'username':'a','password':'x'}", u, p, &why) == -1,
	    "not strict JSON");
	ok(parse("{\"username\":\"\xff\",\"password\":\"x\"}", u, p,
	    &why) == -1, "invalid UTF-8");
	ok(parse("{\"a\":{\"b\":{\"c\":{\"d\":{}}}},\"username\":\"a\","
	    "\"password\":\"x\"}", u, p, &why) == -1, "too deep");
	ok(login_parse(NULL, 0, u, p, &why) == -1, "no body");

	n = (size_t)snprintf(body, sizeof(body),
	    "{\"username\":\"a\",\"password\":\"%0*d\"}",
	    LOGIN_MAX_PASSWORD, 0);
	ok(n < sizeof(body) && login_parse(body, n, u, p, &why) == 0 &&
	    strlen(p) == LOGIN_MAX_PASSWORD, "longest password accepted");
	n = (size_t)snprintf(body, sizeof(body),
	    "{\"username\":\"a\",\"password\":\"%0*d\"}",
	    LOGIN_MAX_PASSWORD + 1, 0);
	ok(login_parse(body, n, u, p, &why) == -1 && p[0] == '\0',
	    "password over the cap refused and wiped");
	memset(body, ' ', sizeof(body));
	ok(login_parse(body, LOGIN_MAX_BODY + 1, u, p, &why) == -1,
	    "body over the cap");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_cookie();
	test_csrf();
	test_login();
	return done_testing();
}
