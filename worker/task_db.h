/*
 * What every job task shares: the worker process's PostgreSQL
 * connection and the shapes of a failed or retried outcome.
 */
#ifndef TASK_DB_H
#define TASK_DB_H

#include <libpq-fe.h>

#include "errbuf.h"
#include "tasks.h"

/* The worker process's PostgreSQL connection (owned), or NULL + err. */
PGconn	*task_db_get(struct errbuf *err);
/*
 * The connection kept in *keep, checked and reconnected (as appname)
 * when broken; NULL with err set when the database is down.
 */
PGconn	*task_db_keep(PGconn **keep, const char *appname,
	    struct errbuf *err);
/*
 * Fills a FAILURE outcome of exception type with the formatted message
 * (no PHI).  Returns -1 for "return task_fail(...)".
 */
int	 task_fail(struct task_result *res, const char *type,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Fills res for a database outage: DatabaseError with msg, retried in
 * 5 s.  Returns -1 for "return task_db_retry(...)".
 */
int	 task_db_retry(struct task_result *res, const char *msg);

#endif
