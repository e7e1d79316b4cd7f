/*
 * bulkclaimsctl's deadline rule commands (docs/deadlines.md): list the
 * rules, set or delete a shipped default (no --tin) or an organisation's
 * own rule (--tin).  Writes go through deadline_rule_set() and
 * deadline_rule_delete(), as the admin API's do.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "log.h"

/* The organisation id of --tin (NULL without --tin: the defaults). */
static char *
org_of(PGconn *db, const struct ctl_opts *o, char *buf, size_t bufsz)
{
	const char *p[1];
	PGresult *r;

	if (o->tin == NULL)
		return NULL;
	p[0] = o->tin;
	r = ctl_q1(db, "SELECT id FROM organizations WHERE tin = $1", 1, p,
	    "no organisation with that TIN");
	snprintf(buf, bufsz, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return buf;
}

void
ctl_deadline_rules(PGconn *db, const struct ctl_opts *o)
{
	char orgbuf[24];
	const char *p[1];
	PGresult *r;
	int i;

	p[0] = org_of(db, o, orgbuf, sizeof(orgbuf));
	/* With --tin: the rules in force for it; else every row. */
	r = ctl_q(db, "SELECT provider_code, action, deadline_kind, days,"
	    " counted_from, coalesce(o.tin, 'default'), coalesce(note, '')"
	    " FROM payer_deadline_rules d"
	    " LEFT JOIN organizations o ON o.id = d.organization_id"
	    " WHERE $1::bigint IS NULL OR d.organization_id IS NULL"
	    " OR d.organization_id = $1::bigint"
	    " ORDER BY provider_code, action, d.organization_id NULLS FIRST",
	    1, p);
	printf("%-8s  %-18s  %-15s  %5s  %-9s  %-9s  %s\n", "PAYER",
	    "ACTION", "KIND", "DAYS", "FROM", "OWNER", "NOTE");
	for (i = 0; i < PQntuples(r); i++)
		printf("%-8s  %-18s  %-15s  %5s  %-9s  %-9s  %s\n",
		    PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		    PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
		    PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
		    PQgetvalue(r, i, 6));
	PQclear(r);
}

void
ctl_set_deadline_rule(PGconn *db, const struct ctl_opts *o)
{
	char orgbuf[24], days[16], detail[160];
	const char *p[8];
	PGresult *r;

	if (!o->provider || !o->action || !o->kind || o->days <= 0 ||
	    !o->from)
		ctl_usage_of("set-deadline-rule [--tin T] --provider P"
		    " --action A --kind K --days N --from processed|service"
		    " [--note N]");
	p[0] = org_of(db, o, orgbuf, sizeof(orgbuf));
	p[1] = o->provider;
	p[2] = o->action;
	p[3] = o->kind;
	snprintf(days, sizeof(days), "%ld", o->days);
	p[4] = days;
	p[5] = o->from;
	p[6] = o->note;
	p[7] = "bulkclaimsctl";
	/* The table's checks name what is wrong with a value. */
	r = ctl_q(db, "SELECT deadline_rule_set($1::bigint, $2, $3, $4,"
	    " $5::integer, $6, $7, $8)", 8, p);
	PQclear(r);
	snprintf(detail, sizeof(detail), "provider=%s action=%s kind=%s "
	    "days=%s from=%s", o->provider, o->action, o->kind, days, o->from);
	ctl_audit(db, p[0], "deadline_rule_set", NULL, "ok", detail);
	log_info("deadline rule set: %s", detail);
}

void
ctl_delete_deadline_rule(PGconn *db, const struct ctl_opts *o)
{
	char orgbuf[24], detail[120];
	const char *p[3];
	PGresult *r;

	if (!o->provider || !o->action)
		ctl_usage_of("delete-deadline-rule [--tin T] --provider P"
		    " --action A");
	p[0] = org_of(db, o, orgbuf, sizeof(orgbuf));
	p[1] = o->provider;
	p[2] = o->action;
	r = ctl_q(db, "SELECT deadline_rule_delete($1::bigint, $2, $3)", 3,
	    p);
	if (PQgetvalue(r, 0, 0)[0] != 't')
		fatalx("no such rule");
	PQclear(r);
	snprintf(detail, sizeof(detail), "provider=%s action=%s",
	    o->provider, o->action);
	ctl_audit(db, p[0], "deadline_rule_delete", NULL, "ok", detail);
	log_info("deadline rule deleted: %s", detail);
}
