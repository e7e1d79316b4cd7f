/*
 * Query strings (application/x-www-form-urlencoded, WHATWG URL 5.1) the
 * way Django reads them and DRF rewrites them for pagination links.
 * Pure: no FastCGI, no allocation, so unit tests call it directly.
 */
#ifndef QUERY_H
#define QUERY_H

#include <stddef.h>

#include "limits.h"

struct query_param {
	const char	*key;
	const char	*val;
};

/* A parsed query string; keys and values point into store or are borrowed. */
struct query {
	size_t			n;
	struct query_param	p[QUERY_MAX_PARAMS];
	char			store[QUERY_MAX_BYTES + 2 * QUERY_MAX_PARAMS];
};

/*
 * Parses qs (may be NULL or "") into q as Python's parse_qsl(qs,
 * keep_blank_values=True) does: '&'-separated, '+' is a space, %XX
 * decoded (an invalid escape is kept literally), "k" alone is k="".
 * Returns 0, or -1 if qs is longer than QUERY_MAX_BYTES, has more than
 * QUERY_MAX_PARAMS parameters or decodes to a NUL byte.
 */
int	 query_parse(const char *qs, struct query *q);

/* The last value of key (as Django's QueryDict.get), or NULL.  Borrowed. */
const char *query_get(const struct query *q, const char *key);

/* Removes every value of key. */
void	 query_del(struct query *q, const char *key);

/*
 * Replaces every value of key with val (borrowed: it must outlive q's
 * use).  Returns 0, or -1 if q is full.
 */
int	 query_set(struct query *q, const char *key, const char *val);

/*
 * Encodes q as Python's urlencode(sorted(parse_qs(..).items()),
 * doseq=True) does (DRF's replace_query_param): stable sort by key,
 * quote_plus escaping.  Writes a NUL-terminated string into out and
 * returns its length, or -1 if it does not fit in outsz.
 */
int	 query_encode(const struct query *q, char *out, size_t outsz);

/*
 * Percent-decodes src[0..len) into out (outsz bytes, NUL-terminated);
 * plus_is_space turns '+' into ' ' (query strings, not paths).  Returns
 * the decoded length, or -1 if it does not fit or decodes to a NUL.
 */
int	 query_unescape(const char *src, size_t len, int plus_is_space,
	    char *out, size_t outsz);

#endif
