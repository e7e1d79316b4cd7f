/*
 * Request routing: method + path to one of the API's endpoints, with
 * DRF's trailing-slash rules, and what each endpoint requires of its
 * caller (authentication, role, CSRF token, a gate) before its handler
 * runs.  No FastCGI calls, so unit tests call it.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stddef.h>

enum route_id {
	ROUTE_NONE,
	ROUTE_UPLOAD,		/* POST claims/bulk/upload/ */
	ROUTE_JOB_LIST,		/* GET claims/csv-jobs/ */
	ROUTE_JOB_DETAIL,	/* GET claims/csv-jobs/{id}/ */
	ROUTE_JOB_PROGRESS,	/* GET claims/csv-jobs/{id}/progress/ */
	ROUTE_JOB_RESULTS,	/* GET claims/csv-jobs/{id}/results/ */
	ROUTE_JOB_RETRY,	/* POST claims/csv-jobs/{id}/retry/ */
	ROUTE_JOB_PURGE,	/* POST claims/csv-jobs/{id}/purge/ */
	ROUTE_AUTH_LOGIN,	/* POST auth/login/ */
	ROUTE_AUTH_LOGOUT,	/* POST auth/logout/ */
	ROUTE_AUTH_ME,		/* GET auth/me/ */
	ROUTE_AUDIT,		/* GET audit/ */

	/* intake */
	ROUTE_VALIDATE,		/* POST claims/bulk/validate/ */
	ROUTE_TEMPLATE,		/* GET claims/bulk/template/ */
	ROUTE_JOB_ROWS,		/* GET claims/csv-jobs/{id}/rows/ */

	/* reliability */
	ROUTE_JOB_CANCEL,	/* POST claims/csv-jobs/{id}/cancel/ */

	/* claim details */
	ROUTE_JOB_ROW,		/* GET claims/csv-jobs/{id}/rows/{row}/ */

	/* claims ledger */
	ROUTE_CLAIM_HISTORY,	/* GET claims/{claim_number}/history/ */

	/* deadlines */
	ROUTE_DEADLINE_RULES,	/* GET deadline-rules/ */
	ROUTE_DEADLINE_RULE_SET, /* POST deadline-rules/ */
	ROUTE_DEADLINE_RULE_DELETE, /* DELETE deadline-rules/{id}/ */
	ROUTE__MAX
};

/* Route names for the logs; no entry is NULL. */
extern const char *const route_names[ROUTE__MAX];

/* Zero is "not set" in each of these, so a route row cannot omit one. */
enum route_auth {
	ROUTE_AUTH_UNSET,
	ROUTE_AUTH_NONE,		/* anybody (the login itself) */
	ROUTE_AUTH_TOKEN_OR_SESSION	/* API token, or the session cookie */
};

/* The least role of the caller (users.role), in increasing power. */
enum route_role {
	ROUTE_ROLE_UNSET,
	ROUTE_ROLE_VIEWER,
	ROUTE_ROLE_MEMBER,
	ROUTE_ROLE_ADMIN
};

/* Whether a session caller must send X-CSRFToken (API tokens never). */
enum route_csrf {
	ROUTE_CSRF_UNSET,
	ROUTE_CSRF_EXEMPT,
	ROUTE_CSRF_REQUIRED
};

struct req;

/* One endpoint: matching, requirements, and the code that answers. */
struct route {
	enum route_id	 id;
	const char	*method;
	const char	*allow;		/* the Allow header of a 405 */
	const char	*pattern;	/* after "/api/v1/"; "*": the job id */
	enum route_auth	 auth;
	enum route_role	 role;
	enum route_csrf	 csrf;
	/* Runs after the checks above: 0 to go on, -1 once it answered. */
	int		(*gate)(struct req *);
	void		(*handler)(struct req *);	/* answers once */
};

/* The route table, n rows; for the unit tests. */
const struct route *router_routes(size_t *n);

enum route_result {
	ROUTE_OK,		/* m->id names the handler */
	ROUTE_NOT_FOUND,	/* 404 */
	ROUTE_ADD_SLASH,	/* path + "/" would match: redirect there */
	ROUTE_BAD_METHOD	/* 405; m->allow lists the methods */
};

#define ROUTE_ROW_MAX	24

struct route_match {
	enum route_id	 id;
	const struct route *rt;		/* NULL for ROUTE_NOT_FOUND */
	const char	*name;		/* route_names[id]; NULL unmatched */
	/*
	 * The {id} path segment, lower-cased, when it is a canonical UUID;
	 * job_id_ok is 0 otherwise.  DRF routes any segment without '/'
	 * or '.' to the view, whose lookup then answers 404 after the
	 * authentication check: the handler does the same.
	 */
	char		 job_id[37];
	int		 job_id_ok;
	/*
	 * The "*" segment as sent, whatever it is ("" if too long): a
	 * claim number for claims/{claim_number}/history/.  Patient data:
	 * never logged.
	 */
	char		 seg[64];
	/* The {row} segment as sent ("" if too long); the handler checks. */
	char		 row[ROUTE_ROW_MAX];
	int		 head;		/* HEAD: a GET without a body */
	const char	*allow;		/* the Allow header for this path */
};

/*
 * Matches method and the decoded path (no query string) against the
 * routes.  Paths end in '/', as DRF's routers make them; a path that
 * matches only with a slash appended gives ROUTE_ADD_SLASH (Django's
 * APPEND_SLASH).  HEAD is accepted where GET is.  Fills m (always, m->id
 * names the route even for ROUTE_BAD_METHOD).
 */
enum route_result router_match(const char *method, const char *path,
	    struct route_match *m);

#endif
