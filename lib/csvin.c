/*
 * csvin: claims CSV intake.  The buffer is checked for encoding first
 * (one pass), then fed to libcsv one physical line at a time, cut into
 * pieces of at most CSVIN_FEED_BYTES.  Feeding by line is what gives
 * every callback a line number (libcsv has no positions), and the piece
 * size bounds libcsv's field buffer (it has no cap of its own).  See
 * csvin.h for the rules and messages.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>
#include <sodium.h>

#include "csvin.h"
#include "date.h"
#include "textenc.h"
#include "utf8.h"

const char *const csvin_col_names[CSVIN_COL__MAX] = {
	"claim_number", "first_name", "last_name", "date_of_birth",
	"subscriber_id"
};

const char *const csvin_err_codes[CSVIN_ERR__MAX] = {
	"ok", "empty", "not_text", "bad_encoding", "missing_columns",
	"duplicate_column", "no_rows", "unbalanced_quote", "field_count",
	"too_many_rows", "field_too_long", "aborted"
};

const char csvin_template[] =
    "claim_number,first_name,last_name,date_of_birth,subscriber_id\r\n"
    "ZE59426195,John,Doe,1980-01-15,ABC123456\r\n";

/* Header names after folding (see fold_name()), per required column. */
static const struct {
	const char	*name;
	enum csvin_col	 col;
} aliases[] = {
	{ "claimnumber", CSVIN_CLAIM_NUMBER }, { "claim#", CSVIN_CLAIM_NUMBER },
	{ "claimno", CSVIN_CLAIM_NUMBER }, { "claimnum", CSVIN_CLAIM_NUMBER },
	{ "claimid", CSVIN_CLAIM_NUMBER }, { "claim", CSVIN_CLAIM_NUMBER },
	{ "firstname", CSVIN_FIRST_NAME }, { "fname", CSVIN_FIRST_NAME },
	{ "first", CSVIN_FIRST_NAME }, { "givenname", CSVIN_FIRST_NAME },
	{ "patientfirstname", CSVIN_FIRST_NAME },
	{ "lastname", CSVIN_LAST_NAME }, { "lname", CSVIN_LAST_NAME },
	{ "last", CSVIN_LAST_NAME }, { "surname", CSVIN_LAST_NAME },
	{ "familyname", CSVIN_LAST_NAME },
	{ "patientlastname", CSVIN_LAST_NAME },
	{ "dateofbirth", CSVIN_DATE_OF_BIRTH }, { "dob", CSVIN_DATE_OF_BIRTH },
	{ "birthdate", CSVIN_DATE_OF_BIRTH },
	{ "birthday", CSVIN_DATE_OF_BIRTH },
	{ "patientdob", CSVIN_DATE_OF_BIRTH },
	{ "subscriberid", CSVIN_SUBSCRIBER_ID },
	{ "subscriber#", CSVIN_SUBSCRIBER_ID },
	{ "subscriberno", CSVIN_SUBSCRIBER_ID },
	{ "subscribernumber", CSVIN_SUBSCRIBER_ID },
	{ "memberid", CSVIN_SUBSCRIBER_ID }, { "member#", CSVIN_SUBSCRIBER_ID },
	{ "memberno", CSVIN_SUBSCRIBER_ID },
	{ "membernumber", CSVIN_SUBSCRIBER_ID },
	{ "insuredid", CSVIN_SUBSCRIBER_ID },
};

/* Per-column caps in characters (limits.h); 0: the date has its own. */
static const size_t col_max[CSVIN_COL__MAX] = {
	CSVIN_MAX_CLAIM_NUMBER, CSVIN_MAX_FIRST_NAME, CSVIN_MAX_LAST_NAME, 0,
	CSVIN_MAX_SUBSCRIBER_ID
};

/* How much of a value a message quotes. */
#define ECHO_MAX	40

/*
 * Claim numbers seen, for the duplicate warning: open addressing over a
 * keyed 64-bit hash (SipHash, random key per parse so that nobody can
 * craft a file of colliding numbers), with the first row number.
 * A false duplicate needs a 64-bit collision: about 1e-9 for 200,000
 * rows, and it only costs a warning.
 */
struct dupset {
	uint64_t	*hash;		/* 0: empty slot */
	uint32_t	*row;
	size_t		 cap, n;
	unsigned char	 key[crypto_shorthash_KEYBYTES];
};

struct ctx {
	struct csv_parser	 p;
	struct csvin_summary	*sum;
	csvin_row_fn		 fn;
	void			*arg;
	long			 max_rows;
	long			 today;		/* YYYYMMDD */
	enum csvin_err		 err;

	long	 line;		/* physical line being fed */
	long	 row_start;	/* where the next row starts */
	long	 quote_line;	/* where the open quoted field began */
	int	 inq;		/* inside quotes at the start of line */

	int	 have_header;
	int	 in_row;
	long	 row_line;	/* where the current row started */
	size_t	 nf;		/* fields in the current row */
	int	 overflow;	/* non-empty field past CSV_MAX_COLUMNS */
	size_t	 apos;		/* bytes used in arena */
	size_t	 off[CSV_MAX_COLUMNS], flen[CSV_MAX_COLUMNS];
	char	 arena[CSV_MAX_COLUMNS * (CSV_MAX_FIELD_BYTES + 1)];

	const char	*extra[CSV_MAX_COLUMNS];
	char		 rerr[512], rwarn[512], date[16];
	char		 conv[CSVIN_FEED_BYTES * TEXTENC_CP1252_MAXGROW];
	struct dupset	 dup;
};

static void __attribute__((format(printf, 4, 5)))
fail(struct ctx *c, enum csvin_err e, long line, const char *fmt, ...)
{
	va_list ap;

	if (c->err != CSVIN_OK)
		return;
	c->err = e;
	c->sum->error_line = line;
	va_start(ap, fmt);
	vsnprintf(c->sum->error_detail, sizeof(c->sum->error_detail), fmt, ap);
	va_end(ap);
}

/* Appends to a "; "-separated message list, truncating at sz. */
static void __attribute__((format(printf, 3, 4)))
addmsg(char *buf, size_t sz, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used > 0 && used + 2 < sz) {
		memcpy(buf + used, "; ", 3);
		used += 2;
	}
	if (used + 1 >= sz)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, sz - used, fmt, ap);
	va_end(ap);
}

/* 1-based line of byte off: LF, CRLF and a lone CR each end a line. */
static long
line_of(const unsigned char *s, size_t off)
{
	long line = 1;
	size_t i;

	for (i = 0; i < off; i++)
		if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= off ||
		    s[i + 1] != '\n')))
			line++;
	return line;
}

static int
is_blank(int ch)
{
	return ch == ' ' || ch == '\t';
}

/* Trims spaces, tabs and U+00A0 (Excel users paste it from the web). */
static char *
trim(char *s, size_t *n)
{
	size_t len = *n;

	for (;;) {
		if (len > 0 && is_blank((unsigned char)s[0])) {
			s++;
			len--;
		} else if (len > 1 && (unsigned char)s[0] == 0xC2 &&
		    (unsigned char)s[1] == 0xA0) {
			s += 2;
			len -= 2;
		} else
			break;
	}
	for (;;) {
		if (len > 0 && is_blank((unsigned char)s[len - 1]))
			len--;
		else if (len > 1 && (unsigned char)s[len - 2] == 0xC2 &&
		    (unsigned char)s[len - 1] == 0xA0)
			len -= 2;
		else
			break;
	}
	*n = len;
	return s;
}

/*
 * Folds a header name for matching: ASCII letters lowered, letters,
 * digits and '#' kept, the rest dropped, and nothing from '(' on.
 * Returns the folded length, or 0 if it does not fit out.
 */
static size_t
fold_name(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;
	int ch;

	for (i = 0; i < n && s[i] != '('; i++) {
		ch = (unsigned char)s[i];
		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '#'))
			continue;
		if (o + 1 >= outsz)
			return 0;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	return o;
}

int
csvin_match_column(const char *name, size_t len)
{
	char f[64];
	size_t i;

	if (fold_name(name, len, f, sizeof(f)) == 0)
		return -1;
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(f, aliases[i].name) == 0)
			return (int)aliases[i].col;
	return -1;
}

/* --- duplicate claim numbers --- */

static uint64_t
dup_hash(const struct dupset *ds, const char *s, size_t n)
{
	unsigned char up[CSV_MAX_FIELD_BYTES], h[crypto_shorthash_BYTES];
	uint64_t v;
	size_t i;

	/* Claim numbers are compared ignoring ASCII case. */
	for (i = 0; i < n && i < sizeof(up); i++)
		up[i] = (s[i] >= 'a' && s[i] <= 'z') ? (unsigned char)(s[i] -
		    'a' + 'A') : (unsigned char)s[i];
	crypto_shorthash(h, up, i, ds->key);
	memcpy(&v, h, sizeof(v));
	return v == 0 ? 1 : v;
}

static int
dup_grow(struct dupset *ds)
{
	size_t ncap = ds->cap ? ds->cap * 2 : 1024, i, j;
	uint64_t *nh;
	uint32_t *nr;

	if ((nh = calloc(ncap, sizeof(*nh))) == NULL)
		return -1;
	if ((nr = calloc(ncap, sizeof(*nr))) == NULL) {
		free(nh);
		return -1;
	}
	for (i = 0; i < ds->cap; i++) {
		if (ds->hash[i] == 0)
			continue;
		for (j = ds->hash[i] & (ncap - 1); nh[j] != 0;
		    j = (j + 1) & (ncap - 1))
			;
		nh[j] = ds->hash[i];
		nr[j] = ds->row[i];
	}
	free(ds->hash);
	free(ds->row);
	ds->hash = nh;
	ds->row = nr;
	ds->cap = ncap;
	return 0;
}

/*
 * Records the claim number of row; returns the first row that had it,
 * 0 if none, or -1 when out of memory.
 */
static long
dup_check(struct dupset *ds, const char *s, size_t n, long row)
{
	uint64_t h;
	size_t j;

	/* Kept under 3/4 full: 12 bytes a slot, 3 MiB at 150,000 rows. */
	if ((ds->n + 1) * 4 > ds->cap * 3 && dup_grow(ds) == -1)
		return -1;
	h = dup_hash(ds, s, n);
	for (j = h & (ds->cap - 1); ds->hash[j] != 0; j = (j + 1) &
	    (ds->cap - 1))
		if (ds->hash[j] == h)
			return ds->row[j];
	ds->hash[j] = h;
	ds->row[j] = row > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)row;
	ds->n++;
	return 0;
}

/* --- rows --- */

/*
 * "1.23457E+11": what Excel writes for a long digit string it stored as
 * a number (one digit, a fraction, E, a signed exponent).  Stricter than
 * any float syntax so that identifiers such as "12E4567" do not warn.
 */
static int
is_scientific(const char *s, size_t n)
{
	size_t i = 1, e;

	if (n < 4 || s[0] < '0' || s[0] > '9')
		return 0;
	if (s[i] == '.') {
		if (++i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i + 2 >= n || (s[i] != 'E' && s[i] != 'e') ||
	    (s[i + 1] != '+' && s[i + 1] != '-'))
		return 0;
	for (e = i + 2; e < n && s[e] >= '0' && s[e] <= '9'; e++)
		;
	return e == n && e - (i + 2) <= 3;
}

/* Field i of the current row, trimmed and NUL-terminated in the arena. */
static const char *
row_field(struct ctx *c, size_t i, size_t *n)
{
	char *t;

	*n = c->flen[i];
	t = trim(c->arena + c->off[i], n);
	t[*n] = '\0';
	return t;
}

static int
row_is_blank(struct ctx *c)
{
	size_t i, n;

	if (c->overflow)
		return 0;
	for (i = 0; i < c->nf && i < CSV_MAX_COLUMNS; i++) {
		(void)row_field(c, i, &n);
		if (n > 0)
			return 0;
	}
	return 1;
}

/* Appends s to a list being built in buf, with ", " and a cap. */
static void
list_add(char *buf, size_t sz, const char *s)
{
	size_t used = strlen(buf);

	if (used + 4 >= sz)
		return;
	snprintf(buf + used, sz - used, "%s%s", used ? ", " : "", s);
	if (strlen(buf) + 4 >= sz)
		memcpy(buf + sz - 4, "...", 4);
}

static void
header_row(struct ctx *c)
{
	struct csvin_summary *sum = c->sum;
	char missing[256] = "", found[320] = "";
	size_t i, n, ncols, dup_at = 0;
	const char *name;
	int col, any = 0, dup_col = -1;

	if (row_is_blank(c)) {
		sum->blank_rows++;
		return;
	}
	c->have_header = 1;
	sum->header_line = c->row_line;
	if (c->overflow) {
		fail(c, CSVIN_FIELD_COUNT, c->row_line, "line %ld: the header "
		    "has more than %d columns", c->row_line, CSV_MAX_COLUMNS);
		return;
	}
	/* Trailing unnamed columns are an Excel artefact: drop them. */
	ncols = c->nf < CSV_MAX_COLUMNS ? c->nf : CSV_MAX_COLUMNS;
	for (; ncols > 0; ncols--) {
		(void)row_field(c, ncols - 1, &n);
		if (n > 0)
			break;
	}
	for (i = 0; i < ncols; i++) {
		name = row_field(c, i, &n);
		if ((sum->header[i] = strndup(name, n)) == NULL) {
			fail(c, CSVIN_ABORTED, c->row_line, "out of memory");
			return;
		}
		sum->ncolumns = i + 1;
		list_add(found, sizeof(found), name);
		if ((col = csvin_match_column(name, n)) == -1) {
			sum->extra_index[sum->nextra++] = (int)i;
			continue;
		}
		any = 1;
		if (sum->column_index[col] < 0)
			sum->column_index[col] = (int)i;
		else if (dup_col < 0) {
			dup_col = col;
			dup_at = i;
		}
	}
	/* Reported after the whole header is mapped, so sum is complete. */
	if (dup_col >= 0) {
		fail(c, CSVIN_DUPLICATE_COLUMN, c->row_line, "line %ld: "
		    "columns %d ('%s') and %zu ('%s') are both %s; keep one of "
		    "them", c->row_line, sum->column_index[dup_col] + 1,
		    sum->header[sum->column_index[dup_col]], dup_at + 1,
		    sum->header[dup_at], csvin_col_names[dup_col]);
		return;
	}
	for (col = 0; col < CSVIN_COL__MAX; col++)
		if (sum->column_index[col] < 0)
			list_add(missing, sizeof(missing),
			    csvin_col_names[col]);
	if (missing[0] != '\0')
		fail(c, CSVIN_MISSING_COLUMNS, c->row_line, "line %ld: missing "
		    "required columns: %s (columns found: %s)%s", c->row_line,
		    missing, found, any ? "" : "; the first line must be the "
		    "header: claim_number,first_name,last_name,date_of_birth,"
		    "subscriber_id");
}

/* Quotes v for a message: at most ECHO_MAX bytes, cut on a character. */
static void
echo(char *out, size_t sz, const char *v, size_t n)
{
	size_t k = utf8_prefix(v, n, ECHO_MAX);

	snprintf(out, sz, "'%.*s%s'", (int)k, v, k < n ? "..." : "");
}

static void
check_field(struct ctx *c, struct csvin_row *r, int col, const char *v,
    size_t n)
{
	const char *name = csvin_col_names[col], *what;
	char q[ECHO_MAX + 8];
	long ymd;
	size_t i;

	if (n == 0) {
		addmsg(c->rerr, sizeof(c->rerr), "%s is empty", name);
		return;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7F) {
			addmsg(c->rerr, sizeof(c->rerr),
			    "%s contains a control character", name);
			return;
		}
	if (col == CSVIN_DATE_OF_BIRTH) {
		if (date_parse(v, n, c->today, &ymd) == -1)
			what = "is not a date (YYYY-MM-DD or MM/DD/YYYY)";
		else if (ymd > c->today)
			what = "is in the future";
		else if (ymd < 19000101)
			what = "is before 1900";
		else {
			date_fmt_iso(ymd, c->date);
			r->field[col] = c->date;
			return;
		}
		echo(q, sizeof(q), v, n);
		addmsg(c->rerr, sizeof(c->rerr), "%s: %s %s", name, q, what);
		return;
	}
	if (utf8_chars(v, n) > col_max[col]) {
		addmsg(c->rerr, sizeof(c->rerr), "%s is longer than %zu "
		    "characters", name, col_max[col]);
		return;
	}
	if ((col == CSVIN_CLAIM_NUMBER || col == CSVIN_SUBSCRIBER_ID) &&
	    is_scientific(v, n)) {
		echo(q, sizeof(q), v, n);
		addmsg(c->rwarn, sizeof(c->rwarn), "%s: %s looks like a number "
		    "Excel turned into scientific notation; the original "
		    "identifier is lost", name, q);
	}
}

static void
data_row(struct ctx *c)
{
	struct csvin_summary *sum = c->sum;
	struct csvin_row r;
	const char *v[CSVIN_COL__MAX];
	size_t vn[CSVIN_COL__MAX], i, n;
	long first;
	int col;

	if (row_is_blank(c)) {
		sum->blank_rows++;
		return;
	}
	if (c->nf < sum->ncolumns || c->overflow) {
		fail(c, CSVIN_FIELD_COUNT, c->row_line, "line %ld: the row has "
		    "%zu fields, the header has %zu columns", c->row_line,
		    c->nf, sum->ncolumns);
		return;
	}
	for (i = sum->ncolumns; i < c->nf && i < CSV_MAX_COLUMNS; i++) {
		(void)row_field(c, i, &n);
		if (n > 0) {
			fail(c, CSVIN_FIELD_COUNT, c->row_line, "line %ld: the "
			    "row has %zu fields, the header has %zu columns",
			    c->row_line, c->nf, sum->ncolumns);
			return;
		}
	}
	if (sum->rows >= c->max_rows) {
		fail(c, CSVIN_TOO_MANY_ROWS, c->row_line, "line %ld: the file "
		    "has more than %ld data rows; split it into smaller files",
		    c->row_line, c->max_rows);
		return;
	}
	sum->rows++;
	memset(&r, 0, sizeof(r));
	r.row_number = sum->rows;
	r.line = c->row_line;
	c->rerr[0] = c->rwarn[0] = '\0';
	for (col = 0; col < CSVIN_COL__MAX; col++) {
		v[col] = row_field(c, (size_t)sum->column_index[col], &vn[col]);
		r.field[col] = v[col];
		check_field(c, &r, col, v[col], vn[col]);
	}
	if (vn[CSVIN_CLAIM_NUMBER] > 0) {
		first = dup_check(&c->dup, v[CSVIN_CLAIM_NUMBER],
		    vn[CSVIN_CLAIM_NUMBER], r.row_number);
		if (first == -1) {
			fail(c, CSVIN_ABORTED, c->row_line, "out of memory");
			return;
		}
		if (first > 0) {
			char q[ECHO_MAX + 8];

			echo(q, sizeof(q), v[CSVIN_CLAIM_NUMBER],
			    vn[CSVIN_CLAIM_NUMBER]);
			addmsg(c->rwarn, sizeof(c->rwarn), "claim_number: %s "
			    "also appears on row %ld", q, first);
			r.duplicate_of = first;
			sum->duplicate_rows++;
		}
	}
	for (i = 0; i < sum->nextra; i++)
		c->extra[i] = row_field(c, (size_t)sum->extra_index[i], &n);
	r.nextra = sum->nextra;
	r.extra = c->extra;
	if (c->rerr[0] != '\0') {
		r.error = c->rerr;
		sum->invalid_rows++;
	}
	if (c->rwarn[0] != '\0') {
		r.warning = c->rwarn;
		sum->warnings++;
	}
	if (c->fn != NULL && c->fn(c->arg, &r) != 0)
		fail(c, CSVIN_ABORTED, c->row_line, "line %ld: stopped by the "
		    "caller", c->row_line);
}

/* --- libcsv callbacks --- */

static void
cb_field(void *s, size_t len, void *data)
{
	struct ctx *c = data;
	size_t i;

	if (c->err != CSVIN_OK)
		return;
	if (!c->in_row) {
		c->in_row = 1;
		c->row_line = c->row_start;
		c->nf = c->apos = 0;
		c->overflow = 0;
	}
	if (len > CSV_MAX_FIELD_BYTES) {
		fail(c, CSVIN_FIELD_TOO_LONG, c->line, "line %ld: a field is "
		    "longer than %d bytes", c->line, CSV_MAX_FIELD_BYTES);
		return;
	}
	if (c->nf < CSV_MAX_COLUMNS) {
		c->off[c->nf] = c->apos;
		c->flen[c->nf] = len;
		if (len > 0)
			memcpy(c->arena + c->apos, s, len);
		c->arena[c->apos + len] = '\0';
		c->apos += len + 1;
	} else {
		for (i = 0; i < len; i++)
			if (!is_blank(((unsigned char *)s)[i]))
				c->overflow = 1;
	}
	c->nf++;
}

static void
cb_row(int term, void *data)
{
	struct ctx *c = data;

	(void)term;
	if (!c->in_row) {
		/* libcsv always sends a field first; be safe anyway. */
		c->nf = 0;
		c->overflow = 0;
		c->row_line = c->row_start;
	}
	c->in_row = 0;
	if (c->err != CSVIN_OK)
		return;
	if (!c->have_header)
		header_row(c);
	else
		data_row(c);
}

/* --- driver --- */

/* Feeds one piece of a line to libcsv and checks what libcsv cannot. */
static void
feed(struct ctx *c, const void *s, size_t n)
{
	size_t done;

	done = csv_parse(&c->p, s, n, cb_field, cb_row, c);
	if (c->err != CSVIN_OK)
		return;
	if (done < n) {
		if (csv_error(&c->p) != CSV_EPARSE)
			fail(c, CSVIN_ABORTED, c->line, "line %ld: out of "
			    "memory", c->line);
		else if (c->inq)
			fail(c, CSVIN_UNBALANCED_QUOTE, c->quote_line,
			    "line %ld: the quoted field that starts on line "
			    "%ld is not closed where expected (unbalanced "
			    "quote; the parser stopped on line %ld)",
			    c->quote_line, c->quote_line, c->line);
		else
			fail(c, CSVIN_UNBALANCED_QUOTE, c->line, "line %ld: a "
			    "quote inside a field that is not quoted, or text "
			    "after a closing quote; quote the whole field and "
			    "double the quotes inside it", c->line);
		return;
	}
	/* The field still being read counts towards the cap too. */
	if (c->p.entry_pos > CSV_MAX_FIELD_BYTES) {
		if (c->inq)
			fail(c, CSVIN_UNBALANCED_QUOTE, c->quote_line,
			    "line %ld: a quoted field starts here and is not "
			    "closed by line %ld (unbalanced quote)",
			    c->quote_line, c->line);
		else
			fail(c, CSVIN_FIELD_TOO_LONG, c->line, "line %ld: a "
			    "field is longer than %d bytes", c->line,
			    CSV_MAX_FIELD_BYTES);
	}
}

static void
run(struct ctx *c, const unsigned char *s, size_t len, int cp1252)
{
	size_t pos = 0, e, k, n;
	int quotes;

	while (pos < len && c->err == CSVIN_OK) {
		quotes = 0;
		for (e = pos; e < len; e++) {
			if (s[e] == '"')
				quotes++;
			else if (s[e] == '\n') {
				e++;
				break;
			} else if (s[e] == '\r') {
				e += (e + 1 < len && s[e + 1] == '\n') ? 2 : 1;
				break;
			}
		}
		c->line++;
		if (!c->inq)
			c->row_start = c->line;
		for (k = pos; k < e && c->err == CSVIN_OK; k += n) {
			n = e - k < CSVIN_FEED_BYTES ? e - k : CSVIN_FEED_BYTES;
			if (cp1252)
				feed(c, c->conv, textenc_cp1252_to_utf8(s + k,
				    n, c->conv));
			else
				feed(c, s + k, n);
		}
		/* A line with an odd number of quotes opens or closes one. */
		if (quotes & 1) {
			if (!c->inq)
				c->quote_line = c->line;
			c->inq = !c->inq;
		}
		pos = e;
	}
	if (c->err != CSVIN_OK)
		return;
	/* Never csv_fini after an error: it would flush a partial row. */
	if (csv_fini(&c->p, cb_field, cb_row, c) != 0)
		fail(c, CSVIN_UNBALANCED_QUOTE, c->quote_line, "line %ld: a "
		    "quoted field starts here and is never closed (unbalanced "
		    "quote)", c->quote_line);
}

/*
 * Decides how to read the bytes: returns 0 (UTF-8), 1 (Windows-1252) or
 * -1 after fail().  s/len have the BOM already stripped.
 */
static int
check_encoding(struct ctx *c, const unsigned char *s, size_t len,
    int had_bom)
{
	struct textenc_scan sc;
	size_t off;

	/* ASCII as UTF-16 without a BOM: every other byte is NUL. */
	if (len >= 4 && ((s[0] != 0 && s[1] == 0 && s[2] != 0 && s[3] == 0) ||
	    (s[0] == 0 && s[1] != 0 && s[2] == 0 && s[3] != 0))) {
		fail(c, CSVIN_BAD_ENCODING, 0, "the file is UTF-16 text; save "
		    "it as \"CSV UTF-8\"");
		return -1;
	}
	if ((off = textenc_find_binary(s, len)) < len) {
		fail(c, CSVIN_NOT_TEXT, line_of(s, off), "line %ld: the file "
		    "is not CSV text (it contains the binary byte 0x%02X)",
		    line_of(s, off), s[off]);
		return -1;
	}
	textenc_utf8_scan(s, len, &sc);
	if (sc.ninvalid == 0)
		return 0;
	if (sc.nmultibyte > 0 || had_bom) {
		fail(c, CSVIN_BAD_ENCODING, line_of(s, sc.first_bad), "line "
		    "%ld: the file mixes UTF-8 with another encoding (byte "
		    "0x%02X); save it as \"CSV UTF-8\"",
		    line_of(s, sc.first_bad), s[sc.first_bad]);
		return -1;
	}
	if ((off = textenc_cp1252_find_undefined(s, len)) < len) {
		fail(c, CSVIN_BAD_ENCODING, line_of(s, off), "line %ld: the "
		    "file is neither UTF-8 nor Windows-1252 text (byte "
		    "0x%02X); save it as \"CSV UTF-8\"", line_of(s, off),
		    s[off]);
		return -1;
	}
	return 1;
}

/* Rejects well-known binary formats by their first bytes, with a hint. */
static int
check_signature(struct ctx *c, const unsigned char *s, size_t len)
{
	if (len >= 4 && memcmp(s, "PK\003\004", 4) == 0)
		fail(c, CSVIN_NOT_TEXT, 0, "the file is not CSV text: this "
		    "looks like an Excel workbook (.xlsx); save it as CSV");
	else if (len >= 8 && memcmp(s, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
	    8) == 0)
		fail(c, CSVIN_NOT_TEXT, 0, "the file is not CSV text: this "
		    "looks like an Excel 97-2003 workbook (.xls); save it as "
		    "CSV");
	else if (len >= 5 && memcmp(s, "%PDF-", 5) == 0)
		fail(c, CSVIN_NOT_TEXT, 0, "the file is not CSV text: this "
		    "looks like a PDF document");
	else if (len >= 2 && (memcmp(s, "\xFF\xFE", 2) == 0 ||
	    memcmp(s, "\xFE\xFF", 2) == 0))
		fail(c, CSVIN_BAD_ENCODING, 0, "the file is UTF-16 text "
		    "(Excel's \"Unicode Text\"); save it as \"CSV UTF-8\"");
	else
		return 0;
	return -1;
}

enum csvin_err
csvin_parse(const void *buf, size_t len, long max_rows, const char *today,
    csvin_row_fn fn, void *arg, struct csvin_summary *sum,
    struct errbuf *err)
{
	const unsigned char *s = buf;
	struct ctx *c;
	enum csvin_err ret;
	int cp1252, had_bom = 0, col;

	memset(sum, 0, sizeof(*sum));
	for (col = 0; col < CSVIN_COL__MAX; col++)
		sum->column_index[col] = -1;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(sum->error_detail, sizeof(sum->error_detail),
		    "out of memory");
		sum->error = CSVIN_ABORTED;
		errbuf_set(err, "%s", sum->error_detail);
		return CSVIN_ABORTED;
	}
	c->sum = sum;
	c->fn = fn;
	c->arg = arg;
	c->max_rows = max_rows > 0 ? max_rows : UPLOAD_MAX_ROWS;
	if (today == NULL || strlen(today) != 10 || today[4] != '-' ||
	    today[7] != '-' || date_parse(today, 10, 0, &c->today) == -1)
		c->today = date_today_utc();
	if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		len -= 3;
		had_bom = 1;
	}
	/* A trailing DOS end-of-file mark (Ctrl-Z) is not data. */
	if (len > 0 && s[len - 1] == 0x1A)
		len--;
	if (len == 0)
		fail(c, CSVIN_EMPTY, 0, "the file is empty");
	else if (check_signature(c, s, len) == 0 &&
	    (cp1252 = check_encoding(c, s, len, had_bom)) != -1) {
		sum->converted_from_cp1252 = cp1252;
		if (sodium_init() < 0 ||
		    csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI) != 0)
			fail(c, CSVIN_ABORTED, 0, "cannot initialise the "
			    "parser");
		else {
			randombytes_buf(c->dup.key, sizeof(c->dup.key));
			run(c, s, len, cp1252);
			csv_free(&c->p);
		}
	}
	if (c->err == CSVIN_OK && !c->have_header)
		fail(c, CSVIN_EMPTY, 0, "the file is empty (no header line)");
	if (c->err == CSVIN_OK && sum->rows == 0)
		fail(c, CSVIN_NO_ROWS, 0, "the file has a header but no data "
		    "rows");
	ret = c->err;
	sum->error = ret;
	if (ret != CSVIN_OK)
		errbuf_set(err, "%s", sum->error_detail);
	free(c->dup.hash);
	free(c->dup.row);
	free(c);
	return ret;
}

void
csvin_summary_free(struct csvin_summary *sum)
{
	size_t i;

	for (i = 0; i < CSV_MAX_COLUMNS; i++) {
		free(sum->header[i]);
		sum->header[i] = NULL;
	}
}
