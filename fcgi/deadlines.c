/*
 * Deadline rules (docs/deadlines.md): how many days a practice has to
 * act after the payer's answer, per payer and action bucket.
 *   GET    deadline-rules/       the rules in force for the caller's
 *                                organisation: its own, else the default
 *   POST   deadline-rules/       (admin) sets the organisation's own rule
 *   DELETE deadline-rules/{id}/  (admin) removes it: the default applies
 * Writes go through deadline_rule_set() and deadline_rule_delete()
 * (sql/functions/claim_deadlines.sql), as bulkclaimsctl's do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "app.h"
#include "audit.h"
#include "db.h"
#include "drf.h"
#include "handlers.h"
#include "pgjson.h"
#include "util.h"

/* A rule's JSON body is small; anything larger is refused. */
#define RULE_BODY_MAX	4096

static const char *const rule_actions[] = { "partially_paid",
    "denied_correctable", "denied_appealable", "needs_information",
    "rejected", "not_found" };
static const char *const rule_kinds[] = { "reconsideration", "appeal",
    "timely_filing", "corrected_claim" };
static const char *const rule_from[] = { "processed", "service" };

#define RULE_COLS							\
	"id, provider_code, action, deadline_kind, days, counted_from,"	\
	" note, organization_id IS NOT NULL,"				\
	" (extract(epoch FROM updated_at) * 1000000)::bigint, updated_by"

enum {
	DC_ID, DC_PROVIDER, DC_ACTION, DC_KIND, DC_DAYS, DC_FROM, DC_NOTE,
	DC_OWN, DC_UPDATED, DC_BY
};

static struct json_object *
rule_json(const PGresult *res, int row)
{
	struct json_object *o = json_object_new_object();
	char when[DRF_TEXT_MAX];

	pgjson_int(o, "id", res, row, DC_ID);
	pgjson_text(o, "provider_code", res, row, DC_PROVIDER);
	pgjson_text(o, "action", res, row, DC_ACTION);
	pgjson_text(o, "deadline_kind", res, row, DC_KIND);
	pgjson_int(o, "days", res, row, DC_DAYS);
	pgjson_text(o, "counted_from", res, row, DC_FROM);
	pgjson_text(o, "note", res, row, DC_NOTE);
	json_object_object_add(o, "source", json_object_new_string(
	    PQgetvalue(res, row, DC_OWN)[0] == 't' ? "organization" :
	    "default"));
	drf_datetime(strtoll(PQgetvalue(res, row, DC_UPDATED), NULL, 10),
	    when, sizeof(when));
	json_object_object_add(o, "updated_at", json_object_new_string(when));
	pgjson_text(o, "updated_by", res, row, DC_BY);
	return o;
}

void
deadline_rules_list(struct req *r)
{
	static const char sql[] = "SELECT DISTINCT ON (provider_code, action) "
	    RULE_COLS " FROM payer_deadline_rules"
	    " WHERE organization_id IS NULL OR organization_id = $1"
	    " ORDER BY provider_code, action, organization_id NULLS LAST";
	struct json_object *o, *arr;
	const char *params[1];
	char org[24];
	struct errbuf err;
	PGresult *res;
	PGconn *db;
	int i;

	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	snprintf(org, sizeof(org), "%lld", r->org_id);
	params[0] = org;
	if ((res = db_exec(db, &err, sql, 1, params)) == NULL) {
		resp_db_error(r, &err);
		return;
	}
	arr = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++)
		json_object_array_add(arr, rule_json(res, i));
	o = json_object_new_object();
	json_object_object_add(o, "count", json_object_new_int64(
	    PQntuples(res)));
	json_object_object_add(o, "next", NULL);
	json_object_object_add(o, "previous", NULL);
	json_object_object_add(o, "results", arr);
	PQclear(res);
	resp_json(r, 200, o, NULL);
}

/* The string field key of o if it is one of the words, else NULL. */
static const char *
one_of(struct json_object *o, const char *key, const char *const *words,
    size_t n)
{
	struct json_object *v;
	size_t i;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(json_object_get_string(v), words[i]) == 0)
			return words[i];
	return NULL;
}

/* A payer code: 1 to 32 of [A-Za-z0-9_], upper-cased into out. */
static int
provider_code(struct json_object *o, char *out, size_t outsz)
{
	struct json_object *v;
	const char *s;
	size_t i;

	if (!json_object_object_get_ex(o, "provider_code", &v) ||
	    !json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if (*s == '\0' || strlen(s) > 32 || strlen(s) >= outsz)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_'))
			return -1;
		out[i] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	out[i] = '\0';
	return 0;
}

void
deadline_rules_set(struct req *r)
{
	static const char sql_set[] = "SELECT deadline_rule_set("
	    "$1, $2, $3, $4, $5::integer, $6, $7, $8)";
	static const char sql_get[] = "SELECT " RULE_COLS
	    " FROM payer_deadline_rules WHERE id = $1";
	char body[RULE_BODY_MAX], prov[40], days[16], org[24], by[40];
	char detail[160], id[24];
	const char *params[8], *action, *kind, *from, *note = NULL;
	struct json_object *o, *v;
	struct errbuf err;
	PGresult *res;
	PGconn *db;
	long n;
	int64_t d;

	if ((n = req_body(r, body, sizeof(body) - 1)) < 0) {
		resp_error(r, 413, "too_large", "The rule is too large.",
		    NULL, NULL);
		return;
	}
	body[n] = '\0';
	if ((o = json_tokener_parse(body)) == NULL ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		resp_error(r, 400, "parse_error",
		    "The body must be a JSON object.", NULL, NULL);
		return;
	}
	if (provider_code(o, prov, sizeof(prov)) != 0) {
		json_object_put(o);
		resp_field_error(r, 400, "invalid", "provider_code",
		    "provider_code must be 1 to 32 letters, digits or _.");
		return;
	}
	if ((action = one_of(o, "action", rule_actions,
	    NELEM(rule_actions))) == NULL) {
		json_object_put(o);
		resp_field_error(r, 400, "invalid", "action", "action must be "
		    "partially_paid, denied_correctable, denied_appealable, "
		    "needs_information, rejected or not_found.");
		return;
	}
	if ((kind = one_of(o, "deadline_kind", rule_kinds,
	    NELEM(rule_kinds))) == NULL) {
		json_object_put(o);
		resp_field_error(r, 400, "invalid", "deadline_kind",
		    "deadline_kind must be reconsideration, appeal, "
		    "timely_filing or corrected_claim.");
		return;
	}
	if (!json_object_object_get_ex(o, "days", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    (d = json_object_get_int64(v)) < 1 || d > 3650) {
		json_object_put(o);
		resp_field_error(r, 400, "invalid", "days",
		    "days must be a whole number from 1 to 3650.");
		return;
	}
	if ((from = one_of(o, "counted_from", rule_from,
	    NELEM(rule_from))) == NULL) {
		json_object_put(o);
		resp_field_error(r, 400, "invalid", "counted_from",
		    "counted_from must be processed or service.");
		return;
	}
	if (json_object_object_get_ex(o, "note", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string) ||
		    strlen(json_object_get_string(v)) > 500) {
			json_object_put(o);
			resp_field_error(r, 400, "invalid", "note",
			    "note must be a text of at most 500 bytes.");
			return;
		}
		note = json_object_get_string(v);
	}
	if ((db = req_db(r)) == NULL) {
		json_object_put(o);
		resp_db_error(r, NULL);
		return;
	}
	snprintf(org, sizeof(org), "%lld", r->org_id);
	snprintf(days, sizeof(days), "%lld", (long long)d);
	snprintf(by, sizeof(by), "user %lld", r->user_id);
	params[0] = org;
	params[1] = prov;
	params[2] = action;
	params[3] = kind;
	params[4] = days;
	params[5] = from;
	params[6] = note;
	params[7] = by;
	res = db_exec(db, &err, sql_set, 8, params);
	json_object_put(o);	/* note pointed into it */
	if (res == NULL) {
		resp_db_error(r, &err);
		return;
	}
	/* The new row is seen by the next statement, not by this one. */
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	params[0] = id;
	if ((res = db_exec(db, &err, sql_get, 1, params)) == NULL) {
		resp_db_error(r, &err);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 409, "conflict", "The rule changed meanwhile; "
		    "read the rules again.", NULL, NULL);
		return;
	}
	snprintf(detail, sizeof(detail), "provider=%s action=%s kind=%s "
	    "days=%s from=%s", prov, action, kind, days, from);
	audit_write(r, "deadline_rule_set", NULL, "ok", detail);
	resp_json(r, 200, rule_json(res, 0), NULL);
	PQclear(res);
}

void
deadline_rules_delete(struct req *r)
{
	static const char sql[] = "SELECT deadline_rule_delete($1,"
	    " provider_code, action), provider_code, action"
	    " FROM payer_deadline_rules WHERE id = $2::bigint"
	    " AND organization_id = $1";
	char org[24], detail[120];
	const char *params[2];
	struct errbuf err;
	PGresult *res;
	PGconn *db;
	size_t i;

	/* Only an organisation's own rules can go: defaults are ctl's. */
	for (i = 0; r->route.row[i] != '\0'; i++)
		if (r->route.row[i] < '0' || r->route.row[i] > '9')
			break;
	if (i == 0 || i > 18 || r->route.row[i] != '\0') {
		resp_error(r, 404, "not_found", "No rule of your organisation "
		    "with this id.", NULL, NULL);
		return;
	}
	if ((db = req_db(r)) == NULL) {
		resp_db_error(r, NULL);
		return;
	}
	snprintf(org, sizeof(org), "%lld", r->org_id);
	params[0] = org;
	params[1] = r->route.row;
	if ((res = db_exec(db, &err, sql, 2, params)) == NULL) {
		resp_db_error(r, &err);
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 404, "not_found", "No rule of your organisation "
		    "with this id.", NULL, NULL);
		return;
	}
	snprintf(detail, sizeof(detail), "provider=%s action=%s",
	    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	PQclear(res);
	audit_write(r, "deadline_rule_delete", NULL, "ok", detail);
	resp_headers(r, 204, NULL, -1, NULL);
}
