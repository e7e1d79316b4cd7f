/*
 * The job tasks' database connection and outcome helpers (task_db.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "config.h"
#include "db.h"
#include "task_db.h"

static PGconn *task_db;

PGconn *
task_db_get(struct errbuf *err)
{
	return task_db_keep(&task_db, "bulkclaims-worker", err);
}

PGconn *
task_db_keep(PGconn **keep, const char *appname, struct errbuf *err)
{
	if (*keep != NULL && db_ensure(*keep))
		return *keep;
	if (*keep != NULL)
		PQfinish(*keep);
	*keep = db_connect(config_get_own("database.url", NULL), appname, err);
	return *keep;
}

int
task_fail(struct task_result *res, const char *type, const char *fmt, ...)
{
	va_list ap;

	snprintf(res->exc_type, sizeof(res->exc_type), "%s", type);
	va_start(ap, fmt);
	vsnprintf(res->exc_message, sizeof(res->exc_message), fmt, ap);
	va_end(ap);
	return -1;
}

int
task_db_retry(struct task_result *res, const char *msg)
{
	res->retry = 1;
	res->countdown = 5;
	return task_fail(res, "DatabaseError", "%s", msg);
}
