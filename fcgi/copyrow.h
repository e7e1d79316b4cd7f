/*
 * The lines of COPY csv_job_rows FROM STDIN (FORMAT csv): one per csvin
 * row, batched in a fixed buffer that a callback hands on (to
 * PQputCopyData in the app, to a string in the unit test).  Pure: no
 * libpq here.
 */
#ifndef COPYROW_H
#define COPYROW_H

#include <stddef.h>

#include "csvin.h"
#include "limits.h"

/* Column list of the COPY these lines are for, in line order. */
#define COPYROW_COLUMNS							\
	"job_id, row_number, claim_number, first_name, last_name,"	\
	" date_of_birth, subscriber_id, extra, warning, status, success," \
	" error_message, lookup_result"

/* Takes len bytes of complete or partial lines; returns 0 or -1. */
typedef int (*copyrow_flush_fn)(void *arg, const char *buf, size_t len);

struct copybuf {
	copyrow_flush_fn flush;
	void		*arg;
	int		 failed;	/* a flush failed: later calls fail */
	size_t		 len;
	char		 buf[COPY_BUF_BYTES];
};

/* Sets up b to hand full buffers to flush(arg, ...). */
void	copybuf_init(struct copybuf *b, copyrow_flush_fn flush, void *arg);

/* Hands what is buffered to the flush callback; 0 or -1. */
int	copybuf_flush(struct copybuf *b);

/*
 * Appends the line for row: job_id, row_number, the five input fields,
 * extra (a JSON array of [header name, value] pairs in header order, or
 * NULL when the file has no extra columns; jsonb would reorder an
 * object's keys), warning, and for a row with a validation error
 * status 'Invalid', success false, error_message, lookup_result
 * 'INPUT_INVALID' (a finished, failed row the payer never sees), else
 * four NULLs.  Every text value is quoted ("" inside), since COPY reads
 * a quoted empty field as '' and an unquoted one as NULL.  sum gives the
 * header names (csvin fills it before the first row).  Returns 0 or -1.
 */
int	copyrow_write(struct copybuf *b, const char *job_id,
	    const struct csvin_row *row, const struct csvin_summary *sum);

#endif
