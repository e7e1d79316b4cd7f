/*
 * COPY ... FROM STDIN (FORMAT csv) lines for csv_job_rows (copyrow.h).
 */
#include <stdio.h>
#include <string.h>

#include "copyrow.h"

void
copybuf_init(struct copybuf *b, copyrow_flush_fn flush, void *arg)
{
	b->flush = flush;
	b->arg = arg;
	b->failed = 0;
	b->len = 0;
}

int
copybuf_flush(struct copybuf *b)
{
	if (b->failed)
		return -1;
	if (b->len == 0)
		return 0;
	if (b->flush(b->arg, b->buf, b->len) == -1) {
		b->failed = 1;
		return -1;
	}
	b->len = 0;
	return 0;
}

static int
put(struct copybuf *b, const char *s, size_t n)
{
	size_t room;

	while (n > 0) {
		if (b->len == sizeof(b->buf) && copybuf_flush(b) == -1)
			return -1;
		room = sizeof(b->buf) - b->len;
		if (room > n)
			room = n;
		memcpy(b->buf + b->len, s, room);
		b->len += room;
		s += room;
		n -= room;
	}
	return 0;
}

static int
puts_raw(struct copybuf *b, const char *s)
{
	return put(b, s, strlen(s));
}

/* A quoted CSV field (RFC 4180 2.7: '"' doubled), never NULL. */
static int
put_quoted(struct copybuf *b, const char *s)
{
	const char *q;

	if (put(b, "\"", 1) == -1)
		return -1;
	while ((q = strchr(s, '"')) != NULL) {
		if (put(b, s, (size_t)(q - s) + 1) == -1 ||
		    put(b, "\"", 1) == -1)
			return -1;
		s = q + 1;
	}
	if (puts_raw(b, s) == -1)
		return -1;
	return put(b, "\"", 1);
}

/*
 * A JSON string inside a quoted CSV field: JSON's escapes (as json-c
 * writes them, '/' left alone), and each '"' doubled for CSV.  Written
 * straight into the buffer: a json-c tree per row was most of the
 * upload's own CPU time.
 */
static int
put_json_string(struct copybuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	char esc[8];
	size_t n;

	if (put(b, "\"\"", 2) == -1)
		return -1;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (put(b, run, (size_t)(s - run)) == -1)
			return -1;
		run = s + 1;
		n = 2;
		esc[0] = '\\';
		switch (c) {
		case '"':
			memcpy(esc + 1, "\"\"", 2);	/* \" with " doubled */
			n = 3;
			break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
		}
		if (put(b, esc, n) == -1)
			return -1;
	}
	if (put(b, run, (size_t)(s - run)) == -1)
		return -1;
	return put(b, "\"\"", 2);
}

static int
put_extra(struct copybuf *b, const struct csvin_row *row,
    const struct csvin_summary *sum)
{
	const char *name;
	size_t i;
	int col;

	if (put(b, "\"[", 2) == -1)
		return -1;
	for (i = 0; i < row->nextra; i++) {
		col = i < sum->nextra ? sum->extra_index[i] : -1;
		name = (col >= 0 && (size_t)col < sum->ncolumns &&
		    sum->header[col] != NULL) ? sum->header[col] : "";
		if (put(b, i > 0 ? ",[" : "[", i > 0 ? 2 : 1) == -1 ||
		    put_json_string(b, name) == -1 ||
		    put(b, ",", 1) == -1 ||
		    put_json_string(b, row->extra[i]) == -1 ||
		    put(b, "]", 1) == -1)
			return -1;
	}
	return put(b, "]\"", 2);
}

int
copyrow_write(struct copybuf *b, const char *job_id,
    const struct csvin_row *row, const struct csvin_summary *sum)
{
	char num[32];
	int i;

	snprintf(num, sizeof(num), ",%ld", row->row_number);
	if (puts_raw(b, job_id) == -1 || puts_raw(b, num) == -1)
		return -1;
	for (i = 0; i < CSVIN_COL__MAX; i++)
		if (put(b, ",", 1) == -1 || put_quoted(b, row->field[i]) == -1)
			return -1;
	if (put(b, ",", 1) == -1 ||
	    (row->nextra > 0 && put_extra(b, row, sum) == -1) ||
	    put(b, ",", 1) == -1 ||
	    (row->warning != NULL && put_quoted(b, row->warning) == -1))
		return -1;
	if (row->error != NULL) {
		if (puts_raw(b, ",\"Invalid\",false,") == -1 ||
		    put_quoted(b, row->error) == -1 ||
		    puts_raw(b, ",\"INPUT_INVALID\"") == -1)
			return -1;
	} else if (puts_raw(b, ",,,,") == -1)
		return -1;
	return put(b, "\n", 1);
}
