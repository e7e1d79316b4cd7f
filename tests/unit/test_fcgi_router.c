/*
 * bulkclaims-fcgi routing and query strings: every route, DRF's
 * trailing-slash rule, job id validation, methods; Python-compatible
 * query parsing and re-encoding.
 */
#include <string.h>

#include "query.h"
#include "router.h"
#include "tap.h"

#define JOB	"3f2b8c1e-9a4d-4e2f-8b7c-1d2e3f4a5b6c"
#define BASE	"/api/v1/claims/"

static void
test_routes(void)
{
	struct route_match m;
	size_t i;
	static const struct {
		const char *method, *path;
		enum route_result rr;
		enum route_id id;
	} cases[] = {
		{ "POST", BASE "bulk/upload/", ROUTE_OK, ROUTE_UPLOAD },
		{ "GET", BASE "csv-jobs/", ROUTE_OK, ROUTE_JOB_LIST },
		{ "GET", BASE "csv-jobs/" JOB "/", ROUTE_OK, ROUTE_JOB_DETAIL },
		{ "GET", BASE "csv-jobs/" JOB "/progress/", ROUTE_OK,
		    ROUTE_JOB_PROGRESS },
		{ "GET", BASE "csv-jobs/" JOB "/results/", ROUTE_OK,
		    ROUTE_JOB_RESULTS },
		{ "POST", BASE "csv-jobs/" JOB "/retry/", ROUTE_OK,
		    ROUTE_JOB_RETRY },
		{ "POST", BASE "csv-jobs/" JOB "/cancel/", ROUTE_OK,
		    ROUTE_JOB_CANCEL },
		{ "GET", BASE "csv-jobs/" JOB "/cancel/", ROUTE_BAD_METHOD,
		    ROUTE_JOB_CANCEL },
		{ "HEAD", BASE "csv-jobs/", ROUTE_OK, ROUTE_JOB_LIST },
		{ "POST", BASE "bulk/validate/", ROUTE_OK, ROUTE_VALIDATE },
		{ "GET", BASE "bulk/template/", ROUTE_OK, ROUTE_TEMPLATE },
		{ "GET", BASE "csv-jobs/" JOB "/rows/", ROUTE_OK,
		    ROUTE_JOB_ROWS },
		{ "GET", BASE "bulk/validate/", ROUTE_BAD_METHOD,
		    ROUTE_VALIDATE },
		{ "POST", BASE "csv-jobs/" JOB "/rows/", ROUTE_BAD_METHOD,
		    ROUTE_JOB_ROWS },
		{ "GET", BASE "bulk/template", ROUTE_ADD_SLASH, ROUTE_NONE },
		/* Wrong methods: the route is known, the method is not. */
		{ "GET", BASE "bulk/upload/", ROUTE_BAD_METHOD, ROUTE_UPLOAD },
		{ "HEAD", BASE "bulk/upload/", ROUTE_BAD_METHOD, ROUTE_UPLOAD },
		{ "POST", BASE "csv-jobs/", ROUTE_BAD_METHOD, ROUTE_JOB_LIST },
		{ "DELETE", BASE "csv-jobs/" JOB "/", ROUTE_BAD_METHOD,
		    ROUTE_JOB_DETAIL },
		{ "GET", BASE "csv-jobs/" JOB "/retry/", ROUTE_BAD_METHOD,
		    ROUTE_JOB_RETRY },
		/* Missing trailing slash: Django's APPEND_SLASH. */
		{ "POST", BASE "bulk/upload", ROUTE_ADD_SLASH, ROUTE_NONE },
		{ "GET", BASE "csv-jobs", ROUTE_ADD_SLASH, ROUTE_NONE },
		{ "GET", BASE "csv-jobs/" JOB, ROUTE_ADD_SLASH, ROUTE_NONE },
		{ "GET", BASE "csv-jobs/" JOB "/progress", ROUTE_ADD_SLASH,
		    ROUTE_NONE },
		/* Unknown. */
		{ "GET", "/", ROUTE_NOT_FOUND, ROUTE_NONE },
		{ "GET", "", ROUTE_NOT_FOUND, ROUTE_NONE },
		{ "GET", "/api/v1/claims/", ROUTE_NOT_FOUND, ROUTE_NONE },
		{ "GET", "/api/v1/claims/csv-jobs//", ROUTE_NOT_FOUND,
		    ROUTE_NONE },
		{ "GET", BASE "csv-jobs/" JOB "/progress/x/", ROUTE_NOT_FOUND,
		    ROUTE_NONE },
		{ "GET", BASE "csv-jobs/" JOB "/nope/", ROUTE_NOT_FOUND,
		    ROUTE_NONE },
		{ "GET", "/API/v1/claims/csv-jobs/", ROUTE_NOT_FOUND,
		    ROUTE_NONE },
		{ "GET", BASE "csv-jobs/a.b/", ROUTE_NOT_FOUND, ROUTE_NONE },
		{ "GET", BASE "csv-jobs/" JOB "//", ROUTE_NOT_FOUND,
		    ROUTE_NONE },
		{ "GET", "/prefix" BASE "csv-jobs/", ROUTE_NOT_FOUND,
		    ROUTE_NONE },
		/* security: sessions, audit, purge */
		{ "POST", "/api/v1/auth/login/", ROUTE_OK, ROUTE_AUTH_LOGIN },
		{ "GET", "/api/v1/auth/login/", ROUTE_BAD_METHOD,
		    ROUTE_AUTH_LOGIN },
		{ "POST", "/api/v1/auth/logout/", ROUTE_OK,
		    ROUTE_AUTH_LOGOUT },
		{ "GET", "/api/v1/auth/me/", ROUTE_OK, ROUTE_AUTH_ME },
		{ "HEAD", "/api/v1/auth/me/", ROUTE_OK, ROUTE_AUTH_ME },
		{ "POST", "/api/v1/auth/me/", ROUTE_BAD_METHOD, ROUTE_AUTH_ME },
		{ "GET", "/api/v1/auth/me", ROUTE_ADD_SLASH, ROUTE_NONE },
		{ "GET", "/api/v1/audit/", ROUTE_OK, ROUTE_AUDIT },
		{ "DELETE", "/api/v1/audit/", ROUTE_BAD_METHOD, ROUTE_AUDIT },
		{ "POST", BASE "csv-jobs/" JOB "/purge/", ROUTE_OK,
		    ROUTE_JOB_PURGE },
		{ "GET", BASE "csv-jobs/" JOB "/purge/", ROUTE_BAD_METHOD,
		    ROUTE_JOB_PURGE },
		{ "GET", "/api/v1/auth/", ROUTE_NOT_FOUND, ROUTE_NONE },
		{ "GET", "/api/v1/", ROUTE_NOT_FOUND, ROUTE_NONE },
		{ "GET", "/api/v1/audit/x/", ROUTE_NOT_FOUND, ROUTE_NONE },
		/* claim details: one row */
		{ "GET", BASE "csv-jobs/" JOB "/rows/12/", ROUTE_OK,
		    ROUTE_JOB_ROW },
		{ "HEAD", BASE "csv-jobs/" JOB "/rows/x/", ROUTE_OK,
		    ROUTE_JOB_ROW },
		{ "POST", BASE "csv-jobs/" JOB "/rows/1/", ROUTE_BAD_METHOD,
		    ROUTE_JOB_ROW },
		{ "GET", BASE "csv-jobs/" JOB "/rows/1", ROUTE_ADD_SLASH,
		    ROUTE_NONE },
		{ "GET", BASE "csv-jobs/" JOB "/rows/1.5/", ROUTE_NOT_FOUND,
		    ROUTE_NONE },
		{ "GET", BASE "csv-jobs/" JOB "/rows/1/x/", ROUTE_NOT_FOUND,
		    ROUTE_NONE },
	};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum route_result rr = router_match(cases[i].method,
		    cases[i].path, &m);

		ok(rr == cases[i].rr && (rr == ROUTE_ADD_SLASH ||
		    rr == ROUTE_NOT_FOUND || m.id == cases[i].id),
		    "%s %s -> %d/%s (got %d/%s)", cases[i].method,
		    cases[i].path, cases[i].rr, route_names[cases[i].id], rr,
		    route_names[m.id]);
	}
	ok(router_match(NULL, "/x", &m) == ROUTE_NOT_FOUND, "NULL method");
	ok(router_match("GET", BASE "csv-jobs/" JOB "/rows/42/", &m) ==
	    ROUTE_OK && m.job_id_ok && strcmp(m.job_id, JOB) == 0 &&
	    strcmp(m.row, "42") == 0, "rows/{row}/: job id and row kept");
	ok(router_match("GET", BASE "csv-jobs/" JOB "/rows/"
	    "123456789012345678901234567890/", &m) == ROUTE_OK &&
	    m.row[0] == '\0', "rows/{row}/: an overlong segment is empty");
	ok(router_match("GET", NULL, &m) == ROUTE_NOT_FOUND, "NULL path");

	router_match("GET", BASE "csv-jobs/" JOB "/", &m);
	ok(m.job_id_ok && strcmp(m.job_id, JOB) == 0, "job id captured");
	router_match("GET",
	    BASE "csv-jobs/3F2B8C1E-9A4D-4E2F-8B7C-1D2E3F4A5B6C/", &m);
	ok(m.job_id_ok && strcmp(m.job_id, JOB) == 0,
	    "upper-case job id lower-cased");
	ok(router_match("GET", BASE "csv-jobs/not-a-uuid/", &m) == ROUTE_OK &&
	    m.id == ROUTE_JOB_DETAIL && !m.job_id_ok,
	    "malformed id still routes (404 after auth, as DRF)");
	ok(router_match("GET", BASE
	    "csv-jobs/3f2b8c1e9a4d4e2f8b7c1d2e3f4a5b6c/", &m) == ROUTE_OK &&
	    !m.job_id_ok, "uuid without dashes refused");
	ok(router_match("GET", BASE "csv-jobs/" JOB "0/", &m) == ROUTE_OK &&
	    !m.job_id_ok, "uuid with an extra char refused");
	{
		char longp[200];

		memset(longp, 'a', sizeof(longp));
		memcpy(longp, BASE "csv-jobs/", strlen(BASE "csv-jobs/"));
		longp[sizeof(longp) - 2] = '/';
		longp[sizeof(longp) - 1] = '\0';
		ok(router_match("GET", longp, &m) == ROUTE_OK && !m.job_id_ok,
		    "overlong id segment is not a uuid");
	}
	ok(router_match("HEAD", BASE "csv-jobs/", &m) == ROUTE_OK && m.head,
	    "HEAD marks head");
	ok(router_match("GET", BASE "csv-jobs/", &m) == ROUTE_OK && !m.head,
	    "GET is not head");
	router_match("PUT", BASE "bulk/upload/", &m);
	ok(m.allow != NULL && strcmp(m.allow, "POST") == 0, "Allow: POST");
	router_match("PUT", BASE "csv-jobs/", &m);
	ok(m.allow != NULL && strcmp(m.allow, "GET, HEAD") == 0,
	    "Allow: GET, HEAD");
	for (i = 0; i < ROUTE__MAX; i++)
		ok(route_names[i] != NULL, "route name %zu set", i);
}

static void
test_query(void)
{
	struct query q;
	char out[256], big[QUERY_MAX_BYTES + 10];
	int i;

	ok(query_parse(NULL, &q) == 0 && q.n == 0, "NULL query");
	ok(query_parse("", &q) == 0 && q.n == 0, "empty query");
	ok(query_parse("page=2&status=FAILED", &q) == 0 && q.n == 2,
	    "2 params");
	ok(strcmp(query_get(&q, "page"), "2") == 0, "page=2");
	ok(strcmp(query_get(&q, "status"), "FAILED") == 0, "status");
	ok(query_get(&q, "nope") == NULL, "absent key");
	ok(query_parse("a=1&a=2&a=3", &q) == 0 &&
	    strcmp(query_get(&q, "a"), "3") == 0,
	    "last value wins (QueryDict)");
	ok(query_parse("a&b=&&c=x%20y+z", &q) == 0 && q.n == 3 &&
	    strcmp(query_get(&q, "a"), "") == 0 &&
	    strcmp(query_get(&q, "b"), "") == 0 &&
	    strcmp(query_get(&q, "c"), "x y z") == 0,
	    "blank values kept, empty pairs skipped, + and %%20 decoded");
	ok(query_parse("k=%zz%4", &q) == 0 &&
	    strcmp(query_get(&q, "k"), "%zz%4") == 0,
	    "invalid escapes kept literally");
	ok(query_parse("k=a%3Db%26c", &q) == 0 &&
	    strcmp(query_get(&q, "k"), "a=b&c") == 0, "escaped = and &");
	ok(query_parse("k=%00", &q) == -1, "NUL refused");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(query_parse(big, &q) == -1, "overlong query refused");
	for (i = 0; i < QUERY_MAX_PARAMS + 1; i++)
		memcpy(big + 4 * i, "x=1&", 4);
	big[4 * i] = '\0';
	ok(query_parse(big, &q) == -1, "too many params refused");

	/* Re-encoding as DRF's replace_query_param. */
	query_parse("status=FAILED&page=2&page_size=5", &q);
	query_set(&q, "page", "3");
	ok(query_encode(&q, out, sizeof(out)) > 0 &&
	    strcmp(out, "page=3&page_size=5&status=FAILED") == 0,
	    "sorted by key: %s", out);
	query_del(&q, "page");
	ok(query_encode(&q, out, sizeof(out)) > 0 &&
	    strcmp(out, "page_size=5&status=FAILED") == 0, "page removed: %s",
	    out);
	query_parse("b=2&a=x&b=1&page=1&page=9", &q);
	query_set(&q, "page", "2");
	ok(query_encode(&q, out, sizeof(out)) > 0 &&
	    strcmp(out, "a=x&b=2&b=1&page=2") == 0,
	    "stable sort, duplicate page values replaced: %s", out);
	query_parse("q=a b&x=%C3%A9~._-/", &q);
	ok(query_encode(&q, out, sizeof(out)) > 0 &&
	    strcmp(out, "q=a+b&x=%C3%A9~._-%2F") == 0, "quote_plus: %s", out);
	query_parse("", &q);
	ok(query_encode(&q, out, sizeof(out)) == 0 && out[0] == '\0',
	    "empty encodes empty");
	query_parse("a=1234567890", &q);
	ok(query_encode(&q, out, 8) == -1, "too small buffer refused");
	ok(query_unescape("/a%2Fb+c", 8, 0, out, sizeof(out)) == 6 &&
	    strcmp(out, "/a/b+c") == 0, "path unescape keeps +");
}

int
main(void)
{
	test_routes();
	test_query();
	return done_testing();
}
