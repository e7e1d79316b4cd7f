-- The row's action.  Paid decided as follows ("paid" and "allowed"
-- the claim totals, "patient" the patient responsibility, absent
-- amounts 0):
--   none     paid = 0;
--   full     paid > 0, no denied line (denied_lines and denied_amount 0
--            or unknown) and paid + patient >= allowed (or allowed
--            unknown): what was allowed is settled between payer and
--            patient; the difference to the billed amount is the
--            contractual adjustment;
--   partial  paid > 0 otherwise.
-- received: the date the payer received the claim; age counts from it
-- to checked_at (the date of the payer's answer).
CREATE OR REPLACE FUNCTION claim_action(p_lookup_result text, p_status text,
    p_category text, p_status_code text, p_paid numeric,
    p_allowed numeric, p_patient numeric, p_denied_lines integer,
    p_denied_amount numeric, p_carc text, p_rarc text, p_received date,
    p_checked_at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT coalesce((SELECT r.action FROM claim_action_rules r,
	    (SELECT CASE
		WHEN coalesce(p_paid, 0) <= 0 THEN 'none'
		WHEN coalesce(p_denied_lines, 0) = 0
		    AND coalesce(p_denied_amount, 0) = 0
		    AND (p_allowed IS NULL
		    OR p_paid + coalesce(p_patient, 0) >= p_allowed)
		    THEN 'full'
		ELSE 'partial' END AS payment,
	    p_checked_at::date - p_received AS days,
	    string_to_array(upper(p_carc), ';') AS carc,
	    string_to_array(upper(p_rarc), ';') AS rarc) x
	    WHERE (r.lookup_result IS NULL OR r.lookup_result = p_lookup_result)
	    AND ((r.status IS NULL AND r.category IS NULL)
	    OR p_status ~* r.status OR upper(p_category) ~ r.category)
	    AND (r.status_codes IS NULL OR p_status_code = ANY (r.status_codes))
	    AND (r.carc IS NULL OR r.carc && x.carc)
	    AND (r.rarc IS NULL OR r.rarc && x.rarc)
	    AND (r.payment IS NULL OR r.payment = x.payment)
	    AND (r.min_days IS NULL OR x.days >= r.min_days)
	    ORDER BY r.seq LIMIT 1), 'review')
$$;

-- A stored row's action: the one place that says which columns feed
-- claim_action().  The received date is not stored; the service end
-- (then start) date stands in for it: the payer received the claim
-- after the service, so the age is at most a few days too long.
-- Without them (a status-only job) a pending claim's age is unknown.
CREATE OR REPLACE FUNCTION csv_row_action(r csv_job_rows) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN r.success IS NULL THEN 'review' ELSE
	    claim_action(r.lookup_result, r.status, r.status_category_code,
	    r.status_code, r.total_paid, r.total_allowed,
	    r.patient_responsibility, r.denied_line_count, r.denied_amount,
	    r.carc_codes, r.rarc_codes, coalesce(r.service_to, r.service_from),
	    r.checked_at) END
$$;
