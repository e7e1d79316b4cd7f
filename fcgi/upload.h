/*
 * The uploaded file part of a multipart request (upload.c), shared by
 * the upload and validate-only endpoints.
 */
#ifndef FCGI_UPLOAD_H
#define FCGI_UPLOAD_H

#include <stddef.h>

#include "app.h"
#include "csvin.h"
#include "form.h"
#include "multipart.h"

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
 * Checks the request (Content-Type, size, multipart framing, the "file"
 * field and its type) and finds the file part.  Returns 0 with in
 * filled, or -1 after answering (400/413/415/503).  Call
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

#endif
