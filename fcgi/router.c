/*
 * Routes of the API: a fixed table matched segment by segment (the one
 * variable segment is a job id), and per route what the dispatcher
 * checks before the handler runs.  POST routes need a member (viewers
 * read only) and, from a browser session, the CSRF token.
 */
#include <ctype.h>
#include <string.h>

#include "handlers.h"
#include "router.h"
#include "util.h"

/* Designated, so routes added by several branches cannot shift names. */
const char *const route_names[ROUTE__MAX] = {
	[ROUTE_NONE] = "none",
	[ROUTE_UPLOAD] = "upload",
	[ROUTE_JOB_LIST] = "job_list",
	[ROUTE_JOB_DETAIL] = "job_detail",
	[ROUTE_JOB_PROGRESS] = "job_progress",
	[ROUTE_JOB_RESULTS] = "job_results",
	[ROUTE_JOB_RETRY] = "job_retry",
	[ROUTE_JOB_PURGE] = "job_purge",
	[ROUTE_AUTH_LOGIN] = "auth_login",
	[ROUTE_AUTH_LOGOUT] = "auth_logout",
	[ROUTE_AUTH_ME] = "auth_me",
	[ROUTE_AUDIT] = "audit",
	/* intake */
	[ROUTE_VALIDATE] = "validate",
	[ROUTE_TEMPLATE] = "template",
	[ROUTE_JOB_ROWS] = "job_rows",
	/* reliability */
	[ROUTE_JOB_CANCEL] = "job_cancel",
	/* claim details */
	[ROUTE_JOB_ROW] = "job_row",
	/* claims ledger */
	[ROUTE_CLAIM_HISTORY] = "claim_history",
	[ROUTE_DEADLINE_RULES] = "deadline_rules",
	[ROUTE_DEADLINE_RULE_SET] = "deadline_rule_set",
	[ROUTE_DEADLINE_RULE_DELETE] = "deadline_rule_delete",
};

#define PREFIX	"/api/v1/"

#define ANY	ROUTE_AUTH_NONE
#define AUTH	ROUTE_AUTH_TOKEN_OR_SESSION
#define VIEWER	ROUTE_ROLE_VIEWER
#define MEMBER	ROUTE_ROLE_MEMBER
#define ADMIN	ROUTE_ROLE_ADMIN
#define NOCSRF	ROUTE_CSRF_EXEMPT
#define CSRF	ROUTE_CSRF_REQUIRED
#define GET	"GET", "GET, HEAD"
#define POST	"POST", "POST"

/*
 * id, method and Allow, pattern ("*" the job id segment, "#" a row
 * number's), auth, role, csrf, gate, handler
 */
static const struct route routes[] = {
	{ ROUTE_UPLOAD, POST, "claims/bulk/upload/", AUTH, MEMBER, CSRF,
	    quota_check, upload_handle },
	{ ROUTE_JOB_LIST, GET, "claims/csv-jobs/", AUTH, VIEWER, NOCSRF,
	    NULL, jobs_list },
	{ ROUTE_JOB_DETAIL, GET, "claims/csv-jobs/*/", AUTH, VIEWER, NOCSRF,
	    NULL, jobs_detail },
	{ ROUTE_JOB_PROGRESS, GET, "claims/csv-jobs/*/progress/", AUTH,
	    VIEWER, NOCSRF, NULL, jobs_progress },
	{ ROUTE_JOB_RESULTS, GET, "claims/csv-jobs/*/results/", AUTH,
	    VIEWER, NOCSRF, purge_gate, download_results },
	{ ROUTE_JOB_RETRY, POST, "claims/csv-jobs/*/retry/", AUTH, MEMBER,
	    CSRF, purge_gate, jobs_retry },
	{ ROUTE_JOB_PURGE, POST, "claims/csv-jobs/*/purge/", AUTH, ADMIN,
	    CSRF, NULL, admin_purge },
	{ ROUTE_AUTH_LOGIN, POST, "auth/login/", ANY, VIEWER, NOCSRF,
	    NULL, session_login },
	/* Logging out is no write: viewers may. */
	{ ROUTE_AUTH_LOGOUT, POST, "auth/logout/", AUTH, VIEWER, CSRF,
	    NULL, session_logout },
	{ ROUTE_AUTH_ME, GET, "auth/me/", AUTH, VIEWER, NOCSRF, NULL,
	    session_me },
	{ ROUTE_AUDIT, GET, "audit/", AUTH, ADMIN, NOCSRF, NULL, audit_list },
	/* intake */
	{ ROUTE_VALIDATE, POST, "claims/bulk/validate/", AUTH, MEMBER, CSRF,
	    NULL, validate_handle },
	{ ROUTE_TEMPLATE, GET, "claims/bulk/template/", AUTH, VIEWER, NOCSRF,
	    NULL, template_handle },
	{ ROUTE_JOB_ROWS, GET, "claims/csv-jobs/*/rows/", AUTH, VIEWER,
	    NOCSRF, purge_gate, rows_list },
	/* reliability */
	{ ROUTE_JOB_CANCEL, POST, "claims/csv-jobs/*/cancel/", AUTH, MEMBER,
	    CSRF, NULL, cancel_handle },
	/* claim details */
	{ ROUTE_JOB_ROW, GET, "claims/csv-jobs/*/rows/#/", AUTH, VIEWER,
	    NOCSRF, purge_gate, rows_detail },
	/* claims ledger: "*" is the claim number here */
	{ ROUTE_CLAIM_HISTORY, GET, "claims/*/history/", AUTH, VIEWER,
	    NOCSRF, NULL, history_claim },
	/* deadlines: two methods on one path, one entry each */
	{ ROUTE_DEADLINE_RULES, "GET", "GET, HEAD, POST", "deadline-rules/",
	    AUTH, VIEWER, NOCSRF, NULL, deadline_rules_list },
	{ ROUTE_DEADLINE_RULE_SET, "POST", "GET, HEAD, POST",
	    "deadline-rules/", AUTH, ADMIN, CSRF, NULL, deadline_rules_set },
	{ ROUTE_DEADLINE_RULE_DELETE, "DELETE", "DELETE", "deadline-rules/#/",
	    AUTH, ADMIN, CSRF, NULL, deadline_rules_delete },
};

const struct route *
router_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

/*
 * Matches path (after PREFIX) against pattern; a "*" segment is stored
 * in seg, a "#" segment in sub (both DRF's default lookup regex
 * [^/.]+; sub has ROUTE_ROW_MAX bytes).  Returns 1 on a match.
 */
static int
match_one(const char *pattern, const char *path, char *seg, size_t segsz,
    char *sub)
{
	const char *p = pattern, *s = path, *slash;
	size_t n, sz;
	char *out;

	while (*p != '\0') {
		if (*p == '*' || *p == '#') {
			out = *p == '*' ? seg : sub;
			sz = *p == '*' ? segsz : ROUTE_ROW_MAX;
			slash = strchr(s, '/');
			if (slash == NULL || slash == s)
				return 0;
			n = (size_t)(slash - s);
			if (memchr(s, '.', n) != NULL)
				return 0;
			if (n < sz) {
				memcpy(out, s, n);
				out[n] = '\0';
			} else
				out[0] = '\0';	/* too long: not an id */
			s = slash;
			p++;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *s == '\0';
}

/* 1 if a request with method is served by route r (HEAD by GET). */
static int
method_ok(const struct route *r, const char *method)
{
	return strcmp(method, r->method) == 0 || (strcmp(method, "HEAD") == 0 &&
	    strcmp(r->method, "GET") == 0);
}

/*
 * Looks path up; returns the route or NULL, with the id segment in seg.
 * Of the entries of one path (one per method), the one for method, else
 * the first (whose Allow lists them all) to answer 405.
 */
static const struct route *
lookup(const char *method, const char *path, char *seg, size_t segsz,
    char *sub)
{
	const struct route *first = NULL;
	size_t i;

	if (strncmp(path, PREFIX, strlen(PREFIX)) != 0)
		return NULL;
	path += strlen(PREFIX);
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (first != NULL && strcmp(routes[i].pattern,
		    first->pattern) != 0)
			continue;
		if (!match_one(routes[i].pattern, path, seg, segsz, sub))
			continue;
		if (method_ok(&routes[i], method))
			return &routes[i];
		if (first == NULL)
			first = &routes[i];
	}
	if (first != NULL)	/* seg and sub again, as first found them */
		(void)match_one(first->pattern, path, seg, segsz, sub);
	return first;
}

enum route_result
router_match(const char *method, const char *path, struct route_match *m)
{
	const struct route *r;
	char seg[64], slashed[128];
	size_t n, i;

	memset(m, 0, sizeof(*m));
	m->id = ROUTE_NONE;
	m->name = route_names[ROUTE_NONE];
	seg[0] = '\0';
	if (method == NULL || path == NULL)
		return ROUTE_NOT_FOUND;
	if ((r = lookup(method, path, seg, sizeof(seg), m->row)) == NULL) {
		n = strlen(path);
		/* Our paths are short; a long one cannot match with a slash. */
		if (n == 0 || path[n - 1] == '/' || n + 2 > sizeof(slashed))
			return ROUTE_NOT_FOUND;
		memcpy(slashed, path, n);
		slashed[n] = '/';
		slashed[n + 1] = '\0';
		if (lookup(method, slashed, seg, sizeof(seg), m->row) == NULL)
			return ROUTE_NOT_FOUND;
		return ROUTE_ADD_SLASH;
	}
	m->id = r->id;
	m->rt = r;
	m->name = route_names[r->id];
	m->allow = r->allow;
	memcpy(m->seg, seg, sizeof(m->seg));
	if (util_is_uuid(seg)) {
		for (i = 0; i < 36; i++)
			m->job_id[i] = (char)tolower((unsigned char)seg[i]);
		m->job_id[36] = '\0';
		m->job_id_ok = 1;
	}
	if (method_ok(r, method)) {
		m->head = strcmp(method, r->method) != 0;
		return ROUTE_OK;
	}
	return ROUTE_BAD_METHOD;
}
