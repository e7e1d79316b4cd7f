-- Copies the stored answers of rows p_rows of job p_job into the
-- ledger.  Reads the rows as stored, so calling it again for the same
-- rows changes nothing.  job_store_results calls it for the rows whose
-- details or payments came; a status answer's entry it writes itself,
-- from the values it stores, with the same columns (a new ledger column
-- goes into both lists).
CREATE OR REPLACE FUNCTION claim_ledger_store(p_job uuid, p_rows integer[])
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO claim_ledger AS l (organization_id, claim_number, job_id,
	    row_number, checked_at, status, lookup_result,
	    status_category_code, status_code, total_charged, total_allowed,
	    total_paid, details_result, carc_codes, payments_result,
	    payment_numbers, claim_paid_amount)
	SELECT j.organization_id, r.claim_number, r.job_id, r.row_number,
	    r.checked_at, r.status, r.lookup_result, r.status_category_code,
	    r.status_code, r.total_charged, r.total_allowed, r.total_paid,
	    r.details_result, r.carc_codes, r.payments_result,
	    r.payment_numbers, r.claim_paid_amount
	FROM csv_jobs j JOIN csv_job_rows r ON r.job_id = j.id
	WHERE j.id = p_job AND r.row_number = ANY (p_rows)
	    AND r.success IS NOT NULL AND r.claim_number IS NOT NULL
	    AND r.checked_at IS NOT NULL
	ON CONFLICT (job_id, row_number) DO UPDATE SET
	    claim_number = EXCLUDED.claim_number,
	    checked_at = EXCLUDED.checked_at, status = EXCLUDED.status,
	    lookup_result = EXCLUDED.lookup_result,
	    status_category_code = EXCLUDED.status_category_code,
	    status_code = EXCLUDED.status_code,
	    total_charged = EXCLUDED.total_charged,
	    total_allowed = EXCLUDED.total_allowed,
	    total_paid = EXCLUDED.total_paid,
	    details_result = EXCLUDED.details_result,
	    carc_codes = EXCLUDED.carc_codes,
	    payments_result = EXCLUDED.payments_result,
	    payment_numbers = EXCLUDED.payment_numbers,
	    claim_paid_amount = EXCLUDED.claim_paid_amount
	-- A repeated store leaves no dead tuple behind.
	WHERE (l.claim_number, l.checked_at, l.status, l.lookup_result,
	    l.status_category_code, l.status_code, l.total_charged,
	    l.total_allowed, l.total_paid, l.details_result, l.carc_codes,
	    l.payments_result, l.payment_numbers, l.claim_paid_amount)
	    IS DISTINCT FROM (EXCLUDED.claim_number, EXCLUDED.checked_at,
	    EXCLUDED.status, EXCLUDED.lookup_result,
	    EXCLUDED.status_category_code, EXCLUDED.status_code,
	    EXCLUDED.total_charged, EXCLUDED.total_allowed,
	    EXCLUDED.total_paid, EXCLUDED.details_result, EXCLUDED.carc_codes,
	    EXCLUDED.payments_result, EXCLUDED.payment_numbers,
	    EXCLUDED.claim_paid_amount)
$$;

-- A stored row compared with the latest earlier ledger entry of the
-- same claim number in the same organisation (another job's, checked
-- before it): change is new (never checked before), changed or
-- unchanged; NULL while the row has no answer.  Changed: the claim's
-- state or money differ; the carc codes and payment numbers count only
-- when both checks fetched them (a status-only job knows neither).
-- Computed when read, one index probe per row.
CREATE OR REPLACE FUNCTION csv_row_change(r csv_job_rows)
RETURNS TABLE (change text, previous_status text, previous_paid numeric,
    previous_checked_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN r.success IS NULL OR r.checked_at IS NULL
		OR r.claim_number IS NULL THEN NULL
	    WHEN p.job_id IS NULL THEN 'new'
	    WHEN (p.status, p.lookup_result, p.status_category_code,
		p.status_code, p.total_allowed, p.total_paid) IS DISTINCT FROM
		(r.status, r.lookup_result, r.status_category_code,
		r.status_code, r.total_allowed, r.total_paid)
		OR (p.details_result IS NOT NULL AND r.details_result IS NOT NULL
		AND p.carc_codes IS DISTINCT FROM r.carc_codes)
		OR (p.payments_result IS NOT NULL
		AND r.payments_result IS NOT NULL
		AND p.payment_numbers IS DISTINCT FROM r.payment_numbers)
		THEN 'changed'
	    ELSE 'unchanged' END,
	    p.status, p.total_paid, p.checked_at
	FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT l.* FROM claim_ledger l
	    WHERE r.success IS NOT NULL AND r.checked_at IS NOT NULL
	    AND l.organization_id = (SELECT j.organization_id FROM csv_jobs j
		WHERE j.id = r.job_id)
	    AND l.claim_number = r.claim_number
	    AND l.checked_at < r.checked_at AND l.job_id <> r.job_id
	    ORDER BY l.checked_at DESC LIMIT 1) p ON true
$$;
