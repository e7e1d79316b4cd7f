/*
 * csvin: validates an uploaded claims CSV and streams its data rows to a
 * callback, one at a time, so memory does not grow with the file (only
 * the duplicate-claim set does: 12 bytes per distinct claim number, at a
 * load of at most one half).  Parsing is libcsv in strict mode; this
 * module adds what libcsv does not check: encoding, header mapping,
 * field counts, line numbers and the per-row value checks.
 *
 * Header (first non-blank line) names are matched ignoring case, a
 * UTF-8 BOM, and every character that is not a letter, digit or '#'
 * (so "Claim Number", "claim_number" and " CLAIM-NUMBER " are the same);
 * anything from a '(' on is ignored ("Date of Birth (MM/DD/YYYY)").
 * Accepted names (after that folding), per required column:
 *
 *   claim_number   claim_number, claim number, claim #, claim no, claim_no,
 *                  claim num, claim id, claim
 *   first_name     first_name, first name, fname, first, given name,
 *                  patient first name
 *   last_name      last_name, last name, lname, last, surname, family name,
 *                  patient last name
 *   date_of_birth  date_of_birth, date of birth, dob, birth date,
 *                  birthdate, birthday, patient dob
 *   subscriber_id  subscriber_id, subscriber id, subscriber #, subscriber no,
 *                  subscriber number, member id, member_id, member #,
 *                  member no, member number, insured id
 *
 * Other columns are kept as "extra" columns, in header order.  Two header
 * columns that map to the same required column are an error.
 *
 * Accepted input: UTF-8 with or without BOM, or Windows-1252 (converted;
 * a file that mixes valid UTF-8 sequences with invalid bytes is
 * rejected, since no single conversion is right for it); CRLF, LF or CR
 * line ends; RFC 4180 quoting; surrounding spaces (trimmed); blank lines
 * and rows whose fields are all empty (skipped anywhere, counted in
 * blank_rows); trailing empty header names and trailing empty fields
 * past the header's width (Excel artefacts).
 *
 * Dates of birth: YYYY-MM-DD, MM/DD/YYYY, M/D/YYYY, M/D/YY ('-' and '/'
 * both accepted as the separator, month before day in the US forms),
 * optionally followed by a midnight time as Excel writes it
 * ("1/15/1980 0:00", "1980-01-15 00:00:00").  A two-digit year is read
 * as the latest year that does not put the date after today, so every
 * age from 0 to 99 comes out right (with today 2026-11-28, 11/28/26 is
 * 2026-11-28 and 11/29/26 is 1926-11-29).  A date after today or before
 * 1900-01-01 is an error; Feb 29 only in leap years.
 *
 * Row error messages (joined with "; " when a row has several):
 *   "<column> is empty"
 *   "<column> is longer than <N> characters"          (caps in limits.h)
 *   "<column> contains a control character"
 *   "date_of_birth: '<value>' is not a date (YYYY-MM-DD or MM/DD/YYYY)"
 *   "date_of_birth: '<value>' is in the future"
 *   "date_of_birth: '<value>' is before 1900"
 * Row warnings (the row stays valid):
 *   "<column>: '<value>' looks like a number Excel turned into scientific
 *    notation; the original identifier is lost"
 *   "claim_number: '<value>' also appears on row <N>"
 *
 * Messages quote the uploaded values (patient data): send them to the
 * uploader, never to a log.
 */
#ifndef CSVIN_H
#define CSVIN_H

#include <stddef.h>

#include "errbuf.h"
#include "limits.h"

enum csvin_col {
	CSVIN_CLAIM_NUMBER,
	CSVIN_FIRST_NAME,
	CSVIN_LAST_NAME,
	CSVIN_DATE_OF_BIRTH,
	CSVIN_SUBSCRIBER_ID,
	CSVIN_COL__MAX
};
/* Canonical column names, "claim_number", ...: the template header. */
extern const char *const csvin_col_names[CSVIN_COL__MAX];

/*
 * A CSV template for users: the header and one example row, CRLF line
 * ends (what Excel expects).
 */
extern const char csvin_template[];

/* Structural problems: the upload is rejected (HTTP 400). */
enum csvin_err {
	CSVIN_OK,
	CSVIN_EMPTY,
	CSVIN_NOT_TEXT,
	CSVIN_BAD_ENCODING,
	CSVIN_MISSING_COLUMNS,
	CSVIN_DUPLICATE_COLUMN,
	CSVIN_NO_ROWS,
	CSVIN_UNBALANCED_QUOTE,
	CSVIN_FIELD_COUNT,
	CSVIN_TOO_MANY_ROWS,
	CSVIN_FIELD_TOO_LONG,
	CSVIN_ABORTED,
	CSVIN_ERR__MAX
};
/* Stable machine codes for JSON: "ok", "empty", "not_text", ... */
extern const char *const csvin_err_codes[CSVIN_ERR__MAX];

/* One data row, as handed to the callback. */
struct csvin_row {
	/* 1-based data row (the header and blank rows not counted). */
	long		 row_number;
	/* 1-based physical line where the row starts. */
	long		 line;
	/*
	 * The required values, NUL-terminated and trimmed, never NULL ("" if
	 * empty); date_of_birth as YYYY-MM-DD when valid, else as given.
	 */
	const char	*field[CSVIN_COL__MAX];
	/* NULL, or the row's validation error(s): the row must not be sent. */
	const char	*error;
	/* NULL, or the row's warning(s): the row is still valid. */
	const char	*warning;
	/* Extra (unmapped) columns and their values, in header order. */
	size_t		 nextra;
	const char *const *extra;
	/* 0, or the row_number of the first row with the same claim number. */
	long		 duplicate_of;
};

/*
 * Called once per data row.  Return 0 to go on, non-zero to stop
 * (csvin_parse then fails with CSVIN_ABORTED).  The row and every
 * string in it are valid only during the call.
 */
typedef int (*csvin_row_fn)(void *arg, const struct csvin_row *row);

/*
 * What csvin_parse found.  The header part (column_index, ncolumns,
 * header, nextra, extra_index, header_line) is filled before the first
 * callback, so a callback may read it (pass the summary in arg).
 */
struct csvin_summary {
	long	 rows;		/* data rows seen */
	long	 invalid_rows;	/* rows with error != NULL */
	/* The input was Windows-1252 and was converted to UTF-8. */
	int	 converted_from_cp1252;
	/* Header position of each required column, -1 if missing. */
	int	 column_index[CSVIN_COL__MAX];
	size_t	 ncolumns;	/* columns in the header */
	/* Header names as found (trimmed, BOM stripped); owned. */
	char	*header[CSV_MAX_COLUMNS];
	long	 warnings;	/* rows with warning != NULL */
	/* Plain-text message of the structural error (as err->msg). */
	char	 error_detail[512];
	long	 error_line;	/* line of the structural error, or 0 */
	/* Added beyond the first contract: */
	enum csvin_err error;	/* what csvin_parse returned */
	long	 header_line;	/* line of the header, 0 if none */
	long	 blank_rows;	/* blank or all-empty rows skipped */
	long	 duplicate_rows; /* rows whose claim number came before */
	/* Extra (unmapped) columns and their header positions. */
	size_t	 nextra;
	int	 extra_index[CSV_MAX_COLUMNS];
};

/*
 * Validates buf (len bytes, e.g. an mmap of the uploaded part) and calls
 * fn(arg, row) for each data row in order.  max_rows: more data rows
 * than this fail with CSVIN_TOO_MANY_ROWS (<= 0 means UPLOAD_MAX_ROWS).
 * today: "YYYY-MM-DD", the date after which a date of birth is in the
 * future; NULL (or a malformed value) means the current UTC date.
 * sum (required) is reset on entry (without freeing: free a summary
 * before reusing it) and filled; call csvin_summary_free afterwards
 * whatever the result.  err may be NULL.
 *
 * Returns CSVIN_OK, or the structural error with a message in err->msg
 * (and sum->error_detail) that names the problem and the place: the line
 * number, and for missing columns which are missing and which columns
 * were found.  Rows already passed to fn before a structural error was
 * found stay passed: a caller streaming into a database must roll back.
 * Thread-safe: no global state.
 */
enum csvin_err csvin_parse(const void *buf, size_t len, long max_rows,
	    const char *today, csvin_row_fn fn, void *arg,
	    struct csvin_summary *sum, struct errbuf *err)
	    __attribute__((warn_unused_result));

/* Frees what csvin_parse allocated in sum (the header names); idempotent. */
void	csvin_summary_free(struct csvin_summary *sum);

/*
 * Maps one header name to its required column, or -1 if it is not one
 * (not a known name or alias).  name need not be NUL-terminated.
 */
int	csvin_match_column(const char *name, size_t len);

#endif
