/*
 * Job-end notifications (see notify.h).  The email is plain text with a
 * fixed set of facts; the webhook is a small JSON object signed with
 * HMAC-SHA256 (libsodium) so the receiver can tell it came from us.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <sodium.h>

#include "notify.h"
#include "util.h"

/* An email or webhook body never needs more. */
#define NOTIFY_MAX_MSG	4096

/* A bare address we are willing to put into a header. */
static int
addr_ok(const char *a)
{
	size_t n;

	if (a == NULL || (n = strlen(a)) < 3 || n > 254 ||
	    strchr(a, '@') == NULL)
		return 0;
	return strpbrk(a, "\r\n<>,;\" ") == NULL;
}

char *
notify_email_build(const struct notify_job *j, const char *from,
    const char *to, struct errbuf *err)
{
	char date[64], msgid[40], *buf;
	struct tm tm;
	time_t t;
	int n;

	if (!addr_ok(from) || !addr_ok(to)) {
		errbuf_set(err, "notify: sender or recipient address unfit");
		return NULL;
	}
	t = (time_t)j->finished_at;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000",
	    &tm) == 0)
		snprintf(date, sizeof(date), "Thu, 01 Jan 1970 00:00:00 +0000");
	util_uuid4(msgid);
	if ((buf = malloc(NOTIFY_MAX_MSG)) == NULL) {
		errbuf_set(err, "out of memory");
		return NULL;
	}
	n = snprintf(buf, NOTIFY_MAX_MSG,
	    "Date: %s\r\n"
	    "From: <%s>\r\n"
	    "To: <%s>\r\n"
	    "Message-ID: <%s@bulkclaims>\r\n"
	    "Subject: Claim status job %s: %s\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "\r\n"
	    "Your claim status job %s has finished: %s.\r\n"
	    "\r\n"
	    "Rows:       %ld\r\n"
	    "Processed:  %ld\r\n"
	    "Succeeded:  %ld\r\n"
	    "Failed:     %ld\r\n"
	    "%s%s%s"
	    "\r\n"
	    "-- \r\nbulkclaims\r\n",
	    date, from, to, msgid, j->job_id, j->status, j->job_id,
	    j->status, j->total_rows, j->processed_rows, j->success_count,
	    j->failure_count, j->link ? "\r\nDetails and results: " : "",
	    j->link ? j->link : "", j->link ? "\r\n" : "");
	if (n < 0 || n >= NOTIFY_MAX_MSG) {
		free(buf);
		errbuf_set(err, "notify: message too long");
		return NULL;
	}
	return buf;
}

struct upload {
	const char	*p;
	size_t		 left;
};

static size_t
read_cb(char *out, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb;

	if (n > u->left)
		n = u->left;
	memcpy(out, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

static size_t
discard_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

int
notify_email_send(const char *url, const char *from, const char *to,
    const char *msg, int require_tls, long timeout_ms, struct errbuf *err)
{
	struct curl_slist *rcpt = NULL;
	struct upload u;
	char addr[300];
	CURLcode cc;
	CURL *c;

	if (!addr_ok(from) || !addr_ok(to))
		return errbuf_set(err, "notify: address unfit");
	if ((c = curl_easy_init()) == NULL)
		return errbuf_set(err, "notify: curl_easy_init failed");
	snprintf(addr, sizeof(addr), "<%s>", to);
	rcpt = curl_slist_append(NULL, addr);
	snprintf(addr, sizeof(addr), "<%s>", from);
	u.p = msg;
	u.left = strlen(msg);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, addr);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/*
	 * Job ids and counts are no patient data, but a mail in the clear
	 * can be read or altered on the way: STARTTLS is required unless
	 * the configuration says the relay is local (smtps:// always is
	 * TLS).
	 */
	curl_easy_setopt(c, CURLOPT_USE_SSL, require_tls ?
	    (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
	cc = curl_easy_perform(c);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK)
		return errbuf_set(err, "notify: smtp: %s",
		    curl_easy_strerror(cc));
	return 0;
}

char *
notify_webhook_body(const struct notify_job *j)
{
	json_object *o;
	char *s;

	o = json_object_new_object();
	json_object_object_add(o, "event",
	    json_object_new_string("job.finished"));
	json_object_object_add(o, "job_id", json_object_new_string(j->job_id));
	json_object_object_add(o, "status", json_object_new_string(j->status));
	json_object_object_add(o, "total_rows",
	    json_object_new_int64(j->total_rows));
	json_object_object_add(o, "processed_rows",
	    json_object_new_int64(j->processed_rows));
	json_object_object_add(o, "success_count",
	    json_object_new_int64(j->success_count));
	json_object_object_add(o, "failure_count",
	    json_object_new_int64(j->failure_count));
	json_object_object_add(o, "url", j->link ?
	    json_object_new_string(j->link) : NULL);
	json_object_object_add(o, "finished_at",
	    json_object_new_int64((long long)j->finished_at));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

void
notify_hmac_hex(const char *secret, const char *body, size_t len,
    char out[65])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
	    strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out, 65, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

/* The host part of an http:// URL is the local host. */
static int
loopback_http(const char *url)
{
	static const char *const hosts[] = { "127.", "localhost:",
	    "localhost/", "[::1]:", "[::1]/" };
	const char *h;
	size_t i, n;

	if (strncasecmp(url, "http://", 7) != 0)
		return 0;
	h = url + 7;
	if (strcmp(h, "localhost") == 0 || strcmp(h, "[::1]") == 0)
		return 1;
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (strncasecmp(h, hosts[i], strlen(hosts[i])) == 0)
			break;
	if (i == sizeof(hosts) / sizeof(hosts[0]))
		return 0;
	if (i > 0)
		return 1;
	/* 127.a.b.c, then the end of the host. */
	n = strspn(h, "0123456789.");
	return h[n] == '\0' || h[n] == ':' || h[n] == '/';
}

int
notify_webhook_url_ok(const char *url)
{
	if (url == NULL || strlen(url) > 2048 ||
	    strpbrk(url, " \t\r\n") != NULL)
		return 0;
	if (strncasecmp(url, "https://", 8) == 0)
		return url[8] != '\0' && url[8] != '/';
	return loopback_http(url);
}

void
notify_webhook_signature(const char *secret, long long t, const char *body,
    size_t len, char out[NOTIFY_SIG_MAX])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	char ts[24], hex[65];
	int n;

	n = snprintf(ts, sizeof(ts), "%lld.", t);
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
	    strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts,
	    (unsigned long long)n);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
	snprintf(out, NOTIFY_SIG_MAX, "t=%lld,v1=%s", t, hex);
}

int
notify_webhook_send(const char *url, const char *secret, const char *body,
    long timeout_ms, struct errbuf *err)
{
	struct curl_slist *h = NULL;
	char sig[NOTIFY_SIG_MAX], line[160];
	long code = 0;
	CURLcode cc;
	CURL *c;

	if (!notify_webhook_url_ok(url))
		return errbuf_set(err, "notify: webhook URL refused (https "
		    "only, or http to the local host)");
	if ((c = curl_easy_init()) == NULL)
		return errbuf_set(err, "notify: curl_easy_init failed");
	notify_webhook_signature(secret, (long long)time(NULL), body,
	    strlen(body), sig);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "X-Bulkclaims-Event: job.finished");
	snprintf(line, sizeof(line), "X-Bulkclaims-Signature: %s", sig);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
	    strncasecmp(url, "https://", 8) == 0 ? "https" : "http");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK)
		return errbuf_set(err, "notify: webhook: %s",
		    curl_easy_strerror(cc));
	if (code < 200 || code > 299)
		return errbuf_set(err, "notify: webhook answered %ld", code);
	return 0;
}
