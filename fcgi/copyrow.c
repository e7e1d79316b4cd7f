/*
 * COPY ... FROM STDIN (FORMAT csv) lines for csv_job_rows (copyrow.h).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

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

static int
put_extra(struct copybuf *b, const struct csvin_row *row,
    const struct csvin_summary *sum)
{
	struct json_object *arr, *pair;
	const char *name, *text;
	size_t i;
	int col, rc;

	arr = json_object_new_array();
	for (i = 0; i < row->nextra; i++) {
		col = i < sum->nextra ? sum->extra_index[i] : -1;
		name = (col >= 0 && (size_t)col < sum->ncolumns &&
		    sum->header[col] != NULL) ? sum->header[col] : "";
		pair = json_object_new_array();
		json_object_array_add(pair, json_object_new_string(name));
		json_object_array_add(pair,
		    json_object_new_string(row->extra[i]));
		json_object_array_add(arr, pair);
	}
	text = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = text ? put_quoted(b, text) : -1;
	json_object_put(arr);
	return rc;
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
