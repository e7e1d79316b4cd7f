-- Webhook secrets sealed like payer secrets: XChaCha20-Poly1305 under
-- secrets.key_file with the additional data "webhook:<organization_id>"
-- (bulkclaimsctl set-webhook seals, the worker opens, rotate-key
-- re-seals).  The plaintext column goes: rows set before this cannot be
-- sealed in SQL (the key is outside the database), so they are turned
-- off until set-webhook is run for them again.
ALTER TABLE organization_webhooks ADD COLUMN secret_enc bytea;
UPDATE organization_webhooks SET is_active = false;
ALTER TABLE organization_webhooks DROP COLUMN secret;
ALTER TABLE organization_webhooks ADD CONSTRAINT organization_webhooks_sealed
	CHECK (secret_enc IS NOT NULL OR NOT is_active);

-- https only; plain http to the local host alone (no network between us
-- and the receiver).  NOT VALID: old rows are off and checked when set.
ALTER TABLE organization_webhooks
	DROP CONSTRAINT IF EXISTS organization_webhooks_url_check;
ALTER TABLE organization_webhooks ADD CONSTRAINT organization_webhooks_url
	CHECK (url ~ '^https://[^/]'
	    OR url ~ '^http://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?(/|$)')
	NOT VALID;
