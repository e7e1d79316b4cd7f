/*
 * From a FastCGI request to its handler: the path, the route table's
 * requirements (authentication, role, CSRF token, gate) checked in the
 * order DRF checks them, the handler, then the audit row and the
 * access log line.  Also nginx's auth_request pre-check, which runs the
 * same checks without the handler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "auth.h"
#include "dispatch.h"
#include "handlers.h"
#include "log.h"
#include "query.h"
#include "util.h"

/* RFC 3986 unreserved characters and '/': safe in a Location header. */
#define URL_SAFE	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"0123456789-._~/"

/*
 * The path to route: REQUEST_URI without its query (what Django's
 * path_info is built from), percent-decoded; DOCUMENT_URI or
 * SCRIPT_NAME + PATH_INFO when a server does not send it.
 */
static int
route_path(struct req *r)
{
	const char *uri, *sn, *pi;
	char tmp[FCGI_MAX_PATH];
	size_t n;

	if ((uri = req_param(r, "REQUEST_URI")) != NULL && *uri != '\0') {
		n = strcspn(uri, "?#");
		return query_unescape(uri, n, 0, r->path, sizeof(r->path)) < 0 ?
		    -1 : 0;
	}
	if ((uri = req_param(r, "DOCUMENT_URI")) != NULL && *uri != '\0')
		return snprintf(r->path, sizeof(r->path), "%s", uri) <
		    (int)sizeof(r->path) ? 0 : -1;
	sn = req_param(r, "SCRIPT_NAME");
	pi = req_param(r, "PATH_INFO");
	if (snprintf(tmp, sizeof(tmp), "%s%s", sn ? sn : "", pi ? pi : "") >=
	    (int)sizeof(tmp))
		return -1;
	return snprintf(r->path, sizeof(r->path), "%s", tmp) <
	    (int)sizeof(r->path) ? 0 : -1;
}

/* Django's APPEND_SLASH redirect (308 for methods with a body). */
static void
redirect_slash(struct req *r)
{
	char hdr[FCGI_MAX_PATH + QUERY_MAX_BYTES + 32];
	int status = (strcmp(r->method, "GET") == 0 ||
	    strcmp(r->method, "HEAD") == 0) ? 301 : 308;

	/*
	 * The id segment of a matching path is client text ("%0d%0a"
	 * decodes to CRLF): only plain URL characters go into a header.
	 */
	if (strlen(r->query) > QUERY_MAX_BYTES ||
	    strspn(r->path, URL_SAFE) != strlen(r->path) ||
	    strspn(r->query, URL_SAFE "?&=%+;,:@!$'()*") !=
	    strlen(r->query)) {
		resp_error(r, 404, "not_found", "Not found.", NULL, NULL);
		return;
	}
	snprintf(hdr, sizeof(hdr), "Location: %s/%s%s\r\n", r->path,
	    *r->query ? "?" : "", r->query);
	resp_error(r, status, "moved",
	    "This endpoint's URL ends in a slash.", NULL, hdr);
}

/* 1 for methods that change nothing (RFC 9110 §9.2.1 safe methods). */
static int
safe_method(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
	    strcmp(m, "OPTIONS") == 0;
}

/* users.role as a route_role; the schema allows no other values. */
static enum route_role
role_of(const char *role)
{
	if (strcmp(role, "admin") == 0)
		return ROUTE_ROLE_ADMIN;
	if (strcmp(role, "viewer") == 0)
		return ROUTE_ROLE_VIEWER;
	return ROUTE_ROLE_MEMBER;
}

static int
forbidden(struct req *r)
{
	resp_error(r, 403, "forbidden",
	    "You do not have permission to perform this action.", NULL, NULL);
	return -1;
}

/*
 * The route's requirements of the caller, before its gate and handler:
 * authentication (and the session's CSRF token), then the role.  A
 * viewer is refused a write at once; a member short of admin is refused
 * after a malformed job id has been answered 404 (the object lookup of
 * an admin action comes first, as in DRF).  Returns 0 to go on, or -1
 * once answered.
 */
static int
dispatch_require(struct req *r, const struct route *rt)
{
	enum route_role have;

	if (rt->auth == ROUTE_AUTH_NONE)
		return 0;
	if (rt->auth != ROUTE_AUTH_TOKEN_OR_SESSION ||
	    rt->role == ROUTE_ROLE_UNSET || rt->csrf == ROUTE_CSRF_UNSET) {
		/* Fail closed: a route row without its requirements. */
		log_warnx("route %s has no requirements", r->route.name);
		resp_error(r, 503, "server_error",
		    "This endpoint is not configured.", NULL, NULL);
		return -1;
	}
	if (auth_check(r, rt->csrf == ROUTE_CSRF_REQUIRED) == -1)
		return -1;
	have = role_of(r->role);
	if (have >= rt->role)
		return 0;
	if (have < ROUTE_ROLE_MEMBER && rt->role >= ROUTE_ROLE_MEMBER)
		return forbidden(r);
	if (strchr(rt->pattern, '*') != NULL && resp_job_id(r) == -1)
		return -1;
	return forbidden(r);
}

/*
 * nginx auth_request mode (the FastCGI param BULKCLAIMS_AUTH_ONLY is set):
 * nginx asks before it reads a 10 MB upload body whether the caller may
 * send it, and answers a refusal itself from our headers, the body
 * unread (respond.c).  The checks are the full request's, in its order:
 * a method the path does not route is authenticated first, then 405;
 * only a request that would reach its handler gets 204 and its body
 * read.  $request_method and $request_uri are the main request's.
 */
static void
dispatch_auth_only(struct req *r)
{
	char allow[64];

	r->auth_only = 1;
	if (route_path(r) == -1) {
		resp_error(r, 404, "not_found", "Not found.", NULL, NULL);
		return;
	}
	switch (router_match(r->method, r->path, &r->route)) {
	case ROUTE_OK:
		break;
	case ROUTE_BAD_METHOD:
		if (auth_check(r, !safe_method(r->method)) == -1)
			return;
		snprintf(allow, sizeof(allow), "Allow: %s\r\n",
		    r->route.allow);
		resp_error(r, 405, "method_not_allowed",
		    "Method not allowed.", NULL, allow);
		return;
	default:
		resp_error(r, 404, "not_found", "Not found.", NULL, NULL);
		return;
	}
	if (dispatch_require(r, r->route.rt) == -1)
		return;
	resp_headers(r, 204, NULL, -1, NULL);
}

static void
dispatch(struct req *r)
{
	const struct route *rt;
	enum route_result rr;
	char allow[64];
	const char *ao;

	if ((ao = req_param(r, "BULKCLAIMS_AUTH_ONLY")) != NULL &&
	    *ao != '\0' && strcmp(ao, "0") != 0) {
		dispatch_auth_only(r);
		return;
	}
	if (route_path(r) == -1) {
		snprintf(r->path, sizeof(r->path), "(unreadable)");
		resp_error(r, 404, "not_found", "Not found.", NULL, NULL);
		return;
	}
	if (health_dispatch(r))
		return;
	rr = router_match(r->method, r->path, &r->route);
	r->head = r->route.head;
	switch (rr) {
	case ROUTE_NOT_FOUND:
		resp_error(r, 404, "not_found", "Not found.", NULL, NULL);
		return;
	case ROUTE_ADD_SLASH:
		redirect_slash(r);
		return;
	case ROUTE_BAD_METHOD:
		/*
		 * DRF authenticates before it looks at the method; the
		 * CSRF check follows the method sent, not the route's.
		 */
		if (auth_check(r, !safe_method(r->method)) == -1)
			return;
		snprintf(allow, sizeof(allow), "Allow: %s\r\n", r->route.allow);
		resp_error(r, 405, "method_not_allowed",
		    "Method not allowed.", NULL, allow);
		return;
	case ROUTE_OK:
		break;
	}
	rt = r->route.rt;
	if (dispatch_require(r, rt) == -1)
		return;
	if (rt->gate != NULL && rt->gate(r) == -1)
		return;
	rt->handler(r);
}

/* Query keys only: values (a search term, a name) could be patient data. */
static void
log_keys(const char *qs, char *out, size_t outsz)
{
	struct query q;
	size_t i, o = 0, n;

	out[0] = '\0';
	if (qs == NULL || *qs == '\0')
		return;
	if (query_parse(qs, &q) == -1) {
		snprintf(out, outsz, "(malformed)");
		return;
	}
	for (i = 0; i < q.n; i++) {
		n = strlen(q.p[i].key);
		if (o + n + 2 >= outsz)
			break;
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, q.p[i].key, n);
		o += n;
		out[o] = '\0';
	}
	/* Keys are client text too: keep the log line one line. */
	for (i = 0; i < o; i++)
		if ((unsigned char)out[i] < 0x21 || out[i] == 0x7f)
			out[i] = '?';
}

/*
 * The path for the log: a claim number in it (claims/{claim_number}/
 * history/, also mistyped or unmatched) is patient data, so any
 * segment after claims/ other than the fixed ones is written "-".
 */
static void
log_path(const char *p, char *out, size_t outsz)
{
	static const char claims[] = "/api/v1/claims/";
	const char *rest = p;
	size_t n, o = 0;

	if (strncmp(p, claims, sizeof(claims) - 1) == 0) {
		rest = p + sizeof(claims) - 1;
		n = strcspn(rest, "/");
		if (!(n == 8 && strncmp(rest, "csv-jobs", 8) == 0) &&
		    !(n == 4 && strncmp(rest, "bulk", 4) == 0) && n > 0) {
			/* outsz is far more than the prefix and "-". */
			memcpy(out, claims, sizeof(claims) - 1);
			o = sizeof(claims) - 1;
			out[o++] = '-';
			rest += n;
		} else
			rest = p;
	}
	n = strlen(rest);
	if (n > outsz - o - 1)
		n = outsz - o - 1;
	memcpy(out + o, rest, n);
	out[o + n] = '\0';
}

static void
access_log(const struct req *r, long long ms)
{
	char path[128], keys[128], user[24], rows[24];
	size_t i;

	log_path(r->path, path, sizeof(path));
	for (i = 0; path[i] != '\0'; i++)
		if ((unsigned char)path[i] < 0x21 || path[i] == 0x7f)
			path[i] = '?';
	log_keys(r->query, keys, sizeof(keys));
	snprintf(user, sizeof(user), "%lld", r->user_id);
	snprintf(rows, sizeof(rows), "%ld", r->rows);
	log_info("access method=%.8s path=%s query=%s status=%d ms=%lld "
	    "user=%s job=%s rows=%s bytes=%lld", r->method, path,
	    keys[0] ? keys : "-", r->status, ms, r->user_id ? user : "-",
	    r->job_id[0] ? r->job_id : "-", r->rows >= 0 ? rows : "-",
	    r->bytes);
}

void
dispatch_request(struct worker *w, FCGX_Request *rq)
{
	struct req *r;
	long long t0 = util_mono_ms();

	/* A request holds a path of a few KiB: keep it off the stack. */
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		FCGX_FPrintF(rq->out, "Status: 503 Service Unavailable\r\n"
		    "Content-Type: application/json\r\n\r\n"
		    "{\"error\":{\"code\":\"server_error\","
		    "\"message\":\"out of memory\"}}");
		return;
	}
	r->rq = rq;
	r->w = w;
	r->app = w->app;
	r->rows = -1;
	r->method = req_param(r, "REQUEST_METHOD");
	if (r->method == NULL)
		r->method = "GET";
	r->query = req_param(r, "QUERY_STRING");
	if (r->query == NULL)
		r->query = "";
	dispatch(r);
	if (!r->sent)
		resp_error(r, 503, "server_error", "No response was produced.",
		    NULL, NULL);
	audit_request(r);
	access_log(r, util_mono_ms() - t0);
	free(r->captured);
	free(r);
}

