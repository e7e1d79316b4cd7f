-- Chunking: a big job is processed as chunk tasks, each a
-- range of row numbers, by any worker on any machine.
--
-- chunks_total / chunks_done: how many chunks the last split made and
-- how many have finished; the chunk whose UPDATE ... RETURNING brings
-- chunks_done to chunks_total finishes the job.  0 / 0: not chunked.
ALTER TABLE csv_jobs
	ADD COLUMN chunks_total	integer NOT NULL DEFAULT 0,
	ADD COLUMN chunks_done	integer NOT NULL DEFAULT 0;

-- The chunks of the job's last split.  done_at makes the counter
-- idempotent: a chunk message delivered twice (acks_late after a crash)
-- counts once.  A re-split (retry, watchdog requeue) replaces the rows:
-- a chunk message of an older split finds no row here and does nothing.
CREATE TABLE csv_job_chunks (
	job_id		uuid NOT NULL REFERENCES csv_jobs(id) ON DELETE CASCADE,
	first_row	integer NOT NULL,
	last_row	integer NOT NULL CHECK (last_row >= first_row),
	-- First taken by a worker (NULL: still queued).
	started_at	timestamptz,
	done_at		timestamptz,
	done_by		text,
	PRIMARY KEY (job_id, first_row)
);
