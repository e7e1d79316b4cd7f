/*
 * bulkclaimsctl: the security commands (accounts, tokens, key
 * rotation, retention).  Every change is written to audit_log in the
 * same transaction as the change itself, so there is no change without
 * its entry.  Nothing here prints or logs patient data: job ids, user
 * ids, token prefixes and counts only.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "ctl.h"
#include "log.h"
#include "secrets.h"
#include "util.h"

static void
begin(PGconn *db)
{
	PQclear(ctl_q(db, "BEGIN", 0, NULL));
}

static void
commit(PGconn *db)
{
	PQclear(ctl_q(db, "COMMIT", 0, NULL));
}

void
ctl_audit(PGconn *db, const char *org_id, const char *action,
    const char *job_id, const char *outcome, const char *detail)
{
	char who[96];
	const char *p[6], *sudo;
	struct passwd *pw;

	pw = getpwuid(getuid());
	sudo = getenv("SUDO_USER");
	snprintf(who, sizeof(who), "ctl:%s%s%s", pw ? pw->pw_name : "?",
	    sudo ? "/sudo:" : "", sudo ? sudo : "");
	p[0] = org_id;
	p[1] = who;
	p[2] = action;
	p[3] = job_id;
	p[4] = outcome;
	p[5] = detail;
	PQclear(ctl_q(db, "INSERT INTO audit_log (organization_id, username,"
	    " address, action, job_id, outcome, via, detail) VALUES"
	    " ($1::bigint, $2, 'local', $3, $4::uuid, $5, 'ctl', $6)", 6, p));
}

/* A command that changes one user (see user_change()). */
struct user_cmd {
	const char	*sql;		/* $1 the username; id, org id */
	const char	*what;		/* audit detail after "user_id=N " */
	const char	*action;	/* audit_log.action */
	const char	*logmsg;	/* the log line's first words */
	int		 end_sessions;	/* the user's sessions go too */
};

/*
 * The body of set-role, deactivate-user and end-sessions: runs c->sql
 * with p[0..n-1], then audits and commits in the same transaction.
 */
static void
user_change(PGconn *db, const struct user_cmd *c, const char *const *p,
    int n)
{
	const char *q[1];
	char detail[96];
	PGresult *r, *s = NULL;

	begin(db);
	r = ctl_q1(db, c->sql, n, p, "no such user");
	if (c->end_sessions) {
		/* Signed-in browsers are signed out now, not at a timeout. */
		q[0] = PQgetvalue(r, 0, 0);
		s = ctl_q(db, "DELETE FROM sessions WHERE user_id = $1", 1, q);
	}
	snprintf(detail, sizeof(detail), "user_id=%s %s%s%s",
	    PQgetvalue(r, 0, 0), c->what, s ? " sessions=" : "",
	    s ? PQcmdTuples(s) : "");
	PQclear(s);
	ctl_audit(db, PQgetvalue(r, 0, 1), c->action, NULL, "success",
	    detail);
	commit(db);
	log_info("%s %s", c->logmsg, detail);
	PQclear(r);
}

void
ctl_set_role(PGconn *db, const struct ctl_opts *o)
{
	const char *p[2] = { o->username, o->role };
	char what[48];
	const struct user_cmd c = { "UPDATE users SET role = $2"
	    " WHERE username = $1 RETURNING id, organization_id", what,
	    "user_change", "role set", 0 };

	if (!o->username || !o->role)
		ctl_usage_of("set-role --username U"
		    " --role admin|member|viewer");
	if (!ctl_role_valid(o->role))
		fatalx("role must be admin, member or viewer");
	snprintf(what, sizeof(what), "role=%s", o->role);
	user_change(db, &c, p, 2);
}

void
ctl_deactivate_user(PGconn *db, const struct ctl_opts *o)
{
	const char *p[1] = { o->username };
	static const struct user_cmd c = { "UPDATE users SET is_active ="
	    " false WHERE username = $1 RETURNING id, organization_id",
	    "deactivated", "user_change", "user", 1 };

	if (!o->username)
		ctl_usage_of("deactivate-user --username U");
	user_change(db, &c, p, 1);
}

void
ctl_end_sessions(PGconn *db, const struct ctl_opts *o)
{
	const char *p[1] = { o->username };
	static const struct user_cmd c = { "SELECT id, organization_id"
	    " FROM users WHERE username = $1", "forced", "logout",
	    "sessions ended", 1 };

	if (!o->username)
		ctl_usage_of("end-sessions --username U");
	user_change(db, &c, p, 1);
}

void
ctl_list_tokens(PGconn *db, const struct ctl_opts *o)
{
	const char *p[1];
	PGresult *r;
	int i;

	if (!o->username)
		ctl_usage_of("list-tokens --username U");
	p[0] = o->username;
	r = ctl_q(db, "SELECT t.prefix,"
	    " to_char(t.created_at, 'YYYY-MM-DD HH24:MI'),"
	    " coalesce(to_char(t.expires_at, 'YYYY-MM-DD HH24:MI'), '-'),"
	    " coalesce(to_char(t.last_used_at, 'YYYY-MM-DD HH24:MI'), '-'),"
	    " CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'"
	    "  WHEN t.expires_at <= now() THEN 'expired' ELSE 'active' END"
	    " FROM api_tokens t JOIN users u ON u.id = t.user_id"
	    " WHERE u.username = $1 ORDER BY t.created_at, t.id", 1, p);
	printf("%-8s  %-16s  %-16s  %-16s  %s\n", "PREFIX", "CREATED",
	    "EXPIRES", "LAST USED", "STATE");
	for (i = 0; i < PQntuples(r); i++)
		printf("%-8s  %-16s  %-16s  %-16s  %s\n", PQgetvalue(r, i, 0),
		    PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
		    PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
	PQclear(r);
}

void
ctl_revoke_token(PGconn *db, const struct ctl_opts *o)
{
	const char *p[2];
	char detail[96];
	PGresult *r;

	if (!o->prefix)
		ctl_usage_of("revoke-token --prefix P [--username U]");
	p[0] = o->prefix;
	p[1] = o->username;
	begin(db);
	r = ctl_q(db, "SELECT t.id, u.id, u.organization_id"
	    " FROM api_tokens t JOIN users u ON u.id = t.user_id"
	    " WHERE t.prefix = $1 AND ($2::text IS NULL OR u.username = $2)"
	    " AND t.revoked_at IS NULL FOR UPDATE OF t", 2, p);
	if (PQntuples(r) == 0)
		fatalx("no active token with that prefix");
	if (PQntuples(r) > 1)
		fatalx("%d tokens have that prefix: add --username",
		    PQntuples(r));
	p[0] = PQgetvalue(r, 0, 0);
	PQclear(ctl_q(db, "UPDATE api_tokens SET revoked_at = now()"
	    " WHERE id = $1", 1, p));
	snprintf(detail, sizeof(detail), "prefix=%.8s user_id=%s", o->prefix,
	    PQgetvalue(r, 0, 1));
	ctl_audit(db, PQgetvalue(r, 0, 2), "token_revoke", NULL, "success",
	    detail);
	commit(db);
	log_info("token revoked %s", detail);
	PQclear(r);
}

/* Writes key as hex to path (mode 0600, owner uid/gid), synced. */
static void
write_key(const char *path, const unsigned char key[SECRETS_KEY_LEN],
    uid_t uid, gid_t gid)
{
	char hex[SECRETS_KEY_LEN * 2 + 2];
	int fd;

	sodium_bin2hex(hex, sizeof(hex) - 1, key, SECRETS_KEY_LEN);
	hex[SECRETS_KEY_LEN * 2] = '\n';
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		fatal("%s", path);
	if (write(fd, hex, SECRETS_KEY_LEN * 2 + 1) !=
	    SECRETS_KEY_LEN * 2 + 1 || fsync(fd) == -1)
		fatal("%s", path);
	/* Root runs ctl; the services read the key as their own user. */
	if (getuid() == 0 && fchown(fd, uid, gid) == -1)
		fatal("chown %s", path);
	close(fd);
	sodium_memzero(hex, sizeof(hex));
}

/* Re-seals one payer secret (row i of r) from oldk to newk. */
static void
reseal(PGconn *db, PGresult *r, int i, const unsigned char *oldk,
    const unsigned char *newk)
{
	unsigned char *bin, *sealed;
	char ad[SECRETS_AD_MAX], *plain, *hex;
	size_t binlen, sealedlen;
	const char *p[2];
	struct errbuf err;

	if (secrets_payer_ad(ad, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
	    PQgetvalue(r, i, 4)) == -1)
		fatalx("credential id=%s: payer base URL too long",
		    PQgetvalue(r, i, 0));
	bin = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 3),
	    &binlen);
	if (bin == NULL)
		fatalx("out of memory");
	if (secrets_open(oldk, ad, bin, binlen, &plain, &err) != 0)
		fatalx("credential id=%s does not open with the current key: "
		    "%s (nothing changed)", PQgetvalue(r, i, 0), err.msg);
	PQfreemem(bin);
	if (secrets_seal(newk, ad, plain, strlen(plain), &sealed,
	    &sealedlen, &err) != 0)
		fatalx("%s", err.msg);
	sodium_memzero(plain, strlen(plain));
	free(plain);
	hex = ctl_bytea_hexdup(sealed, sealedlen);
	free(sealed);
	p[0] = PQgetvalue(r, i, 0);
	p[1] = hex;
	PQclear(ctl_q(db, "UPDATE payer_credentials SET client_secret_enc ="
	    " $2::bytea, key_id = key_id + 1, updated_at = now()"
	    " WHERE id = $1", 2, p));
	free(hex);
}

/*
 * Re-encrypts every payer secret under the key in --new-key-file (made
 * if absent) in one transaction, then replaces secrets.key_file with it.
 * The new key file is written next to the old one before COMMIT and
 * renamed over it after, so a failure before COMMIT changes nothing.
 */
void
ctl_rotate_key(PGconn *db, const struct ctl_opts *o)
{
	unsigned char oldk[SECRETS_KEY_LEN], newk[SECRETS_KEY_LEN];
	const char *keyfile = config_get("secrets.key_file", NULL);
	char tmp[4096], detail[64];
	struct errbuf err;
	struct stat st;
	PGresult *r;
	int i, n;

	if (!o->new_key_file)
		ctl_usage_of("rotate-key --new-key-file F");
	if (keyfile == NULL || *keyfile == '\0')
		fatalx("secrets.key_file is not set");
	if (stat(keyfile, &st) == -1)
		fatal("%s", keyfile);
	if (access(o->new_key_file, F_OK) != 0 &&
	    secrets_key_create(o->new_key_file, &err) != 0)
		fatalx("%s", err.msg);
	if (secrets_key_load(keyfile, oldk, &err) != 0 ||
	    secrets_key_load(o->new_key_file, newk, &err) != 0)
		fatalx("%s", err.msg);
	if (sodium_memcmp(oldk, newk, SECRETS_KEY_LEN) == 0)
		fatalx("the new key is the current key");
	if (snprintf(tmp, sizeof(tmp), "%s.new", keyfile) >= (int)sizeof(tmp))
		fatalx("secrets.key_file: path too long");

	begin(db);
	/* the base URL each secret was sealed with (set_credentials) */
	r = ctl_q(db, "SELECT c.id, c.practice_id, c.provider_code,"
	    " c.client_secret_enc, (SELECT min(e.base_url) FROM"
	    " payer_endpoints e WHERE e.provider_code = c.provider_code"
	    " AND e.is_active) FROM payer_credentials c ORDER BY c.id"
	    " FOR UPDATE OF c", 0, NULL);
	n = PQntuples(r);
	for (i = 0; i < n; i++)
		reseal(db, r, i, oldk, newk);
	PQclear(r);
	n += ctl_reseal_webhooks(db, oldk, newk);
	snprintf(detail, sizeof(detail), "secrets=%d", n);
	ctl_audit(db, NULL, "key_rotate", NULL, "success", detail);
	write_key(tmp, newk, st.st_uid, st.st_gid);
	sodium_memzero(oldk, sizeof(oldk));
	sodium_memzero(newk, sizeof(newk));
	commit(db);
	if (rename(tmp, keyfile) == -1)
		fatal("the secrets are re-encrypted but %s could not replace "
		    "%s: move it there by hand now", tmp, keyfile);
	log_info("key rotated %s; the new key is in secrets.key_file "
	    "(remove %s)", detail, o->new_key_file);
}

void
ctl_purge_job(PGconn *db, const struct ctl_opts *o)
{
	const char *p[1];
	PGresult *r;
	char *st;

	if (!o->job || !util_is_uuid(o->job))
		ctl_usage_of("purge --job UUID");
	p[0] = o->job;
	begin(db);
	r = ctl_q(db, "SELECT job_purge($1::uuid, NULL, false),"
	    " (SELECT organization_id FROM csv_jobs WHERE id = $1::uuid)",
	    1, p);
	st = PQgetvalue(r, 0, 0);
	if (strcmp(st, "not_found") == 0)
		fatalx("no such job");
	if (strcmp(st, "running") == 0)
		fatalx("job %s is still running: cancel it first", o->job);
	ctl_audit(db, PQgetvalue(r, 0, 1), "purge", o->job, "success",
	    strcmp(st, "already_purged") == 0 ? "already purged" : NULL);
	commit(db);
	log_info("purge job=%s %s", o->job, st);
	PQclear(r);
}

/*
 * Retention: every job older than retention.days (30) loses its rows
 * (job record kept, purged_at set), audit entries older than
 * audit.retention_days (2190, six years) go, and so do ended sessions
 * and day-old login attempts.  Meant for a daily timer.
 */
void
ctl_purge_expired(PGconn *db, const struct ctl_opts *o)
{
	long days = config_get_long("retention.days", 30);
	long adays = config_get_long("audit.retention_days", 2190);
	long idle = config_get_long("session.idle_timeout_s", 900);
	char sdays[24], sadays[24], sidle[24], detail[128];
	const char *p[1];
	PGresult *r, *a;
	long jobs = 0;
	int i;

	(void)o;
	if (days < 1 || adays < 1)
		fatalx("retention.days and audit.retention_days must be >= 1");
	if (adays < days)
		log_warnx("audit.retention_days (%ld) is shorter than "
		    "retention.days (%ld)", adays, days);
	snprintf(sdays, sizeof(sdays), "%ld", days);
	snprintf(sadays, sizeof(sadays), "%ld", adays);
	snprintf(sidle, sizeof(sidle), "%ld", idle > 0 ? idle : 900);
	begin(db);
	p[0] = sdays;
	r = ctl_q(db, "SELECT id, organization_id, job_purge(id, NULL, true)"
	    " FROM csv_jobs WHERE purged_at IS NULL"
	    " AND created_at < now() - make_interval(days => $1::int)"
	    " ORDER BY created_at", 1, p);
	for (i = 0; i < PQntuples(r); i++) {
		if (strcmp(PQgetvalue(r, i, 2), "purged") != 0)
			continue;
		ctl_audit(db, PQgetvalue(r, i, 1), "purge",
		    PQgetvalue(r, i, 0), "success", "retention");
		jobs++;
	}
	PQclear(r);
	p[0] = sadays;
	a = ctl_q(db, "SELECT audit_purge($1::int)", 1, p);
	p[0] = sidle;
	PQclear(ctl_q(db, "DELETE FROM sessions WHERE expires_at < now()"
	    " OR last_seen < now() - make_interval(secs => $1::int)", 1, p));
	PQclear(ctl_q(db, "DELETE FROM login_attempts"
	    " WHERE at < now() - interval '1 day'", 0, NULL));
	snprintf(detail, sizeof(detail), "jobs=%ld audit_entries=%s "
	    "retention_days=%ld audit_retention_days=%ld", jobs,
	    PQgetvalue(a, 0, 0), days, adays);
	PQclear(a);
	ctl_audit(db, NULL, "purge_expired", NULL, "success", detail);
	commit(db);
	log_info("purge-expired %s", detail);
}
