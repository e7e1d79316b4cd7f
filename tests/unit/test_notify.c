/*
 * Unit tests of lib/notify.c's pure parts: the email text (headers,
 * CRLF, no header injection through an address, only counts and a
 * link), the webhook body, and HMAC-SHA256 against RFC 4231.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "notify.h"
#include "tap.h"

static struct notify_job job = {
	"0b6f2f4e-93a1-4c3e-8f43-0f6d0b1b2c3d", "COMPLETED",
	2000, 2000, 1903, 97,
	"https://claims.example/api/v1/claims/csv-jobs/"
	    "0b6f2f4e-93a1-4c3e-8f43-0f6d0b1b2c3d/",
	1764331200.0
};

int
main(void)
{
	struct errbuf err;
	struct json_object *o, *v;
	char hex[65], sig[NOTIFY_SIG_MAX], sig2[NOTIFY_SIG_MAX];
	char *m, *b, *p;
	int bare_lf = 0;

	ok(sodium_init() >= 0, "sodium_init");
	m = notify_email_build(&job, "bulkclaims@example.org",
	    "biller@example.com", &err);
	ok(m != NULL, "email built");
	ok(m != NULL && strstr(m, "To: <biller@example.com>\r\n") != NULL,
	    "To header");
	ok(m != NULL && strstr(m, "Subject: Claim status job "
	    "0b6f2f4e-93a1-4c3e-8f43-0f6d0b1b2c3d: COMPLETED\r\n") != NULL,
	    "subject names the job and status");
	ok(m != NULL && strstr(m, "Succeeded:  1903\r\n") != NULL &&
	    strstr(m, "Failed:     97\r\n") != NULL, "counts in the body");
	ok(m != NULL && strstr(m, job.link) != NULL, "link in the body");
	ok(m != NULL && strstr(m, "Date: Fri, 28 Nov 2025 12:00:00 +0000") !=
	    NULL, "Date header from finished_at");
	for (p = m; p != NULL && *p != '\0'; p++)
		if (*p == '\n' && (p == m || p[-1] != '\r'))
			bare_lf++;
	ok(m != NULL && bare_lf == 0, "CRLF line ends only (%d bare LF)",
	    bare_lf);
	ok(m != NULL && strstr(m, "\r\n\r\n") != NULL, "header/body split");
	free(m);

	ok(notify_email_build(&job, "a@b.c", "x@y.z\r\nBcc: evil@example.com",
	    &err) == NULL, "CRLF in an address refused");
	ok(notify_email_build(&job, "a@b.c", "Evil <x@y.z>", &err) == NULL,
	    "display name / angle brackets refused");
	ok(notify_email_build(&job, "nobody", "x@y.z", &err) == NULL,
	    "address without @ refused");

	b = notify_webhook_body(&job);
	o = b ? json_tokener_parse(b) : NULL;
	ok(o != NULL, "webhook body is JSON");
	ok(json_object_object_get_ex(o, "job_id", &v) &&
	    strcmp(json_object_get_string(v), job.job_id) == 0, "job_id");
	ok(json_object_object_get_ex(o, "status", &v) &&
	    strcmp(json_object_get_string(v), "COMPLETED") == 0, "status");
	ok(json_object_object_get_ex(o, "failure_count", &v) &&
	    json_object_get_int64(v) == 97, "failure_count");
	ok(json_object_object_get_ex(o, "event", &v) &&
	    strcmp(json_object_get_string(v), "job.finished") == 0, "event");
	ok(json_object_object_length(o) == 9, "nothing else in the body (%d)",
	    o ? json_object_object_length(o) : -1);
	json_object_put(o);
	free(b);

	/* RFC 4231 test case 2. */
	notify_hmac_hex("Jefe", "what do ya want for nothing?", 28, hex);
	ok(strcmp(hex, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843") == 0,
	    "HMAC-SHA256 RFC 4231 #2");
	notify_hmac_hex("Jefe", "what do ya want for nothing!", 28, hex);
	ok(strcmp(hex, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843") != 0, "other body, other MAC");

	/* The signature covers "<t>.<body>": a replayed body needs its t. */
	notify_webhook_signature("Jefe", 1700000000LL,
	    "what do ya want for nothing?", 28, sig);
	ok(strcmp(sig, "t=1700000000,v1=1cdd0650c8be1cb0974b1788d458b1e7"
	    "81206cfef59b85faafc582d2e182c57e") == 0,
	    "signature is t=<unix>,v1=HMAC of \"t.body\" (%s)", sig);
	notify_webhook_signature("Jefe", 1700000001LL,
	    "what do ya want for nothing?", 28, sig2);
	ok(strcmp(strchr(sig, 'v'), strchr(sig2, 'v')) != 0,
	    "another time, another MAC");

	ok(notify_webhook_url_ok("https://hooks.example.org/x"), "https");
	ok(notify_webhook_url_ok("http://127.0.0.1:8090/hook"),
	    "http to 127/8");
	ok(notify_webhook_url_ok("http://localhost:8090/hook"),
	    "http to localhost");
	ok(notify_webhook_url_ok("http://[::1]:8090/"), "http to [::1]");
	ok(!notify_webhook_url_ok("http://hooks.example.org/x"),
	    "plain http elsewhere refused");
	ok(!notify_webhook_url_ok("http://127.0.0.1.evil.example/x"),
	    "127.0.0.1.<domain> is no loopback");
	ok(!notify_webhook_url_ok("http://localhost.evil.example/x"),
	    "localhost.<domain> is no loopback");
	ok(!notify_webhook_url_ok("ftp://127.0.0.1/x") &&
	    !notify_webhook_url_ok("https:///x") &&
	    !notify_webhook_url_ok(NULL), "other schemes and no host refused");
	return done_testing();
}
