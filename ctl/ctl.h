/*
 * bulkclaimsctl: shared declarations of the admin command's modules.
 */
#ifndef CTL_H
#define CTL_H

#include <libpq-fe.h>

#include "errbuf.h"

struct ctl_opts {
	const char	*name, *tin, *npi, *username, *role, *email;
	const char	*password_file, *provider, *transaction, *base_url;
	const char	*api_path, *token_path, *payer_id, *client_id;
	const char	*client_secret_file, *token_file, *payer_url;
	const char	*new_key_file, *job, *prefix;
	const char	*action, *kind, *from, *note;
	const char	*url, *secret_file;
	long		 expires_days, days;
};

/* Prints "usage: bulkclaimsctl what" and exits 2. */
void	 ctl_usage_of(const char *what) __attribute__((noreturn));

/* Runs sql with text parameters; exits (fatalx) on an error. */
PGresult *ctl_q(PGconn *db, const char *sql, int n, const char *const *p);

/* ctl_q that also exits with msg unless exactly one row came back. */
PGresult *ctl_q1(PGconn *db, const char *sql, int n, const char *const *p,
	    const char *msg);

/* 1 if role is one that users.role accepts (admin, member, viewer). */
int	 ctl_role_valid(const char *role);

/* Reads the first line of a small secret file into a malloc'd string. */
char	*ctl_read_secret(const char *path);

/* "\\x" + hex of a SHA-256, for a bytea parameter (out: 68 bytes). */
void	 ctl_bytea_hex(const unsigned char h[32], char out[68]);

/* "\\x" + hex of n bytes, malloc'd (the caller frees); exits on ENOMEM. */
char	*ctl_bytea_hexdup(const unsigned char *b, size_t n);

/*
 * Appends an audit_log entry made by bulkclaimsctl: the actor is the
 * operating-system user ("ctl:NAME"), org_id the organisation concerned
 * (NULL: none or all), job_id NULL or a job, detail a non-PHI remark.
 * Exits if it cannot be written (an unaudited change is not allowed).
 */
void	 ctl_audit(PGconn *db, const char *org_id, const char *action,
	    const char *job_id, const char *outcome, const char *detail);

/* security.c: the account, token, key and retention commands. */
void	 ctl_set_role(PGconn *db, const struct ctl_opts *o);
void	 ctl_deactivate_user(PGconn *db, const struct ctl_opts *o);
void	 ctl_list_tokens(PGconn *db, const struct ctl_opts *o);
void	 ctl_revoke_token(PGconn *db, const struct ctl_opts *o);
void	 ctl_rotate_key(PGconn *db, const struct ctl_opts *o);
void	 ctl_purge_job(PGconn *db, const struct ctl_opts *o);
void	 ctl_purge_expired(PGconn *db, const struct ctl_opts *o);
void	 ctl_end_sessions(PGconn *db, const struct ctl_opts *o);

/* deadlines.c: the deadline rule commands. */
void	 ctl_deadline_rules(PGconn *db, const struct ctl_opts *o);
void	 ctl_set_deadline_rule(PGconn *db, const struct ctl_opts *o);
void	 ctl_delete_deadline_rule(PGconn *db, const struct ctl_opts *o);

/* Applies pending sql/NNN_*.sql migrations in order; 0 or -1 with err. */
/*
 * webhook.c: set-webhook (URL checked, secret sealed); and re-sealing
 * every webhook secret from oldk to newk inside the caller's
 * transaction, returning how many (exits on a secret that does not open).
 */
void	 ctl_set_webhook(PGconn *db, const struct ctl_opts *o);
int	 ctl_reseal_webhooks(PGconn *db, const unsigned char *oldk,
	    const unsigned char *newk);

int	ctl_migrate(PGconn *db, const char *sqldir, struct errbuf *err);

/* The sql/ folder: config sql.dir, else the source tree's. */
const char *ctl_sql_dir(void);

#endif
