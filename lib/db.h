/*
 * PostgreSQL connection helpers shared by the programs (libpq).
 */
#ifndef DB_H
#define DB_H

#include <libpq-fe.h>

#include "errbuf.h"

/*
 * Connects with the libpq string or URI in conninfo (database.url),
 * adding application_name.  Returns the connection, or NULL with err.
 * The caller owns it (PQfinish).
 */
PGconn	*db_connect(const char *conninfo, const char *appname,
	    struct errbuf *err);

/*
 * Runs sql with text parameters and checks the outcome: returns the
 * result if its status is PGRES_TUPLES_OK or PGRES_COMMAND_OK, else NULL
 * with err holding the server's message.  The caller PQclear()s it.
 */
PGresult *db_exec(PGconn *db, struct errbuf *err, const char *sql,
	    int nparams, const char *const *params);

/*
 * db_exec() of a statement prepared once per connection under name (a
 * string constant of the caller's, unique per statement): the server
 * parses and plans it once, not on every request.  Falls back to
 * db_exec() on a connection that db_connect() did not make.
 */
PGresult *db_exec_prepared(PGconn *db, struct errbuf *err,
	    const char *name, const char *sql, int nparams,
	    const char *const *params);

/*
 * db_exec_prepared() in two halves, so the caller works while the server
 * runs the statement: db_send_prepared() sends it (0 or -1 with err),
 * db_recv() waits for its result (as db_exec()).  Nothing else may use
 * the connection in between.
 */
int	 db_send_prepared(PGconn *db, struct errbuf *err, const char *name,
	    const char *sql, int nparams, const char *const *params);
PGresult *db_recv(PGconn *db, struct errbuf *err);

/* Runs a statement that returns nothing; 0 or -1 with err. */
int	 db_cmd(PGconn *db, struct errbuf *err, const char *sql, int nparams,
	    const char *const *params);

/* db_cmd() of a prepared statement (see db_exec_prepared()). */
int	 db_cmd_prepared(PGconn *db, struct errbuf *err, const char *name,
	    const char *sql, int nparams, const char *const *params);

/* 1 if the connection is usable, after a reset attempt if it was not. */
int	 db_ensure(PGconn *db);

#endif
