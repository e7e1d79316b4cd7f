/*
 * The results CSV's variants: ?format=extended|lines|payments,
 * ?summary=1, ?rows=, ?as=input, ?bom=1.  Pure: builds the COPY
 * statement and writes the header line, so unit tests check both
 * without services; download.c runs them.
 */
#ifndef RESULTS_H
#define RESULTS_H

#include <stddef.h>

#include <json-c/json.h>

#include "csvin.h"
#include "limits.h"

enum results_rows {
	RESULTS_ALL,
	RESULTS_FAILED,		/* success = false (incl. invalid input) */
	RESULTS_SUCCEEDED,	/* success = true */
	RESULTS_UNPROCESSED	/* success IS NULL (cancelled, failed job) */
};

struct results_opts {
	int		 extended;	/* format=extended */
	int		 lines;		/* format=lines: one row per line */
	int		 payments;	/* format=payments: one per payment */
	int		 summary;	/* payments&summary=1: per number */
	int		 changes;	/* format=changes: new and changed */
	enum results_rows rows;
	int		 as_input;	/* as=input: the input columns only */
	int		 bom;		/* bom=1: a UTF-8 BOM first */
	/* Set by the caller, not by the query: */
	int		 details;	/* extended gets the details columns
					 * (the job's workflow is not status) */
	int		 carc;		/* table carc_codes exists */
};

/* One input column, in file order. */
struct results_input {
	const char	*name;		/* header as found (borrowed) */
	int		 field;		/* enum csvin_col, or -1: an extra */
	int		 extra;		/* index in csv_job_rows.extra, or -1 */
};

struct results_cols {
	size_t			n;
	struct results_input	col[CSV_MAX_COLUMNS];
};

/*
 * Parses the query string qs (may be NULL) into o:
 * format=csv|extended|lines|payments|changes, summary=0|1 (payments only),
 * rows=all|failed|succeeded|unprocessed, as=results|input (not with
 * lines or payments), bom=0|1 (absent or empty values are the
 * defaults).  Returns 0, or -1 with *bad naming the offending parameter
 * ("query" if qs is malformed).
 */
int	 results_opts_parse(const char *qs, struct results_opts *o,
	    const char **bad);

/*
 * The header of sum as stored in csv_jobs.input_columns: a JSON array of
 * [name as found, required column name or null for an extra], in file
 * order.  The caller owns the result (json_object_put).
 */
struct json_object *results_input_columns(const struct csvin_summary *sum);

/*
 * The job's input columns: input_columns is csv_jobs.input_columns (a
 * JSON array of [name, column-or-null]); for jobs stored before it
 * existed (NULL), the five required columns under their canonical names
 * followed by the extras named in first_extra (a row's extra, a JSON
 * array of [name, value]; may be NULL).  Names point into *hold, which
 * the caller releases with json_object_put (may be NULL on return).
 * Returns 0, or -1 if the JSON is malformed.
 */
int	 results_cols_load(const char *input_columns, const char *first_extra,
	    struct results_cols *c, struct json_object **hold);

/*
 * Writes "COPY (SELECT ...) TO STDOUT (FORMAT csv)" for job_id (a
 * canonical UUID, checked by the caller: it is spliced in) into out.
 * Text cells go through csv_safe(); amounts, counts and dates do not.
 * Every format but the payments summary starts with the nine contract
 * columns: lines and payments repeat them on each line or payment of
 * the claim (claims without any are left out: extended's details_note
 * and payments_note say why).  The summary has one row per payment
 * number (how many of the job's claims it paid, and how much of it went
 * to them), a separate download because it describes no claim row.
 * Returns the length, or -1 if it does not fit.
 */
int	 results_sql(const struct results_opts *o, const struct results_cols *c,
	    const char *job_id, char *out, size_t outsz);

/*
 * SQL of a csv_job_rows row's CARC codes ("50;97") as "50 Text; 97
 * Text", in their order: with the reference table carc_codes, and
 * without it (the codes alone).  Raw text: CSV wraps it in csv_safe().
 */
#define RESULTS_DENIAL_REASONS_CARC					\
	"(SELECT string_agg(c.code || coalesce(' ' || d.description, ''),"\
	" '; ' ORDER BY c.n)"						\
	" FROM unnest(string_to_array(csv_job_rows.carc_codes, ';'))"	\
	" WITH ORDINALITY AS c(code, n)"				\
	" LEFT JOIN carc_codes d ON d.code = c.code)"
#define RESULTS_DENIAL_REASONS_BARE					\
	"replace(csv_job_rows.carc_codes, ';', '; ')"

/*
 * SQL of a csv_job_rows row's action bucket
 * (sql/functions/claim_actions.sql: paid, denied_correctable,
 * pending_long, ..., review), computed from the stored columns when
 * read.  One of a fixed set of words: no csv_safe() needed.
 */
#define RESULTS_ACTION		"csv_row_action(csv_job_rows)"

/* The action buckets, in the order the summaries list them. */
extern const char *const results_actions[];
#define RESULTS_NACTIONS	12

/* Room for any statement results_sql() writes (64 inputs of < 40 bytes). */
#define RESULTS_SQL_MAX		16384

/* Room for any header line results_header() writes. */
#define RESULTS_HEADER_MAX						\
	(CSV_MAX_COLUMNS * (2 * CSV_MAX_FIELD_BYTES + 4) + 1024)

/*
 * Writes the header line for o and c into out (CRLF at the end, NUL
 * after it): names through the csv_safe() rule, quoted as RFC 4180 needs
 * (as PostgreSQL's COPY quotes the rows).  Returns the length, or -1 if
 * it does not fit.
 */
int	 results_header(const struct results_opts *o,
	    const struct results_cols *c, char *out, size_t outsz);

/*
 * The suggested download name,
 * "results-<job>[-failed][-input|-extended|-lines|-payments[-summary]].csv".
 */
void	 results_filename(const struct results_opts *o, const char *job_id,
	    char *out, size_t outsz);

#endif
