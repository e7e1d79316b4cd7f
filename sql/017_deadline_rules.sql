-- Deadlines: how long a practice has to act on a claim after the payer's
-- answer, per payer and action bucket (docs/deadlines.md).  A row with
-- organization_id NULL is a shipped default; an organisation's own row
-- for the same payer and action replaces it for that organisation.
-- The shipped values are examples: each practice must check them
-- against its payer contracts and the payer's current rules.
CREATE TABLE payer_deadline_rules (
	id		bigserial PRIMARY KEY,
	organization_id	bigint REFERENCES organizations(id) ON DELETE CASCADE,
	provider_code	text NOT NULL CHECK (provider_code ~ '^[A-Z0-9_]{1,32}$'),
	action		text NOT NULL CHECK (action IN ('partially_paid',
			    'denied_correctable', 'denied_appealable',
			    'needs_information', 'rejected', 'not_found')),
	deadline_kind	text NOT NULL CHECK (deadline_kind IN
			    ('reconsideration', 'appeal', 'timely_filing',
			    'corrected_claim')),
	days		integer NOT NULL CHECK (days BETWEEN 1 AND 3650),
	-- processed: the payer's processed date (denials, partial
	-- payments); service: the date of service (claims the payer does
	-- not have: not found, rejected).
	counted_from	text NOT NULL CHECK (counted_from IN ('processed',
			    'service')),
	note		text CHECK (length(note) <= 500),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	updated_by	text,
	UNIQUE NULLS NOT DISTINCT (organization_id, provider_code, action)
);

INSERT INTO payer_deadline_rules (organization_id, provider_code, action,
    deadline_kind, days, counted_from, note, updated_by) VALUES
	(NULL, 'UHC', 'partially_paid', 'reconsideration', 365, 'processed',
	 'Example: payment reconsideration within 12 months of the decision. Check against your contract.', 'shipped'),
	(NULL, 'UHC', 'denied_appealable', 'appeal', 365, 'processed',
	 'Example: appeal within 12 months of the decision. Check against your contract.', 'shipped'),
	(NULL, 'UHC', 'denied_correctable', 'corrected_claim', 90, 'processed',
	 'Example: corrected claim within 90 days of the decision. Check against your contract.', 'shipped'),
	(NULL, 'UHC', 'needs_information', 'corrected_claim', 90, 'processed',
	 'Example: requested information within 90 days. Check against your contract.', 'shipped'),
	(NULL, 'UHC', 'rejected', 'timely_filing', 90, 'service',
	 'Example: timely filing 90 days from the date of service. Check against your contract.', 'shipped'),
	(NULL, 'UHC', 'not_found', 'timely_filing', 90, 'service',
	 'Example: timely filing 90 days from the date of service. Check against your contract.', 'shipped');
