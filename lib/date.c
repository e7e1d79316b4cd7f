/*
 * Date parsing and formatting for CSV uploads and payer messages.  See
 * date.h.
 */
#include <string.h>
#include <time.h>

#include "date.h"

int
date_days_in_month(int y, int m)
{
	static const int dim[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

static int
valid_ymd(int y, int m, int d)
{
	return y >= 1 && m >= 1 && m <= 12 && d >= 1 &&
	    d <= date_days_in_month(y, m);
}

/* Reads 1..max digits at s[*i]; returns the count (0: none or too many). */
static int
digits(const char *s, size_t n, size_t *i, int max, int *val)
{
	int k = 0, v = 0;

	while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
		if (++k > max)
			return 0;
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	*val = v;
	return k;
}

/* 1 if s[0..n) is a midnight time as Excel writes it: 0:00, 00:00:00. */
static int
is_midnight(const char *s, size_t n)
{
	size_t i = 0;
	int v, k;

	if ((k = digits(s, n, &i, 2, &v)) == 0 || v != 0)
		return 0;
	if (i >= n || s[i++] != ':' || digits(s, n, &i, 2, &v) != 2 || v != 0)
		return 0;
	if (i < n && (s[i++] != ':' || digits(s, n, &i, 2, &v) != 2 || v != 0))
		return 0;
	return i == n;
}

int
date_parse(const char *s, size_t n, long today, long *ymd)
{
	size_t i = 0, sp, t;
	int a, b, y, ka, kb, ky, m, d;
	char sep;

	for (sp = 0; sp < n && s[sp] != ' '; sp++)
		;
	if (sp < n) {
		for (t = sp; t < n && s[t] == ' '; t++)
			;
		if (!is_midnight(s + t, n - t))
			return -1;
		n = sp;
	}
	if ((ka = digits(s, n, &i, 4, &a)) == 0 || i >= n)
		return -1;
	sep = s[i++];
	if (sep != '-' && sep != '/')
		return -1;
	if ((kb = digits(s, n, &i, 2, &b)) == 0 || i >= n || s[i++] != sep)
		return -1;
	if ((ky = digits(s, n, &i, 4, &y)) == 0 || i != n)
		return -1;
	if (ka == 4) {			/* YYYY-MM-DD */
		if (ky > 2)
			return -1;
		d = y;
		m = b;
		y = a;
	} else if (ka <= 2 && (ky == 4 || ky == 2)) {	/* MM/DD/YYYY */
		m = a;
		d = b;
		if (ky == 2) {
			/* The latest year that is not after today. */
			y += (int)(today / 10000) / 100 * 100;
			if (valid_ymd(y, m, d) &&
			    (long)y * 10000 + m * 100 + d > today)
				y -= 100;
		}
	} else
		return -1;
	if (!valid_ymd(y, m, d))
		return -1;
	*ymd = (long)y * 10000 + m * 100 + d;
	return 0;
}

/* The value of n digits at s, or -1 if one is not a digit. */
static int
fixed(const char *s, size_t n)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
date_parse_exact(const char *in, long *ymd)
{
	size_t n;
	int y, m, d;

	if (in == NULL)
		return -1;
	n = strlen(in);
	if (n == 10 && in[4] == '-' && in[7] == '-') {
		y = fixed(in, 4);
		m = fixed(in + 5, 2);
		d = fixed(in + 8, 2);
	} else if (n == 10 && in[2] == '/' && in[5] == '/') {
		m = fixed(in, 2);
		d = fixed(in + 3, 2);
		y = fixed(in + 6, 4);
	} else if (n == 8) {
		y = fixed(in, 4);
		m = fixed(in + 4, 2);
		d = fixed(in + 6, 2);
	} else
		return -1;
	if (y < 1850 || y > 2200 || !valid_ymd(y, m, d))
		return -1;
	*ymd = (long)y * 10000 + m * 100 + d;
	return 0;
}

/* Writes v as n decimal digits at out, zero-padded. */
static void
put_digits(char *out, long v, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* By hand rather than snprintf: csvin formats one date per row. */
void
date_fmt_iso(long ymd, char *out)
{
	put_digits(out, ymd / 10000, 4);
	out[4] = '-';
	put_digits(out + 5, ymd / 100 % 100, 2);
	out[7] = '-';
	put_digits(out + 8, ymd % 100, 2);
	out[10] = '\0';
}

void
date_fmt_us(long ymd, char *out)
{
	put_digits(out, ymd / 100 % 100, 2);
	out[2] = '/';
	put_digits(out + 3, ymd % 100, 2);
	out[5] = '/';
	put_digits(out + 6, ymd / 10000, 4);
	out[10] = '\0';
}

int
date_to_iso(const char *in, char *out)
{
	long ymd;

	if (date_parse_exact(in, &ymd) == -1)
		return -1;
	date_fmt_iso(ymd, out);
	return 0;
}

int
date_to_us(const char *in, char *out)
{
	long ymd;

	if (date_parse_exact(in, &ymd) == -1)
		return -1;
	date_fmt_us(ymd, out);
	return 0;
}

long
date_today_utc(void)
{
	struct tm tm;
	time_t t = time(NULL);

	if (gmtime_r(&t, &tm) == NULL)
		return 99991231;
	return (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday;
}
