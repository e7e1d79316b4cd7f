/*
 * Query string parsing and re-encoding, matching Python's urllib.parse
 * (parse_qsl / urlencode with quote_plus) because DRF builds its
 * pagination links with them and clients compare those links verbatim.
 */
#include <string.h>

#include "query.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
query_unescape(const char *src, size_t len, int plus_is_space, char *out,
    size_t outsz)
{
	size_t i, o = 0;
	int c, hi, lo;

	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if (c == '+' && plus_is_space)
			c = ' ';
		else if (c == '%' && i + 2 < len &&
		    (hi = hexval((unsigned char)src[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)src[i + 2])) >= 0) {
			c = hi * 16 + lo;
			i += 2;
		}
		/* Python keeps "%zz" and a trailing "%4" literally. */
		if (c == '\0' || o + 1 >= outsz)
			return -1;
		out[o++] = (char)c;
	}
	if (o >= outsz)
		return -1;
	out[o] = '\0';
	return (int)o;
}

int
query_parse(const char *qs, struct query *q)
{
	const char *p, *amp, *eq;
	size_t used = 0, klen, vlen, room;
	int n;

	q->n = 0;
	if (qs == NULL)
		return 0;
	if (strlen(qs) > QUERY_MAX_BYTES)
		return -1;
	for (p = qs; *p != '\0'; p = *amp ? amp + 1 : amp) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		if (amp == p)
			continue;	/* "a=1&&b=2": parse_qsl skips it */
		if (q->n == QUERY_MAX_PARAMS)
			return -1;
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = eq ? (size_t)(eq - p) : (size_t)(amp - p);
		vlen = eq ? (size_t)(amp - eq - 1) : 0;

		room = sizeof(q->store) - used;
		if ((n = query_unescape(p, klen, 1, q->store + used, room)) < 0)
			return -1;
		q->p[q->n].key = q->store + used;
		used += (size_t)n + 1;

		room = sizeof(q->store) - used;
		if ((n = query_unescape(eq ? eq + 1 : "", vlen, 1,
		    q->store + used, room)) < 0)
			return -1;
		q->p[q->n].val = q->store + used;
		used += (size_t)n + 1;
		q->n++;
	}
	return 0;
}

const char *
query_get(const struct query *q, const char *key)
{
	size_t i = q->n;

	while (i-- > 0)
		if (strcmp(q->p[i].key, key) == 0)
			return q->p[i].val;
	return NULL;
}

void
query_del(struct query *q, const char *key)
{
	size_t i, o = 0;

	for (i = 0; i < q->n; i++)
		if (strcmp(q->p[i].key, key) != 0)
			q->p[o++] = q->p[i];
	q->n = o;
}

int
query_set(struct query *q, const char *key, const char *val)
{
	size_t i, o;
	int found = 0;

	/*
	 * Keep the first position of key with the new value and drop the
	 * others: parse_qs groups a key's values at its first position.
	 */
	for (i = o = 0; i < q->n; i++) {
		if (strcmp(q->p[i].key, key) == 0) {
			if (found)
				continue;
			found = 1;
			q->p[i].key = key;
			q->p[i].val = val;
		}
		q->p[o++] = q->p[i];
	}
	q->n = o;
	if (found)
		return 0;
	if (q->n == QUERY_MAX_PARAMS)
		return -1;
	q->p[q->n].key = key;
	q->p[q->n++].val = val;
	return 0;
}

/* quote_plus: letters, digits and "_.-~" stay, ' ' is '+', rest %XX. */
static int
put_quoted(const char *s, char *out, size_t outsz, size_t *o)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-' || c == '~') {
			if (*o + 1 >= outsz)
				return -1;
			out[(*o)++] = (char)c;
		} else if (c == ' ') {
			if (*o + 1 >= outsz)
				return -1;
			out[(*o)++] = '+';
		} else {
			if (*o + 3 >= outsz)
				return -1;
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 15];
		}
	}
	return 0;
}

int
query_encode(const struct query *q, char *out, size_t outsz)
{
	size_t idx[QUERY_MAX_PARAMS], i, j, t, o = 0;

	if (outsz == 0)
		return -1;
	/* Insertion sort: stable, and n is at most QUERY_MAX_PARAMS. */
	for (i = 0; i < q->n; i++) {
		t = i;
		for (j = i; j > 0 &&
		    strcmp(q->p[idx[j - 1]].key, q->p[t].key) > 0; j--)
			idx[j] = idx[j - 1];
		idx[j] = t;
	}
	for (i = 0; i < q->n; i++) {
		if (i > 0) {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = '&';
		}
		if (put_quoted(q->p[idx[i]].key, out, outsz, &o) == -1)
			return -1;
		if (o + 1 >= outsz)
			return -1;
		out[o++] = '=';
		if (put_quoted(q->p[idx[i]].val, out, outsz, &o) == -1)
			return -1;
	}
	out[o] = '\0';
	return (int)o;
}
