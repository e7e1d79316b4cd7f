/*
 * bulkclaims-fcgi routing and query strings: every route, DRF's
 * trailing-slash rule, job id validation, methods; every route's
 * requirements (authentication, role, CSRF, gate, handler);
 * Python-compatible query parsing and re-encoding.
 */
#include <string.h>

#include "handlers.h"
#include "query.h"
#include "router.h"
#include "tap.h"

/*
 * The route table names the handlers; this test links router.c alone,
 * so each handler is a distinct function here that only says which it
 * is.  A route added with a new handler needs one line here.
 */
static const char *called;

#define HANDLER(f)	\
	void f(struct req *r) { (void)r; called = #f; }
#define GATE(f)		\
	int f(struct req *r) { (void)r; called = #f; return 0; }
HANDLER(upload_handle)
HANDLER(jobs_list)
HANDLER(jobs_detail)
HANDLER(jobs_progress)
HANDLER(jobs_retry)
HANDLER(download_results)
HANDLER(cancel_handle)
HANDLER(validate_handle)
HANDLER(template_handle)
HANDLER(rows_list)
HANDLER(rows_detail)
HANDLER(history_claim)
HANDLER(deadline_rules_list)
HANDLER(deadline_rules_set)
HANDLER(deadline_rules_delete)
HANDLER(session_login)
HANDLER(session_logout)
HANDLER(session_me)
HANDLER(audit_list)
HANDLER(admin_purge)
GATE(quota_check)
GATE(purge_gate)

#define ANY	ROUTE_AUTH_NONE
#define AUTH	ROUTE_AUTH_TOKEN_OR_SESSION
#define VIEWER	ROUTE_ROLE_VIEWER
#define MEMBER	ROUTE_ROLE_MEMBER
#define ADMIN	ROUTE_ROLE_ADMIN
#define NOCSRF	ROUTE_CSRF_EXEMPT
#define CSRF	ROUTE_CSRF_REQUIRED

/* What each endpoint requires, written out independently of router.c. */
static const struct {
	enum route_id	 id;
	enum route_auth	 auth;
	enum route_role	 role;
	enum route_csrf	 csrf;
	const char	*gate, *handler;
} expect[] = {
	{ ROUTE_UPLOAD, AUTH, MEMBER, CSRF, "quota_check", "upload_handle" },
	{ ROUTE_JOB_LIST, AUTH, VIEWER, NOCSRF, NULL, "jobs_list" },
	{ ROUTE_JOB_DETAIL, AUTH, VIEWER, NOCSRF, NULL, "jobs_detail" },
	{ ROUTE_JOB_PROGRESS, AUTH, VIEWER, NOCSRF, NULL, "jobs_progress" },
	{ ROUTE_JOB_RESULTS, AUTH, VIEWER, NOCSRF, "purge_gate",
	    "download_results" },
	{ ROUTE_JOB_RETRY, AUTH, MEMBER, CSRF, "purge_gate", "jobs_retry" },
	{ ROUTE_JOB_PURGE, AUTH, ADMIN, CSRF, NULL, "admin_purge" },
	{ ROUTE_AUTH_LOGIN, ANY, VIEWER, NOCSRF, NULL, "session_login" },
	{ ROUTE_AUTH_LOGOUT, AUTH, VIEWER, CSRF, NULL, "session_logout" },
	{ ROUTE_AUTH_ME, AUTH, VIEWER, NOCSRF, NULL, "session_me" },
	{ ROUTE_AUDIT, AUTH, ADMIN, NOCSRF, NULL, "audit_list" },
	{ ROUTE_VALIDATE, AUTH, MEMBER, CSRF, NULL, "validate_handle" },
	{ ROUTE_TEMPLATE, AUTH, VIEWER, NOCSRF, NULL, "template_handle" },
	{ ROUTE_JOB_ROWS, AUTH, VIEWER, NOCSRF, "purge_gate", "rows_list" },
	{ ROUTE_JOB_CANCEL, AUTH, MEMBER, CSRF, NULL, "cancel_handle" },
	{ ROUTE_JOB_ROW, AUTH, VIEWER, NOCSRF, "purge_gate", "rows_detail" },
	{ ROUTE_CLAIM_HISTORY, AUTH, VIEWER, NOCSRF, NULL, "history_claim" },
	{ ROUTE_DEADLINE_RULES, AUTH, VIEWER, NOCSRF, NULL,
	    "deadline_rules_list" },
	{ ROUTE_DEADLINE_RULE_SET, AUTH, ADMIN, CSRF, NULL,
	    "deadline_rules_set" },
	{ ROUTE_DEADLINE_RULE_DELETE, AUTH, ADMIN, CSRF, NULL,
	    "deadline_rules_delete" },
};

/* Which stub fn is: call it and see. */
static const char *
name_of_handler(void (*fn)(struct req *))
{
	called = NULL;
	if (fn != NULL)
		fn(NULL);
	return called;
}

static const char *
name_of_gate(int (*fn)(struct req *))
{
	called = NULL;
	if (fn != NULL)
		fn(NULL);
	return called;
}

static int
same(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* Every row has every requirement set, and the ones written above. */
static void
test_requirements(void)
{
	const struct route *rt, *t;
	size_t n, i, j, rows;
	int seen[ROUTE__MAX] = { 0 };
	const char *h, *g;

	t = router_routes(&n);
	ok(n == sizeof(expect) / sizeof(expect[0]),
	    "%zu routes, %zu expected", n, sizeof(expect) / sizeof(expect[0]));
	for (i = 0; i < n; i++) {
		rt = &t[i];
		ok(rt->id > ROUTE_NONE && rt->id < ROUTE__MAX,
		    "row %zu: route id in range", i);
		if (rt->id <= ROUTE_NONE || rt->id >= ROUTE__MAX)
			continue;
		seen[rt->id]++;
		ok(rt->auth != ROUTE_AUTH_UNSET &&
		    rt->role != ROUTE_ROLE_UNSET &&
		    rt->csrf != ROUTE_CSRF_UNSET && rt->handler != NULL &&
		    rt->method != NULL && rt->pattern != NULL &&
		    rt->allow != NULL, "%s: auth, role, csrf, handler all set",
		    route_names[rt->id]);
		/* Writes need the token from a session; reads must not. */
		ok((rt->csrf == ROUTE_CSRF_REQUIRED) ==
		    (strcmp(rt->method, "GET") != 0 &&
		    rt->auth != ROUTE_AUTH_NONE),
		    "%s: CSRF exactly on authenticated writes",
		    route_names[rt->id]);
		/* Viewers read; only logging out is a POST they may send. */
		ok(strcmp(rt->method, "GET") == 0 ||
		    rt->role >= ROUTE_ROLE_MEMBER ||
		    rt->id == ROUTE_AUTH_LOGOUT || rt->auth == ROUTE_AUTH_NONE,
		    "%s: writes need a member", route_names[rt->id]);
		ok(rt->auth != ROUTE_AUTH_NONE || rt->id == ROUTE_AUTH_LOGIN,
		    "%s: unauthenticated only for the login",
		    route_names[rt->id]);
		for (j = 0; j < sizeof(expect) / sizeof(expect[0]); j++)
			if (expect[j].id == rt->id)
				break;
		if (j == sizeof(expect) / sizeof(expect[0])) {
			ok(0, "%s: expected requirements written down",
			    route_names[rt->id]);
			continue;
		}
		h = name_of_handler(rt->handler);
		g = name_of_gate(rt->gate);
		ok(rt->auth == expect[j].auth && rt->role == expect[j].role &&
		    rt->csrf == expect[j].csrf,
		    "%s: auth %d role %d csrf %d", route_names[rt->id],
		    rt->auth, rt->role, rt->csrf);
		ok(same(g, expect[j].gate) && same(h, expect[j].handler),
		    "%s: gate %s handler %s", route_names[rt->id],
		    g ? g : "none", h ? h : "none");
	}
	/* No endpoint without a row, none with two. */
	for (i = ROUTE_NONE + 1, rows = 0; i < ROUTE__MAX; i++)
		if (seen[i] == 1)
			rows++;
		else
			ok(0, "%s: %d route rows", route_names[i], seen[i]);
	ok(rows == ROUTE__MAX - 1, "every route id has exactly one row");
}

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
		/* deadline rules: one path, one entry per method */
		{ "GET", "/api/v1/deadline-rules/", ROUTE_OK,
		    ROUTE_DEADLINE_RULES },
		{ "HEAD", "/api/v1/deadline-rules/", ROUTE_OK,
		    ROUTE_DEADLINE_RULES },
		{ "POST", "/api/v1/deadline-rules/", ROUTE_OK,
		    ROUTE_DEADLINE_RULE_SET },
		{ "PUT", "/api/v1/deadline-rules/", ROUTE_BAD_METHOD,
		    ROUTE_DEADLINE_RULES },
		{ "DELETE", "/api/v1/deadline-rules/7/", ROUTE_OK,
		    ROUTE_DEADLINE_RULE_DELETE },
		{ "GET", "/api/v1/deadline-rules/7/", ROUTE_BAD_METHOD,
		    ROUTE_DEADLINE_RULE_DELETE },
		{ "POST", "/api/v1/deadline-rules", ROUTE_ADD_SLASH,
		    ROUTE_NONE },
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
		/* claims ledger: one claim's history */
		{ "GET", BASE "CLM-0001/history/", ROUTE_OK,
		    ROUTE_CLAIM_HISTORY },
		{ "POST", BASE "CLM-0001/history/", ROUTE_BAD_METHOD,
		    ROUTE_CLAIM_HISTORY },
		{ "GET", BASE "CLM-0001/history", ROUTE_ADD_SLASH,
		    ROUTE_NONE },
		{ "GET", BASE "CLM.1/history/", ROUTE_NOT_FOUND, ROUTE_NONE },
	};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum route_result rr = router_match(cases[i].method,
		    cases[i].path, &m);

		ok(rr == cases[i].rr && (rr == ROUTE_ADD_SLASH ||
		    rr == ROUTE_NOT_FOUND || m.id == cases[i].id),
		    "%s %s -> %d/%s (got %d/%s)", cases[i].method,
		    cases[i].path, cases[i].rr, route_names[cases[i].id], rr,
		    route_names[m.id]);
		/* The dispatcher reads the requirements through m.rt. */
		ok(rr == ROUTE_ADD_SLASH || rr == ROUTE_NOT_FOUND ?
		    m.rt == NULL && strcmp(m.name, "none") == 0 :
		    m.rt != NULL && m.rt->id == m.id &&
		    strcmp(m.name, route_names[m.id]) == 0,
		    "%s %s: route row and name", cases[i].method,
		    cases[i].path);
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
	test_requirements();
	test_query();
	return done_testing();
}
