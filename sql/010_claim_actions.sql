-- Action buckets: what a billing team does next with each result row
-- (docs/actions.md explains every rule).  The mapping is this one
-- table of ordered rules; claim_action() applies it and answers the
-- action of the first rule that matches, 'review' when none does.  It
-- is computed when read, from the stored columns, so changing a rule
-- changes every job's results at once.  The rules are a starting point
-- and must be checked against the practice's payer contracts.
CREATE TABLE claim_action_rules (
	seq		integer PRIMARY KEY,	-- lower first
	-- Match columns; NULL matches anything.
	lookup_result	text,		-- equal
	-- The claim's state: the payer's status text (case-insensitive
	-- regex) or the X12 277 category (regex).  A rule naming both
	-- matches when either does: REST payers send the text, X12
	-- payers the category, and both name the same state.
	status		text,
	category	text,
	status_codes	text[],		-- the 277 status code is one of them
	carc		text[],		-- one of the row's CARC codes is one
	rarc		text[],		-- one of the row's RARC codes is one
	-- How much was paid (claim_action() says how it is decided).
	payment		text CHECK (payment IN ('none', 'full', 'partial')),
	-- Days from received to checked at least this many; an unknown
	-- age does not match.
	min_days	integer,
	action		text NOT NULL CHECK (action IN ('paid',
	    'partially_paid', 'denied_correctable', 'denied_appealable',
	    'needs_information', 'pending', 'pending_long', 'rejected',
	    'not_found', 'input_invalid', 'error', 'review')),
	why		text NOT NULL
);

INSERT INTO claim_action_rules (seq, lookup_result, status, category,
    status_codes, carc, rarc, payment, min_days, action, why) VALUES
	-- What the lookup itself said comes first: no claim state to read.
	(10, 'INPUT_INVALID', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 'input_invalid', 'The row''s input was refused before or by the payer: correct the input file'),
	(20, 'NOT_FOUND', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 'not_found', 'The payer has no such claim for this member: check the claim number and member, or submit it'),
	(30, 'PAYER_ERROR', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 'error', 'The payer did not answer usably: retry the job later'),
	(40, NULL, '^not found$', '^(A4|D0)$', NULL, NULL, NULL, NULL, NULL,
	 'not_found', 'Not found (A4) or the payer''s search found nothing (D0)'),
	(45, NULL, NULL, NULL, '{35}', NULL, NULL, NULL, NULL,
	 'not_found', '277 status code 35: claim or encounter not found'),
	(50, NULL, NULL, '^E', NULL, NULL, NULL, NULL, NULL,
	 'error', 'E0-E4: the payer could not answer (system or response error)'),
	(60, NULL, '^rejected$', '^A[3678]$', NULL, NULL, NULL, NULL, NULL,
	 'rejected', 'Rejected at the front door (A3 unprocessable, A6 missing, A7 invalid, A8 relational): never adjudicated; fix and submit again'),
	-- The payer asks for something before it goes on.
	(70, NULL, NULL, '^R', NULL, NULL, NULL, NULL, NULL,
	 'needs_information', 'R0-R16: the payer requests additional information'),
	(80, NULL, NULL, '^P[34]$', NULL, NULL, NULL, NULL, NULL,
	 'needs_information', 'P3/P4: pending until the information requested (from the provider or the patient) arrives'),
	-- Not adjudicated yet (A0-A2: acknowledged into adjudication).
	(90, NULL, '^(pending|in review)$', '^(P|A[012]$)', NULL, NULL, NULL,
	 NULL, 30,
	 'pending_long', 'Pending for 30 days or more since received: follow up with the payer'),
	(100, NULL, '^(pending|in review)$', '^(P|A[012]$)', NULL, NULL, NULL,
	 NULL, NULL,
	 'pending', 'Pending for less than 30 days (or of unknown age): wait'),
	-- Finalized (F0-F4, and the REST texts) with money paid.
	(110, NULL, '^(processed|finalized|denied)$', '^F', NULL, NULL, NULL,
	 'full', NULL,
	 'paid', 'Finalized and paid: no line denied and paid plus patient responsibility covers the allowed amount'),
	(120, NULL, '^(processed|finalized|denied)$', '^F', NULL, NULL, NULL,
	 'partial', NULL,
	 'partially_paid', 'Finalized and paid in part: a line denied, or paid plus patient responsibility short of the allowed amount'),
	-- Finalized with nothing paid: the reason codes decide.  Codes
	-- saying the payer will not reconsider go first, then fixable
	-- information (cheaper than an appeal), then appealable reasons.
	(130, NULL, '^(processed|finalized|denied)$', '^F', NULL, NULL,
	 '{N211}', 'none', NULL,
	 'review', 'N211: the payer says this decision cannot be appealed'),
	(140, NULL, '^(processed|finalized|denied)$', '^F', NULL,
	 '{4,16,22,31,109,129,140,146,181,182,226,227}', NULL, 'none', NULL,
	 'denied_correctable', 'Denied for missing or invalid information (modifier, member id, coordination of benefits, wrong payer, codes, requested data): correct and resubmit'),
	(150, NULL, '^(processed|finalized|denied)$', '^F', NULL, NULL,
	 '{MA130,M51,M76,M127,MA04,N4,N56,N179,N290,N705}', 'none', NULL,
	 'denied_correctable', 'Remark asks for missing or invalid data (claim, procedure or diagnosis code, records, prior payer EOB, provider id): correct and resubmit'),
	(160, NULL, '^(processed|finalized|denied)$', '^F', NULL,
	 '{15,29,39,50,55,58,59,97,151,167,197,198,234,236}', NULL, 'none',
	 NULL,
	 'denied_appealable', 'Denied for medical necessity, authorization, bundling, filing time or frequency: appeal with records or proof'),
	(170, NULL, '^(processed|finalized|denied)$', '^F', NULL, NULL,
	 '{M15,M80,M86,N19,N20,N54,N362}', 'none', NULL,
	 'denied_appealable', 'Remark says bundled, same-day, frequency or not the authorized service: appeal with records');
