/*
 * Schema migrations: sql/NNN_name.sql files (tables, columns, indexes,
 * reference data) applied in order, once each, recorded in
 * schema_migrations; then every .sql file of sql/functions/ (the SQL code:
 * CREATE OR REPLACE FUNCTION ...) applied again on every run, so each
 * function has one definition in one file and a changed definition
 * reaches every database.  An advisory lock makes concurrent runs (two
 * scripts starting at once) safe.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "db.h"
#include "log.h"

/* Any constant shared by every bulkclaimsctl: the migration lock id. */
#define MIGRATE_LOCK_ID "727274001"

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a whole file into a NUL-terminated malloc'd string. */
static char *
read_file(const char *path, struct errbuf *err)
{
	FILE *f;
	char *buf;
	long n;

	if ((f = fopen(path, "r")) == NULL) {
		errbuf_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (buf = malloc(n + 1)) == NULL) {
		errbuf_set(err, "%s: cannot read", path);
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, n, f) != (size_t)n) {
		errbuf_set(err, "%s: short read", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Runs the statements of one file on db, inside the caller's transaction. */
static int
exec_file(PGconn *db, const char *dir, const char *name, struct errbuf *err)
{
	char path[4096], *sql;
	PGresult *res;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((sql = read_file(path, err)) == NULL)
		return -1;
	/* PQexec runs the several statements of a file in one call. */
	res = PQexec(db, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = errbuf_set(err, "%s: %s", name, PQresultErrorMessage(res));
	PQclear(res);
	free(sql);
	return rc;
}

/* Applies one migration in its own transaction with its bookkeeping row. */
static int
apply_one(PGconn *db, const char *dir, const char *name, struct errbuf *err)
{
	const char *params[1] = { name };

	if (db_cmd(db, err, "BEGIN", 0, NULL) != 0)
		return -1;
	if (exec_file(db, dir, name, err) != 0 ||
	    db_cmd(db, err, "INSERT INTO schema_migrations (version) "
	    "VALUES ($1)", 1, params) != 0 ||
	    db_cmd(db, err, "COMMIT", 0, NULL) != 0) {
		db_cmd(db, NULL, "ROLLBACK", 0, NULL);
		return -1;
	}
	log_info("migration applied version=%s", name);
	return 0;
}

static void
free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * The .sql files of dir in name order (versioned: only those whose
 * name starts with a digit).  NULL with err set when dir cannot be read.
 */
static char **
list_sql(const char *dir, int versioned, size_t *np, struct errbuf *err)
{
	char **names = NULL, **nn;
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		errbuf_set(err, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".sql") != 0 ||
		    (versioned && (de->d_name[0] < '0' || de->d_name[0] > '9')))
			continue;
		if ((nn = realloc(names, (n + 1) * sizeof(*names))) == NULL)
			goto oom;
		names = nn;
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto oom;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	*np = n;
	/* An empty folder is a list of none, not an error. */
	return names != NULL ? names : calloc(1, sizeof(*names));
oom:
	free_names(names, n);
	closedir(d);
	errbuf_set(err, "%s: out of memory", dir);
	return NULL;
}

/*
 * Applies every file of sql/functions/ again, all in one transaction:
 * the database has either the old code or the new, never a mix.
 */
static int
apply_functions(PGconn *db, const char *sqldir, struct errbuf *err)
{
	char dir[4096], **names;
	size_t n = 0, i;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/functions", sqldir);
	if ((names = list_sql(dir, 0, &n, err)) == NULL)
		return -1;
	if (db_cmd(db, err, "BEGIN", 0, NULL) != 0) {
		free_names(names, n);
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = exec_file(db, dir, names[i], err);
	if (rc != 0 || db_cmd(db, err, "COMMIT", 0, NULL) != 0) {
		db_cmd(db, NULL, "ROLLBACK", 0, NULL);
		rc = -1;
	} else
		log_info("functions applied files=%zu", n);
	free_names(names, n);
	return rc;
}

int
ctl_migrate(PGconn *db, const char *sqldir, struct errbuf *err)
{
	char **names;
	size_t n = 0, i;
	int rc = 0, applied = 0;

	if ((names = list_sql(sqldir, 1, &n, err)) == NULL)
		return -1;
	if (db_cmd(db, err, "SELECT pg_advisory_lock(" MIGRATE_LOCK_ID ")",
	    0, NULL) != 0 ||
	    db_cmd(db, err, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version text PRIMARY KEY, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL) != 0) {
		free_names(names, n);
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		const char *params[1] = { names[i] };
		PGresult *res;

		res = db_exec(db, err, "SELECT 1 FROM schema_migrations "
		    "WHERE version = $1", 1, params);
		if (res == NULL) {
			rc = -1;
			break;
		}
		if (PQntuples(res) == 0) {
			rc = apply_one(db, sqldir, names[i], err);
			applied += rc == 0;
		}
		PQclear(res);
	}
	if (rc == 0)
		rc = apply_functions(db, sqldir, err);
	db_cmd(db, NULL, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_ID ")", 0,
	    NULL);
	if (rc == 0)
		log_info("migrations done applied=%d", applied);
	free_names(names, n);
	return rc;
}

const char *
ctl_sql_dir(void)
{
	/* BULKCLAIMS_SQL_DIR overrides it, as for every key. */
	return config_get("sql.dir", BC_SQL_DIR);
}
