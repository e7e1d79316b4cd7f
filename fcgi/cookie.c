/*
 * Session cookie lookup, CSRF token comparison and the login body: the
 * parsers of the session code, kept free of FastCGI and the database.
 */
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "cookie.h"

/* RFC 6265 §4.1.1 cookie-octet: no CTLs, space, '"', ',', ';', '\'. */
static int
cookie_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
	    (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
	    (c >= 0x5d && c <= 0x7e);
}

int
cookie_find(const void *hdr, size_t len, const char *name, char *out,
    size_t outsz)
{
	const char *s = hdr, *end, *pair, *eq, *v, *ve;
	size_t nlen, vlen;

	if (hdr == NULL || name == NULL || out == NULL || outsz == 0)
		return -1;
	if (len > COOKIE_MAX_HEADER)
		len = COOKIE_MAX_HEADER;
	end = s + len;
	nlen = strlen(name);
	while (s < end) {
		/* One pair: up to ';' or the end. */
		while (s < end && (*s == ' ' || *s == '\t' || *s == ';'))
			s++;
		pair = s;
		while (s < end && *s != ';')
			s++;
		eq = memchr(pair, '=', (size_t)(s - pair));
		if (eq == NULL)
			continue;
		ve = s;
		/* Exact match: cookie names are case-sensitive. */
		{
			const char *ne = eq;

			while (ne > pair && (ne[-1] == ' ' || ne[-1] == '\t'))
				ne--;
			if ((size_t)(ne - pair) != nlen ||
			    memcmp(pair, name, nlen) != 0)
				continue;
		}
		v = eq + 1;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
			v++;
			ve--;
		}
		vlen = (size_t)(ve - v);
		if (vlen + 1 > outsz)
			return -1;
		for (pair = v; pair < ve; pair++)
			if (!cookie_octet((unsigned char)*pair))
				return -1;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
		return (int)vlen;
	}
	return -1;
}

int
csrf_equal(const char *expected, const char *got)
{
	size_t n;

	if (expected == NULL || got == NULL)
		return 0;
	n = strlen(expected);
	/* Lengths are not secret (every token has the same one). */
	if (n == 0 || strlen(got) != n)
		return 0;
	return sodium_memcmp(expected, got, n) == 0;
}

/* 1 if s[0..n) is JSON whitespace only (RFC 8259 §2). */
static int
only_space(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
		    s[i] != '\r')
			return 0;
	return 1;
}

/* Copies the string member key of obj into out; -1 with *why. */
static int
get_field(struct json_object *obj, const char *key, char *out, size_t max,
    const char **why)
{
	struct json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string)) {
		*why = "The body must have string fields username and "
		    "password.";
		return -1;
	}
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n == 0) {
		*why = "The user name and the password must not be empty.";
		return -1;
	}
	if (n > max || memchr(s, '\0', n) != NULL) {
		*why = "The user name or the password is too long or "
		    "malformed.";
		return -1;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int
login_parse(const void *buf, size_t len, char user[LOGIN_MAX_USERNAME + 1],
    char pw[LOGIN_MAX_PASSWORD + 1], const char **why)
{
	struct json_tokener *tok;
	struct json_object *root;
	int rc = -1;

	*why = "The body must be a JSON object with username and password.";
	user[0] = pw[0] = '\0';
	if (buf == NULL || len == 0 || len > LOGIN_MAX_BODY)
		return -1;
	if ((tok = json_tokener_new_ex(4)) == NULL)
		return -1;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, buf, (int)len);
	/*
	 * The whole buffer must be one value: trailing bytes after the
	 * object (another object, garbage) are refused.
	 */
	if (root != NULL && (json_tokener_get_error(tok) !=
	    json_tokener_success || !only_space((const char *)buf +
	    json_tokener_get_parse_end(tok), len -
	    json_tokener_get_parse_end(tok)))) {
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	if (root == NULL || !json_object_is_type(root, json_type_object))
		goto out;
	if (get_field(root, "username", user, LOGIN_MAX_USERNAME, why) == -1 ||
	    get_field(root, "password", pw, LOGIN_MAX_PASSWORD, why) == -1) {
		sodium_memzero(pw, LOGIN_MAX_PASSWORD + 1);
		goto out;
	}
	rc = 0;
	*why = NULL;
out:
	/* json-c keeps its own copy of the password: wipe it too. */
	if (root != NULL) {
		struct json_object *v;

		if (json_object_object_get_ex(root, "password", &v) &&
		    json_object_is_type(v, json_type_string))
			sodium_memzero((char *)(uintptr_t)
			    json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
		json_object_put(root);
	}
	return rc;
}
