/*
 * The output conventions of the Django REST framework service this one
 * replaces, so existing clients see the same text: date-times, durations,
 * floats, PageNumberPagination.  Pure functions; unit-tested.
 */
#ifndef DRF_H
#define DRF_H

#include <stddef.h>

/* Room for any drf_datetime/drf_duration/drf_float text. */
#define DRF_TEXT_MAX	48

/*
 * DRF DateTimeField (ISO_8601, UTC): datetime.isoformat() with "+00:00"
 * written "Z"; the ".ffffff" part is absent when the microseconds are 0,
 * as in Python.  epoch_us: microseconds since the epoch.
 * "2026-11-28T13:00:02.123456Z".
 */
void	 drf_datetime(long long epoch_us, char *out, size_t outsz);

/*
 * Django's duration_string() for a DurationField: "HH:MM:SS[.ffffff]",
 * prefixed with "D " when a day or more ("1 02:03:04.500000"), negative
 * values as Python's timedelta normalises them ("-1 23:59:59").
 */
void	 drf_duration(long long us, char *out, size_t outsz);

/*
 * Python's repr(round(v, 2)): "33.33", "100.0", "0.0", "12.5".
 * Not for NaN or infinities (writes "0.0").
 */
void	 drf_float2(double v, char *out, size_t outsz);

/*
 * Python's int(s) for the plain forms ("  12", "+3", "-1").  Returns 0
 * with *out set, 1 if the number is too big for a long (*out = LONG_MAX
 * or LONG_MIN), or -1 if s is not an integer.
 */
int	 drf_parse_int(const char *s, long *out);

/*
 * PageNumberPagination.get_page_size(): v is the page_size parameter or
 * NULL; an absent, non-positive or non-integer value gives
 * PAGE_SIZE_DEFAULT, a larger one PAGE_SIZE_MAX.
 */
long	 drf_page_size(const char *v);

/*
 * Django's Paginator.validate_number() as DRF uses it: v is the page
 * parameter or NULL (page 1); "last" is the last page.  count rows in
 * pages of page_size.  Returns 0 with *page, or -1 for "Invalid page."
 * (not an integer, < 1, or past the last page; page 1 of an empty list
 * is valid).  *npages gets the number of pages (at least 1).
 */
int	 drf_page_number(const char *v, long count, long page_size,
	    long *page, long *npages);

/*
 * The next and previous links of PageNumberPagination: base is the
 * absolute URL without query ("https://host/api/v1/claims/csv-jobs/"),
 * qs the request's query string (may be NULL).  next (previous) is set
 * to "" when there is no next (previous) page, which the caller renders
 * as null.  The page parameter is replaced (removed for page 1 of a
 * previous link) and the parameters are sorted as DRF's
 * replace_query_param does.  Returns 0, or -1 if qs is malformed or a
 * link does not fit.
 */
int	 drf_page_links(const char *base, const char *qs, long page,
	    long npages, char *next, size_t nextsz, char *prev,
	    size_t prevsz);

#endif
