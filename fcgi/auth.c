/*
 * DRF TokenAuthentication: "Authorization: Token <40 hex>".  Only the
 * SHA-256 of a key is stored (api_tokens.token_hash), so the key is
 * hashed and looked up; revoked or expired tokens and inactive users are
 * refused with DRF's messages.  last_used_at is written at most once a
 * minute per token, to keep a busy client from turning reads into writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "auth.h"
#include "db.h"
#include "log.h"
#include "secrets.h"

static const char sql_token[] =
	"SELECT t.id, u.id, u.organization_id, u.role, u.is_active,"
	" (t.last_used_at IS NULL"
	"  OR t.last_used_at < now() - interval '1 minute')"
	" FROM api_tokens t JOIN users u ON u.id = t.user_id"
	" WHERE t.token_hash = $1::bytea AND t.revoked_at IS NULL"
	" AND (t.expires_at IS NULL OR t.expires_at > now())";

static const char sql_touch[] =
	"UPDATE api_tokens SET last_used_at = now() WHERE id = $1";

static int
auth_fail(struct req *r, const char *code, const char *msg)
{
	resp_error(r, 401, code, msg, NULL, NULL);
	return -1;
}

/* Splits on whitespace as Python's bytes.split() does; max 3 words. */
static size_t
split_words(const char *s, const char *w[3], size_t wl[3])
{
	size_t n = 0;

	while (*s != '\0') {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (n == 3)
			return 4;
		w[n] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		wl[n] = (size_t)(s - w[n]);
		n++;
	}
	return n;
}

int
auth_check(struct req *r, int csrf)
{
	const char *hdr, *w[3], *params[1];
	size_t wl[3], n, i;
	char key[SECRETS_TOKEN_LEN + 1], hexhash[2 + 64 + 1];
	unsigned char hash[32];
	struct errbuf err;
	PGresult *res;
	PGconn *db;

	hdr = req_param(r, "HTTP_AUTHORIZATION");
	/* No Authorization header: the browser's session cookie. */
	if (hdr == NULL && req_param(r, "HTTP_COOKIE") != NULL)
		return session_auth(r, csrf);
	if (hdr == NULL ||
	    (n = split_words(hdr, w, wl)) == 0 ||
	    wl[0] != 5 || strncasecmp(w[0], "token", 5) != 0)
		return auth_fail(r, "not_authenticated",
		    "Authentication credentials were not provided.");
	if (n == 1)
		return auth_fail(r, "authentication_failed",
		    "Invalid token header. No credentials provided.");
	if (n > 2)
		return auth_fail(r, "authentication_failed",
		    "Invalid token header. Token string should not contain "
		    "spaces.");
	if (wl[1] != SECRETS_TOKEN_LEN)
		return auth_fail(r, "authentication_failed", "Invalid token.");
	memcpy(key, w[1], SECRETS_TOKEN_LEN);
	key[SECRETS_TOKEN_LEN] = '\0';
	if (secrets_token_hash(key, hash) == -1)
		return auth_fail(r, "authentication_failed", "Invalid token.");

	hexhash[0] = '\\';
	hexhash[1] = 'x';
	for (i = 0; i < sizeof(hash); i++)
		snprintf(hexhash + 2 + 2 * i, 3, "%02x", hash[i]);
	params[0] = hexhash;

	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return -1;
	}
	res = db_exec_prepared(db, &err, "auth_token", sql_token, 1,
	    params);
	/*
	 * This is the first query of every request: a connection the server
	 * dropped (restart, idle timeout) only shows here, so reconnect and
	 * try once more rather than fail one request per thread.
	 */
	if (res == NULL && PQstatus(db) == CONNECTION_BAD &&
	    (db = req_db(r)) != NULL)
		res = db_exec_prepared(db, &err, "auth_token", sql_token, 1,
	    params);
	if (res == NULL) {
		resp_db_error(r, &err);
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return auth_fail(r, "authentication_failed", "Invalid token.");
	}
	if (strcmp(PQgetvalue(res, 0, 4), "t") != 0) {
		PQclear(res);
		return auth_fail(r, "authentication_failed",
		    "User inactive or deleted.");
	}
	r->user_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	r->org_id = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	snprintf(r->role, sizeof(r->role), "%s", PQgetvalue(res, 0, 3));
	if (strcmp(PQgetvalue(res, 0, 5), "t") == 0) {
		params[0] = PQgetvalue(res, 0, 0);
		/* Bookkeeping only: a failure must not refuse the request. */
		if (db_cmd(db, &err, sql_touch, 1, params) == -1) {
			req_oneline(err.msg, err.msg, sizeof(err.msg));
			log_warnx("auth: last_used_at not updated: %s",
			    err.msg);
		}
	}
	PQclear(res);
	return 0;
}
