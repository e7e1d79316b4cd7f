/*
 * Browser sessions: login with a password, a random session id
 * in an HttpOnly, Secure, SameSite=Strict cookie, only its SHA-256 kept
 * in the database, an idle timeout (automatic logoff) and an absolute
 * lifetime, and a CSRF token that every state-changing request made with
 * the cookie must echo in X-CSRFToken.
 *
 * Password checks are Argon2id (64 MiB each): at most LOGIN_MAX_VERIFY
 * run at once, because a verify whose allocation fails returns -1 like a
 * wrong password (libsodium cannot tell them apart), so unbounded
 * concurrency turns memory pressure into refused good passwords.  A
 * login that finds no free slot is answered 503 at once.
 * Logins are throttled in the database (all threads, all processes) per
 * account and address with growing delays, per account from everywhere
 * with a high ceiling, and per address: a guesser slows itself down
 * without locking the account's user out.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "app.h"
#include "audit.h"
#include "auth.h"
#include "config.h"
#include "cookie.h"
#include "db.h"
#include "handlers.h"
#include "log.h"

#define ORG_COLS	"u.id, u.username, u.role, o.id, o.name"

/* Settings, read once by session_init(). */
static long	idle_timeout_s = 900;
static long	max_lifetime_s = 43200;
static long	max_failures = 5;
static long	max_failures_acct = 100;
static long	max_failures_addr = 100;
static long	delay_base_s = 30;
static long	window_s = 900;

static sem_t	verify_slots;
static _Atomic long verify_failures;

/* A hash to verify against when the user does not exist (same cost). */
static char	dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static const char sql_session[] =
	"SELECT " ORG_COLS ", s.csrf_token,"
	" (s.expires_at > now() AND s.last_seen >"
	"  now() - make_interval(secs => $2::int) AND u.is_active),"
	" s.last_seen < now() - interval '5 seconds'"
	" FROM sessions s JOIN users u ON u.id = s.user_id"
	" JOIN organizations o ON o.id = u.organization_id"
	" WHERE s.id_hash = $1::bytea";

static const char sql_touch[] =
	"UPDATE sessions SET last_seen = now() WHERE id_hash = $1::bytea";

static const char sql_drop[] =
	"DELETE FROM sessions WHERE id_hash = $1::bytea";

static const char sql_user[] =
	"SELECT " ORG_COLS ", u.password_hash, u.is_active"
	" FROM users u JOIN organizations o ON o.id = u.organization_id"
	" WHERE u.username = $1";

static const char sql_user_by_id[] =
	"SELECT " ORG_COLS " FROM users u"
	" JOIN organizations o ON o.id = u.organization_id WHERE u.id = $1";

/*
 * Within the window: failures of this account from this address since
 * the pair's last success, and seconds since the newest of them; the
 * account's failures from anywhere since its last success, and seconds
 * until the oldest leaves the window; the address's failures (any
 * account), and seconds until the oldest leaves.
 */
static const char sql_throttle[] =
	"WITH u AS (SELECT at, address, success FROM login_attempts"
	"  WHERE username_hash = digest(lower($1), 'sha256')"
	"  AND at > now() - make_interval(secs => $3::int)),"
	" s AS (SELECT coalesce(max(at) FILTER (WHERE success),"
	"  '-infinity') AS acct_ok, coalesce(max(at) FILTER (WHERE success"
	"  AND address = $2), '-infinity') AS pair_ok FROM u),"
	" p AS (SELECT count(*) AS n, max(at) AS last FROM u, s"
	"  WHERE NOT success AND address = $2 AND at > s.pair_ok),"
	" a AS (SELECT count(*) AS n, min(at) AS first FROM u, s"
	"  WHERE NOT success AND at > s.acct_ok),"
	" b AS (SELECT count(*) AS n, min(at) AS first FROM login_attempts"
	"  WHERE address = $2 AND NOT success"
	"  AND at > now() - make_interval(secs => $3::int))"
	" SELECT p.n, coalesce(floor(extract(epoch from now() - p.last))::int,"
	"  0), a.n, coalesce(ceil(extract(epoch from a.first"
	"  + make_interval(secs => $3::int) - now()))::int, 1),"
	" b.n, coalesce(ceil(extract(epoch from b.first"
	"  + make_interval(secs => $3::int) - now()))::int, 1)"
	" FROM p, a, b";

static const char sql_attempt[] =
	"INSERT INTO login_attempts (username_hash, address, success)"
	" VALUES (digest(lower($1), 'sha256'), $2, $3::boolean)";

static const char sql_create[] =
	"WITH gone AS (DELETE FROM sessions WHERE user_id = $2"
	"  AND (expires_at < now()"
	"  OR last_seen < now() - make_interval(secs => $5::int)))"
	" INSERT INTO sessions (id_hash, user_id, csrf_token, address,"
	" expires_at) VALUES ($1::bytea, $2, $3, $4,"
	" now() + make_interval(secs => $6::int))";

static const char sql_rehash[] =
	"UPDATE users SET password_hash = $2 WHERE id = $1";

static void
make_dummy(void)
{
	char pw[33];

	randombytes_buf(pw, sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	if (crypto_pwhash_str(dummy_hash, pw, sizeof(pw) - 1,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy_hash[0] = '\0';
	sodium_memzero(pw, sizeof(pw));
}

void
session_init(void)
{
	idle_timeout_s = config_get_long("session.idle_timeout_s", 900);
	max_lifetime_s = config_get_long("session.max_lifetime_s", 43200);
	max_failures = config_get_long("login.max_failures", 5);
	max_failures_acct = config_get_long("login.max_failures_per_account",
	    100);
	max_failures_addr = config_get_long("login.max_failures_per_address",
	    100);
	delay_base_s = config_get_long("login.delay_base_s", 30);
	window_s = config_get_long("login.window_s", 900);
	if (idle_timeout_s < 1)
		idle_timeout_s = 900;
	if (max_lifetime_s < idle_timeout_s)
		max_lifetime_s = idle_timeout_s;
	if (max_failures < 1)
		max_failures = 5;
	if (max_failures_addr < max_failures)
		max_failures_addr = max_failures;
	if (max_failures_acct < max_failures)
		max_failures_acct = max_failures;
	if (window_s < 1)
		window_s = 900;
	if (delay_base_s < 1 || delay_base_s > window_s)
		delay_base_s = window_s < 30 ? window_s : 30;
	if (sem_init(&verify_slots, 0, LOGIN_MAX_VERIFY) != 0)
		fatal("sem_init");
	/* Now, not beside the first logins' own 64 MiB checks. */
	pthread_once(&dummy_once, make_dummy);
	log_info("sessions idle_timeout_s=%ld max_lifetime_s=%ld "
	    "login.max_failures=%ld per_account=%ld per_address=%ld "
	    "delay_base_s=%ld window_s=%ld", idle_timeout_s, max_lifetime_s,
	    max_failures, max_failures_acct, max_failures_addr, delay_base_s,
	    window_s);
}

static const char *
remote_addr(const struct req *r)
{
	const char *a = req_param(r, "REMOTE_ADDR");

	return a != NULL && *a != '\0' ? a : "unknown";
}

/* "\x" + hex of SHA-256(s), for a bytea parameter. */
static void
hash_hex(const char *s, char out[2 + 64 + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, 65, h, sizeof(h));
}

/* 32 random bytes as URL-safe base64 without padding (43 chars). */
static void
random_token(char out[SESSION_TOKEN_CHARS + 1])
{
	unsigned char b[SESSION_TOKEN_BYTES];

	randombytes_buf(b, sizeof(b));
	sodium_bin2base64(out, SESSION_TOKEN_CHARS + 1, b, sizeof(b),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(b, sizeof(b));
}

/* The session cookie's value, or -1 if there is none. */
static int
session_cookie(const struct req *r, char out[SESSION_TOKEN_CHARS + 1])
{
	const char *c = req_param(r, "HTTP_COOKIE");

	if (c == NULL)
		return -1;
	return cookie_find(c, strlen(c), COOKIE_SESSION_NAME, out,
	    SESSION_TOKEN_CHARS + 1) == SESSION_TOKEN_CHARS ? 0 : -1;
}

/* The login and me answer; csrf may be NULL (API token callers). */
static struct json_object *
session_body(const PGresult *res, const char *csrf)
{
	struct json_object *o, *u, *org;

	org = json_object_new_object();
	json_object_object_add(org, "id",
	    json_object_new_int64(strtoll(PQgetvalue(res, 0, 3), NULL, 10)));
	json_object_object_add(org, "name",
	    json_object_new_string(PQgetvalue(res, 0, 4)));
	u = json_object_new_object();
	json_object_object_add(u, "id",
	    json_object_new_int64(strtoll(PQgetvalue(res, 0, 0), NULL, 10)));
	json_object_object_add(u, "username",
	    json_object_new_string(PQgetvalue(res, 0, 1)));
	json_object_object_add(u, "role",
	    json_object_new_string(PQgetvalue(res, 0, 2)));
	json_object_object_add(u, "organization", org);
	o = json_object_new_object();
	json_object_object_add(o, "user", u);
	json_object_object_add(o, "csrf_token",
	    csrf ? json_object_new_string(csrf) : NULL);
	json_object_object_add(o, "idle_timeout_s",
	    json_object_new_int64(idle_timeout_s));
	return o;
}

/*
 * Looks the cookie's session up.  Returns the row (ORG_COLS, csrf,
 * valid, stale) or NULL after answering; an expired session is deleted
 * and answered 401 session_expired.
 */
static PGresult *
session_lookup(struct req *r, char hex[2 + 64 + 1])
{
	char sid[SESSION_TOKEN_CHARS + 1], idle[24];
	const char *p[2];
	struct errbuf err;
	PGresult *res;
	PGconn *db;

	if (session_cookie(r, sid) == -1) {
		resp_error(r, 401, "not_authenticated",
		    "Authentication credentials were not provided.", NULL,
		    NULL);
		return NULL;
	}
	hash_hex(sid, hex);
	sodium_memzero(sid, sizeof(sid));
	snprintf(idle, sizeof(idle), "%ld", idle_timeout_s);
	p[0] = hex;
	p[1] = idle;
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return NULL;
	}
	res = db_exec_prepared(db, &err, "session_lookup", sql_session,
	    2, p);
	/* The first query of a request: retry once on a dropped link. */
	if (res == NULL && PQstatus(db) == CONNECTION_BAD &&
	    (db = req_db(r)) != NULL)
		res = db_exec_prepared(db, &err, "session_lookup",
		    sql_session, 2, p);
	if (res == NULL) {
		resp_db_error(r, &err);
		return NULL;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 401, "not_authenticated",
		    "Your session has ended. Please sign in again.", NULL,
		    NULL);
		return NULL;
	}
	if (strcmp(PQgetvalue(res, 0, 6), "t") != 0) {
		r->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		r->org_id = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
		PQclear(res);
		if (db_cmd(db, &err, sql_drop, 1, p) == -1)
			log_warnx("session: expired session not deleted");
		audit_write(r, "session_expired", NULL, "success", NULL);
		r->user_id = r->org_id = 0;
		resp_error(r, 401, "session_expired",
		    "Your session has ended. Please sign in again.", NULL,
		    NULL);
		return NULL;
	}
	return res;
}

int
session_auth(struct req *r, int csrf)
{
	char hex[2 + 64 + 1];
	const char *p[1];
	struct errbuf err;
	PGresult *res;
	int touch;

	if ((res = session_lookup(r, hex)) == NULL)
		return -1;
	r->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	r->org_id = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	snprintf(r->role, sizeof(r->role), "%s", PQgetvalue(res, 0, 2));
	r->via_session = 1;
	if (csrf &&
	    !csrf_equal(PQgetvalue(res, 0, 5),
	    req_param(r, "HTTP_X_CSRFTOKEN"))) {
		PQclear(res);
		audit_write(r, "csrf_failed", r->route.job_id_ok ?
		    r->route.job_id : NULL, "denied",
		    r->route.name);
		/* Audited here, once: not again as the route's action. */
		r->user_id = r->org_id = 0;
		resp_error(r, 403, "csrf_failed",
		    "CSRF token missing or incorrect.", NULL, NULL);
		return -1;
	}
	touch = strcmp(PQgetvalue(res, 0, 7), "t") == 0;
	PQclear(res);
	/* last_seen moves at most every 5 s: polling is not a write storm. */
	if (touch) {
		p[0] = hex;
		if (db_cmd(r->w->db, &err, sql_touch, 1, p) == -1) {
			req_oneline(err.msg, err.msg, sizeof(err.msg));
			log_warnx("session: last_seen not updated: %s",
			    err.msg);
		}
	}
	return 0;
}

/* 1 if the Content-Type is application/json (parameters allowed). */
static int
is_json(const char *ct)
{
	size_t n = strlen("application/json");

	if (ct == NULL)
		return 0;
	while (*ct == ' ')
		ct++;
	return strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/*
 * Checks pw against hash (NULL: the dummy) with a bounded number of
 * checks at once.  Returns 1 match, 0 mismatch, -1 no free slot (never
 * waited for: a waiting login holds a FastCGI thread).
 */
static int
verify_password(const char *hash, const char *pw)
{
	int rc, e;

	pthread_once(&dummy_once, make_dummy);
	if (sem_trywait(&verify_slots) == -1)
		return -1;
	errno = 0;
	if (hash == NULL)
		hash = dummy_hash;
	rc = crypto_pwhash_str_verify(hash, pw, strlen(pw));
	e = errno;
	sem_post(&verify_slots);
	if (rc == 0)
		return 1;
	/*
	 * ENOMEM looks like a mismatch (EINVAL) on 1.0.18: count them so a
	 * burst shows in the log, and say so when errno tells.
	 */
	verify_failures++;
	if (e == ENOMEM)
		log_warnx("login: password check ran out of memory "
		    "failures=%ld", (long)verify_failures);
	return 0;
}

/* Stores a fresh hash if the policy changed since this one was made. */
static void
maybe_rehash(struct req *r, const char *uid, const char *hash,
    const char *pw)
{
	char fresh[crypto_pwhash_STRBYTES];
	const char *p[2];
	struct errbuf err;
	int rc;

	if (crypto_pwhash_str_needs_rehash(hash,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 1)
		return;
	if (sem_trywait(&verify_slots) != 0)
		return;		/* next login, then */
	rc = crypto_pwhash_str(fresh, pw, strlen(pw),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE);
	sem_post(&verify_slots);
	if (rc != 0)
		return;
	p[0] = uid;
	p[1] = fresh;
	if (db_cmd(r->w->db, &err, sql_rehash, 2, p) == 0)
		log_info("login: password rehashed user=%s", uid);
}

/* Records one attempt; bookkeeping, so failures are only logged. */
static void
record_attempt(struct req *r, const char *user, int success)
{
	const char *p[3];
	struct errbuf err;

	p[0] = user;
	p[1] = remote_addr(r);
	p[2] = success ? "true" : "false";
	if (db_cmd(r->w->db, &err, sql_attempt, 3, p) == -1) {
		req_oneline(err.msg, err.msg, sizeof(err.msg));
		log_warnx("login: attempt not recorded: %s", err.msg);
	}
}

/*
 * The wait a pair (account, address) with n failures owes after its
 * newest one: none below login.max_failures, then delay_base_s doubling
 * with every further failure, at most the window.
 */
static long
pair_delay(long n)
{
	long d = delay_base_s, k;

	if (n < max_failures)
		return 0;
	for (k = max_failures; k < n && d < window_s; k++)
		d *= 2;
	return d < window_s ? d : window_s;
}

/*
 * Answers 429 and returns 1 when this address has guessed this
 * account's password too often (growing delays), the account has too
 * many failures from everywhere (login.max_failures_per_account, set
 * high: a guesser must not lock its user out from a few addresses), or
 * the address from every account; 0 to go on, -1 after a database error
 * answer.  Throttled attempts are not recorded: they extend nothing.
 */
static int
throttled(struct req *r, const char *user)
{
	const char *p[3], *why = NULL;
	char win[24], hdr[64];
	struct errbuf err;
	PGresult *res;
	long pair, since, acct, addr, wait, retry = 0;

	snprintf(win, sizeof(win), "%ld", window_s);
	p[0] = user;
	p[1] = remote_addr(r);
	p[2] = win;
	if ((res = db_exec(r->w->db, &err, sql_throttle, 3, p)) == NULL) {
		resp_db_error(r, &err);
		return -1;
	}
	pair = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	since = strtol(PQgetvalue(res, 0, 1), NULL, 10);
	acct = strtol(PQgetvalue(res, 0, 2), NULL, 10);
	addr = strtol(PQgetvalue(res, 0, 4), NULL, 10);
	if ((wait = pair_delay(pair) - since) > 0) {
		retry = wait;
		why = "account_address";
	}
	if (acct >= max_failures_acct) {
		wait = strtol(PQgetvalue(res, 0, 3), NULL, 10);
		if (wait > retry)
			retry = wait;
		why = "account";
	}
	if (addr >= max_failures_addr) {
		wait = strtol(PQgetvalue(res, 0, 5), NULL, 10);
		if (wait > retry)
			retry = wait;
		why = "address";
	}
	PQclear(res);
	if (why == NULL)
		return 0;
	if (retry < 1)
		retry = 1;
	audit_write(r, "login_failed", NULL, "throttled", why);
	snprintf(hdr, sizeof(hdr), "Retry-After: %ld\r\n", retry);
	resp_error(r, 429, "login_throttled",
	    "Too many failed sign-in attempts. Please wait and try again.",
	    NULL, hdr);
	return 1;
}

/* Creates the session row and answers 200 with the cookie. */
static void
start_session(struct req *r, PGresult *ures)
{
	char sid[SESSION_TOKEN_CHARS + 1], csrf[SESSION_TOKEN_CHARS + 1];
	char hex[2 + 64 + 1], idle[24], life[24], cookie[160];
	const char *p[6];
	struct errbuf err;

	/* A new login replaces the browser's old session (no fixation). */
	if (session_cookie(r, sid) == 0) {
		hash_hex(sid, hex);
		p[0] = hex;
		if (db_cmd(r->w->db, &err, sql_drop, 1, p) == -1)
			log_warnx("login: previous session not deleted");
	}
	random_token(sid);
	random_token(csrf);
	hash_hex(sid, hex);
	snprintf(idle, sizeof(idle), "%ld", idle_timeout_s);
	snprintf(life, sizeof(life), "%ld", max_lifetime_s);
	p[0] = hex;
	p[1] = PQgetvalue(ures, 0, 0);
	p[2] = csrf;
	p[3] = remote_addr(r);
	p[4] = idle;
	p[5] = life;
	if (db_cmd(r->w->db, &err, sql_create, 6, p) == -1) {
		sodium_memzero(sid, sizeof(sid));
		resp_db_error(r, &err);
		return;
	}
	snprintf(cookie, sizeof(cookie), "Set-Cookie: " COOKIE_SESSION_NAME
	    "=%s; HttpOnly; Secure; SameSite=Strict; Path=/\r\n", sid);
	sodium_memzero(sid, sizeof(sid));
	audit_write(r, "login", NULL, "success", NULL);
	resp_json(r, 200, session_body(ures, csrf), cookie);
	sodium_memzero(cookie, sizeof(cookie));
}

void
session_login(struct req *r)
{
	char body[LOGIN_MAX_BODY], user[LOGIN_MAX_USERNAME + 1];
	char pw[LOGIN_MAX_PASSWORD + 1], ra[48];
	const char *why, *p[1], *hash;
	struct errbuf err;
	PGresult *res;
	long n;
	int ok, active;

	r->via_session = 1;	/* for the audit entries */
	if (!is_json(req_param(r, "CONTENT_TYPE"))) {
		resp_error(r, 415, "unsupported_media_type",
		    "Send the login as application/json.", NULL, NULL);
		return;
	}
	if ((n = req_body(r, body, sizeof(body))) < 0) {
		resp_error(r, 413, "too_large", "The login body is too large.",
		    NULL, NULL);
		return;
	}
	ok = login_parse(body, (size_t)n, user, pw, &why);
	sodium_memzero(body, sizeof(body));
	if (ok == -1) {
		resp_error(r, 400, "invalid_login", why, NULL, NULL);
		return;
	}
	if (req_db(r) == NULL) {
		resp_db_error(r, NULL);
		goto out;
	}
	p[0] = user;
	if ((res = db_exec(r->w->db, &err, sql_user, 1, p)) == NULL) {
		resp_db_error(r, &err);
		goto out;
	}
	if (PQntuples(res) == 1) {
		r->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		r->org_id = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	}
	/* Before the Argon2 check: a throttled guess costs no CPU. */
	if (throttled(r, user) != 0) {
		PQclear(res);
		goto out;
	}
	hash = PQntuples(res) == 1 && !PQgetisnull(res, 0, 5) ?
	    PQgetvalue(res, 0, 5) : NULL;
	active = PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	/* Unknown users cost the same Argon2 time as known ones. */
	ok = verify_password(hash, pw);
	if (ok == -1) {
		PQclear(res);
		snprintf(ra, sizeof(ra), "Retry-After: %d\r\n",
		    LOGIN_BUSY_RETRY_S);
		resp_error(r, 503, "busy",
		    "The server is busy. Please try again in a moment.",
		    NULL, ra);
		goto out;
	}
	if (ok != 1 || hash == NULL || !active) {
		record_attempt(r, user, 0);
		audit_write(r, "login_failed", NULL, "failure",
		    PQntuples(res) != 1 ? "unknown_user" :
		    hash == NULL ? "no_password" :
		    !active ? "inactive" : "bad_password");
		PQclear(res);
		resp_error(r, 401, "invalid_credentials",
		    "The user name or password is not correct.", NULL, NULL);
		goto out;
	}
	record_attempt(r, user, 1);
	snprintf(r->role, sizeof(r->role), "%s", PQgetvalue(res, 0, 2));
	maybe_rehash(r, PQgetvalue(res, 0, 0), hash, pw);
	start_session(r, res);
	PQclear(res);
out:
	sodium_memzero(pw, sizeof(pw));
}

void
session_logout(struct req *r)
{
	char hex[2 + 64 + 1], sid[SESSION_TOKEN_CHARS + 1];
	const char *p[1];
	struct errbuf err;

	/* Through auth_check (CSRF included) when the cookie is valid. */
	if (r->via_session && session_cookie(r, sid) == 0) {
		hash_hex(sid, hex);
		sodium_memzero(sid, sizeof(sid));
		p[0] = hex;
		if (db_cmd(r->w->db, &err, sql_drop, 1, p) == -1) {
			resp_db_error(r, &err);
			return;
		}
		audit_write(r, "logout", NULL, "success", NULL);
	}
	resp_headers(r, 204, NULL, -1, "Set-Cookie: " COOKIE_SESSION_NAME
	    "=; Max-Age=0; HttpOnly; Secure; SameSite=Strict; Path=/\r\n");
}

void
session_me(struct req *r)
{
	char hex[2 + 64 + 1], uid[24];
	const char *p[1];
	struct errbuf err;
	PGresult *res;

	if (r->via_session) {
		/* session_auth() ran; look again for the body's columns. */
		if ((res = session_lookup(r, hex)) == NULL)
			return;
		resp_json(r, 200, session_body(res, PQgetvalue(res, 0, 5)),
		    NULL);
		PQclear(res);
		return;
	}
	snprintf(uid, sizeof(uid), "%lld", r->user_id);
	p[0] = uid;
	if ((res = db_exec(r->w->db, &err, sql_user_by_id, 1, p)) == NULL) {
		resp_db_error(r, &err);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 401, "not_authenticated",
		    "Authentication credentials were not provided.", NULL,
		    NULL);
		return;
	}
	resp_json(r, 200, session_body(res, NULL), NULL);
	PQclear(res);
}
