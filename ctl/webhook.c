/*
 * bulkclaimsctl set-webhook: an organisation's job-end webhook, its URL
 * checked (https, or http to the local host) and its secret sealed under
 * secrets.key_file like the payer secrets, bound to the organisation
 * ("webhook:<id>" as additional data); and the re-sealing of every
 * webhook secret that rotate-key does in its transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "ctl.h"
#include "log.h"
#include "notify.h"
#include "secrets.h"

/* Seals secret for organisation org; returns the bytea hex (malloc'd). */
static char *
seal_for(const unsigned char key[SECRETS_KEY_LEN], const char *org,
    const char *secret)
{
	unsigned char *sealed;
	char ad[64], *hex;
	size_t sealedlen;
	struct errbuf err;

	snprintf(ad, sizeof(ad), "webhook:%s", org);
	if (secrets_seal(key, ad, secret, strlen(secret), &sealed, &sealedlen,
	    &err) != 0)
		fatalx("%s", err.msg);
	hex = ctl_bytea_hexdup(sealed, sealedlen);
	free(sealed);
	return hex;
}

void
ctl_set_webhook(PGconn *db, const struct ctl_opts *o)
{
	unsigned char key[SECRETS_KEY_LEN];
	char *secret, *hex, detail[64];
	const char *p[3];
	struct errbuf err;
	PGresult *r;

	if (!o->tin || !o->url || !o->secret_file)
		ctl_usage_of("set-webhook --tin T --url URL --secret-file F");
	if (!notify_webhook_url_ok(o->url))
		fatalx("--url: https:// only (plain http:// to the local "
		    "host alone)");
	secret = ctl_read_secret(o->secret_file);
	if (strlen(secret) < 16)
		fatalx("%s: the secret is shorter than 16 characters",
		    o->secret_file);
	p[0] = o->tin;
	r = ctl_q1(db, "SELECT id FROM organizations WHERE tin = $1", 1, p,
	    "no organisation with that TIN");
	if (secrets_key_load(config_get("secrets.key_file", NULL), key,
	    &err) != 0)
		fatalx("%s", err.msg);
	hex = seal_for(key, PQgetvalue(r, 0, 0), secret);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(secret, strlen(secret));
	free(secret);
	p[0] = PQgetvalue(r, 0, 0);
	p[1] = o->url;
	p[2] = hex;
	PQclear(ctl_q(db, "BEGIN", 0, NULL));
	PQclear(ctl_q(db, "INSERT INTO organization_webhooks (organization_id,"
	    " url, secret_enc, is_active) VALUES ($1, $2, $3::bytea, true)"
	    " ON CONFLICT (organization_id) DO UPDATE SET url = EXCLUDED.url,"
	    " secret_enc = EXCLUDED.secret_enc, is_active = true", 3, p));
	free(hex);
	snprintf(detail, sizeof(detail), "webhook_set");
	ctl_audit(db, PQgetvalue(r, 0, 0), "webhook_change", NULL, "success",
	    detail);
	PQclear(ctl_q(db, "COMMIT", 0, NULL));
	log_info("webhook saved organization=%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}

int
ctl_reseal_webhooks(PGconn *db, const unsigned char *oldk,
    const unsigned char *newk)
{
	unsigned char *bin;
	char ad[64], *plain, *hex;
	const char *p[2];
	struct errbuf err;
	size_t binlen;
	PGresult *r;
	int i, n;

	r = ctl_q(db, "SELECT organization_id, secret_enc FROM"
	    " organization_webhooks WHERE secret_enc IS NOT NULL"
	    " ORDER BY organization_id FOR UPDATE", 0, NULL);
	n = PQntuples(r);
	for (i = 0; i < n; i++) {
		snprintf(ad, sizeof(ad), "webhook:%s", PQgetvalue(r, i, 0));
		bin = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i,
		    1), &binlen);
		if (bin == NULL)
			fatalx("out of memory");
		if (secrets_open(oldk, ad, bin, binlen, &plain, &err) != 0)
			fatalx("webhook of organization %s does not open with "
			    "the current key: %s (nothing changed)",
			    PQgetvalue(r, i, 0), err.msg);
		PQfreemem(bin);
		hex = seal_for(newk, PQgetvalue(r, i, 0), plain);
		sodium_memzero(plain, strlen(plain));
		free(plain);
		p[0] = PQgetvalue(r, i, 0);
		p[1] = hex;
		PQclear(ctl_q(db, "UPDATE organization_webhooks SET"
		    " secret_enc = $2::bytea WHERE organization_id = $1", 2,
		    p));
		free(hex);
	}
	PQclear(r);
	return n;
}
