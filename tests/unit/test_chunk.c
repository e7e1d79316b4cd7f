/*
 * Unit tests of the chunk planner (worker/chunk_plan.c).
 */
#include <string.h>

#include <json-c/json.h>

#include "chunk_plan.h"
#include "limits.h"
#include "tap.h"

/* Parses text as the args JSON and runs chunk_parse_args on it. */
static int
parse(const char *text, long *lo, long *hi)
{
	struct json_object *a = json_tokener_parse(text);
	const char *id;
	char msg[200];
	int rc;

	rc = chunk_parse_args(a, &id, lo, hi, msg, sizeof(msg));
	if (rc != 0 && msg[0] == '\0')
		rc = -2;
	json_object_put(a);
	return rc;
}

int
main(void)
{
	long lo, hi, per, n;
	const char *uuid = "0b5b3c9e-6a53-4b55-9f7e-0c8b1f2a3d4e";
	char buf[200];

	/* Small jobs run inline. */
	ok(chunk_rows_per_chunk(0, 500, CHUNK_MAX) == 0, "0 rows: inline");
	ok(chunk_rows_per_chunk(500, 500, CHUNK_MAX) == 0, "500: inline");
	ok(chunk_rows_per_chunk(501, 500, CHUNK_MAX) == 500, "501: chunks");
	ok(chunk_count(501, 500) == 2, "501 rows make 2 chunks");
	ok(chunk_count(2500, 500) == 5, "2,500 rows make 5 chunks");
	ok(chunk_count(2501, 500) == 6, "2,501 rows make 6 chunks");
	ok(chunk_count(0, 500) == 0 && chunk_count(5, 0) == 0,
	    "no rows or no size: no chunks");
	/* A tiny chunk.rows is raised to the minimum. */
	ok(chunk_rows_per_chunk(100, 1, CHUNK_MAX) == CHUNK_ROWS_MIN,
	    "chunk.rows below the minimum raised");
	/* The number of chunks is capped. */
	per = chunk_rows_per_chunk(150000, 10, 1000);
	n = chunk_count(150000, per);
	ok(n <= 1000 && n >= 999, "150,000 rows at 10: %ld chunks of %ld",
	    n, per);
	ok(chunk_count(150000, chunk_rows_per_chunk(150000, 500, 1000)) == 300,
	    "150,000 rows at 500: 300 chunks");
	/* Priorities: later chunks wait; all after a job's own message. */
	ok(chunk_priority(0) == 3 && chunk_priority(3) == 3, "first 4: 3");
	ok(chunk_priority(4) == 6 && chunk_priority(15) == 6, "next 12: 6");
	ok(chunk_priority(16) == 9 && chunk_priority(100000) == 9,
	    "the rest: 9");
	ok(chunk_priority(0) > 0, "a job's own message (0) goes first");

	/* Arguments. */
	snprintf(buf, sizeof(buf), "[\"%s\", 1, 500]", uuid);
	ok(parse(buf, &lo, &hi) == 0 && lo == 1 && hi == 500, "valid args");
	snprintf(buf, sizeof(buf), "[\"%s\", \"501\", \"1000\"]", uuid);
	ok(parse(buf, &lo, &hi) == 0 && lo == 501 && hi == 1000,
	    "integers as strings");
	snprintf(buf, sizeof(buf), "[\"%s\", 10, 9]", uuid);
	ok(parse(buf, &lo, &hi) == -1, "last before first: refused");
	snprintf(buf, sizeof(buf), "[\"%s\", 0, 9]", uuid);
	ok(parse(buf, &lo, &hi) == -1, "row 0: refused");
	snprintf(buf, sizeof(buf), "[\"%s\", -1, 9]", uuid);
	ok(parse(buf, &lo, &hi) == -1, "negative: refused");
	snprintf(buf, sizeof(buf), "[\"%s\", 1]", uuid);
	ok(parse(buf, &lo, &hi) == -1, "two args: refused");
	snprintf(buf, sizeof(buf), "[\"%s\", 1, 2, 3]", uuid);
	ok(parse(buf, &lo, &hi) == -1, "four args: refused");
	ok(parse("[\"not-a-uuid\", 1, 2]", &lo, &hi) == -1, "bad uuid");
	ok(parse("[42, 1, 2]", &lo, &hi) == -1, "job id not a string");
	snprintf(buf, sizeof(buf), "[\"%s\", \"1x\", 2]", uuid);
	ok(parse(buf, &lo, &hi) == -1, "junk number: refused");
	snprintf(buf, sizeof(buf), "[\"%s\", 1.5, 2]", uuid);
	ok(parse(buf, &lo, &hi) == -1, "float: refused");
	snprintf(buf, sizeof(buf), "[\"%s\", 1, 99999999999]", uuid);
	ok(parse(buf, &lo, &hi) == -1, "beyond int: refused");
	ok(parse("{}", &lo, &hi) == -1, "not an array: refused");
	return done_testing();
}
