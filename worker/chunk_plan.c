/*
 * The chunk planner's arithmetic and argument checks (chunk_plan.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk_plan.h"
#include "limits.h"
#include "util.h"

long
chunk_rows_per_chunk(long rows, long per_chunk, long max_chunks)
{
	if (per_chunk < CHUNK_ROWS_MIN)
		per_chunk = CHUNK_ROWS_MIN;
	if (max_chunks < 1)
		max_chunks = 1;
	if (rows <= per_chunk)
		return 0;
	/* Bigger chunks rather than an unbounded number of messages. */
	if (chunk_count(rows, per_chunk) > max_chunks)
		per_chunk = (rows + max_chunks - 1) / max_chunks;
	return per_chunk;
}

long
chunk_count(long rows, long per_chunk)
{
	if (rows <= 0 || per_chunk <= 0)
		return 0;
	return (rows + per_chunk - 1) / per_chunk;
}

int
chunk_priority(long index)
{
	if (index < 4)
		return 3;
	if (index < 16)
		return 6;
	return 9;
}

/* An integer argument: a JSON int, or a string of digits (repr). */
static int
int_arg(struct json_object *o, long *out)
{
	const char *s;
	char *end;
	long v;

	if (json_object_is_type(o, json_type_int)) {
		*out = (long)json_object_get_int64(o);
		return 0;
	}
	if (!json_object_is_type(o, json_type_string))
		return -1;
	s = json_object_get_string(o);
	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

int
chunk_parse_args(struct json_object *args, const char **job_id,
    long *first_row, long *last_row, char *msg, size_t msgsz)
{
	const char *id;

	*job_id = NULL;
	if (!json_object_is_type(args, json_type_array) ||
	    json_object_array_length(args) != 3) {
		snprintf(msg, msgsz, "process_csv_chunk expects [job_id, "
		    "first_row, last_row]");
		return -1;
	}
	id = json_object_get_string(json_object_array_get_idx(args, 0));
	if (!json_object_is_type(json_object_array_get_idx(args, 0),
	    json_type_string) || !util_is_uuid(id)) {
		snprintf(msg, msgsz, "process_csv_chunk: job_id must be a "
		    "UUID");
		return -1;
	}
	if (int_arg(json_object_array_get_idx(args, 1), first_row) != 0 ||
	    int_arg(json_object_array_get_idx(args, 2), last_row) != 0 ||
	    *first_row < 1 || *last_row < *first_row ||
	    *last_row > 2147483647L) {
		snprintf(msg, msgsz, "process_csv_chunk: first_row and "
		    "last_row must be integers, 1 <= first_row <= last_row");
		return -1;
	}
	*job_id = id;
	return 0;
}
