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

CREATE FUNCTION csv_rows_fill_duplicates() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	n integer;
BEGIN
	UPDATE csv_job_rows d SET status = NEW.status,
	    patient_name = NEW.patient_name,
	    total_charged = NEW.total_charged, total_paid = NEW.total_paid,
	    processed_date = NEW.processed_date, success = NEW.success,
	    error_message = NEW.error_message, checked_at = NEW.checked_at,
	    lookup_result = NEW.lookup_result,
	    status_category_code = NEW.status_category_code,
	    status_code = NEW.status_code,
	    status_description = NEW.status_description,
	    payer_claim_number = NEW.payer_claim_number,
	    total_allowed = NEW.total_allowed,
	    patient_responsibility = NEW.patient_responsibility,
	    check_number = NEW.check_number, check_date = NEW.check_date,
	    member_match = NEW.member_match
	WHERE d.job_id = NEW.job_id AND d.duplicate_of = NEW.row_number
	    AND d.success IS NULL;
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n > 0 THEN
		UPDATE csv_jobs SET processed_rows = processed_rows + n,
		    success_count = success_count +
			CASE WHEN NEW.success THEN n ELSE 0 END,
		    failure_count = failure_count +
			CASE WHEN NEW.success THEN 0 ELSE n END
		WHERE id = NEW.job_id;
	END IF;
	RETURN NULL;
END
$$;

-- Deferred to the end of the worker's transaction: the worker's own
-- statement updates csv_jobs too, and one statement cannot update a row
-- that a trigger it fired has already updated.
CREATE CONSTRAINT TRIGGER csv_job_rows_fill_duplicates
	AFTER UPDATE OF success ON csv_job_rows
	DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW
	WHEN (NEW.has_duplicates AND OLD.success IS NULL
	    AND NEW.success IS NOT NULL)
	EXECUTE FUNCTION csv_rows_fill_duplicates();
