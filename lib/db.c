/*
 * PostgreSQL helpers: connect, run a statement, check its outcome.
 */
#include <string.h>

#include "db.h"

PGconn *
db_connect(const char *conninfo, const char *appname, struct errbuf *err)
{
	const char *keys[] = { "dbname", "application_name",
	    "connect_timeout", NULL };
	const char *vals[] = { conninfo, appname, "10", NULL };
	PGconn *db;

	if (conninfo == NULL || *conninfo == '\0') {
		errbuf_set(err, "database.url is not set");
		return NULL;
	}
	/* expand_dbname=1 lets "dbname" carry a whole conninfo or URI. */
	db = PQconnectdbParams(keys, vals, 1);
	if (db == NULL) {
		errbuf_set(err, "out of memory");
		return NULL;
	}
	if (PQstatus(db) != CONNECTION_OK) {
		errbuf_set(err, "database: %s", PQerrorMessage(db));
		PQfinish(db);
		return NULL;
	}
	return db;
}

/* Copies the server message without its trailing newline. */
static void
db_error(PGconn *db, PGresult *res, struct errbuf *err)
{
	const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(db);
	size_t n;

	if (m == NULL || *m == '\0')
		m = PQerrorMessage(db);
	errbuf_set(err, "database: %s", m);
	if (err != NULL && (n = strlen(err->msg)) > 0 &&
	    err->msg[n - 1] == '\n')
		err->msg[n - 1] = '\0';
}

PGresult *
db_exec(PGconn *db, struct errbuf *err, const char *sql, int nparams,
    const char *const *params)
{
	PGresult *res;
	ExecStatusType st;

	res = PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	db_error(db, res, err);
	PQclear(res);
	return NULL;
}

int
db_cmd(PGconn *db, struct errbuf *err, const char *sql, int nparams,
    const char *const *params)
{
	PGresult *res = db_exec(db, err, sql, nparams, params);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
db_ensure(PGconn *db)
{
	if (PQstatus(db) == CONNECTION_OK)
		return 1;
	PQreset(db);
	return PQstatus(db) == CONNECTION_OK;
}
