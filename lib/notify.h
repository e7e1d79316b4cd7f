/*
 * Job-end notifications: an email to the uploading user and a
 * signed webhook to the organisation.  Neither carries patient data:
 * the job id, its status, row counts and a link, nothing from the rows
 * (not even the file name, which users sometimes name after a patient).
 *
 * The builders are pure (unit tests call them); the senders use libcurl
 * (SMTP, HTTP POST) with timeouts and return errors, never log.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stddef.h>

#include "errbuf.h"

/* What a notification says about a job; strings borrowed. */
struct notify_job {
	const char	*job_id;	/* UUID */
	const char	*status;	/* COMPLETED, FAILED, CANCELLED */
	long		 total_rows, processed_rows, success_count,
			 failure_count;
	const char	*link;		/* URL of the job, or NULL */
	double		 finished_at;	/* epoch seconds */
};

/*
 * Builds the RFC 5322 email (headers, blank line, plain-text body, CRLF
 * line ends) from from to to.  from and to must be bare addresses
 * without CR, LF, '<' or '>'.  Returns a malloc'd string, or NULL with
 * err if an address is unfit.
 */
char	*notify_email_build(const struct notify_job *j, const char *from,
	    const char *to, struct errbuf *err);

/*
 * Sends msg over SMTP (url "smtp://host:port" or "smtps://..."), from
 * and to as envelope addresses, within timeout_ms.  require_tls: 1 to
 * fail unless the link is encrypted (smtps://, or STARTTLS that the
 * server must offer), 0 to send in the clear when it offers none (a
 * local relay).  Returns 0, or -1 with err (no message content in it).
 */
int	notify_email_send(const char *url, const char *from, const char *to,
	    const char *msg, int require_tls, long timeout_ms,
	    struct errbuf *err);

/*
 * 1 if url is a webhook URL we send to: https://, or http:// to the
 * local host only (127.0.0.0/8, [::1], localhost), where no network
 * lies between us and the receiver.
 */
int	notify_webhook_url_ok(const char *url);

/* The webhook's JSON body (malloc'd), or NULL when out of memory. */
char	*notify_webhook_body(const struct notify_job *j);

/*
 * HMAC-SHA256 of body under secret, as 64 lower-case hex characters
 * plus NUL in out.
 */
void	notify_hmac_hex(const char *secret, const char *body, size_t len,
	    char out[65]);

/* "t=<unix>,v1=<hex>": its size with NUL. */
#define NOTIFY_SIG_MAX	96

/*
 * The webhook signature header's value for body sent at unix time t:
 * "t=<t>,v1=<hex HMAC-SHA256 under secret of "<t>.<body>">".  The
 * receiver recomputes it over the raw body and refuses a t outside its
 * replay window (docs/operations.md).
 */
void	notify_webhook_signature(const char *secret, long long t,
	    const char *body, size_t len, char out[NOTIFY_SIG_MAX]);

/*
 * POSTs body to url (notify_webhook_url_ok, else -1) as
 * application/json with the headers X-Bulkclaims-Event: job.finished
 * and X-Bulkclaims-Signature (notify_webhook_signature, now); no
 * redirects are followed.  Returns 0 on a 2xx answer, -1 with err.
 */
int	notify_webhook_send(const char *url, const char *secret,
	    const char *body, long timeout_ms, struct errbuf *err);

#endif
