-- Reference texts for the codes of a claim's line adjustments, so the
-- results can say what "CO-50" or "N130" means.
--
-- Source: the X12 external code lists "Claim Adjustment Reason Codes"
-- (CARC) and "Remittance Advice Remark Codes" (RARC), maintained by their
-- X12 code committees and published by X12 (https://x12.org/codes;
-- formerly by Washington Publishing Company, wpc-edi.com).  The
-- descriptions below are short paraphrases in our own words of the
-- official texts, not the official wording; they cover the codes the
-- payer simulator sends and the ones a billing team meets most often.
-- Look a code up in the official list before acting on it.  A code not
-- in these tables is shown as the code alone (carc_label, rarc_label).
CREATE TABLE carc_codes (
	code		text PRIMARY KEY CHECK (code ~ '^[A-Z0-9]{1,4}$'),
	description	text NOT NULL
);

CREATE TABLE rarc_codes (
	code		text PRIMARY KEY CHECK (code ~ '^[A-Z]{1,2}[0-9]{1,4}$'),
	description	text NOT NULL
);

INSERT INTO carc_codes (code, description) VALUES
	('1',	'Deductible amount'),
	('2',	'Coinsurance amount'),
	('3',	'Copayment amount'),
	('4',	'Procedure code does not fit the modifier, or a required modifier is missing'),
	('5',	'Procedure code or bill type does not fit the place of service'),
	('6',	'Procedure does not fit the patient''s age'),
	('7',	'Procedure does not fit the patient''s gender'),
	('8',	'Procedure does not fit the provider''s type or specialty'),
	('9',	'Diagnosis does not fit the patient''s age'),
	('11',	'Diagnosis does not fit the procedure'),
	('15',	'Authorization number missing, invalid or not for this service or provider'),
	('16',	'Claim or service lacks information or has a billing error'),
	('18',	'Exact duplicate of a claim or service'),
	('19',	'Work-related injury or illness: the workers'' compensation carrier is liable'),
	('22',	'Another payer may cover this care (coordination of benefits)'),
	('23',	'Effect of what prior payers paid or adjusted'),
	('24',	'Covered under a capitation agreement or managed care plan'),
	('26',	'Expenses incurred before coverage began'),
	('27',	'Expenses incurred after coverage ended'),
	('29',	'Time limit for filing has expired'),
	('31',	'Patient cannot be identified as a member of this plan'),
	('32',	'Patient is not an eligible dependent'),
	('35',	'Lifetime benefit maximum reached'),
	('39',	'Denied when authorization was requested'),
	('40',	'Does not meet the criteria for emergency or urgent care'),
	('45',	'Charge is above the fee schedule, maximum allowable or contracted fee'),
	('49',	'Routine or preventive exam (or a service done with one) is not covered'),
	('50',	'Not covered: the payer does not consider it medically necessary'),
	('51',	'Not covered: pre-existing condition'),
	('55',	'Procedure, treatment or drug considered experimental or investigational'),
	('58',	'Rendered in a place of service the payer considers inappropriate'),
	('59',	'Processed under multiple or concurrent procedure rules'),
	('96',	'Non-covered charges'),
	('97',	'Included in the payment for another service already adjudicated'),
	('109',	'Not covered by this payer: send the claim to the correct payer'),
	('119',	'Benefit maximum for the period or occurrence reached'),
	('129',	'Prior processing information appears incorrect'),
	('140',	'Member identification number and name do not match'),
	('146',	'Diagnosis invalid for the dates of service'),
	('151',	'Information submitted does not support this many or this frequency of services'),
	('167',	'Diagnosis not covered'),
	('170',	'Not paid when performed or billed by this type of provider'),
	('181',	'Procedure code invalid on the date of service'),
	('182',	'Procedure modifier invalid on the date of service'),
	('185',	'Rendering provider not eligible to perform the service billed'),
	('197',	'Precertification, notification or authorization absent'),
	('198',	'Precertification, notification or authorization exceeded'),
	('204',	'Service, equipment or drug not covered by the patient''s current benefit plan'),
	('222',	'Exceeds the contracted maximum of hours, days or units for the period'),
	('226',	'Information requested from the provider missing, late or incomplete'),
	('227',	'Information requested from the patient missing or incomplete'),
	('234',	'Procedure not paid separately'),
	('236',	'Procedure or modifier combination not compatible with another billed the same day'),
	('242',	'Services not provided by network or primary care providers'),
	('243',	'Services not authorized by network or primary care providers'),
	('253',	'Sequestration: reduction of the federal payment'),
	('A1',	'Claim or service denied'),
	('B7',	'Provider not certified or eligible for this service on this date'),
	('B9',	'Patient is enrolled in hospice');

INSERT INTO rarc_codes (code, description) VALUES
	('M15',	'Separately billed services bundled as parts of one procedure; no separate payment'),
	('M51',	'Procedure code missing, incomplete or invalid'),
	('M76',	'Diagnosis or condition missing, incomplete or invalid'),
	('M80',	'Not covered when done in the same session or date as a service already processed'),
	('M86',	'Denied: same or similar procedure already paid within the set time frame'),
	('M127',	'Patient''s medical record for this service is missing'),
	('MA01',	'If you disagree with the decision you may appeal'),
	('MA04',	'Secondary payment needs the primary payer''s identity or payment information'),
	('MA18',	'Claim information also forwarded to the patient''s supplemental insurer'),
	('MA130',	'Claim incomplete or invalid and unprocessable, no appeal rights: submit a new, corrected claim'),
	('N4',	'Prior insurance carrier''s explanation of benefits missing, incomplete or invalid'),
	('N19',	'Procedure code incidental to the primary procedure'),
	('N20',	'Not payable with another service rendered the same date'),
	('N30',	'Patient not eligible for this service'),
	('N54',	'Claim does not match the pre-certified or authorized services'),
	('N56',	'Procedure code not correct or valid for the services or date billed'),
	('N115',	'Decision based on a Local Coverage Determination'),
	('N130',	'See the plan''s benefit documents or guidelines for this service''s restrictions'),
	('N179',	'Additional information requested from the member'),
	('N211',	'This decision cannot be appealed'),
	('N290',	'Rendering provider''s primary identifier missing, incomplete or invalid'),
	('N362',	'Days or units of service exceed the acceptable maximum'),
	('N386',	'Decision based on a National Coverage Determination'),
	('N522',	'Duplicate of a claim processed or to be processed as a crossover claim'),
	('N657',	'Should be billed with the appropriate code for these services'),
	('N705',	'Documentation incomplete or invalid');

-- "50: Not covered: ..." for a known code, the code alone otherwise.
CREATE FUNCTION carc_label(c text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT code || ': ' || description FROM carc_codes
	    WHERE code = upper(c)), c)
$$;

CREATE FUNCTION rarc_label(c text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT code || ': ' || description FROM rarc_codes
	    WHERE code = upper(c)), c)
$$;
