/*
 * Invariants of the multipart parser on arbitrary input, shared by the
 * libFuzzer target (fuzz_multipart.c) and the corpus replay in
 * tests/unit/test_multipart.c, so that both check exactly the same thing.
 * mpcheck_one() returns NULL, or a description of the first invariant
 * that does not hold.
 */
#ifndef MP_CHECK_H
#define MP_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

/* A boundary curl 7.88 generated (seed files in corpus/multipart use it). */
#define MPCHECK_BOUNDARY	"------------------------f93869fb8d9f7cd8"

static int
mpcheck_bchar(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' &&
	    strchr("'()+_,-./:=? ", c) != NULL);
}

/* Appends s to o (no NUL); returns the new end. */
static char *
mpcheck_put(char *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return o + n;
}

/* Appends s to o as a quoted-string, escaping '"' and '\\'. */
static char *
mpcheck_quote(char *o, const char *s)
{
	*o++ = '"';
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o++ = '"';
	return o;
}

static int
mpcheck_streq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * Writes the parsed parts back out as a canonical body with the same
 * boundary and parses that: the result must be the same parts.  This
 * catches a parser that reads the same bytes two ways.
 */
static const char *
mpcheck_roundtrip(const uint8_t *data, const struct mp_body *in,
    const char *boundary)
{
	const struct mp_part *a, *b;
	struct mp_body out;
	struct errbuf err;
	const char *bad = NULL;
	size_t i, sz;
	char *buf, *o;

	sz = 64 + strlen(boundary);
	for (i = 0; i < in->nparts; i++) {
		a = &in->parts[i];
		sz += 128 + 2 * strlen(boundary) + 2 * strlen(a->name) +
		    (a->filename ? 2 * strlen(a->filename) : 0) +
		    (a->content_type ? strlen(a->content_type) : 0) + a->length;
	}
	if ((o = buf = malloc(sz)) == NULL)
		return NULL;
	for (i = 0; i < in->nparts; i++) {
		a = &in->parts[i];
		o = mpcheck_put(o, "--");
		o = mpcheck_put(o, boundary);
		o = mpcheck_put(o, "\r\nContent-Disposition: form-data; name=");
		o = mpcheck_quote(o, a->name);
		if (a->filename != NULL) {
			o = mpcheck_put(o, "; filename=");
			o = mpcheck_quote(o, a->filename);
		}
		o = mpcheck_put(o, "\r\n");
		if (a->content_type != NULL) {
			o = mpcheck_put(o, "Content-Type: ");
			o = mpcheck_put(o, a->content_type);
			o = mpcheck_put(o, "\r\n");
		}
		o = mpcheck_put(o, "\r\n");
		memcpy(o, data + a->offset, a->length);
		o += a->length;
		o = mpcheck_put(o, "\r\n");
	}
	o = mpcheck_put(o, "--");
	o = mpcheck_put(o, boundary);
	o = mpcheck_put(o, "--\r\n");
	if (mp_parse(buf, o - buf, boundary, &out, &err) != 0)
		bad = "a re-serialised body parses";
	else if (out.nparts != in->nparts)
		bad = "a re-serialised body has the same parts";
	for (i = 0; bad == NULL && i < in->nparts; i++) {
		a = &in->parts[i];
		b = &out.parts[i];
		if (!mpcheck_streq(a->name, b->name) ||
		    !mpcheck_streq(a->filename, b->filename) ||
		    !mpcheck_streq(a->content_type, b->content_type) ||
		    a->length != b->length || memcmp(data + a->offset,
		    buf + b->offset, a->length) != 0)
			bad = "a re-serialised part reads the same";
	}
	mp_body_free(&out);
	free(buf);
	return bad;
}

/* Parses data with boundary and checks every promise of multipart.h. */
static const char *
mpcheck_body(const uint8_t *data, size_t size, const char *boundary)
{
	const struct mp_part *p, *f, *prev = NULL;
	const char *bad;
	struct mp_body body;
	struct errbuf err;
	char delim[4 + MP_MAX_BOUNDARY + 2], *s;
	const unsigned char *c;
	size_t i, dlen;
	int r;

	dlen = strlen(boundary);
	if (dlen > MP_MAX_BOUNDARY + 1)
		dlen = MP_MAX_BOUNDARY + 1;
	memcpy(delim, "\r\n--", 4);
	memcpy(delim + 4, boundary, dlen);
	dlen += 4;
	err.msg[0] = '\0';
	r = mp_parse(data, size, boundary, &body, &err);
	if (r == MP_ERR) {
		if (body.nparts != 0)
			return "a failed parse leaves no parts";
		if (err.msg[0] == '\0')
			return "a failed parse sets a message";
		return NULL;
	}
	if (r != MP_OK)
		return "mp_parse returns 0 or -1";
	if (body.nparts > MP_MAX_PARTS)
		return "at most MP_MAX_PARTS parts";
	for (i = 0; i < body.nparts; i++) {
		p = &body.parts[i];
		if (p->name == NULL)
			return "every part has a name";
		if (p->offset > size || p->length > size - p->offset)
			return "every part lies within buf";
		if ((size - (p->offset + p->length) < dlen ||
		    memcmp(data + p->offset + p->length, delim, dlen) != 0) &&
		    (p->length != 0 || p->offset < 2 ||
		    size - p->offset < dlen - 2 ||
		    memcmp(data + p->offset - 2, delim, dlen) != 0))
			return "a delimiter follows every part's data";
		if (memmem(data + p->offset, p->length, delim, dlen) != NULL)
			return "no delimiter inside a part's data";
		if (prev != NULL && p->offset < prev->offset + prev->length +
		    dlen - 2)
			return "parts are in order and do not overlap";
		if (p->filename != NULL) {
			for (c = (const unsigned char *)p->filename; *c; c++)
				if (*c < 0x20 || *c == 0x7f || *c == '/' ||
				    *c == '\\')
					return "filename is a clean basename";
			if (strcmp(p->filename, ".") == 0 ||
			    strcmp(p->filename, "..") == 0)
				return "filename is not . or ..";
		}
		f = mp_find(&body, p->name);
		if (f == NULL || f > p || strcmp(f->name, p->name) != 0)
			return "mp_find returns the first part of that name";
		s = mp_field_dup(data, p, &err);
		if (s != NULL && strlen(s) != p->length)
			return "mp_field_dup copies the whole field";
		if (s == NULL && p->length <= MP_MAX_FIELD_BYTES &&
		    memchr(data + p->offset, '\0', p->length) == NULL)
			return "mp_field_dup copies a small text field";
		free(s);
		prev = p;
	}
	bad = mpcheck_roundtrip(data, &body, boundary);
	mp_body_free(&body);
	if (bad != NULL)
		return bad;
	if (body.nparts != 0)
		return "mp_body_free empties the body";
	mp_body_free(&body);	/* twice is safe */
	return NULL;
}

/*
 * One input, three ways: with the fixed boundary; with the boundary taken
 * from the first line if it starts with "--" (passed through mp_boundary,
 * and raw); and the first bytes as a Content-Type value.
 */
static const char *
mpcheck_one(const uint8_t *data, size_t size)
{
	char b[128], ct[200], out[MP_MAX_BOUNDARY + 1];
	struct errbuf err;
	const char *bad;
	size_t n, i;

	if ((bad = mpcheck_body(data, size, MPCHECK_BOUNDARY)) != NULL)
		return bad;
	if (size >= 2 && data[0] == '-' && data[1] == '-') {
		for (n = 0; n + 2 < size && n < 80 && data[n + 2] != '\r' &&
		    data[n + 2] != '\n'; n++)
			b[n] = data[n + 2];
		b[n] = '\0';
		snprintf(ct, sizeof(ct), "Multipart/Form-Data; charset=utf-8;"
		    " boundary=\"%s\"", b);
		if (mp_boundary(ct, out, sizeof(out), &err) == 0) {
			if (strlen(out) < 1 || strlen(out) > MP_MAX_BOUNDARY)
				return "mp_boundary gives 1-70 characters";
			if ((bad = mpcheck_body(data, size, out)) != NULL)
				return bad;
		}
		if ((bad = mpcheck_body(data, size, b)) != NULL)
			return bad;
	}
	n = size < sizeof(ct) - 1 ? size : sizeof(ct) - 1;
	memcpy(ct, data, n);
	ct[n] = '\0';
	if (mp_boundary(ct, out, sizeof(out), &err) == 0) {
		n = strlen(out);
		if (n < 1 || n > MP_MAX_BOUNDARY || out[n - 1] == ' ')
			return "mp_boundary gives 1-70 characters";
		for (i = 0; i < n; i++)
			if (!mpcheck_bchar((unsigned char)out[i]))
				return "mp_boundary gives only bchars";
	}
	return NULL;
}

#endif
