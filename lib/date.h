/*
 * Calendar dates as uploads and payers write them.  A parsed date is a
 * long YYYYMMDD (19800115), which compares in date order.  Gregorian
 * calendar; no time zones (a date of birth has none).  Pure functions
 * except date_today_utc(); nothing is allocated.
 */
#ifndef DATE_H
#define DATE_H

#include <stddef.h>

/* Bytes of "YYYY-MM-DD" and "MM/DD/YYYY" with their NUL. */
#define DATE_STR_SIZE	11

/* Days in month m (1..12) of year y. */
int	date_days_in_month(int y, int m);

/*
 * Parses a date as people type it into a spreadsheet (s, n bytes, not
 * NUL-terminated): YYYY-MM-DD, MM/DD/YYYY, M/D/YYYY or M/D/YY, with '-'
 * or '/' as the separator (month before day in the US forms), optionally
 * followed by a midnight time as Excel writes it ("1/15/1980 0:00",
 * "1980-01-15 00:00:00").  A two-digit year is the latest year that
 * does not put the date after today (YYYYMMDD), so every age from 0 to
 * 99 comes out right.  Stores YYYYMMDD in *ymd and returns 0, or returns
 * -1 if s is no calendar date.
 */
int	date_parse(const char *s, size_t n, long today, long *ymd);

/*
 * Parses a date as programs write it (NUL-terminated, fixed widths):
 * "YYYY-MM-DD", "MM/DD/YYYY" or "YYYYMMDD" (X12 D8).  Years outside
 * 1850..2200 are refused, so placeholders such as 0001-01-01 or
 * 9999-12-31 read as no date.  Stores YYYYMMDD in *ymd and returns 0, or
 * returns -1 (in NULL is -1 too).
 */
int	date_parse_exact(const char *in, long *ymd);

/* YYYYMMDD as "YYYY-MM-DD" in out (DATE_STR_SIZE bytes). */
void	date_fmt_iso(long ymd, char *out);
/* YYYYMMDD as "MM/DD/YYYY" in out (DATE_STR_SIZE bytes). */
void	date_fmt_us(long ymd, char *out);

/*
 * date_parse_exact() then date_fmt_iso() or date_fmt_us(): any of its
 * forms to "YYYY-MM-DD" or "MM/DD/YYYY" in out (DATE_STR_SIZE bytes).
 * 0, or -1 (out untouched) if in is no date.
 */
int	date_to_iso(const char *in, char *out);
int	date_to_us(const char *in, char *out);

/* Today's date in UTC as YYYYMMDD (99991231 if the clock fails). */
long	date_today_utc(void);

#endif
