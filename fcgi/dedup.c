/*
 * Two ways an upload is not stored twice (dedup.h):
 *
 * - The same file (SHA-256 of the file part) uploaded again by the same
 *   organisation within upload.duplicate_window_s answers 409
 *   duplicate_upload with the earlier job's id.  The check runs inside
 *   the upload's transaction under an advisory lock on (organisation,
 *   digest), so two simultaneous uploads of one file cannot both pass.
 *
 * - Idempotency-Key: the first request with a key claims it (a row with
 *   status NULL, committed at once so concurrent retries see it); its
 *   answer is stored once sent, and a retry with the same key and file
 *   within 24 hours gets that answer back byte for byte, without a new
 *   job.  A 5xx answer releases the key, so the retry runs again.
 *
 * Keys are not secrets but are the client's: they are not logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "dedup.h"
#include "log.h"

static void
to_hex(const unsigned char *sha, char *hex)
{
	size_t i;

	for (i = 0; i < DEDUP_SHA256_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha[i]);
}

int
dedup_find(PGconn *db, long long org_id,
    const unsigned char sha[DEDUP_SHA256_BYTES], long window_s,
    char *earlier, struct errbuf *err)
{
	/* hashtextextended: one 64-bit lock per (organisation, file). */
	static const char sql_lock[] = "SELECT pg_advisory_xact_lock("
	    "hashtextextended($1 || ':' || $2, 727274005))";
	static const char sql_find[] = "SELECT id FROM csv_jobs"
	    " WHERE organization_id = $1 AND file_sha256 = decode($2, 'hex')"
	    " AND created_at > now() - make_interval(secs => $3::bigint)"
	    " ORDER BY created_at DESC LIMIT 1";
	char org[24], hex[DEDUP_SHA256_BYTES * 2 + 1], win[24];
	const char *params[3];
	PGresult *res;
	int found;

	if (window_s <= 0)
		return 0;
	snprintf(org, sizeof(org), "%lld", org_id);
	snprintf(win, sizeof(win), "%ld", window_s);
	to_hex(sha, hex);
	params[0] = org;
	params[1] = hex;
	params[2] = win;
	if ((res = db_exec_prepared(db, err, "dedup_lock", sql_lock, 2,
	    params)) == NULL)
		return -1;
	PQclear(res);
	if ((res = db_exec_prepared(db, err, "dedup_find", sql_find, 3,
	    params)) == NULL)
		return -1;
	found = PQntuples(res) == 1;
	if (found)
		snprintf(earlier, 37, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return found;
}

/* A key is 1..IDEM_KEY_MAX printable ASCII characters. */
static int
key_ok(const char *key)
{
	size_t n = 0;

	for (; key[n] != '\0'; n++)
		if (key[n] < 0x21 || key[n] > 0x7e || n >= IDEM_KEY_MAX)
			return 0;
	return n > 0;
}

/* Sends a stored answer again, marked as a replay. */
static void
replay(struct req *r, int status, const char *body)
{
	size_t len = strlen(body);

	log_info("upload idempotent replay status=%d", status);
	if (resp_headers(r, status, NULL, (long long)len,
	    "Idempotent-Replayed: true\r\n") == 0)
		resp_write(r, body, len);
}

int
idem_begin(struct req *r, const char *key,
    const unsigned char sha[DEDUP_SHA256_BYTES])
{
	/*
	 * Expired answers (anyone's: this keeps the table small, by its
	 * created_at index) and this key's claim if its request died.
	 */
	static const char sql_expire[] = "DELETE FROM upload_idempotency"
	    " WHERE created_at < now() - make_interval(secs => $3::bigint)"
	    " OR (user_id = $1 AND key = $2 AND status IS NULL AND"
	    " created_at < now() - make_interval(secs => $4::bigint))";
	static const char sql_claim[] = "INSERT INTO upload_idempotency"
	    " (user_id, key, file_sha256) VALUES ($1, $2, decode($3, 'hex'))"
	    " ON CONFLICT DO NOTHING RETURNING 1";
	static const char sql_get[] = "SELECT status, body,"
	    " file_sha256 = decode($3, 'hex') FROM upload_idempotency"
	    " WHERE user_id = $1 AND key = $2";
	char user[24], hex[DEDUP_SHA256_BYTES * 2 + 1], ttl[24], stale[24];
	const char *params[4];
	struct errbuf err;
	PGresult *res;
	PGconn *db = r->w->db;
	int claimed;

	if (key == NULL)
		return 0;
	if (!key_ok(key)) {
		resp_field_error(r, 400, "invalid_idempotency_key",
		    "Idempotency-Key", "The Idempotency-Key header must be 1 "
		    "to 255 printable ASCII characters without spaces.");
		return 1;
	}
	snprintf(user, sizeof(user), "%lld", r->user_id);
	snprintf(ttl, sizeof(ttl), "%d", IDEM_TTL_S);
	snprintf(stale, sizeof(stale), "%d", IDEM_STALE_S);
	to_hex(sha, hex);
	params[0] = user;
	params[1] = key;
	params[2] = ttl;
	params[3] = stale;
	if (db_cmd(db, &err, sql_expire, 4, params) == -1)
		goto dberr;
	params[2] = hex;
	if ((res = db_exec(db, &err, sql_claim, 3, params)) == NULL)
		goto dberr;
	claimed = PQntuples(res) == 1;
	PQclear(res);
	if (claimed)
		return 0;
	if ((res = db_exec(db, &err, sql_get, 3, params)) == NULL)
		goto dberr;
	if (PQntuples(res) != 1) {
		/* Released in between (a 5xx): the client may simply retry. */
		PQclear(res);
		resp_error(r, 409, "idempotency_conflict",
		    "A request with this Idempotency-Key just ended without "
		    "an answer; send it again.", NULL, NULL);
		return 1;
	}
	if (strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
		PQclear(res);
		resp_field_error(r, 422, "idempotency_key_reused",
		    "Idempotency-Key", "This Idempotency-Key was used for "
		    "another file; use a new key for a new upload.");
		return 1;
	}
	if (PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1)) {
		PQclear(res);
		resp_error(r, 409, "idempotency_in_progress",
		    "A request with this Idempotency-Key is still being "
		    "processed; try again in a moment.", NULL,
		    "Retry-After: 2\r\n");
		return 1;
	}
	replay(r, (int)strtol(PQgetvalue(res, 0, 0), NULL, 10),
	    PQgetvalue(res, 0, 1));
	PQclear(res);
	return 1;
dberr:
	resp_db_error(r, &err);
	return -1;
}

void
idem_finish(struct req *r, const char *key)
{
	static const char sql_store[] = "UPDATE upload_idempotency"
	    " SET status = $3, body = $4 WHERE user_id = $1 AND key = $2";
	static const char sql_release[] = "DELETE FROM upload_idempotency"
	    " WHERE user_id = $1 AND key = $2 AND status IS NULL";
	char user[24], status[16];
	const char *params[4];
	struct errbuf err;
	PGconn *db;

	if (key == NULL)
		return;
	if ((db = req_db(r)) == NULL) {
		log_warnx("upload: idempotency key left claimed (database)");
		return;
	}
	snprintf(user, sizeof(user), "%lld", r->user_id);
	snprintf(status, sizeof(status), "%d", r->status);
	params[0] = user;
	params[1] = key;
	params[2] = status;
	params[3] = r->captured;
	if (r->captured != NULL && r->status < 500) {
		if (db_cmd(db, &err, sql_store, 4, params) == 0)
			return;
	} else if (db_cmd(db, &err, sql_release, 2, params) == 0)
		return;
	req_oneline(err.msg, err.msg, sizeof(err.msg));
	log_warnx("upload: idempotency key update failed: %s", err.msg);
}
