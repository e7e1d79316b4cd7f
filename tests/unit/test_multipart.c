/*
 * Unit tests for the multipart/form-data parser (lib/multipart.c): real
 * curl and browser bodies, every rejection the parser promises, a valid
 * body truncated at every length, and a replay of the fuzzing seed corpus
 * (tests/fuzz/corpus/multipart) through the fuzzer's invariants.
 */
#include <sys/types.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "multipart.h"
#include "mp_check.h"
#include "tap.h"
#include "corpus.h"

#ifndef MP_CORPUS_DIR
#define MP_CORPUS_DIR	"tests/fuzz/corpus/multipart"
#endif

/* Boundary of a body curl 7.88 sent for -F file=@claims.csv. */
#define CB	"------------------------f93869fb8d9f7cd8"
#define CB_SHORT "------------------------f93869fb8d9f7cd"
#define CT_CURL	"multipart/form-data; boundary=" CB
#define CSV	"claim_number,first_name,last_name,date_of_birth," \
		"subscriber_id\r\nZE59426195,John,Doe,1980-01-15,ABC123456\r\n"
#define CDH(n)	"Content-Disposition: form-data; name=\"" n "\"\r\n"

/* Captured with curl -F file=@claims.csv --trace-ascii against a socket. */
static const char curl_body[] =
	"--" CB "\r\n"
	"Content-Disposition: form-data; name=\"file\"; "
	"filename=\"claims.csv\"\r\n"
	"Content-Type: application/octet-stream\r\n"
	"\r\n"
	CSV
	"\r\n--" CB "--\r\n";

/* Chrome's shape: WebKitFormBoundary + 16 characters, CRLF. */
#define WB	"----WebKitFormBoundary7MA4YWxkTrZu0gW"
static const char webkit_body[] =
	"--" WB "\r\n"
	"Content-Disposition: form-data; name=\"file\"; "
	"filename=\"claims.csv\"\r\n"
	"Content-Type: text/csv\r\n\r\n"
	CSV
	"\r\n--" WB "\r\n"
	CDH("csrfmiddlewaretoken") "\r\nabc123\r\n"
	"--" WB "--\r\n";

static struct errbuf err;

/* Parses a string literal body (its length is sizeof - 1). */
#define PARSE(lit, b, body)	\
	mp_parse((lit), sizeof(lit) - 1, (b), (body), &err)

/* 1 if part p of buf holds exactly the n bytes s. */
static int
data_is(const char *buf, const struct mp_part *p, const char *s, size_t n)
{
	return p != NULL && p->length == n &&
	    memcmp(buf + p->offset, s, n) == 0;
}

/* Parses a heap copy of exactly len bytes, so ASan sees any overread. */
static int
parse_exact(const char *src, size_t len, const char *b, struct mp_body *body)
{
	char *copy;
	int r;

	copy = malloc(len ? len : 1);
	memcpy(copy, src, len);
	r = mp_parse(copy, len, b, body, &err);
	free(copy);
	return r;
}

static void
test_boundary(void)
{
	char out[MP_MAX_BOUNDARY + 1], b70[MP_MAX_BOUNDARY + 2], ct[200];

	ok(mp_boundary(CT_CURL, out, sizeof(out), &err) == 0 &&
	    strcmp(out, CB) == 0, "curl's Content-Type gives its boundary");
	ok(mp_boundary("multipart/form-data; boundary=" WB, out, sizeof(out),
	    &err) == 0 && strcmp(out, WB) == 0, "WebKit boundary");
	ok(mp_boundary("multipart/form-data; boundary=\"simple boundary\"",
	    out, sizeof(out), &err) == 0 &&
	    strcmp(out, "simple boundary") == 0,
	    "quoted boundary with a space");
	ok(mp_boundary(" Multipart/Form-Data ; charset=utf-8;BOUNDARY=a'b(c)"
	    "+_,-./:=?", out, sizeof(out), &err) == 0 &&
	    strcmp(out, "a'b(c)+_,-./:=?") == 0,
	    "case-insensitive names, other params, all bchars");
	ok(mp_boundary("text/csv", out, sizeof(out), &err) == -1 &&
	    strstr(err.msg, "not multipart/form-data") != NULL,
	    "text/csv rejected (%s)", err.msg);
	ok(mp_boundary("multipart/mixed; boundary=x", out, sizeof(out),
	    &err) == -1, "multipart/mixed rejected");
	ok(mp_boundary("multipart/form-datax; boundary=x", out, sizeof(out),
	    &err) == -1, "multipart/form-datax rejected");
	ok(mp_boundary("multipart/form-data", out, sizeof(out), &err) == -1 &&
	    strstr(err.msg, "without a boundary") != NULL,
	    "missing boundary rejected (%s)", err.msg);
	ok(mp_boundary("multipart/form-data; boundary=\"\"", out, sizeof(out),
	    &err) == -1, "empty boundary rejected");
	ok(mp_boundary("multipart/form-data; boundary=", out, sizeof(out),
	    &err) == -1, "boundary= without value rejected");
	memset(b70, 'x', MP_MAX_BOUNDARY);
	b70[MP_MAX_BOUNDARY] = '\0';
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", b70);
	ok(mp_boundary(ct, out, sizeof(out), &err) == 0 &&
	    strlen(out) == MP_MAX_BOUNDARY, "70-character boundary accepted");
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%sx", b70);
	ok(mp_boundary(ct, out, sizeof(out), &err) == -1,
	    "71-character boundary rejected");
	ok(mp_boundary("multipart/form-data; boundary=\"a@b\"", out,
	    sizeof(out), &err) == -1, "'@' in a boundary rejected");
	ok(mp_boundary("multipart/form-data; boundary=\"ab \"", out,
	    sizeof(out), &err) == -1, "boundary ending in a space rejected");
	ok(mp_boundary("multipart/form-data; boundary=a; boundary=b", out,
	    sizeof(out), &err) == -1, "boundary given twice rejected");
	ok(mp_boundary("multipart/form-data; boundary=\"abc", out,
	    sizeof(out), &err) == -1, "unterminated quote rejected");
	ok(mp_boundary(NULL, out, sizeof(out), &err) == -1,
	    "NULL Content-Type rejected");
	ok(mp_boundary(CT_CURL, out, 8, &err) == -1 && out[0] == '\0',
	    "too small an output buffer rejected");
}

static void
test_real_bodies(void)
{
	static const char fields[] =
	    "--" CB "\r\n"
	    "Content-Disposition: form-data; name=\"file\"; "
	    "filename=\"claims.csv\"\r\nContent-Type: text/csv\r\n\r\n"
	    CSV "\r\n--" CB "\r\n"
	    CDH("note") "\r\nhello \"q\"\r\n--" CB "\r\n"
	    CDH("we%22ird") "\r\n1\r\n--" CB "\r\n"
	    "Content-Disposition: form-data; name=\"empty\"; "
	    "filename=\"empty.bin\"\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n"
	    "\r\n--" CB "--\r\n";
	struct mp_body body;
	const struct mp_part *p;

	ok(PARSE(curl_body, CB, &body) == 0, "curl -F body parses");
	p = mp_find(&body, "file");
	ok(body.nparts == 1 && p != NULL, "one part named file");
	ok(p != NULL && p->filename && strcmp(p->filename, "claims.csv") == 0,
	    "filename");
	ok(p != NULL && p->content_type &&
	    strcmp(p->content_type, "application/octet-stream") == 0,
	    "content type");
	ok(data_is(curl_body, p, CSV, sizeof(CSV) - 1),
	    "data is the file exactly (the delimiter's CRLF excluded)");
	mp_body_free(&body);

	ok(PARSE(fields, CB, &body) == 0 && body.nparts == 4,
	    "curl body with 4 parts parses");
	p = mp_find(&body, "note");
	ok(data_is(fields, p, "hello \"q\"", 9) && p->filename == NULL &&
	    p->content_type == NULL, "text field");
	ok(mp_find(&body, "we%22ird") != NULL,
	    "percent-escaped name kept as sent");
	p = mp_find(&body, "empty");
	ok(p != NULL && p->length == 0 && p->filename != NULL &&
	    strcmp(p->filename, "empty.bin") == 0, "empty file part is valid");
	ok(mp_find(&body, "missing") == NULL, "mp_find of an absent name");
	mp_body_free(&body);

	ok(PARSE(webkit_body, WB, &body) == 0 && body.nparts == 2,
	    "WebKit body parses");
	ok(data_is(webkit_body, mp_find(&body, "csrfmiddlewaretoken"),
	    "abc123", 6) && data_is(webkit_body, mp_find(&body, "file"), CSV,
	    sizeof(CSV) - 1), "WebKit parts' data");
	mp_body_free(&body);
	ok(PARSE(webkit_body, CB, &body) == -1 && body.nparts == 0,
	    "the wrong boundary fails (%s)", err.msg);
}

static void
test_framing(void)
{
	/* Boundary look-alikes that are not a full delimiter. */
	static const char lookalike[] =
	    "--" CB "\r\n" CDH("file") "\r\n"
	    "x\r\n--" CB_SHORT "\r\nx--" CB "\r\n\n--" CB "\r\n--\r\n"
	    "\r\n--" CB "--";
	static const char inside[] =
	    "--" CB "\r\n" CDH("file") "\r\nab\r\n--" CB "X\r\n"
	    "\r\n--" CB "--\r\n";
	static const char pre[] =
	    "preamble line\r\n--not it\r\n--" CB " \t\r\n" CDH("a")
	    "\r\nA\r\n--" CB "\r\n" CDH("b") "\r\nB\r\n--" CB
	    "--\r\nepilogue\r\n--" CB "\r\nignored";
	static const char noclose[] =
	    "--" CB "\r\n" CDH("file") "\r\nabc\r\n";
	static const char openonly[] =
	    "--" CB "\r\n" CDH("file") "\r\nabc\r\n--" CB "\r\n";
	static const char lfonly[] =
	    "--" CB "\n" "Content-Disposition: form-data; name=\"a\"\n\nA\n"
	    "--" CB "--\n";
	static const char nofile[] =
	    "--" CB "\r\n" CDH("note") "\r\nx\r\n--" CB "--\r\n";
	static const char zero[] = "--" CB "--\r\n";
	static const char junk[] =
	    "--" CB "junk\r\n" CDH("a") "\r\nA\r\n--" CB "--\r\n";
	struct mp_body body;
	size_t n, bad;
	int r;

	ok(PARSE(lookalike, CB, &body) == 0 && body.nparts == 1 &&
	    body.parts[0].length == sizeof(lookalike) - 1 - 2 -
	    (sizeof(CB) - 1) - 4 - body.parts[0].offset,
	    "boundary-like text inside the data is data");
	mp_body_free(&body);
	ok(PARSE(inside, CB, &body) == -1 && strstr(err.msg, "unexpected"),
	    "a full delimiter followed by junk fails closed (%s)", err.msg);
	ok(PARSE(pre, CB, &body) == 0 && body.nparts == 2 &&
	    data_is(pre, mp_find(&body, "a"), "A", 1) &&
	    data_is(pre, mp_find(&body, "b"), "B", 1),
	    "preamble, transport padding and epilogue");
	mp_body_free(&body);
	ok(PARSE(noclose, CB, &body) == -1 && strstr(err.msg, "closing"),
	    "missing final delimiter fails (%s)", err.msg);
	ok(PARSE(openonly, CB, &body) == -1 && body.nparts == 0,
	    "ending after a non-final delimiter fails (%s)", err.msg);
	ok(PARSE(lfonly, CB, &body) == -1 && strstr(err.msg, "LF"),
	    "LF-only line endings rejected (%s)", err.msg);
	ok(PARSE(nofile, CB, &body) == 0 && mp_find(&body, "file") == NULL,
	    "a body without a file part parses; mp_find says so");
	mp_body_free(&body);
	ok(PARSE(zero, CB, &body) == 0 && body.nparts == 0,
	    "a body with no parts is valid");
	ok(PARSE(junk, CB, &body) == -1, "junk after the first delimiter");
	ok(mp_parse("", 0, CB, &body, &err) == -1 && mp_parse(NULL, 0, CB,
	    &body, &err) == -1, "empty body rejected");
	ok(PARSE(curl_body, "", &body) == -1 &&
	    PARSE(curl_body, NULL, &body) == -1, "empty boundary rejected");

	/* Every truncation of a valid body: never a crash, never a part
	 * beyond the buffer, and valid only once the close-delimiter is in. */
	bad = 0;
	for (n = 0; n < sizeof(curl_body); n++) {
		r = parse_exact(curl_body, n, CB, &body);
		if (r == 0 && (body.nparts != 1 || body.parts[0].offset +
		    body.parts[0].length > n))
			bad++;
		if ((r == 0) != (n >= sizeof(curl_body) - 1 - 2))
			bad++;
		mp_body_free(&body);
	}
	ok(bad == 0, "curl body truncated at every length: %zu bad", bad);
	bad = 0;
	for (n = 0; n < sizeof(webkit_body); n++) {
		r = parse_exact(webkit_body, n, WB, &body);
		if ((r == 0) != (n >= sizeof(webkit_body) - 1 - 2))
			bad++;
		mp_body_free(&body);
	}
	ok(bad == 0, "WebKit body truncated at every length: %zu bad", bad);
}

static void
test_headers(void)
{
	static const char quoted[] =
	    "--" CB "\r\n"
	    "content-disposition: FORM-DATA; name=\"q\\\"uoted\\\\\"; "
	    "filename=\"C:\\Users\\me\\x.csv\"\r\n\r\n1\r\n--" CB "\r\n"
	    "Content-Disposition: form-data; name=token; "
	    "filename=\"../../etc/pa\tss\"\r\n\r\n2\r\n--" CB "\r\n"
	    "Content-Disposition: form-data;name=\"dots\";filename=\"..\";"
	    "\r\n\r\n3\r\n--" CB "\r\n"
	    "Content-Disposition: form-data; name=\"utf\"; "
	    "filename=\"caf\xc3\xa9\xff.csv\"\r\nX-Other: y\r\n\r\n4\r\n--"
	    CB "\r\n"
	    "Content-Disposition: form-data; name=\"token\"\r\n\r\n"
	    "second\r\n--" CB "\r\n"
	    "Content-Disposition: form-data; name=\"nodata\"\r\n\r\n"
	    "--" CB "--\r\n";
	static const char binary[] =
	    "--" CB "\r\n" CDH("bin") "\r\n"
	    "a\0b\r\n--\r\n\xff\xfe\0" "\r\n--" CB "--\r\n";
	struct mp_body body;
	const struct mp_part *p;
	char *s = NULL;
	int r;

	r = PARSE(quoted, CB, &body);
	ok(r == 0 && body.nparts == 6, "quoted and token parameters parse "
	    "(%s)", r == 0 ? "" : err.msg);
	if (r != 0 || body.nparts != 6)
		return;		/* the parts below would be NULL */
	p = &body.parts[0];
	ok(strcmp(p->name, "q\"uoted\\") == 0,
	    "quoted-pairs \\\" and \\\\ in a name");
	ok(strcmp(p->filename, "x.csv") == 0, "Windows path: basename kept");
	p = &body.parts[1];
	ok(strcmp(p->name, "token") == 0 && strcmp(p->filename, "pass") == 0,
	    "unquoted name; path and control characters stripped");
	ok(strcmp(body.parts[2].filename, "") == 0, "filename .. made empty");
	ok(strcmp(body.parts[3].filename, "caf\xc3\xa9?.csv") == 0,
	    "invalid UTF-8 in a filename replaced");
	p = mp_find(&body, "token");
	ok(p == &body.parts[1] && data_is(quoted, p, "2", 1),
	    "duplicate names: mp_find returns the first");
	p = mp_find(&body, "nodata");
	ok(p != NULL && p->length == 0 && p->offset <= sizeof(quoted) - 1,
	    "a dash-boundary right after the empty line ends an empty part");
	mp_body_free(&body);

	ok(PARSE(binary, CB, &body) == 0 &&
	    data_is(binary, mp_find(&body, "bin"), "a\0b\r\n--\r\n\xff\xfe\0",
	    12), "binary data with NULs kept exactly");
	ok(mp_field_dup(binary, &body.parts[0], &err) == NULL &&
	    strstr(err.msg, "NUL") != NULL, "mp_field_dup refuses NULs");
	mp_body_free(&body);
	ok(PARSE(webkit_body, WB, &body) == 0 &&
	    (s = mp_field_dup(webkit_body, mp_find(&body,
	    "csrfmiddlewaretoken"), &err)) != NULL && strcmp(s, "abc123") == 0,
	    "mp_field_dup copies a text field");
	free(s);
	mp_body_free(&body);
}

/* Parses a one-part body whose Content-Disposition line is cd. */
static int
parse_headers(const char *hdrs, struct mp_body *body)
{
	char buf[1024];
	int n;

	n = snprintf(buf, sizeof(buf), "--%s\r\n%s\r\nx\r\n--%s--\r\n", CB,
	    hdrs, CB);
	return parse_exact(buf, n, CB, body);
}

static void
test_rejections(void)
{
	static const struct {
		const char	*hdrs, *what, *msg;
	} bad[] = {
		{ "Content-Disposition: form-data; name=\"f\"; "
		  "filename*=UTF-8''a.csv\r\n", "filename*", "filename*" },
		{ CDH("f") "Content-Transfer-Encoding: base64\r\n",
		  "Content-Transfer-Encoding", "4.7" },
		{ CDH("f") "Content-Type: multipart/mixed; boundary=z\r\n",
		  "nested multipart", "nested" },
		{ "Content-Type: text/plain\r\n", "no Content-Disposition",
		  "without Content-Disposition" },
		{ "Content-Disposition: form-data; filename=\"a\"\r\n",
		  "form-data without a name", "without a name" },
		{ "Content-Disposition: attachment; name=\"f\"\r\n",
		  "disposition type attachment", "form-data" },
		{ CDH("f") CDH("g"), "two Content-Disposition", "twice" },
		{ "Content-Disposition: form-data; name=\"f\"; name=\"g\"\r\n",
		  "two names", "twice" },
		{ CDH("f") "Content-Type: a\r\nContent-Type: b\r\n",
		  "two Content-Type", "twice" },
		{ "Content-Disposition: form-data;\r\n name=\"f\"\r\n",
		  "folded header", "folded" },
		{ "Content-Disposition: form-data; name=\"f\"\nX: y\r\n",
		  "bare LF in headers", "LF" },
		{ "Content-Disposition: form-data; name=\"f\"\rX: y\r\n",
		  "bare CR in headers", "CR" },
		{ "Content-Disposition: form-data; name=\"f\x01\"\r\n",
		  "control character", "control" },
		{ "Content-Disposition form-data; name=\"f\"\r\n",
		  "header without a colon", "malformed" },
		{ "Content-Disposition: form-data; name=\"f\r\n",
		  "unterminated quote", "unterminated" },
		{ "Content-Disposition: form-data; name\r\n",
		  "parameter without value", "without a value" },
		{ "Content-Disposition: form-data name=\"f\"\r\n",
		  "missing ';'", "';'" },
		{ CDH("f") "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n"
		  "G: 7\r\nH: 8\r\n", "too many header lines", "lines" },
	};
	static const char noheaders[] =
	    "--" CB "\r\n\r\nx\r\n--" CB "--\r\n";
	struct mp_body body;
	size_t i;
	char *buf, *p;
	int n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		ok(parse_headers(bad[i].hdrs, &body) == -1 &&
		    body.nparts == 0 && strstr(err.msg, bad[i].msg) != NULL,
		    "rejects %s (%s)", bad[i].what, err.msg);
	}
	ok(parse_headers(CDH("f") "Content-Length: 1\r\n", &body) == 0,
	    "other headers are ignored");
	mp_body_free(&body);
	ok(PARSE(noheaders, CB, &body) == -1, "part without headers (%s)",
	    err.msg);

	/* Header block of exactly MP_MAX_HEADER_BYTES, then one more. */
	buf = malloc(2 * MP_MAX_HEADER_BYTES);
	p = buf + snprintf(buf, 2 * MP_MAX_HEADER_BYTES, "--%s\r\n" CDH("f")
	    "X-Pad: ", CB);
	n = MP_MAX_HEADER_BYTES - (int)(sizeof(CDH("f")) - 1) - 7 - 2;
	memset(p, 'a', n);
	p += n;
	p += snprintf(p, 200, "\r\n\r\nx\r\n--%s--\r\n", CB);
	ok(parse_exact(buf, p - buf, CB, &body) == 0,
	    "part headers of exactly %d bytes (%s)", MP_MAX_HEADER_BYTES,
	    body.nparts ? "" : err.msg);
	mp_body_free(&body);
	p = buf + snprintf(buf, 2 * MP_MAX_HEADER_BYTES, "--%s\r\n" CDH("f")
	    "X-Pad: ", CB);
	memset(p, 'a', n + 1);
	p += n + 1;
	p += snprintf(p, 200, "\r\n\r\nx\r\n--%s--\r\n", CB);
	ok(parse_exact(buf, p - buf, CB, &body) == -1 &&
	    strstr(err.msg, "longer") != NULL,
	    "part headers one byte too long (%s)", err.msg);
	free(buf);
}

/* A body of n parts named p0, p1, ... */
static size_t
many_parts(char *buf, size_t sz, int n)
{
	size_t len = 0;
	int i;

	for (i = 0; i < n; i++)
		len += snprintf(buf + len, sz - len, "--%s\r\nContent-"
		    "Disposition: form-data; name=\"p%d\"\r\n\r\n%d\r\n", CB,
		    i, i);
	len += snprintf(buf + len, sz - len, "--%s--\r\n", CB);
	return len;
}

static void
test_limits(void)
{
	struct mp_body body;
	struct mp_part part;
	char buf[8192], *big, *s;
	size_t len;

	len = many_parts(buf, sizeof(buf), MP_MAX_PARTS);
	ok(parse_exact(buf, len, CB, &body) == 0 &&
	    body.nparts == MP_MAX_PARTS, "%d parts accepted", MP_MAX_PARTS);
	mp_body_free(&body);
	len = many_parts(buf, sizeof(buf), MP_MAX_PARTS + 1);
	ok(parse_exact(buf, len, CB, &body) == -1 && body.nparts == 0 &&
	    strstr(err.msg, "parts") != NULL, "%d parts rejected (%s)",
	    MP_MAX_PARTS + 1, err.msg);
	mp_body_free(&body);
	mp_body_free(&body);
	ok(body.nparts == 0, "mp_body_free is safe twice");

	big = malloc(MP_MAX_FIELD_BYTES + 1);
	memset(big, 'v', MP_MAX_FIELD_BYTES + 1);
	part.name = (char *)(uintptr_t)"big";
	part.offset = 0;
	part.length = MP_MAX_FIELD_BYTES;
	s = mp_field_dup(big, &part, &err);
	ok(s != NULL && strlen(s) == MP_MAX_FIELD_BYTES,
	    "a %d-byte field is copied", MP_MAX_FIELD_BYTES);
	free(s);
	part.length++;
	ok(mp_field_dup(big, &part, &err) == NULL, "a longer field is refused"
	    " (%s)", err.msg);
	free(big);
}

static void
test_map(void)
{
	char path[] = "/tmp/bcmpXXXXXX";
	struct mp_map m;
	struct mp_body body;
	int fd;

	fd = mkstemp(path);
	ok(fd >= 0 && write(fd, curl_body, sizeof(curl_body) - 1) ==
	    (ssize_t)sizeof(curl_body) - 1, "body file written");
	close(fd);
	ok(mp_map(path, sizeof(curl_body) - 1, UPLOAD_MAX_BYTES, &m,
	    &err) == 0 && m.len == sizeof(curl_body) - 1, "mp_map");
	ok(mp_parse(m.buf, m.len, CB, &body, &err) == 0 &&
	    data_is(m.buf, mp_find(&body, "file"), CSV, sizeof(CSV) - 1),
	    "parse the mapped file");
	mp_body_free(&body);
	mp_unmap(&m);
	mp_unmap(&m);
	ok(m.buf == NULL, "mp_unmap twice is safe");
	ok(mp_map(path, 5, UPLOAD_MAX_BYTES, &m, &err) == -1 &&
	    strstr(err.msg, "Content-Length") != NULL,
	    "size differing from Content-Length (%s)", err.msg);
	ok(mp_map(path, -1, 100, &m, &err) == -1, "over the cap (%s)",
	    err.msg);
	fd = open(path, O_WRONLY | O_TRUNC);
	close(fd);
	ok(mp_map(path, 0, UPLOAD_MAX_BYTES, &m, &err) == 0 && m.buf == NULL &&
	    m.len == 0, "an empty file maps to nothing");
	ok(mp_parse(m.buf, m.len, CB, &body, &err) == -1,
	    "and does not parse");
	unlink(path);
	ok(mp_map(path, -1, UPLOAD_MAX_BYTES, &m, &err) == -1,
	    "a missing file (%s)", err.msg);
}

/* What the corpus replay counts. */
struct tally {
	size_t	 nbad, nvalid;
};

static void
replay_one(const char *name, const uint8_t *data, size_t len, void *arg)
{
	struct tally *t = arg;
	struct mp_body body;
	const char *bad;

	if (mp_parse(data, len, MPCHECK_BOUNDARY, &body, &err) == 0)
		t->nvalid++;
	mp_body_free(&body);
	if ((bad = mpcheck_one(data, len)) != NULL) {
		t->nbad++;
		printf("# %s: %s\n", name, bad);
	}
}

/* Replays the fuzzing seed corpus through the fuzzer's invariants. */
static void
test_corpus(void)
{
	struct tally t = { 0, 0 };
	const char *dir;
	int nfiles;

	if ((dir = getenv("MP_CORPUS_DIR")) == NULL)
		dir = MP_CORPUS_DIR;
	if ((nfiles = corpus_each(dir, replay_one, &t)) == -1)
		return;
	ok(nfiles >= 5, "corpus has %d files", nfiles);
	ok(t.nvalid >= 5, "%zu seeds are valid bodies for the fixed boundary",
	    t.nvalid);
	ok(t.nbad == 0, "corpus replay: %zu of %d files break an invariant",
	    t.nbad, nfiles);
}

int
main(void)
{
	test_boundary();
	test_real_bodies();
	test_framing();
	test_headers();
	test_rejections();
	test_limits();
	test_map();
	test_corpus();
	return done_testing();
}
