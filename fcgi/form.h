/*
 * Checks on the uploaded file part that need no services: which part
 * Content-Types may hold a CSV, and the filename we store and show.
 */
#ifndef FORM_H
#define FORM_H

#include <stddef.h>

/* Longest stored filename in bytes (Django's FileField max_length). */
#define FORM_FILENAME_MAX	255

/*
 * 1 if a file part with Content-Type ctype may be a CSV: absent, any
 * text/ type, application/csv, application/x-csv,
 * application/vnd.ms-excel (Excel on Windows) or
 * application/octet-stream (what curl and some browsers send when they
 * do not know).  0 for anything else (image/png, application/pdf, ...),
 * which the upload refuses with 415; binary data sent under an
 * accepted type is caught by the CSV checks (400 not_text).
 */
int	form_csv_type_ok(const char *ctype);

/*
 * The filename to store for an upload: fname (the part's sanitised
 * basename, may be NULL) with invalid UTF-8 bytes and control
 * characters replaced by '_', cut to FORM_FILENAME_MAX bytes on a
 * character boundary; "upload.csv" if nothing is left.  out needs
 * FORM_FILENAME_MAX + 1 bytes.
 */
void	form_filename(const char *fname, char *out, size_t outsz);

#endif
