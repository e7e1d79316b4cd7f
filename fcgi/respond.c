/*
 * Responses, in one place: the status line, the headers every answer
 * carries (Cache-Control: no-store, nosniff), JSON bodies and the error
 * shape {"error": {"code", "message", ...}} of the API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "log.h"

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

int
resp_headers(struct req *r, int status, const char *ctype, long long clen,
    const char *extra)
{
	char len[48];

	if (r->sent) {
		log_warnx("request headers sent twice status=%d", status);
		return -1;
	}
	r->sent = 1;
	r->status = status;
	len[0] = '\0';
	if (clen >= 0)
		snprintf(len, sizeof(len), "Content-Length: %lld\r\n", clen);
	FCGX_FPrintF(r->rq->out,
	    "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s%s\r\n",
	    status, status_text(status),
	    ctype ? ctype : "application/json", len, extra ? extra : "");
	return FCGX_GetError(r->rq->out) == 0 ? 0 : -1;
}

int
resp_write(struct req *r, const void *buf, size_t len)
{
	if (r->head || len == 0)
		return 0;
	/* FCGX_PutStr takes an int; our chunks are far below INT_MAX. */
	if (FCGX_PutStr(buf, (int)len, r->rq->out) != (int)len)
		return -1;
	r->bytes += (long long)len;
	return 0;
}

/*
 * A refusal in nginx's auth_request pass: auth_request understands only
 * 401 and 403, and the main request's body must not be read before it
 * is answered, so nginx answers it itself (error_page to a location that
 * returns $upstream_http_x_bulkclaims_error under the status in
 * X-Bulkclaims-Status).  401 stays 401, any other 4xx travels as 403.
 * body is one line of JSON (json-c escapes control characters).
 */
static void
auth_only_refusal(struct req *r, int status, const char *body,
    const char *extra)
{
	char *hdr;
	size_t n;

	n = strlen(body) + (extra ? strlen(extra) : 0) + 96;
	if ((hdr = malloc(n)) == NULL) {
		resp_headers(r, 403, NULL, 0, NULL);
		r->status = status;
		return;
	}
	snprintf(hdr, n, "X-Bulkclaims-Status: %d\r\n"
	    "X-Bulkclaims-Error: %s\r\n%s", status, body, extra ? extra : "");
	resp_headers(r, status == 401 ? 401 : 403, NULL, 0, hdr);
	/* The access log and the audit row keep the real answer. */
	r->status = status;
	free(hdr);
}

void
resp_json(struct req *r, int status, struct json_object *obj,
    const char *extra)
{
	const char *s;
	size_t len;

	s = json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL) {
		/* Out of memory while rendering: nothing sensible to send. */
		json_object_put(obj);
		s = "{\"error\":{\"code\":\"server_error\","
		    "\"message\":\"out of memory\"}}";
		status = 503;
		obj = NULL;
	}
	len = strlen(s);
	/* 5xx stays itself: nginx answers its own 503 page for those. */
	if (r->auth_only && status >= 400 && status < 500) {
		auth_only_refusal(r, status, s, extra);
		json_object_put(obj);
		return;
	}
	if (r->capture && r->captured == NULL)
		r->captured = strdup(s);
	if (resp_headers(r, status, NULL, (long long)len, extra) == 0)
		resp_write(r, s, len);
	json_object_put(obj);
}

void
resp_error(struct req *r, int status, const char *code, const char *msg,
    struct json_object *fields, const char *extra)
{
	struct json_object *root, *e;
	char hdr[512];

	e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	if (fields != NULL) {
		json_object_object_foreach(fields, k, v)
			json_object_object_add(e, k, json_object_get(v));
		json_object_put(fields);
	}
	root = json_object_new_object();
	json_object_object_add(root, "error", e);
	if (status == 401) {
		/* RFC 7235 3.1: a 401 names the scheme (DRF sends "Token"). */
		snprintf(hdr, sizeof(hdr), "WWW-Authenticate: Token\r\n%s",
		    extra ? extra : "");
		extra = hdr;
	}
	resp_json(r, status, root, extra);
}

void
resp_db_error(struct req *r, const struct errbuf *err)
{
	char line[sizeof(err->msg)];

	req_oneline(err ? err->msg : "unavailable", line, sizeof(line));
	log_warnx("request database error route=%s job=%s: %s",
	    r->route.name ? r->route.name : "none",
	    r->job_id[0] ? r->job_id : "-", line);
	resp_error(r, 503, "database_unavailable",
	    "The database is unavailable; try again later.", NULL, NULL);
}

void
resp_job_not_found(struct req *r)
{
	resp_error(r, 404, "not_found", "No job with this id.", NULL, NULL);
}

void
resp_field_error(struct req *r, int status, const char *code,
    const char *field, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "field", json_object_new_string(field));
	resp_error(r, status, code, msg, o, NULL);
}

int
resp_job_id(struct req *r)
{
	if (!r->route.job_id_ok) {
		resp_job_not_found(r);
		return -1;
	}
	snprintf(r->job_id, sizeof(r->job_id), "%s", r->route.job_id);
	return 0;
}

/* A Host value we are willing to echo into links. */
static int
host_ok(const char *h)
{
	if (h == NULL || *h == '\0' || strlen(h) > 255)
		return 0;
	for (; *h != '\0'; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		    (*h >= '0' && *h <= '9') || strchr(".-:[]_", *h)))
			return 0;
	return 1;
}

int
resp_base_url(struct req *r, const char *path, char *out, size_t outsz)
{
	const char *https, *scheme, *host, *port;
	char portpart[16];
	int n;

	if (r->app->public_url != NULL)
		n = snprintf(out, outsz, "%s%s", r->app->public_url, path);
	else {
		https = req_param(r, "HTTPS");
		scheme = (https != NULL && *https != '\0' &&
		    strcmp(https, "off") != 0) ? "https" : "http";
		/*
		 * Debian's fastcgi_params passes HTTP_HOST without the port
		 * (nginx's $host), so add SERVER_PORT unless it is the default.
		 */
		host = req_param(r, "HTTP_HOST");
		if (!host_ok(host))
			host = req_param(r, "SERVER_NAME");
		if (!host_ok(host))
			host = "localhost";
		port = req_param(r, "SERVER_PORT");
		portpart[0] = '\0';
		if (strchr(host, ':') == NULL && port != NULL &&
		    strlen(port) < 6 && strspn(port, "0123456789") ==
		    strlen(port) && *port != '\0' &&
		    !(strcmp(scheme, "https") == 0 &&
		    strcmp(port, "443") == 0) &&
		    !(strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0))
			snprintf(portpart, sizeof(portpart), ":%s", port);
		n = snprintf(out, outsz, "%s://%s%s%s", scheme, host,
		    portpart, path);
	}
	return (n < 0 || (size_t)n >= outsz) ? -1 : 0;
}
