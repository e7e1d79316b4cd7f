/*
 * bulkclaimsctl: shared declarations of the admin command's modules.
 */
#ifndef CTL_H
#define CTL_H

#include <libpq-fe.h>

#include "errbuf.h"

/* Applies pending sql/NNN_*.sql migrations in order; 0 or -1 with err. */
int	ctl_migrate(PGconn *db, const char *sqldir, struct errbuf *err);

/* The sql/ folder: config sql.dir, else the source tree's. */
const char *ctl_sql_dir(void);

#endif
