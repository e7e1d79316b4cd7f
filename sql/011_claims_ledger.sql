-- The claims ledger: every payer answer stored for a row is also kept
-- here, one entry per (job, row), so an organisation can see one claim
-- across its uploads (GET claims/{claim_number}/history/) and each
-- result row can say what changed since the claim was last checked.
-- Written only by the job-state owner (sql/functions/job_state.sql
-- calls claim_ledger_store() in the statement's transaction that stores the
-- answer); a repeated store or a retried row replaces the row's entry.
-- Entries go with their job: when it is deleted and when it is purged.
-- A duplicate row of a file (csv_job_rows.duplicate_of) shares its
-- first row's answer and entry.
CREATE TABLE claim_ledger (
	organization_id	bigint NOT NULL,
	claim_number	text NOT NULL,
	job_id		uuid NOT NULL,
	row_number	integer NOT NULL,
	checked_at	timestamptz NOT NULL,
	status		text,
	lookup_result	text,
	status_category_code text,
	status_code	text,
	total_charged	numeric(12,2),
	total_allowed	numeric(12,2),
	total_paid	numeric(12,2),
	-- NULL unless the job's workflow fetched them (details, payment,
	-- full) and the payer had them.
	details_result	text,
	carc_codes	text,
	payments_result	text,
	payment_numbers	text,
	claim_paid_amount numeric(12,2),
	UNIQUE (job_id, row_number)
);
-- The history of a claim, and "the latest earlier entry" of a row.
CREATE INDEX claim_ledger_claim ON claim_ledger
	(organization_id, claim_number, checked_at DESC);

-- Entries go with their job, as its lines and payments do (sql/007):
-- when the job is deleted (also with its organisation) and when it is
-- purged (purged_at set, whatever function does it).
CREATE FUNCTION csv_jobs_delete_ledger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM claim_ledger l USING old_jobs o WHERE l.job_id = o.id;
	RETURN NULL;
END
$$;

CREATE TRIGGER csv_jobs_delete_ledger
	AFTER DELETE ON csv_jobs
	REFERENCING OLD TABLE AS old_jobs
	FOR EACH STATEMENT EXECUTE FUNCTION csv_jobs_delete_ledger();

CREATE FUNCTION csv_jobs_purge_ledger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM claim_ledger WHERE job_id = NEW.id;
	RETURN NULL;
END
$$;

CREATE TRIGGER csv_jobs_purge_ledger
	AFTER UPDATE OF purged_at ON csv_jobs
	FOR EACH ROW
	WHEN (OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL)
	EXECUTE FUNCTION csv_jobs_purge_ledger();
