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

static const char sql_insert[] =
	"INSERT INTO audit_log (organization_id, user_id, username, address,"
	" action, job_id, outcome, via, detail)"
	" SELECT $1::bigint, $2::bigint,"
	" (SELECT username FROM users WHERE id = $2::bigint),"
	" $3, $4, $5::uuid, $6, $7, $8";

void
audit_write(struct req *r, const char *action, const char *job_id,
    const char *outcome, const char *detail)
{
	char org[24], uid[24], line[512];
	const char *p[8], *addr, *ao;
	struct errbuf err;
	PGconn *db;

	/*
	 * nginx's auth_request pass before an upload body is read: an
	 * upload it lets through is audited by the upload itself, so the
	 * pass is not (or every upload would count twice); a refusal is
	 * answered by nginx from this pass alone, so it is audited here.
	 */
	if ((ao = req_param(r, "BULKCLAIMS_AUTH_ONLY")) != NULL &&
	    *ao != '\0' && strcmp(ao, "0") != 0 &&
	    r->status >= 200 && r->status < 300)
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
	if (db_cmd_prepared(db, &err, "audit_insert", sql_insert, 8,
	    p) == -1) {
		req_oneline(err.msg, line, sizeof(line));
		log_warnx("audit: not written action=%s: %s", action, line);
	}
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
	/* Patient data read and checked, and who looked at whom. */
	case ROUTE_VALIDATE:
		return "validate";
	case ROUTE_AUDIT:
		return "view_audit";
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
	audit_write(r, action, job, outcome, NULL);
}
