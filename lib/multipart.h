/*
 * multipart/form-data (RFC 7578, framing of RFC 2046 section 5.1.1) over a
 * body that is entirely in memory: nginx writes the request body to a
 * file, the FastCGI app maps it (mp_map) and hands the buffer to
 * mp_parse.  The parser copies only names, filenames and content types;
 * part data is described by (offset, length) into the caller's buffer,
 * so a 10 MiB file part is never copied.  No global state: the functions
 * are safe to call from any number of threads at once.
 *
 * Decisions (each one on purpose, see multipart.c for the reasons):
 * - Lines must end in CRLF; LF-only bodies are rejected.
 * - A body without the closing delimiter is rejected (fail closed).
 * - Duplicate field names are kept in order; mp_find returns the first.
 * - Quoted values accept the quoted-pairs \" and \\; any other backslash
 *   is kept literally (old IE sends "C:\dir\x.csv").  Percent-escapes
 *   such as %22 (what browsers and curl send for '"') are not decoded.
 * - filename is display-only: its basename, with control characters
 *   removed; never use it as a storage path.  "" means the client sent
 *   filename="" (a file input with no file chosen); NULL, no filename.
 * - An empty part (length 0) is valid; so is a body with no parts.
 * - filename*, Content-Transfer-Encoding, nested multipart parts and
 *   folded header lines are rejected (RFC 7578 sections 4.2, 4.3, 4.7).
 */
#ifndef MULTIPART_H
#define MULTIPART_H

#include <stddef.h>

#include "errbuf.h"
#include "limits.h"

#define MP_OK	0
#define MP_ERR	(-1)	/* with a message in the struct errbuf */

/* One part; the strings are owned by the mp_body that holds it. */
struct mp_part {
	char	*name;		/* form field name, NUL-terminated */
	char	*filename;	/* display basename, or NULL if absent */
	char	*content_type;	/* part Content-Type value, or NULL */
	size_t	 offset;	/* start of the part's data within buf */
	size_t	 length;	/* bytes of data (the CRLF before the
				 * delimiter excluded) */
};

struct mp_body {
	struct mp_part	parts[MP_MAX_PARTS];
	size_t		nparts;
};

/* A read-only mapping of a request body file (see mp_map). */
struct mp_map {
	const void	*buf;	/* NULL when len is 0 */
	size_t		 len;
};

/*
 * Extracts the boundary from a Content-Type header value
 * ("multipart/form-data; boundary=...", possibly quoted, other parameters
 * allowed, type and parameter names case-insensitive) into out, which
 * needs room for MP_MAX_BOUNDARY + 1 bytes.  Returns 0, or MP_ERR with err
 * if the type is not multipart/form-data or the boundary is missing,
 * empty, given twice, over MP_MAX_BOUNDARY characters or holds characters
 * RFC 2046 does not allow.
 */
int	mp_boundary(const char *content_type, char *out, size_t outsz,
	    struct errbuf *err) __attribute__((warn_unused_result));

/*
 * Parses buf (the whole body, len bytes) whose parts are delimited by
 * boundary (as returned by mp_boundary) into body, which needs no
 * initialisation (previous contents are overwritten, not freed).
 * Returns 0, or MP_ERR with a message for the client in err: missing
 * opening or closing delimiter, LF-only lines, a part without
 * Content-Disposition form-data with a name, too many parts, part headers
 * too long, filename* or Content-Transfer-Encoding given, ...  On MP_ERR
 * body is empty (nparts 0, nothing to free).  On success the caller frees
 * body with mp_body_free; offsets refer to buf, which the caller keeps.
 */
int	mp_parse(const void *buf, size_t len, const char *boundary,
	    struct mp_body *body, struct errbuf *err)
	    __attribute__((warn_unused_result));

/* First part named name, or NULL.  Borrowed from body. */
const struct mp_part *mp_find(const struct mp_body *body, const char *name);

/*
 * Copies the data of a text field part of buf into a new NUL-terminated
 * string, which the caller frees.  Returns NULL with err if the data is
 * longer than MP_MAX_FIELD_BYTES, contains a NUL byte, or memory runs out.
 */
char	*mp_field_dup(const void *buf, const struct mp_part *part,
	    struct errbuf *err);

/* Frees the strings of body (safe on a zeroed or already-freed body). */
void	mp_body_free(struct mp_body *body);

/*
 * Maps the file at path read-only into m (the body file nginx wrote).
 * If expect is not -1 the file size must equal it (CONTENT_LENGTH); it
 * must not exceed maxlen.  An empty file gives buf NULL and len 0.
 * Returns 0, or MP_ERR with err.  Release with mp_unmap.
 */
int	mp_map(const char *path, long long expect, size_t maxlen,
	    struct mp_map *m, struct errbuf *err)
	    __attribute__((warn_unused_result));

/* Unmaps m (safe on a zeroed or already-unmapped m). */
void	mp_unmap(struct mp_map *m);

#endif
