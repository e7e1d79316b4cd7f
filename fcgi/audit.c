/*
 * The audit trail of bulkclaims-fcgi (HIPAA §164.312(b) audit
 * controls): who (user, address) did what to which job, when, and how
 * it ended.  Rows go to audit_log, which a trigger keeps append-only
 * (sql/002_security.sql).  Never patient data: ids, actions, outcomes.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "db.h"
#include "log.h"

#define AUDIT_INSERT							\
	"INSERT INTO audit_log (organization_id, user_id, username, address,"\
	" action, job_id, outcome, via, detail)"			\
	" SELECT $1::bigint, $2::bigint,"				\
	" (SELECT username FROM users WHERE id = $2::bigint),"		\
	" $3, $4, $5::uuid, $6, $7, $8"
static const char sql_insert[] = AUDIT_INSERT;
/*
 * The same with an asynchronous commit: the row is visible at once and
 * written to the WAL, but the request does not wait for the WAL flush
 * (a synchronous commit costs more than the whole answer of a read on
 * a slow disk).  A crash of PostgreSQL or of its host may lose the
 * last fraction of a second (wal_writer_delay) of these rows.
 */
static const char sql_insert_async[] =
	"WITH a AS (SELECT set_config('synchronous_commit', 'off', true))"
	" " AUDIT_INSERT " FROM a";

static void
audit_insert(struct req *r, const char *action, const char *job_id,
    const char *outcome, const char *detail, int async)
{
	char org[24], uid[24], line[512];
	const char *p[8], *addr, *ao;
	struct errbuf err;
	PGconn *db;

	/*
	 * nginx's auth_request pass before an upload body is read: the
	 * upload itself (or nginx's refusal page, answered by a full pass)
	 * is audited, this check is not, or every upload would count twice.
	 */
	if ((ao = req_param(r, "BULKCLAIMS_AUTH_ONLY")) != NULL &&
	    *ao != '\0' && strcmp(ao, "0") != 0)
		return;
	if ((db = req_db(r)) == NULL) {
		log_warnx("audit: not written action=%s (no database)",
		    action);
		return;
	}
	snprintf(org, sizeof(org), "%lld", r->org_id);
	snprintf(uid, sizeof(uid), "%lld", r->user_id);
	addr = req_param(r, "REMOTE_ADDR");
	p[0] = r->org_id > 0 ? org : NULL;
	p[1] = r->user_id > 0 ? uid : NULL;
	p[2] = addr != NULL && *addr != '\0' ? addr : NULL;
	p[3] = action;
	p[4] = job_id != NULL && *job_id != '\0' ? job_id : NULL;
	p[5] = outcome;
	p[6] = r->user_id == 0 ? NULL : r->via_session ? "session" : "token";
	p[7] = detail;
	if (db_cmd_prepared(db, &err, async ? "audit_insert_async" :
	    "audit_insert", async ? sql_insert_async : sql_insert, 8,
	    p) == -1) {
		req_oneline(err.msg, line, sizeof(line));
		log_warnx("audit: not written action=%s: %s", action, line);
	}
}

void
audit_write(struct req *r, const char *action, const char *job_id,
    const char *outcome, const char *detail)
{
	audit_insert(r, action, job_id, outcome, detail, 0);
}

/* The audited action of a route, or NULL (polling is not audited). */
static const char *
route_action(enum route_id id)
{
	switch (id) {
	case ROUTE_UPLOAD:
		return "upload";
	case ROUTE_JOB_DETAIL:
		return "view_job";
	case ROUTE_JOB_RESULTS:
		return "download_results";
	case ROUTE_JOB_RETRY:
		return "retry";
	case ROUTE_JOB_PURGE:
		return "purge";
	case ROUTE_JOB_CANCEL:		/* reliability */
		return "cancel";
	case ROUTE_JOB_ROWS:
	case ROUTE_JOB_ROW:		/* claim details */
		return "view_rows";
	case ROUTE_CLAIM_HISTORY:	/* claims ledger */
		return "view_claim_history";
	default:
		return NULL;
	}
}

void
audit_request(struct req *r)
{
	const char *action, *job;
	char outcome[16];

	if (r->user_id == 0 || (action = route_action(r->route.id)) == NULL)
		return;
	/* HEAD of a results file is no download. */
	if (r->head)
		return;
	job = r->job_id[0] ? r->job_id :
	    r->route.job_id_ok ? r->route.job_id : NULL;
	if (r->status >= 200 && r->status < 300)
		snprintf(outcome, sizeof(outcome), "success");
	else
		snprintf(outcome, sizeof(outcome), "%d", r->status);
	/*
	 * A read (a view or a download: GET) commits its row without
	 * waiting for the WAL flush; a change (POST) and the session
	 * events (audit_write) wait for it.
	 */
	audit_insert(r, action, job, outcome, NULL,
	    strcmp(r->method, "GET") == 0);
}
