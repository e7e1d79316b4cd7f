/*
 * The audit log of bulkclaims-fcgi (audit.c): one row per audited
 * action, in the database.
 */
#ifndef FCGI_AUDIT_H
#define FCGI_AUDIT_H

struct req;

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

#endif
