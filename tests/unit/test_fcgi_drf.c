/*
 * DRF/Django output formats of bulkclaims-fcgi: date-times, durations,
 * floats, page sizes and numbers, pagination links.  Expected strings
 * were produced with Python 3.11 (datetime.isoformat, Django's
 * duration_string, repr(round(x, 2)), DRF's replace_query_param).
 */
#include <string.h>

#include "drf.h"
#include "limits.h"
#include "tap.h"

static void
test_datetime(void)
{
	char b[DRF_TEXT_MAX];

	/* datetime(2026,11,28,13,0,2,123456,tzinfo=utc).timestamp()*1e6 */
	drf_datetime(1795870802123456LL, b, sizeof(b));
	ok(strcmp(b, "2026-11-28T13:00:02.123456Z") == 0, "datetime %s", b);
	drf_datetime(1795870802000000LL, b, sizeof(b));
	ok(strcmp(b, "2026-11-28T13:00:02Z") == 0,
	    "no fraction when microseconds are 0: %s", b);
	drf_datetime(1795870802000001LL, b, sizeof(b));
	ok(strcmp(b, "2026-11-28T13:00:02.000001Z") == 0, "1 us: %s", b);
	drf_datetime(0, b, sizeof(b));
	ok(strcmp(b, "1970-01-01T00:00:00Z") == 0, "epoch: %s", b);
	drf_datetime(-1, b, sizeof(b));
	ok(strcmp(b, "1969-12-31T23:59:59.999999Z") == 0, "before epoch: %s",
	    b);
}

static void
test_duration(void)
{
	char b[DRF_TEXT_MAX];

	drf_duration(0, b, sizeof(b));
	ok(strcmp(b, "00:00:00") == 0, "zero: %s", b);
	drf_duration(83456789LL, b, sizeof(b));
	ok(strcmp(b, "00:01:23.456789") == 0, "83.456789 s: %s", b);
	drf_duration(3723000000LL, b, sizeof(b));
	ok(strcmp(b, "01:02:03") == 0, "1h2m3s: %s", b);
	drf_duration(86400LL * 1000000 + 7384500000LL, b, sizeof(b));
	ok(strcmp(b, "1 02:03:04.500000") == 0, "a day and more: %s", b);
	drf_duration(3LL * 86400 * 1000000, b, sizeof(b));
	ok(strcmp(b, "3 00:00:00") == 0, "3 days: %s", b);
	drf_duration(-1000000LL, b, sizeof(b));
	ok(strcmp(b, "-1 23:59:59") == 0, "-1 s as timedelta: %s", b);
	drf_duration(-1LL, b, sizeof(b));
	ok(strcmp(b, "-1 23:59:59.999999") == 0, "-1 us: %s", b);
}

static void
test_float(void)
{
	char b[DRF_TEXT_MAX];

	drf_float2(100.0 / 3.0, b, sizeof(b));
	ok(strcmp(b, "33.33") == 0, "1/3: %s", b);
	drf_float2(200.0 / 3.0, b, sizeof(b));
	ok(strcmp(b, "66.67") == 0, "2/3: %s", b);
	drf_float2(100.0, b, sizeof(b));
	ok(strcmp(b, "100.0") == 0, "100: %s", b);
	drf_float2(0.0, b, sizeof(b));
	ok(strcmp(b, "0.0") == 0, "0: %s", b);
	drf_float2(12.5, b, sizeof(b));
	ok(strcmp(b, "12.5") == 0, "12.5: %s", b);
	drf_float2(2.675, b, sizeof(b));
	ok(strcmp(b, "2.67") == 0, "2.675 rounds as Python (binary): %s", b);
	drf_float2(1234.0, b, sizeof(b));
	ok(strcmp(b, "1234.0") == 0, "1234: %s", b);
}

static void
test_ints(void)
{
	long v, page, np;

	ok(drf_parse_int("12", &v) == 0 && v == 12, "12");
	ok(drf_parse_int("  +3 ", &v) == 0 && v == 3, "whitespace and +");
	ok(drf_parse_int("-1", &v) == 0 && v == -1, "-1");
	ok(drf_parse_int("", &v) == -1, "empty");
	ok(drf_parse_int("1.0", &v) == -1, "1.0");
	ok(drf_parse_int("0x10", &v) == -1, "hex");
	ok(drf_parse_int("1 2", &v) == -1, "inner space");
	ok(drf_parse_int("+", &v) == -1, "sign alone");
	ok(drf_parse_int("99999999999999999999999", &v) == 1 && v > 1000000000L,
	    "overflow");

	ok(drf_page_size(NULL) == PAGE_SIZE_DEFAULT, "page_size default");
	ok(drf_page_size("5") == 5, "page_size 5");
	ok(drf_page_size("0") == PAGE_SIZE_DEFAULT, "page_size 0 -> default");
	ok(drf_page_size("-4") == PAGE_SIZE_DEFAULT, "negative -> default");
	ok(drf_page_size("abc") == PAGE_SIZE_DEFAULT, "junk -> default");
	ok(drf_page_size("500") == PAGE_SIZE_MAX, "cut to max");
	ok(drf_page_size("99999999999999999999") == PAGE_SIZE_MAX,
	    "huge -> max");

	ok(drf_page_number(NULL, 45, 20, &page, &np) == 0 && page == 1 &&
	    np == 3, "default page 1 of 3");
	ok(drf_page_number("3", 45, 20, &page, &np) == 0 && page == 3,
	    "page 3");
	ok(drf_page_number("4", 45, 20, &page, &np) == -1, "past the end");
	ok(drf_page_number("0", 45, 20, &page, &np) == -1, "page 0");
	ok(drf_page_number("", 45, 20, &page, &np) == -1, "page empty");
	ok(drf_page_number("x", 45, 20, &page, &np) == -1, "page junk");
	ok(drf_page_number("last", 45, 20, &page, &np) == 0 && page == 3,
	    "last");
	ok(drf_page_number("1", 0, 20, &page, &np) == 0 && page == 1 &&
	    np == 1, "page 1 of an empty list");
	ok(drf_page_number("2", 0, 20, &page, &np) == -1,
	    "page 2 of an empty list");
	ok(drf_page_number("2", 40, 20, &page, &np) == 0 && np == 2,
	    "exact multiple");
}

static void
test_links(void)
{
	const char *base = "https://h:8443/api/v1/claims/csv-jobs/";
	char next[URL_MAX], prev[URL_MAX];

	ok(drf_page_links(base, "", 1, 3, next, sizeof(next), prev,
	    sizeof(prev)) == 0 &&
	    strcmp(next,
	    "https://h:8443/api/v1/claims/csv-jobs/?page=2") == 0 &&
	    prev[0] == '\0', "first page: next=%s", next);
	ok(drf_page_links(base, "page=2", 2, 3, next, sizeof(next), prev,
	    sizeof(prev)) == 0 &&
	    strcmp(next,
	    "https://h:8443/api/v1/claims/csv-jobs/?page=3") == 0 &&
	    strcmp(prev, "https://h:8443/api/v1/claims/csv-jobs/") == 0,
	    "page 2: previous drops page: %s", prev);
	ok(drf_page_links(base, "status=FAILED&page=3&page_size=5", 3, 4,
	    next, sizeof(next), prev, sizeof(prev)) == 0 &&
	    strcmp(next, "https://h:8443/api/v1/claims/csv-jobs/"
	    "?page=4&page_size=5&status=FAILED") == 0 &&
	    strcmp(prev, "https://h:8443/api/v1/claims/csv-jobs/"
	    "?page=2&page_size=5&status=FAILED") == 0,
	    "params kept and sorted: %s | %s", next, prev);
	ok(drf_page_links(base, "page=last", 3, 3, next, sizeof(next), prev,
	    sizeof(prev)) == 0 && next[0] == '\0' &&
	    strcmp(prev, "https://h:8443/api/v1/claims/csv-jobs/?page=2") == 0,
	    "last page: no next: %s", prev);
	ok(drf_page_links(base, NULL, 1, 1, next, sizeof(next), prev,
	    sizeof(prev)) == 0 && next[0] == '\0' && prev[0] == '\0',
	    "single page: no links");
	ok(drf_page_links(base, "q=%00", 1, 2, next, sizeof(next), prev,
	    sizeof(prev)) == -1, "malformed query refused");
	ok(drf_page_links(base, "", 1, 2, next, 10, prev, sizeof(prev)) == -1,
	    "link too long refused");
}

int
main(void)
{
	test_datetime();
	test_duration();
	test_float();
	test_ints();
	test_links();
	return done_testing();
}
