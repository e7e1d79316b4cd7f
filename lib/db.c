/*
 * PostgreSQL helpers: connect, run a statement, check its outcome.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-events.h>

#include "db.h"

/*
 * The statements prepared on one connection, kept as the connection's
 * libpq instance data: libpq tells db_event() when the connection is
 * reset (a new server session has none prepared) or freed.  Names are
 * the callers' string constants (kept, not copied).
 */
#define DB_MAX_PREPARED	32

struct db_prepared {
	const char	*names[DB_MAX_PREPARED];
	int		 n;
};

static int
db_event(PGEventId id, void *info, void *pass)
{
	struct db_prepared *p;
	PGconn *db;

	(void)pass;
	switch (id) {
	case PGEVT_REGISTER:
		db = ((PGEventRegister *)info)->conn;
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return 0;
		return PQsetInstanceData(db, db_event, p);
	case PGEVT_CONNRESET:
		db = ((PGEventConnReset *)info)->conn;
		if ((p = PQinstanceData(db, db_event)) != NULL)
			p->n = 0;
		return 1;
	case PGEVT_CONNDESTROY:
		db = ((PGEventConnDestroy *)info)->conn;
		free(PQinstanceData(db, db_event));
		return 1;
	default:
		return 1;
	}
}

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
	/* Without it db_exec_prepared() only loses its speed-up. */
	(void)PQregisterEventProc(db, db_event, "bulkclaims-db", NULL);
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

/* res if the statement succeeded, else NULL with err (res cleared). */
static PGresult *
db_outcome(PGconn *db, PGresult *res, struct errbuf *err)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	db_error(db, res, err);
	PQclear(res);
	return NULL;
}

PGresult *
db_exec(PGconn *db, struct errbuf *err, const char *sql, int nparams,
    const char *const *params)
{
	return db_outcome(db, PQexecParams(db, sql, nparams, NULL, params,
	    NULL, NULL, 0), err);
}

/* Whether name is prepared on db, preparing it if not: 1, 0, -1. */
static int
db_prepare(PGconn *db, struct errbuf *err, const char *name,
    const char *sql, int nparams)
{
	struct db_prepared *p = PQinstanceData(db, db_event);
	PGresult *res;
	int i;

	if (p == NULL)
		return 0;
	for (i = 0; i < p->n; i++)
		if (strcmp(p->names[i], name) == 0)
			return 1;
	if (p->n == DB_MAX_PREPARED)
		return 0;
	if ((res = db_outcome(db, PQprepare(db, name, sql, nparams, NULL),
	    err)) == NULL)
		return -1;
	PQclear(res);
	p->names[p->n++] = name;
	return 1;
}

PGresult *
db_exec_prepared(PGconn *db, struct errbuf *err, const char *name,
    const char *sql, int nparams, const char *const *params)
{
	switch (db_prepare(db, err, name, sql, nparams)) {
	case -1:
		return NULL;
	case 0:
		return db_exec(db, err, sql, nparams, params);
	}
	return db_outcome(db, PQexecPrepared(db, name, nparams, params, NULL,
	    NULL, 0), err);
}

int
db_send_prepared(PGconn *db, struct errbuf *err, const char *name,
    const char *sql, int nparams, const char *const *params)
{
	int ok;

	switch (db_prepare(db, err, name, sql, nparams)) {
	case -1:
		return -1;
	case 0:
		ok = PQsendQueryParams(db, sql, nparams, NULL, params, NULL,
		    NULL, 0);
		break;
	default:
		ok = PQsendQueryPrepared(db, name, nparams, params, NULL, NULL,
		    0);
	}
	if (!ok) {
		db_error(db, NULL, err);
		return -1;
	}
	return 0;
}

PGresult *
db_recv(PGconn *db, struct errbuf *err)
{
	PGresult *res, *first = NULL;

	/* One statement sent: its result, then NULL (read to the end). */
	while ((res = PQgetResult(db)) != NULL) {
		if (first == NULL)
			first = res;
		else
			PQclear(res);
	}
	return db_outcome(db, first, err);
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
db_cmd_prepared(PGconn *db, struct errbuf *err, const char *name,
    const char *sql, int nparams, const char *const *params)
{
	PGresult *res = db_exec_prepared(db, err, name, sql, nparams, params);

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
