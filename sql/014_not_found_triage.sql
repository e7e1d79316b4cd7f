-- Not-found triage (docs/payer-adapters.md): before a row is stored as
-- not found, the worker asks again under the claim number's normal form
-- and by a member search.  The row says which attempt found it, or why
-- none did; the job counts the extra payer calls.
ALTER TABLE csv_jobs
	-- Triage requests sent (normalised number, member search),
	-- retries included; not in calls_status/details/payment.
	ADD COLUMN calls_triage		integer NOT NULL DEFAULT 0;

ALTER TABLE csv_job_rows
	-- as_sent, normalised, member_search; NULL while not found or not
	-- checked.
	ADD COLUMN found_by		text CHECK (found_by IN
	    ('as_sent', 'normalised', 'member_search')),
	-- Why a not-found row stayed not found (one of the texts listed in
	-- docs/csv-formats.md); NULL when found or triage is off.
	ADD COLUMN not_found_reason	text,
	-- The number the payer knows the claim under when it is not the
	-- uploaded one (claim_number keeps the upload's).
	ADD COLUMN matched_claim_number	text,
	-- Triage requests sent for this row (retries included).
	ADD COLUMN triage_calls		integer NOT NULL DEFAULT 0;
