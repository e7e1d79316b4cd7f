/*
 * Requests to the bulkclaims API with libcurl (easy interface: one
 * request at a time), and the mapping of its answers to exit codes.
 * Error messages name the HTTP status, the API's code and message and
 * where it points (line, row, column, field); they quote nothing else of
 * the answer, and never the token.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define HTTP_THROTTLE_MAX_S	60	/* waiting out nginx's rate limit */

struct sink {
	struct cli	*c;
	FILE		*file;		/* a 2xx body goes here, if set */
	struct cli_resp	*r;
	int		 decided, to_file, too_big;
};

int
http_init(struct cli *c)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c->curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "bulkclaims: cannot start libcurl\n");
		return CLI_EFAIL;
	}
	return CLI_OK;
}

void
http_free(struct cli *c)
{
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
	free(c->cacert);
	c->cacert = NULL;
	explicit_bzero(c->auth, sizeof(c->auth));
	curl_global_cleanup();
}

void
cli_resp_free(struct cli_resp *r)
{
	free(r->body);
	if (r->json != NULL)
		json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}

/* The body goes to the file only once the status says it is the data. */
static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	struct cli_resp *r = s->r;
	size_t len = size * n;
	char *nb;

	if (!s->decided) {
		long code = 0;

		curl_easy_getinfo(s->c->curl, CURLINFO_RESPONSE_CODE, &code);
		s->to_file = s->file != NULL && code / 100 == 2;
		s->decided = 1;
	}
	if (s->to_file)
		return fwrite(p, 1, len, s->file);
	if (len > CLI_BODY_MAX - r->len) {
		s->too_big = 1;
		return 0;
	}
	if ((nb = realloc(r->body, r->len + len + 1)) == NULL)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

/* Parses r's body as JSON if it is JSON; r->json stays NULL if not. */
static void
parse_body(struct cli_resp *r)
{
	struct json_tokener *tok;

	if (r->body == NULL || r->len == 0)
		return;
	if ((tok = json_tokener_new_ex(32)) == NULL)
		return;
	r->json = json_tokener_parse_ex(tok, r->body, (int)r->len);
	if (json_tokener_get_error(tok) != json_tokener_success &&
	    r->json != NULL) {
		json_object_put(r->json);
		r->json = NULL;
	}
	json_tokener_free(tok);
}

/* The error code of an API error answer, or NULL. */
static const char *
err_code(const struct cli_resp *r)
{
	struct json_object *e;

	if (r->json == NULL ||
	    !json_object_object_get_ex(r->json, "error", &e))
		return NULL;
	return json_str(e, "code");
}

static void
sleep_s(long s)
{
	struct timespec ts = { s, 0 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* One exchange; CLI_OK with r filled, or CLI_ENET/CLI_EFAIL printed. */
static int
once(struct cli *c, const char *method, const char *url, curl_mime *mime,
    FILE *sink, struct cli_resp *r, long *retry_after)
{
	struct curl_slist *h = NULL, *h2;
	struct sink s = { c, sink, r, 0, 0, 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_off_t ra = -1;
	CURLcode rc;
	CURL *e = c->curl;

	memset(r, 0, sizeof(*r));
	curl_easy_reset(e);
	if ((h = curl_slist_append(NULL, c->auth)) == NULL ||
	    (h2 = curl_slist_append(h, "Accept: application/json, "
	    "text/csv")) == NULL) {
		curl_slist_free_all(h);
		fprintf(stderr, "bulkclaims: out of memory\n");
		return CLI_EFAIL;
	}
	h = h2;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
	/* No total timeout (a 10 MiB upload on a slow line takes its
	 * time); a stalled transfer is ended instead. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 120L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "bulkclaims/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
	if (c->cacert != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cacert);
	if (mime != NULL)
		curl_easy_setopt(e, CURLOPT_MIMEPOST, mime);
	else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
	}
	rc = curl_easy_perform(e);
	curl_slist_free_all(h);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra);
	/* Clamp: curl 7.88 can return a negative value for a past date. */
	*retry_after = ra < 1 ? 1 : ra > 30 ? 30 : (long)ra;
	r->streamed = s.to_file;
	if (rc == CURLE_WRITE_ERROR && s.too_big) {
		fprintf(stderr, "bulkclaims: the answer is over %u bytes\n",
		    CLI_BODY_MAX);
		return CLI_EFAIL;
	}
	if (rc == CURLE_WRITE_ERROR && s.to_file) {
		fprintf(stderr, "bulkclaims: cannot write the download: %s\n",
		    strerror(errno));
		return CLI_EFAIL;
	}
	if (rc != CURLE_OK) {
		/* curl's text names the host, the port and the TLS problem. */
		fprintf(stderr, "bulkclaims: %s %s: %s\n", method, url,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
		return rc == CURLE_OUT_OF_MEMORY ? CLI_EFAIL : CLI_ENET;
	}
	parse_body(r);
	return CLI_OK;
}

int
http_do(struct cli *c, const char *method, const char *path,
    curl_mime *mime, FILE *sink, struct cli_resp *r)
{
	char url[2048];
	long ra, waited = 0;
	const char *code;
	int rv;

	memset(r, 0, sizeof(*r));
	if ((size_t)snprintf(url, sizeof(url), "%s%s", c->base, path) >=
	    sizeof(url)) {
		fprintf(stderr, "bulkclaims: URL too long\n");
		return CLI_EFAIL;
	}
	for (;;) {
		if ((rv = once(c, method, url, mime, sink, r, &ra)) != CLI_OK)
			return rv;
		/* nginx's rate limit refused the request before the app saw
		 * it: sending it again is safe, even an upload. */
		code = err_code(r);
		if (r->status != 429 || code == NULL ||
		    strcmp(code, "throttled") != 0 ||
		    waited + ra > HTTP_THROTTLE_MAX_S)
			return CLI_OK;
		cli_resp_free(r);
		sleep_s(ra);
		waited += ra;
	}
}

/* Appends ", key N" or ", key V" for the keys that say where. */
static void
where(struct json_object *e, char *out, size_t outsz)
{
	static const char *const keys[] = { "line", "row", "column", "field",
	    "job_id", "status", NULL };
	struct json_object *v;
	size_t len;
	int i;

	for (i = 0; keys[i] != NULL; i++) {
		if (!json_object_object_get_ex(e, keys[i], &v) || v == NULL)
			continue;
		len = strlen(out);
		snprintf(out + len, outsz - len, ", %s %s", keys[i],
		    json_object_get_string(v));
	}
}

int
http_check(const struct cli_resp *r, const char *what)
{
	struct json_object *e = NULL;
	const char *code = NULL, *msg = NULL;
	char extra[512] = "";
	int rv;

	if (r->status / 100 == 2)
		return CLI_OK;
	switch (r->status) {
	case 400: case 413: case 415: case 422:
		rv = CLI_EINPUT;
		break;
	case 401: case 403:
		rv = CLI_EAUTH;
		break;
	case 404: case 410:
		rv = CLI_ENOTFOUND;
		break;
	case 409:
		rv = CLI_ECONFLICT;
		break;
	default:
		rv = CLI_EFAIL;
		break;
	}
	if (r->json != NULL &&
	    json_object_object_get_ex(r->json, "error", &e) && e != NULL) {
		code = json_str(e, "code");
		msg = json_str(e, "message");
		where(e, extra, sizeof(extra));
	}
	if (msg != NULL)
		fprintf(stderr, "bulkclaims: %s: %s (HTTP %ld %s%s)\n", what,
		    msg, r->status, code != NULL ? code : "", extra);
	else
		fprintf(stderr, "bulkclaims: %s: HTTP %ld from the server\n",
		    what, r->status);
	return rv;
}

const char *
json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

long long
json_int(struct json_object *o, const char *key, long long def)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		return def;
	return (long long)json_object_get_int64(v);
}

double
json_num(struct json_object *o, const char *key, double def)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		return def;
	return json_object_get_double(v);
}
