-- Claim details and payments: a job's workflow says which payer calls it
-- makes per row (status: one CLAIM_STATUS call, today's behaviour;
-- details: CLAIM_DETAILS; payment: CLAIM_STATUS then CLAIM_PAYMENT for
-- finalized claims; full: CLAIM_STATUS, then CLAIM_DETAILS and
-- CLAIM_PAYMENT for finalized claims).  The per-claim answers go into
-- csv_job_rows, the service lines into csv_job_lines and the payments
-- into csv_job_payments.
ALTER TABLE csv_jobs
	ADD COLUMN workflow text NOT NULL DEFAULT 'status'
	    CHECK (workflow IN ('status', 'details', 'payment', 'full')),
	-- Payer requests sent per transaction, retries included.
	ADD COLUMN calls_status		integer NOT NULL DEFAULT 0,
	ADD COLUMN calls_details	integer NOT NULL DEFAULT 0,
	ADD COLUMN calls_payment	integer NOT NULL DEFAULT 0;

-- NULL until stored.  details_result / payments_result: FOUND,
-- NOT_FOUND, NOT_REQUESTED or PAYER_ERROR; the worker stores a row's
-- details (these columns and its lines) in one transaction guarded by
-- details_result IS NULL, payments likewise, so each is stored once.
ALTER TABLE csv_job_rows
	ADD COLUMN details_result	text,
	ADD COLUMN details_note		text,
	ADD COLUMN service_from		date,
	ADD COLUMN service_to		date,
	ADD COLUMN deductible		numeric(12,2),
	ADD COLUMN copay		numeric(12,2),
	ADD COLUMN coinsurance		numeric(12,2),
	-- Sum of the charged amounts of the denied lines.
	ADD COLUMN denied_amount	numeric(12,2),
	ADD COLUMN line_count		integer,
	ADD COLUMN denied_line_count	integer,
	-- CARC / RARC codes of the lines, distinct, in line order: "50;97".
	ADD COLUMN carc_codes		text,
	ADD COLUMN rarc_codes		text,
	ADD COLUMN payments_result	text,
	ADD COLUMN payments_note	text,
	-- Distinct methods ("ACH;CHK"); numbers and dates ";"-joined in
	-- payment order.
	ADD COLUMN payment_method	text,
	ADD COLUMN payment_numbers	text,
	ADD COLUMN payment_dates	text,
	-- Sum of the claim's paid amounts over its payments not voided.
	ADD COLUMN claim_paid_amount	numeric(12,2),
	ADD COLUMN void_reissue		boolean,
	ADD COLUMN details_checked_at	timestamptz,
	ADD COLUMN payments_checked_at	timestamptz;

-- One service line of a claim (CLAIM_DETAILS).  A line is denied when
-- it paid nothing of a charge.
CREATE TABLE csv_job_lines (
	job_id		uuid NOT NULL,
	row_number	integer NOT NULL,
	line_number	integer NOT NULL,
	procedure_code	text,
	modifiers	text,		-- "25;59"
	units		numeric,
	service_date	date,
	charged		numeric(12,2),
	allowed		numeric(12,2),
	paid		numeric(12,2),
	patient_resp	numeric(12,2),
	adjustments	text,		-- "CO-45-70.00;PR-3-30.00"
	carc_codes	text,		-- "45;3", in adjustment order
	remark_codes	text,		-- "N130;M15"
	denied		boolean,
	PRIMARY KEY (job_id, row_number, line_number)
);

-- One payment (EFT or check) that paid part of a claim (CLAIM_PAYMENT).
CREATE TABLE csv_job_payments (
	job_id		uuid NOT NULL,
	row_number	integer NOT NULL,
	seq		integer NOT NULL,	-- the payer's order
	payment_number	text,
	payment_method	text,			-- ACH, CHK, VCC, ...
	issue_date	date,
	payment_amount	numeric(12,2),		-- the whole payment
	claim_paid_amount numeric(12,2),	-- its part for this claim
	status		text,			-- ISSUED, CLEARED, VOIDED, ...
	payee_name	text,
	PRIMARY KEY (job_id, row_number, seq)
);
-- The payments summary groups a job's payments by number.
CREATE INDEX csv_job_payments_number ON csv_job_payments
	(job_id, payment_number);

-- As for csv_job_rows (006): no foreign key, whose per-row checks a bulk
-- insert pays for, but the same guarantees once per statement.  A line
-- or payment needs its row:
CREATE FUNCTION csv_claim_parts_check_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	missing record;
BEGIN
	SELECT n.job_id, n.row_number INTO missing
	FROM (SELECT DISTINCT job_id, row_number FROM new_rows) n
	LEFT JOIN LATERAL (SELECT 1 FROM csv_job_rows r
	    WHERE r.job_id = n.job_id AND r.row_number = n.row_number
	    FOR KEY SHARE) r ON true
	WHERE r IS NULL LIMIT 1;
	IF FOUND THEN
		RAISE foreign_key_violation USING MESSAGE = format(
		    '%s: job %s has no row %s', TG_TABLE_NAME,
		    missing.job_id, missing.row_number);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER csv_job_lines_check_row
	AFTER INSERT ON csv_job_lines
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION csv_claim_parts_check_row();

CREATE TRIGGER csv_job_payments_check_row
	AFTER INSERT ON csv_job_payments
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION csv_claim_parts_check_row();

-- Lines and payments go with their job: when the job is deleted (also
-- with its organisation), and when it is purged.  Keyed on the job
-- rather than on csv_job_rows' deletes, whose transition table would
-- copy every deleted row of a large job; rows are only ever deleted
-- with their job or by the purge, which sets purged_at in the same
-- transaction (whatever function does it).
CREATE FUNCTION csv_jobs_delete_claim_parts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM csv_job_lines l USING old_jobs o WHERE l.job_id = o.id;
	DELETE FROM csv_job_payments p USING old_jobs o WHERE p.job_id = o.id;
	RETURN NULL;
END
$$;

CREATE TRIGGER csv_jobs_delete_claim_parts
	AFTER DELETE ON csv_jobs
	REFERENCING OLD TABLE AS old_jobs
	FOR EACH STATEMENT EXECUTE FUNCTION csv_jobs_delete_claim_parts();

CREATE FUNCTION csv_jobs_purge_claim_parts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM csv_job_lines WHERE job_id = NEW.id;
	DELETE FROM csv_job_payments WHERE job_id = NEW.id;
	RETURN NULL;
END
$$;

CREATE TRIGGER csv_jobs_purge_claim_parts
	AFTER UPDATE OF purged_at ON csv_jobs
	FOR EACH ROW
	WHEN (OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL)
	EXECUTE FUNCTION csv_jobs_purge_claim_parts();
