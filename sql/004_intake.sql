-- Intake: what an upload remembers beyond its rows, so that
-- results can give the input back as it was, a repeated file is noticed,
-- and a retried request gets its first answer again.

-- SHA-256 of the uploaded file part: the same file from the same
-- organisation within upload.duplicate_window_s answers 409.
ALTER TABLE csv_jobs ADD COLUMN file_sha256 bytea;
-- The input header in file order: a JSON array of [name as found,
-- required column name or null for an extra column].  Extras are numbered
-- in this order in csv_job_rows.extra.  NULL for jobs from before 004.
ALTER TABLE csv_jobs ADD COLUMN input_columns jsonb;
CREATE INDEX csv_jobs_org_sha256 ON csv_jobs
	(organization_id, file_sha256, created_at DESC)
	WHERE file_sha256 IS NOT NULL;

-- Idempotency-Key of uploads, per user, kept 24 hours.  status IS NULL
-- while the first request runs; then its status and JSON body, which a
-- retry with the same key gets back instead of a new job.
CREATE TABLE upload_idempotency (
	user_id		bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	key		text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
	file_sha256	bytea NOT NULL,
	status		integer,
	body		text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, key)
);
CREATE INDEX upload_idempotency_created ON upload_idempotency (created_at);

-- The same claim number twice in one file is checked once: the
-- upload marks later valid rows duplicate_of the first valid one, which
-- gets has_duplicates; the worker skips duplicate rows, and when the
-- first row's result is stored it is copied to its duplicates (attempts
-- stay 0: they were never sent) and counted in the job.
ALTER TABLE csv_job_rows ADD COLUMN duplicate_of integer;
ALTER TABLE csv_job_rows ADD COLUMN has_duplicates boolean NOT NULL
	DEFAULT false;
CREATE INDEX csv_job_rows_duplicates ON csv_job_rows (job_id, duplicate_of)
	WHERE duplicate_of IS NOT NULL;
