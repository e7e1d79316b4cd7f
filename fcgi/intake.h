/*
 * Intake (issue 5) inside bulkclaims-fcgi: the uploaded file part shared
 * by upload and validate-only, the validate, template and rows endpoints,
 * duplicate-file detection and Idempotency-Key replay.  Internal to
 * fcgi/, next to app.h.
 */
#ifndef FCGI_INTAKE_H
#define FCGI_INTAKE_H

#include <stddef.h>

#include "app.h"
#include "csvin.h"
#include "form.h"
#include "multipart.h"

/* SHA-256 digest size (crypto_hash_sha256_BYTES). */
#define INTAKE_SHA256_BYTES	32

/* The "file" part of a multipart upload, read from nginx's body file. */
struct upload_in {
	struct mp_map	 map;
	struct mp_body	 body;
	char		*inbuf;		/* body read from stdin, or NULL */
	const void	*data;		/* the file part, inside map */
	size_t		 len;
	char		 filename[FORM_FILENAME_MAX + 1];
	/* The "workflow" field: status (default), details, payment, full. */
	char		 workflow[8];
};

/*
 * upload.c: checks the request (Content-Type, size, multipart framing,
 * the "file" field and its type, the optional "workflow" field) and
 * finds the file part.  Returns 0
 * with in filled, or -1 after answering (400/413/415/503).  Call
 * upload_in_free() afterwards in both cases.
 */
int	 upload_read(struct req *r, struct upload_in *in);

/* Releases what upload_read() mapped or allocated; idempotent. */
void	 upload_in_free(struct upload_in *in);

/*
 * Answers the 400 of a structural CSV error e: code, message, line, and
 * for column errors missing_columns and found_columns.  Shared by upload
 * and validate so that both answer the same.
 */
void	 upload_reject_csv(struct req *r, enum csvin_err e,
	    const struct csvin_summary *sum, const struct errbuf *err);

/* validate.c: POST claims/bulk/validate/ (no job is created). */
void	 validate_handle(struct req *r);

/* validate.c: GET claims/bulk/template/ (csvin_template). */
void	 template_handle(struct req *r);

/* rows.c: GET claims/csv-jobs/{id}/rows/ (paginated JSON). */
void	 rows_list(struct req *r);

/*
 * rows.c: GET claims/csv-jobs/{id}/rows/{row}/: one row as in the list,
 * with its service lines and payments (404 for another organisation's
 * job or a row the job does not have).
 */
void	 rows_detail(struct req *r);

/*
 * dedup.c: Idempotency-Key of an upload.  key is the header value (or
 * NULL: nothing to do, returns 0).  Returns 0 if the request goes on
 * (the key is claimed: call idem_finish() once answered), 1 if it was
 * answered here (the first response replayed, 409 while the first
 * request still runs, 422 if the key came with another file, 400 for a
 * malformed key), -1 after answering 503.
 */
int	 idem_begin(struct req *r, const char *key,
	    const unsigned char sha[INTAKE_SHA256_BYTES]);

/*
 * Stores the response the request sent (captured by resp_json) under
 * key, or releases the key if the answer was a 5xx (a retry may then
 * succeed).  Errors are logged.
 */
void	 idem_finish(struct req *r, const char *key);

/*
 * dedup.c: inside the upload's transaction, before the job is stored:
 * serialises uploads of the same file by one organisation and looks for
 * a job of the same file within window_s seconds.  Returns 0 (none, or
 * window_s <= 0), 1 with the earlier job's id in earlier (37 bytes), or
 * -1 on a database error (err set).
 */
int	 dedup_find(PGconn *db, long long org_id,
	    const unsigned char sha[INTAKE_SHA256_BYTES], long window_s,
	    char *earlier, struct errbuf *err);

#endif
