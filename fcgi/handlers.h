/*
 * The endpoints of bulkclaims-fcgi as the route table names them: the
 * handlers, each answering exactly once, and the gates that may answer
 * instead before a handler runs.  The dispatcher has authenticated the
 * caller and checked its role and CSRF token when these run.
 */
#ifndef FCGI_HANDLERS_H
#define FCGI_HANDLERS_H

struct req;

/* upload.c: POST claims/bulk/upload/ */
void	 upload_handle(struct req *r);

/* jobs.c: GET claims/csv-jobs/, {id}/, {id}/progress/; POST {id}/retry/ */
void	 jobs_list(struct req *r);
void	 jobs_detail(struct req *r);
void	 jobs_progress(struct req *r);
void	 jobs_retry(struct req *r);

/* download.c: GET claims/csv-jobs/{id}/results/ */
void	 download_results(struct req *r);

/* cancel.c: POST claims/csv-jobs/{id}/cancel/ */
void	 cancel_handle(struct req *r);

/* validate.c: POST claims/bulk/validate/ (no job is created). */
void	 validate_handle(struct req *r);

/* validate.c: GET claims/bulk/template/ (csvin_template). */
void	 template_handle(struct req *r);

/* rows.c: GET claims/csv-jobs/{id}/rows/ (paginated JSON). */
void	 rows_list(struct req *r);
/*
 * rows.c: GET claims/csv-jobs/{id}/rows/{row}/: one row as in the list,
 * with its service lines and payments (404 for another organisation's
 * job or a row the job does not have).
 */
void	 rows_detail(struct req *r);

/*
 * history.c: GET claims/{claim_number}/history/: the caller's
 * organisation's ledger entries of one claim, newest first (paginated;
 * 404 if it never checked the claim).
 */
void	 history_claim(struct req *r);

/* deadlines.c: GET, POST deadline-rules/ and DELETE deadline-rules/{id}/ */
void	 deadline_rules_list(struct req *r);
void	 deadline_rules_set(struct req *r);
void	 deadline_rules_delete(struct req *r);

/* session.c: POST auth/login/: {username, password} -> session. */
void	 session_login(struct req *r);

/* session.c: POST auth/logout/: ends the cookie's session; 204. */
void	 session_logout(struct req *r);

/* session.c: GET auth/me/: the caller's user, organisation, CSRF token. */
void	 session_me(struct req *r);

/* admin.c: GET audit/: the organisation's audit entries, newest first. */
void	 audit_list(struct req *r);

/* admin.c: POST claims/csv-jobs/{id}/purge/: deletes the job's rows. */
void	 admin_purge(struct req *r);

/*
 * health.c: answers GET /api/v1/health/ and GET /metrics (no
 * authentication, outside the route table) and returns 1; 0 for any
 * other path.
 */
int	 health_dispatch(struct req *r);

/* Gates. */

/*
 * quota.c: before an upload: answers 429 and returns -1 when the
 * caller's organisation has limits.org_running_jobs jobs waiting or
 * running, or has uploaded limits.org_rows_per_day rows in the last 24
 * hours (or 503 on a database error); returns 0 to go on.
 */
int	 quota_check(struct req *r);

/*
 * admin.c: before a handler that reads a job's rows or results: answers
 * 410 purged and returns -1 if the caller's job r->route.job_id has been
 * purged; returns 0 otherwise (the handler answers 404 for a job that
 * is not the caller's).
 */
int	 purge_gate(struct req *r);

#endif
