-- A result row's next deadline (docs/deadlines.md): the rule of the
-- job's payer for the row's action bucket (the organisation's own rule,
-- else the shipped default of payer_deadline_rules), counted from the
-- payer's processed date or from the date of service.  No row when no
-- rule applies or the date it counts from is unknown.  Computed when
-- read, like the action: a changed rule applies to every job at once.

-- The date of service an upload gave in an extra column (service_date,
-- date_of_service, dos; YYYY-MM-DD or MM/DD/YYYY), NULL if none or not
-- a date.
CREATE OR REPLACE FUNCTION csv_row_input_service_date(p_extra jsonb)
RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
	v text;
BEGIN
	IF p_extra IS NULL OR jsonb_typeof(p_extra) <> 'array' THEN
		RETURN NULL;
	END IF;
	SELECT btrim(e->>1) INTO v FROM jsonb_array_elements(p_extra) e
	    WHERE lower(btrim(e->>0)) IN ('service_date', 'date_of_service',
	    'dos')
	    LIMIT 1;
	IF v ~ '^\d{4}-\d{2}-\d{2}$' THEN
		RETURN v::date;
	ELSIF v ~ '^\d{1,2}/\d{1,2}/\d{4}$' THEN
		RETURN make_date(split_part(v, '/', 3)::int,
		    split_part(v, '/', 1)::int, split_part(v, '/', 2)::int);
	END IF;
	RETURN NULL;
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR
    invalid_parameter_value THEN
	-- 2024-02-30 and the like: not a date.
	RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION csv_row_deadline(r csv_job_rows)
RETURNS TABLE (next_deadline date, deadline_kind text, days_left integer)
LANGUAGE sql STABLE AS $$
	SELECT b.base + ru.days, ru.deadline_kind,
	    (b.base + ru.days) - current_date
	FROM csv_jobs j
	CROSS JOIN LATERAL (SELECT x.days, x.deadline_kind, x.counted_from
	    FROM payer_deadline_rules x
	    WHERE x.provider_code = j.provider_code
	    AND x.action = csv_row_action(r)
	    AND (x.organization_id IS NULL
	    OR x.organization_id = j.organization_id)
	    ORDER BY x.organization_id NULLS LAST LIMIT 1) ru
	CROSS JOIN LATERAL (SELECT CASE ru.counted_from
	    WHEN 'processed' THEN r.processed_date
	    ELSE coalesce(r.service_from,
		csv_row_input_service_date(r.extra)) END AS base) b
	WHERE j.id = r.job_id AND r.success IS NOT NULL
	    AND b.base IS NOT NULL
$$;

-- Sets an organisation's own rule (org NULL: the shipped default) for
-- a payer and action; the one writer of payer_deadline_rules, called
-- by the admin API and bulkclaimsctl.  Returns the rule's id.
CREATE OR REPLACE FUNCTION deadline_rule_set(p_org bigint, p_provider text,
    p_action text, p_kind text, p_days integer, p_from text, p_note text,
    p_by text)
RETURNS bigint
LANGUAGE sql AS $$
	INSERT INTO payer_deadline_rules AS d (organization_id, provider_code,
	    action, deadline_kind, days, counted_from, note, updated_by)
	VALUES (p_org, upper(p_provider), p_action, p_kind, p_days, p_from,
	    p_note, p_by)
	ON CONFLICT (organization_id, provider_code, action) DO UPDATE SET
	    deadline_kind = EXCLUDED.deadline_kind, days = EXCLUDED.days,
	    counted_from = EXCLUDED.counted_from, note = EXCLUDED.note,
	    updated_at = now(), updated_by = EXCLUDED.updated_by
	RETURNING d.id
$$;

-- Removes an organisation's own rule (the default applies again), or a
-- default when org is NULL.  Returns whether one was removed.
CREATE OR REPLACE FUNCTION deadline_rule_delete(p_org bigint,
    p_provider text, p_action text)
RETURNS boolean
LANGUAGE sql AS $$
	WITH d AS (DELETE FROM payer_deadline_rules
	    WHERE organization_id IS NOT DISTINCT FROM p_org
	    AND provider_code = upper(p_provider) AND action = p_action
	    RETURNING 1)
	SELECT count(*) > 0 FROM d
$$;
