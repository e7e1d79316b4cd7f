/*
 * Schema migrations: sql/NNN_name.sql files applied in order, once each,
 * recorded in schema_migrations.  An advisory lock makes concurrent runs
 * (two scripts starting at once) safe.
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

/* Applies one file in its own transaction with its bookkeeping row. */
static int
apply_one(PGconn *db, const char *dir, const char *name, struct errbuf *err)
{
	const char *params[1] = { name };
	char path[4096], *sql;
	PGresult *res;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((sql = read_file(path, err)) == NULL)
		return -1;
	if (db_cmd(db, err, "BEGIN", 0, NULL) != 0)
		goto out;
	/* PQexec runs the several statements of a file in one call. */
	res = PQexec(db, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		errbuf_set(err, "%s: %s", name, PQresultErrorMessage(res));
		PQclear(res);
		db_cmd(db, NULL, "ROLLBACK", 0, NULL);
		goto out;
	}
	PQclear(res);
	if (db_cmd(db, err, "INSERT INTO schema_migrations (version) "
	    "VALUES ($1)", 1, params) != 0 ||
	    db_cmd(db, err, "COMMIT", 0, NULL) != 0) {
		db_cmd(db, NULL, "ROLLBACK", 0, NULL);
		goto out;
	}
	log_info("migration applied version=%s", name);
	rc = 0;
out:
	free(sql);
	return rc;
}

int
ctl_migrate(PGconn *db, const char *sqldir, struct errbuf *err)
{
	char **names = NULL;
	size_t n = 0, i;
	struct dirent *de;
	DIR *d;
	int rc = 0, applied = 0;

	if ((d = opendir(sqldir)) == NULL)
		return errbuf_set(err, "%s: %s", sqldir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char **nn;

		if (len < 8 || strcmp(de->d_name + len - 4, ".sql") != 0 ||
		    de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if ((nn = realloc(names, (n + 1) * sizeof(*names))) == NULL)
			break;
		names = nn;
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);

	if (db_cmd(db, err, "SELECT pg_advisory_lock(" MIGRATE_LOCK_ID ")",
	    0, NULL) != 0 ||
	    db_cmd(db, err, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version text PRIMARY KEY, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL) != 0) {
		rc = -1;
		goto out;
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
	db_cmd(db, NULL, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_ID ")", 0,
	    NULL);
	if (rc == 0)
		log_info("migrations done applied=%d", applied);
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

const char *
ctl_sql_dir(void)
{
	/* BULKCLAIMS_SQL_DIR overrides it, as for every key. */
	return config_get("sql.dir", BC_SQL_DIR);
}
