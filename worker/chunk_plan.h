/*
 * Pure helpers of the chunk planner (worker/chunk_plan.c): no database,
 * no Redis, so the unit tests cover them directly.
 */
#ifndef CHUNK_PLAN_H
#define CHUNK_PLAN_H

#include <json-c/json.h>

/*
 * Rows per chunk for a job with rows unprocessed rows when chunk.rows is
 * per_chunk: per_chunk raised to CHUNK_ROWS_MIN, and raised further so
 * there are at most max_chunks chunks.  Returns 0 when the job is small
 * enough to run inline (rows <= the effective per_chunk).
 */
long	chunk_rows_per_chunk(long rows, long per_chunk, long max_chunks);

/* Number of chunks rows unprocessed rows make at per_chunk a chunk. */
long	chunk_count(long rows, long per_chunk);

/*
 * Celery priority (Redis: lower is served first) of the chunk with
 * 0-based index: 3 for the first 4 chunks, 6 up to 16, then 9.  Every
 * job's own process_csv_file message has priority 0, so a new small job
 * overtakes the queued chunks of a big one, and the first chunks of a
 * new big job overtake the late chunks of an older one.
 */
int	chunk_priority(long index);

/*
 * Parses the chunk task's args [job_id, first_row, last_row]: a UUID
 * and two integers with 1 <= first_row <= last_row.  *job_id borrows
 * from args.  Returns 0, or -1 with a message (no PHI) in msg.
 */
int	chunk_parse_args(struct json_object *args, const char **job_id,
	    long *first_row, long *last_row, char *msg, size_t msgsz);

#endif
