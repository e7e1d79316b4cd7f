/*
 * Who is calling: DRF's API tokens (auth.c) and the browser's session
 * cookie (session.c).  Both fill r->user_id, r->org_id and r->role.
 */
#ifndef FCGI_AUTH_H
#define FCGI_AUTH_H

struct req;

/*
 * auth.c: authenticates "Authorization: Token <key>", or without that
 * header the session cookie (session_auth, with csrf).  Returns 0, or
 * -1 after answering 401 (403 csrf_failed, or 503).
 */
int	 auth_check(struct req *r, int csrf);

/*
 * session.c: reads process-wide session settings and prepares the
 * password-check semaphore.  Call once at start-up, before the request
 * threads run.
 */
void	 session_init(void);

/*
 * session.c: authenticates the request by its __Host-bc_session cookie: the
 * session must exist, not be idle longer than session.idle_timeout_s
 * nor older than session.max_lifetime_s, and its user must be active.
 * With csrf set the request must carry X-CSRFToken equal to the
 * session's token.  Fills r->user_id, r->org_id, r->role and sets
 * r->via_session.  Returns 0, or -1 after answering (401 no or expired
 * session, 403 csrf_failed, 503).
 */
int	 session_auth(struct req *r, int csrf);

#endif
