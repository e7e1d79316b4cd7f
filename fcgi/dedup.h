/*
 * Two ways an upload is not stored twice (dedup.c): Idempotency-Key
 * replay, and duplicate-file detection by the file's SHA-256.
 */
#ifndef FCGI_DEDUP_H
#define FCGI_DEDUP_H

#include <libpq-fe.h>

#include "errbuf.h"

struct req;

/* SHA-256 digest size (crypto_hash_sha256_BYTES). */
#define DEDUP_SHA256_BYTES	32

/*
 * Idempotency-Key of an upload.  key is the header value (or NULL:
 * nothing to do, returns 0).  Returns 0 if the request goes on (the key
 * is claimed: call idem_finish() once answered), 1 if it was answered
 * here (the first response replayed, 409 while the first request still
 * runs, 422 if the key came with another file, 400 for a malformed key),
 * -1 after answering 503.
 */
int	 idem_begin(struct req *r, const char *key,
	    const unsigned char sha[DEDUP_SHA256_BYTES]);

/*
 * Stores the response the request sent (captured by resp_json) under
 * key, or releases the key if the answer was a 5xx (a retry may then
 * succeed).  Errors are logged.
 */
void	 idem_finish(struct req *r, const char *key);

/*
 * Inside the upload's transaction, before the job is stored: serialises
 * uploads of the same file by one organisation and looks for a job of
 * the same file within window_s seconds.  Returns 0 (none, or window_s
 * <= 0), 1 with the earlier job's id in earlier (37 bytes), or -1 on a
 * database error (err set).
 */
int	 dedup_find(PGconn *db, long long org_id,
	    const unsigned char sha[DEDUP_SHA256_BYTES], long window_s,
	    char *earlier, struct errbuf *err);

#endif
