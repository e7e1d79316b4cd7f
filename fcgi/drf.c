/*
 * DRF/Django output formats, written from the behaviour of Django 4.x
 * (django.utils.duration, DateTimeField.to_representation) and DRF 3.14
 * (pagination.PageNumberPagination, utils.urls.replace_query_param).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drf.h"
#include "limits.h"
#include "query.h"

/* Floor division and modulo, as Python's // and %. */
static long long
floordiv(long long a, long long b)
{
	long long q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

void
drf_datetime(long long epoch_us, char *out, size_t outsz)
{
	long long sec = floordiv(epoch_us, 1000000);
	long usec = (long)(epoch_us - sec * 1000000);
	time_t t = (time_t)sec;
	struct tm tm;
	char frac[16];

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, outsz, "1970-01-01T00:00:00Z");
		return;
	}
	frac[0] = '\0';
	if (usec != 0)
		snprintf(frac, sizeof(frac), ".%06ld", usec);
	snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d%sZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, frac);
}

void
drf_duration(long long us, char *out, size_t outsz)
{
	/* timedelta(microseconds=us): days may be < 0, the rest is not. */
	long long days = floordiv(us, 86400LL * 1000000);
	long long rest = us - days * 86400LL * 1000000;
	long long secs = rest / 1000000, usec = rest % 1000000;
	char dpart[32], frac[16];

	dpart[0] = frac[0] = '\0';
	if (days != 0)
		snprintf(dpart, sizeof(dpart), "%lld ", days);
	if (usec != 0)
		snprintf(frac, sizeof(frac), ".%06lld", usec);
	snprintf(out, outsz, "%s%02lld:%02lld:%02lld%s", dpart, secs / 3600,
	    secs / 60 % 60, secs % 60, frac);
}

void
drf_float2(double v, char *out, size_t outsz)
{
	char buf[DRF_TEXT_MAX];
	size_t n;

	if (v != v || v > 1e15 || v < -1e15) {
		snprintf(out, outsz, "0.0");
		return;
	}
	/* printf rounds the exact binary value, as Python's round() does. */
	snprintf(buf, sizeof(buf), "%.2f", v);
	if (strcmp(buf, "-0.00") == 0)
		snprintf(buf, sizeof(buf), "-0.0");
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0' && buf[n - 2] != '.')
		buf[--n] = '\0';
	snprintf(out, outsz, "%s", buf);
}

int
drf_parse_int(const char *s, long *out)
{
	const char *p = s, *end;
	char *ep;
	long v;

	if (s == NULL)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (end == p)
		return -1;
	/* strtol would also skip inner whitespace or accept "0x"; check. */
	{
		const char *d = (*p == '+' || *p == '-') ? p + 1 : p;

		if (d == end)
			return -1;
		for (; d < end; d++)
			if (!isdigit((unsigned char)*d))
				return -1;
	}
	errno = 0;
	v = strtol(p, &ep, 10);
	if (errno == ERANGE) {
		*out = v;
		return 1;
	}
	*out = v;
	return 0;
}

long
drf_page_size(const char *v)
{
	long n;
	int rc;

	if (v == NULL)
		return PAGE_SIZE_DEFAULT;
	rc = drf_parse_int(v, &n);
	if (rc == -1 || n <= 0)
		return PAGE_SIZE_DEFAULT;
	if (rc == 1 || n > PAGE_SIZE_MAX)
		return PAGE_SIZE_MAX;
	return n;
}

int
drf_page_number(const char *v, long count, long page_size, long *page,
    long *npages)
{
	long n;

	if (page_size < 1)
		page_size = PAGE_SIZE_DEFAULT;
	*npages = count <= 0 ? 1 : (count + page_size - 1) / page_size;
	if (v == NULL) {
		*page = 1;
		return 0;
	}
	if (strcmp(v, "last") == 0) {
		*page = *npages;
		return 0;
	}
	if (drf_parse_int(v, &n) != 0 || n < 1 || n > *npages)
		return -1;
	*page = n;
	return 0;
}

/* base + "?" + the encoded query (no "?" when it is empty). */
static int
make_link(const char *base, const struct query *q, char *out, size_t outsz)
{
	char qs[URL_MAX];
	int n;

	if (query_encode(q, qs, sizeof(qs)) < 0)
		return -1;
	n = snprintf(out, outsz, "%s%s%s", base, qs[0] ? "?" : "", qs);
	return (n < 0 || (size_t)n >= outsz) ? -1 : 0;
}

int
drf_page_links(const char *base, const char *qs, long page, long npages,
    char *next, size_t nextsz, char *prev, size_t prevsz)
{
	struct query q;
	char num[32];

	if (nextsz == 0 || prevsz == 0)
		return -1;
	next[0] = prev[0] = '\0';
	if (page < npages) {
		if (query_parse(qs, &q) == -1)
			return -1;
		snprintf(num, sizeof(num), "%ld", page + 1);
		if (query_set(&q, "page", num) == -1 ||
		    make_link(base, &q, next, nextsz) == -1)
			return -1;
	}
	if (page > 1) {
		if (query_parse(qs, &q) == -1)
			return -1;
		snprintf(num, sizeof(num), "%ld", page - 1);
		if (page - 1 == 1)
			query_del(&q, "page");
		else if (query_set(&q, "page", num) == -1)
			return -1;
		if (make_link(base, &q, prev, prevsz) == -1)
			return -1;
	}
	return 0;
}
