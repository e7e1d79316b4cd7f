/*
 * Browser sessions, CSRF, the audit log and the admin endpoints of
 * bulkclaims-fcgi (session.c, audit.c, admin.c).  Internal to fcgi/.
 */
#ifndef FCGI_SECURITY_H
#define FCGI_SECURITY_H

#include "app.h"

/* session.c */

/*
 * Reads process-wide session settings and prepares the password-check
 * semaphore.  Call once at start-up, before the request threads run.
 */
void	 session_init(void);

/*
 * Authenticates the request by its bc_session cookie: the session must
 * exist, not be idle longer than session.idle_timeout_s nor older than
 * session.max_lifetime_s, and its user must be active.  A state-changing
 * method (anything but GET, HEAD, OPTIONS) must carry X-CSRFToken equal
 * to the session's token.  Fills r->user_id, r->org_id, r->role and sets
 * r->via_session.  Returns 0, or -1 after answering (401 no or expired
 * session, 403 csrf_failed, 503).
 */
int	 session_auth(struct req *r);

/* POST auth/login/: {username, password} -> session (see session.c). */
void	 session_login(struct req *r);

/* POST auth/logout/: ends the cookie's session; 204. */
void	 session_logout(struct req *r);

/* GET auth/me/: the caller's user, organisation and CSRF token. */
void	 session_me(struct req *r);

/* audit.c */

/*
 * Appends an audit entry for the request's caller (r->user_id and
 * r->org_id, 0 = unknown) from REMOTE_ADDR: action, job_id (NULL or
 * ""), outcome, detail (NULL or a non-PHI remark).  A failure is logged,
 * never answered: the request has been handled already.
 */
void	 audit_write(struct req *r, const char *action, const char *job_id,
	    const char *outcome, const char *detail);

/*
 * Called once a request has been answered: audits the job actions
 * (upload, view job, view rows, download results, retry, purge) by
 * route, with the HTTP status as the outcome.  Unauthenticated requests
 * are not audited here.
 */
void	 audit_request(struct req *r);

/* quota.c */

/*
 * Before an upload: answers 429 and returns -1 when the caller's
 * organisation has limits.org_running_jobs jobs waiting or running, or
 * has uploaded limits.org_rows_per_day rows in the last 24 hours (or 503
 * on a database error); returns 0 to go on.
 */
int	 quota_check(struct req *r);

/* admin.c */

/* GET audit/: the organisation's audit entries, newest first (admins). */
void	 audit_list(struct req *r);

/* POST claims/csv-jobs/{id}/purge/: deletes the job's rows (admins). */
void	 admin_purge(struct req *r);

/*
 * Before a handler that reads a job's rows or results: answers 410
 * purged and returns -1 if the caller's job r->route.job_id has been
 * purged; returns 0 otherwise (the handler answers 404 for a job that
 * is not the caller's).
 */
int	 purge_gate(struct req *r);

#endif
