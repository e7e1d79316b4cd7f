/*
 * Text forms the Celery wire format needs: Python-style JSON (kombu uses
 * json.dumps with ensure_ascii), Python repr() for argsrepr/kwargsrepr,
 * ISO-8601 time stamps, base64, and the capped buffer behind them.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "celery.h"
#include "celery_int.h"
#include "utf8.h"

/* Nesting we serialize; parsed input is already capped at JSON_MAX_DEPTH. */
#define DUMP_MAX_DEPTH	64

void
celery_buf_init(struct celery_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

int
celery_buf_add(struct celery_buf *b, const void *s, size_t n)
{
	size_t ncap;
	char *np;

	if (b->failed)
		return -1;
	if (n > b->max || b->len + n + 1 > b->max) {
		b->failed = 1;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if (ncap > b->max)
			ncap = b->max;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->failed = 1;
			return -1;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
celery_buf_puts(struct celery_buf *b, const char *s)
{
	return celery_buf_add(b, s, strlen(s));
}

int
celery_buf_printf(struct celery_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->failed = 1;
		return -1;
	}
	return celery_buf_add(b, tmp, n);
}

char *
celery_buf_take(struct celery_buf *b, size_t *lenp)
{
	char *p;

	if (b->failed || celery_buf_add(b, "", 0) == -1) {
		celery_buf_free(b);
		return NULL;
	}
	p = b->p;
	if (lenp != NULL)
		*lenp = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void
celery_buf_free(struct celery_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/*
 * Decodes one UTF-8 sequence at s (n bytes left).  Returns its length and
 * the code point, or 1 and U+FFFD for an invalid byte.
 */
static size_t
utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t k;

	if ((k = utf8_decode(s, n, cp)) == 0) {
		*cp = 0xfffd;
		k = 1;
	}
	return k;
}

/* A JSON string as Python's json.dumps(ensure_ascii=True) writes it. */
static int
dump_string(struct celery_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	uint32_t cp;

	celery_buf_add(b, "\"", 1);
	while (i < n) {
		k = utf8_next(p + i, n - i, &cp);
		i += k;
		switch (cp) {
		case '"':
			celery_buf_add(b, "\\\"", 2);
			break;
		case '\\':
			celery_buf_add(b, "\\\\", 2);
			break;
		case '\n':
			celery_buf_add(b, "\\n", 2);
			break;
		case '\r':
			celery_buf_add(b, "\\r", 2);
			break;
		case '\t':
			celery_buf_add(b, "\\t", 2);
			break;
		case '\b':
			celery_buf_add(b, "\\b", 2);
			break;
		case '\f':
			celery_buf_add(b, "\\f", 2);
			break;
		default:
			if (cp < 0x20 || cp > 0x7e) {
				if (cp == 0x7f) {
					celery_buf_add(b, "\x7f", 1);
				} else if (cp < 0x10000) {
					celery_buf_printf(b, "\\u%04x", cp);
				} else {
					cp -= 0x10000;
					celery_buf_printf(b, "\\u%04x\\u%04x",
					    0xd800 + (cp >> 10),
					    0xdc00 + (cp & 0x3ff));
				}
			} else {
				char ch = (char)cp;

				celery_buf_add(b, &ch, 1);
			}
		}
	}
	return celery_buf_add(b, "\"", 1);
}

static int
dump_value(struct celery_buf *b, struct json_object *o, int depth)
{
	struct json_object_iterator it, end;
	size_t i, n;
	int first = 1;

	if (depth > DUMP_MAX_DEPTH) {
		b->failed = 1;
		return -1;
	}
	switch (json_object_get_type(o)) {
	case json_type_null:
		return celery_buf_puts(b, "null");
	case json_type_boolean:
		return celery_buf_puts(b, json_object_get_boolean(o) ?
		    "true" : "false");
	case json_type_int:
	case json_type_double:
		/* json-c keeps a parsed number's text; fine for Python. */
		return celery_buf_puts(b, json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN));
	case json_type_string:
		return dump_string(b, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
	case json_type_array:
		celery_buf_add(b, "[", 1);
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			if (i > 0)
				celery_buf_add(b, ", ", 2);
			dump_value(b, json_object_array_get_idx(o, i),
			    depth + 1);
		}
		return celery_buf_add(b, "]", 1);
	case json_type_object:
		celery_buf_add(b, "{", 1);
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		while (!json_object_iter_equal(&it, &end)) {
			const char *k = json_object_iter_peek_name(&it);

			if (!first)
				celery_buf_add(b, ", ", 2);
			first = 0;
			dump_string(b, k, strlen(k));
			celery_buf_add(b, ": ", 2);
			dump_value(b, json_object_iter_peek_value(&it),
			    depth + 1);
			json_object_iter_next(&it);
		}
		return celery_buf_add(b, "}", 1);
	}
	b->failed = 1;
	return -1;
}

int
celery_buf_json(struct celery_buf *b, struct json_object *o)
{
	dump_value(b, o, 0);
	return b->failed ? -1 : 0;
}

char *
celery_json_dump(struct json_object *o, size_t *lenp)
{
	struct celery_buf b;

	celery_buf_init(&b, CELERY_MAX_OUTPUT);
	if (celery_buf_json(&b, o) == -1) {
		celery_buf_free(&b);
		return NULL;
	}
	return celery_buf_take(&b, lenp);
}

/* A str's repr(): Python picks ' unless the text has ' and no ". */
static void
repr_string(struct celery_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char q = '\'';
	size_t i, k;
	uint32_t cp;

	if (memchr(s, '\'', n) != NULL && memchr(s, '"', n) == NULL)
		q = '"';
	celery_buf_add(b, &q, 1);
	for (i = 0; i < n; i += k) {
		k = utf8_next(p + i, n - i, &cp);
		if (cp == (uint32_t)q || cp == '\\') {
			celery_buf_add(b, "\\", 1);
			celery_buf_add(b, p + i, 1);
		} else if (cp == '\n')
			celery_buf_add(b, "\\n", 2);
		else if (cp == '\r')
			celery_buf_add(b, "\\r", 2);
		else if (cp == '\t')
			celery_buf_add(b, "\\t", 2);
		else if (cp < 0x20 || cp == 0x7f)
			celery_buf_printf(b, "\\x%02x", cp);
		else if (cp == 0xfffd && k == 1)
			celery_buf_puts(b, "\\ufffd");
		else
			celery_buf_add(b, p + i, k);
	}
	celery_buf_add(b, &q, 1);
}

static void
repr_value(struct celery_buf *b, struct json_object *o, int as_tuple,
    int depth)
{
	struct json_object_iterator it, end;
	const char *num;
	size_t i, n;
	int first = 1;

	if (depth > DUMP_MAX_DEPTH || b->len > CELERY_REPR_MAX) {
		b->failed = b->failed || depth > DUMP_MAX_DEPTH;
		return;
	}
	switch (json_object_get_type(o)) {
	case json_type_null:
		celery_buf_puts(b, "None");
		break;
	case json_type_boolean:
		celery_buf_puts(b, json_object_get_boolean(o) ?
		    "True" : "False");
		break;
	case json_type_int:
		celery_buf_puts(b, json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN));
		break;
	case json_type_double:
		num = json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN);
		celery_buf_puts(b, num);
		/* Python always shows a float as a float: 3 -> 3.0. */
		if (strpbrk(num, ".eEnN") == NULL)
			celery_buf_puts(b, ".0");
		break;
	case json_type_string:
		repr_string(b, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
		break;
	case json_type_array:
		celery_buf_puts(b, as_tuple ? "(" : "[");
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			if (i > 0)
				celery_buf_puts(b, ", ");
			repr_value(b, json_object_array_get_idx(o, i), 0,
			    depth + 1);
		}
		if (as_tuple && n == 1)
			celery_buf_puts(b, ",");
		celery_buf_puts(b, as_tuple ? ")" : "]");
		break;
	case json_type_object:
		celery_buf_puts(b, "{");
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		while (!json_object_iter_equal(&it, &end)) {
			const char *k = json_object_iter_peek_name(&it);

			if (!first)
				celery_buf_puts(b, ", ");
			first = 0;
			repr_string(b, k, strlen(k));
			celery_buf_puts(b, ": ");
			repr_value(b, json_object_iter_peek_value(&it), 0,
			    depth + 1);
			json_object_iter_next(&it);
		}
		celery_buf_puts(b, "}");
		break;
	}
}

char *
celery_pyrepr(struct json_object *o, int as_tuple)
{
	struct celery_buf b;
	size_t cut;

	celery_buf_init(&b, CELERY_MAX_OUTPUT);
	repr_value(&b, o, as_tuple, 0);
	if (!b.failed && b.len > CELERY_REPR_MAX) {
		/* Cut on a UTF-8 boundary and mark it, as saferepr does. */
		cut = utf8_prefix(b.p, b.len, CELERY_REPR_MAX);
		b.len = cut;
		b.p[cut] = '\0';
		celery_buf_puts(&b, "...");
	}
	return celery_buf_take(&b, NULL);
}

static int
digits(const char **sp, int n, int *out)
{
	const char *s = *sp;
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*sp = s + n;
	*out = v;
	return 0;
}

int
celery_parse_isotime(const char *s, double *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	double frac = 0, scale = 0.1;
	struct tm tm;
	time_t t;

	if (s == NULL || digits(&s, 4, &y) || *s++ != '-' ||
	    digits(&s, 2, &mo) || *s++ != '-' || digits(&s, 2, &d))
		return -1;
	if (*s == 'T' || *s == ' ') {
		s++;
		if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
			return -1;
		if (*s == ':') {
			s++;
			if (digits(&s, 2, &sec))
				return -1;
			if (*s == '.' || *s == ',') {
				s++;
				if (!isdigit((unsigned char)*s))
					return -1;
				while (isdigit((unsigned char)*s)) {
					frac += (*s++ - '0') * scale;
					scale /= 10;
				}
			}
		}
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (digits(&s, 2, &oh))
			return -1;
		if (*s == ':')
			s++;
		if (isdigit((unsigned char)*s) && digits(&s, 2, &om))
			return -1;
	}
	if (*s != '\0')
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || oh > 23 || om > 59 || y < 1970)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (double)t + frac - sign * (oh * 3600.0 + om * 60.0);
	return 0;
}

void
celery_origin(char *out, size_t outsz)
{
	char host[256];

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(out, outsz, "gen%ld@%s", (long)getpid(), host);
}

char *
celery_b64encode(const void *buf, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);
	char *out;

	if (len > CELERY_MAX_OUTPUT || (out = malloc(n)) == NULL)
		return NULL;
	sodium_bin2base64(out, n, buf, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}
