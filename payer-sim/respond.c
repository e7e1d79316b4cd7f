/*
 * Request parsing and response building for the payer simulator.
 * Shapes as payer-sim/README-outcomes.md describes; where the real APIs'
 * details are not public, these shapes are the contract.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "limits.h"
#include "respond.h"

/* Payer id of UnitedHealthcare in both APIs. */
#define UHC_PAYER_ID	"87726"

static struct json_object *
parse_json(const void *buf, size_t len, struct errbuf *err)
{
	struct json_tokener *tok;
	struct json_object *root;
	size_t end;

	if (len > SIM_MAX_BODY) {
		errbuf_set(err, "body too large");
		return NULL;
	}
	if ((tok = json_tokener_new_ex(JSON_MAX_DEPTH)) == NULL) {
		errbuf_set(err, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, buf, (int)len);
	end = json_tokener_get_parse_end(tok);
	/* One value and nothing after it but white space. */
	while (root != NULL && end < len &&
	    isspace(((const unsigned char *)buf)[end]))
		end++;
	if (root == NULL || end != len ||
	    json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(root);
		root = NULL;
		errbuf_set(err, "malformed JSON");
	} else if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		root = NULL;
		errbuf_set(err, "body is not a JSON object");
	}
	json_tokener_free(tok);
	return root;
}

/*
 * Copies the string member key of obj into dst (dstsz bytes).  Absent or
 * null leaves dst "".  Returns -1 (err set) if it is not a string or too
 * long.
 */
static int
get_str(struct json_object *obj, const char *key, char *dst, size_t dstsz,
    struct errbuf *err)
{
	struct json_object *v;
	const char *s;
	size_t n;

	dst[0] = '\0';
	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return errbuf_set(err, "%s must be a string", key);
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n >= dstsz || memchr(s, '\0', n) != NULL)
		return errbuf_set(err, "%s is too long", key);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static struct json_object *
get_obj(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes a form value (RFC 1866 8.2.1: '+' is space, %XX). */
static int
form_decode(const char *p, size_t n, char *dst, size_t dstsz)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (i + 2 >= n)
				return -1;
			if ((hi = hexval((unsigned char)p[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)p[i + 2])) < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0' || o + 1 >= dstsz)
			return -1;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return 0;
}

int
respond_parse_token(const void *buf, size_t len, int json,
    struct sim_token_request *out, struct errbuf *err)
{
	struct json_object *root;
	const char *p = buf, *end = p + len, *amp, *eq;
	char *dst;
	size_t dstsz;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (json) {
		if ((root = parse_json(buf, len, err)) == NULL)
			return -1;
		if (get_str(root, "grant_type", out->grant_type,
		    sizeof(out->grant_type), err) == -1 ||
		    get_str(root, "client_id", out->client_id,
		    sizeof(out->client_id), err) == -1 ||
		    get_str(root, "client_secret", out->client_secret,
		    sizeof(out->client_secret), err) == -1)
			rc = -1;
		json_object_put(root);
		return rc;
	}
	if (len > SIM_MAX_BODY)
		return errbuf_set(err, "body too large");
	while (p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq != NULL) {
			dst = NULL;
			dstsz = 0;
#define FIELD(name) \
	if ((size_t)(eq - p) == strlen(#name) && \
	    memcmp(p, #name, strlen(#name)) == 0) { \
		dst = out->name; \
		dstsz = sizeof(out->name); \
	}
			FIELD(grant_type)
			FIELD(client_id)
			FIELD(client_secret)
#undef FIELD
			if (dst != NULL && form_decode(eq + 1,
			    (size_t)(amp - eq - 1), dst, dstsz) == -1)
				return errbuf_set(err, "malformed form field");
		}
		p = amp + 1;
	}
	return 0;
}

static int
get_member(struct json_object *o, const char *kid, const char *kfirst,
    const char *klast, const char *kdob, struct sim_member *m,
    struct errbuf *err)
{
	if (get_str(o, kid, m->id, sizeof(m->id), err) == -1 ||
	    get_str(o, kfirst, m->first, sizeof(m->first), err) == -1 ||
	    get_str(o, klast, m->last, sizeof(m->last), err) == -1 ||
	    get_str(o, kdob, m->dob, sizeof(m->dob), err) == -1)
		return -1;
	return 0;
}

int
respond_parse_inquiry(const void *buf, size_t len, struct sim_request *out,
    struct errbuf *err)
{
	struct json_object *root, *in;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = parse_json(buf, len, err)) == NULL)
		return -1;
	in = get_obj(get_obj(root, "variables"), "searchClaimInput");
	if (in == NULL) {
		errbuf_set(err, "variables.searchClaimInput is required");
		goto out;
	}
	if (get_str(in, "claimNumber", out->claim, sizeof(out->claim),
	    err) == -1 ||
	    get_str(in, "payerId", out->payer, sizeof(out->payer), err) == -1 ||
	    get_member(in, "memberId", "memberFirstName", "memberLastName",
	    "memberDateOfBirth", &out->member, err) == -1)
		goto out;
	if (out->claim[0] == '\0') {
		errbuf_set(err, "claimNumber is required");
		goto out;
	}
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

int
respond_parse_lookup(const void *buf, size_t len, struct sim_request *out,
    struct errbuf *err)
{
	struct json_object *root;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = parse_json(buf, len, err)) == NULL)
		return -1;
	if (get_str(root, "claimNumber", out->claim, sizeof(out->claim),
	    err) == -1 ||
	    get_str(root, "payerId", out->payer, sizeof(out->payer), err) == -1)
		goto out;
	if (out->claim[0] == '\0') {
		errbuf_set(err, "claimNumber is required");
		goto out;
	}
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

int
respond_parse_member_search(const void *buf, size_t len,
    struct sim_request *out, struct sim_date *dob, struct errbuf *err)
{
	struct json_object *root;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = parse_json(buf, len, err)) == NULL)
		return -1;
	if (get_str(root, "payerId", out->payer, sizeof(out->payer),
	    err) == -1 ||
	    get_str(root, "memberId", out->member.id, sizeof(out->member.id),
	    err) == -1 ||
	    get_str(root, "memberDateOfBirth", out->member.dob,
	    sizeof(out->member.dob), err) == -1)
		goto out;
	if (out->member.id[0] == '\0' || out->member.dob[0] == '\0') {
		errbuf_set(err, "memberId and memberDateOfBirth are required");
		goto out;
	}
	if (outcome_parse_date(out->member.dob, dob) == -1) {
		errbuf_set(err, "memberDateOfBirth is not a date");
		goto out;
	}
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

int
respond_parse_x12(const void *buf, size_t len, struct sim_request *out,
    struct errbuf *err)
{
	struct json_object *root, *prov, *p0, *sub;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = parse_json(buf, len, err)) == NULL)
		return -1;
	if (get_str(root, "controlNumber", out->control,
	    sizeof(out->control), err) == -1 ||
	    get_str(root, "tradingPartnerServiceId", out->payer,
	    sizeof(out->payer), err) == -1 ||
	    get_str(get_obj(root, "encounter"), "tradingPartnerClaimNumber",
	    out->claim, sizeof(out->claim), err) == -1)
		goto out;
	if (out->control[0] == '\0') {
		errbuf_set(err, "controlNumber is required");
		goto out;
	}
	if ((sub = get_obj(root, "subscriber")) == NULL) {
		errbuf_set(err, "subscriber is required");
		goto out;
	}
	if (get_member(sub, "memberId", "firstName", "lastName",
	    "dateOfBirth", &out->member, err) == -1)
		goto out;
	if (json_object_object_get_ex(root, "providers", &prov) &&
	    json_object_is_type(prov, json_type_array) &&
	    json_object_array_length(prov) > 0 &&
	    (p0 = json_object_array_get_idx(prov, 0)) != NULL &&
	    json_object_is_type(p0, json_type_object) &&
	    get_str(p0, "taxId", out->tin, sizeof(out->tin), err) == -1)
		goto out;
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

static void
upper_copy(const char *s, char *dst, size_t dstsz)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < dstsz; i++)
		dst[i] = (char)toupper((unsigned char)s[i]);
	dst[i] = '\0';
}

void
respond_member(const struct sim_outcome *o, const struct sim_member *in,
    int x12, struct sim_member *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->id, in->id, sizeof(out->id));
	upper_copy(in->first, out->first, sizeof(out->first));
	upper_copy(in->last, out->last, sizeof(out->last));
	memcpy(out->dob, in->dob, sizeof(out->dob));
	if (o->force != SIM_FORCE_MISMATCH)
		return;
	/* Different from whatever was sent, even in another case. */
	snprintf(out->last, sizeof(out->last), "%s",
	    strcmp(out->last, "MISMATCHSON") == 0 ? "OTHERMAN" : "MISMATCHSON");
	if (x12)
		snprintf(out->dob, sizeof(out->dob), "%s",
		    strcmp(in->dob, "19010101") == 0 ? "19020202" : "19010101");
	else
		snprintf(out->dob, sizeof(out->dob), "%s",
		    strcmp(in->dob, "01/01/1901") == 0 ? "02/02/1902" :
		    "01/01/1901");
}

static void
add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void
add_date(struct json_object *o, const char *k, const struct sim_date *d,
    enum sim_datefmt f)
{
	char buf[16];

	outcome_fmt_date(d, f, buf, sizeof(buf));
	add_str(o, k, buf);
}

static void
add_amount(struct json_object *o, const char *k, long cents)
{
	char buf[24];

	outcome_fmt_amount(cents, buf, sizeof(buf));
	add_str(o, k, buf);
}

/* Serialises and frees root; returns a malloc'd string or NULL. */
static char *
finish(struct json_object *root)
{
	const char *s;
	char *r = NULL;

	if (root == NULL)
		return NULL;
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s != NULL)
		r = strdup(s);
	json_object_put(root);
	return r;
}

char *
respond_token(const char *token, long expires_in)
{
	struct json_object *r = json_object_new_object();

	add_str(r, "access_token", token);
	add_str(r, "token_type", "bearer");
	json_object_object_add(r, "expires_in",
	    json_object_new_int64(expires_in));
	return finish(r);
}

char *
respond_error(const char *code, const char *desc)
{
	struct json_object *r, *arr, *e;

	r = json_object_new_object();
	arr = json_object_new_array();
	e = json_object_new_object();
	add_str(e, "code", code);
	add_str(e, "description", desc);
	json_object_array_add(arr, e);
	json_object_object_add(r, "errors", arr);
	return finish(r);
}

static struct json_object *
claim_object(const struct sim_outcome *o, const struct sim_request *q)
{
	struct json_object *c, *mem, *ev, *tot, *pays, *pay, *cw, *cw0;
	struct sim_member m;

	c = json_object_new_object();
	add_str(c, "claimNumber", q->claim);
	add_str(c, "claimStatus", outcome_status_name(o->status));
	respond_member(o, &q->member, 0, &m);
	mem = json_object_new_object();
	add_str(mem, "subscriberId", m.id);
	add_str(mem, "firstName", m.first);
	add_str(mem, "lastName", m.last);
	add_str(mem, "dateOfBirth", m.dob);
	json_object_object_add(c, "member", mem);

	ev = json_object_new_object();
	add_date(ev, "receivedDate", &o->received, SIM_DATE_US);
	if (o->has_processed)
		add_date(ev, "processedDate", &o->processed, SIM_DATE_US);
	else
		add_str(ev, "processedDate", "");
	add_date(ev, "serviceStartDate", &o->service_start, SIM_DATE_US);
	add_date(ev, "serviceEndDate", &o->service_end, SIM_DATE_US);
	json_object_object_add(c, "claimEvents", ev);

	tot = json_object_new_object();
	add_amount(tot, "totalBilledChargeAmount", o->billed);
	add_amount(tot, "totalAllowedAmount", o->allowed);
	add_amount(tot, "totalPaidAmount", o->paid);
	add_amount(tot, "totalPatientResponsibilityAmount", o->patresp);
	json_object_object_add(c, "claimLevelTotalAmount", tot);

	pays = json_object_new_array();
	if (o->has_payment) {
		pay = json_object_new_object();
		add_str(pay, "paymentNumber", o->payment_number);
		add_date(pay, "paymentIssueDate", &o->payment_date,
		    SIM_DATE_US);
		add_amount(pay, "paymentAmount", o->paid);
		json_object_array_add(pays, pay);
	}
	json_object_object_add(c, "payments", pays);

	cw = json_object_new_array();
	cw0 = json_object_new_object();
	add_str(cw0, "claim507Code", o->c507);
	add_str(cw0, "claim507CodeDesc", o->c507_desc);
	add_str(cw0, "claim508Code", o->c508);
	add_str(cw0, "claim508CodeDesc", o->c508_desc);
	json_object_array_add(cw, cw0);
	json_object_object_add(c, "claimStatusCrosswalkData", cw);
	return c;
}

char *
respond_inquiry(const struct sim_outcome *o, const struct sim_request *q)
{
	struct json_object *r, *data, *sc, *claims, *pg;

	claims = json_object_new_array();
	if (o->status != SIM_NOT_FOUND)
		json_object_array_add(claims, claim_object(o, q));
	pg = json_object_new_object();
	json_object_object_add(pg, "hasMoreRecords",
	    json_object_new_boolean(0));
	sc = json_object_new_object();
	json_object_object_add(sc, "claims", claims);
	json_object_object_add(sc, "pagination", pg);
	data = json_object_new_object();
	json_object_object_add(data, "searchClaim", sc);
	r = json_object_new_object();
	json_object_object_add(r, "data", data);
	return finish(r);
}

char *
respond_x12(const struct sim_outcome *o, const struct sim_request *q)
{
	struct json_object *r, *payer, *sub, *claims, *c, *st;
	struct sim_member m;

	r = json_object_new_object();
	add_str(r, "controlNumber", q->control);
	add_str(r, "tradingPartnerServiceId", q->payer[0] != '\0' ?
	    q->payer : UHC_PAYER_ID);
	payer = json_object_new_object();
	add_str(payer, "organizationName", "UnitedHealthcare");
	add_str(payer, "payerIdentification", UHC_PAYER_ID);
	json_object_object_add(r, "payer", payer);

	respond_member(o, &q->member, 1, &m);
	sub = json_object_new_object();
	add_str(sub, "memberId", m.id);
	add_str(sub, "firstName", m.first);
	add_str(sub, "lastName", m.last);
	add_str(sub, "dateOfBirth", m.dob);
	json_object_object_add(r, "subscriber", sub);

	st = json_object_new_object();
	add_str(st, "statusCategoryCode", o->c507);
	add_str(st, "statusCategoryCodeValue", o->c507_desc);
	add_str(st, "statusCode", o->c508);
	add_str(st, "statusCodeValue", o->c508_desc);
	add_str(st, "entityCode", "PR");
	if (o->status != SIM_NOT_FOUND) {
		add_date(st, "effectiveDate", o->has_processed ?
		    &o->processed : &o->received, SIM_DATE_X12);
		add_amount(st, "submittedAmount", o->billed);
		add_amount(st, "amountPaid", o->paid);
		if (o->has_payment) {
			add_date(st, "paidDate", &o->payment_date,
			    SIM_DATE_X12);
			add_date(st, "checkIssueDate", &o->payment_date,
			    SIM_DATE_X12);
			add_str(st, "checkNumber", o->payment_number);
		}
	}
	c = json_object_new_object();
	json_object_object_add(c, "claimStatus", st);
	add_str(c, "tradingPartnerClaimNumber", q->claim);
	if (o->status != SIM_NOT_FOUND) {
		char b[16], e[16], both[40];

		outcome_fmt_date(&o->service_start, SIM_DATE_X12, b, sizeof(b));
		outcome_fmt_date(&o->service_end, SIM_DATE_X12, e, sizeof(e));
		snprintf(both, sizeof(both), "%s-%s", b, e);
		add_str(c, "claimServiceDate", both);
	}
	claims = json_object_new_array();
	json_object_array_add(claims, c);
	json_object_object_add(r, "claims", claims);
	return finish(r);
}

static struct json_object *
line_object(const struct sim_line *l)
{
	struct json_object *o, *arr, *adj;
	int i;

	o = json_object_new_object();
	json_object_object_add(o, "lineNumber", json_object_new_int(l->number));
	add_str(o, "procedureCode", l->code);
	arr = json_object_new_array();
	if (l->modifier[0] != '\0')
		json_object_array_add(arr, json_object_new_string(l->modifier));
	json_object_object_add(o, "modifiers", arr);
	json_object_object_add(o, "units", json_object_new_int(l->units));
	add_date(o, "serviceDate", &l->service_date, SIM_DATE_US);
	add_amount(o, "chargedAmt", l->charged);
	add_amount(o, "allowedAmt", l->allowed);
	add_amount(o, "paidAmt", l->paid);
	add_amount(o, "ptntRespAmt", l->patresp);
	arr = json_object_new_array();
	for (i = 0; i < l->nadj; i++) {
		adj = json_object_new_object();
		add_str(adj, "groupCode", l->adj[i].group);
		add_str(adj, "reasonCode", l->adj[i].reason);
		add_amount(adj, "amount", l->adj[i].amount);
		json_object_array_add(arr, adj);
	}
	json_object_object_add(o, "adjustments", arr);
	arr = json_object_new_array();
	if (l->remark[0] != '\0')
		json_object_array_add(arr, json_object_new_string(l->remark));
	json_object_object_add(o, "remarkCodes", arr);
	return o;
}

char *
respond_details(const struct sim_outcome *o, const struct sim_request *q)
{
	struct sim_remit rm;
	struct json_object *r, *c, *sd, *tot, *lines;
	int i;

	remit_for(o, &rm);
	c = json_object_new_object();
	add_str(c, "claimNumber", q->claim);
	add_str(c, "payerClaimControlNumber", rm.control);
	add_str(c, "claimStatus", outcome_status_name(o->status));
	add_str(c, "claimFrequencyCode", "1");
	sd = json_object_new_object();
	add_date(sd, "from", &o->service_start, SIM_DATE_US);
	add_date(sd, "to", &o->service_end, SIM_DATE_US);
	json_object_object_add(c, "serviceDates", sd);
	tot = json_object_new_object();
	add_amount(tot, "totalChargedAmt", o->billed);
	add_amount(tot, "totalAllowdAmt", o->allowed);
	add_amount(tot, "totalPaidAmt", o->paid);
	add_amount(tot, "totalPtntRespAmt", o->patresp);
	add_amount(tot, "deductibleAmt", rm.deductible);
	add_amount(tot, "copayAmt", rm.copay);
	add_amount(tot, "coinsuranceAmt", rm.coinsurance);
	json_object_object_add(c, "totals", tot);
	lines = json_object_new_array();
	for (i = 0; i < rm.nlines; i++)
		json_object_array_add(lines, line_object(&rm.lines[i]));
	json_object_object_add(c, "lines", lines);
	r = json_object_new_object();
	json_object_object_add(r, "claim", c);
	return finish(r);
}

/* Payee of every simulated payment (a valid NPI check digit). */
#define PAYEE_NAME	"DEMO MEDICAL GROUP"
#define PAYEE_NPI	"1234567893"

char *
respond_payment(const struct sim_outcome *o, const struct sim_request *q,
    const char *payee_tin)
{
	struct sim_remit rm;
	struct json_object *r, *arr, *p;
	int i;

	remit_for(o, &rm);
	arr = json_object_new_array();
	for (i = 0; i < rm.npayments; i++) {
		const struct sim_payment *y = &rm.payments[i];

		p = json_object_new_object();
		add_str(p, "paymentNumber", y->number);
		add_str(p, "paymentMethod", y->method);
		add_date(p, "paymentIssueDate", &y->issue_date, SIM_DATE_US);
		add_amount(p, "paymentAmount", y->amount);
		add_amount(p, "claimPaidAmount", y->claim_paid);
		add_str(p, "payeeName", PAYEE_NAME);
		add_str(p, "payeeNpi", PAYEE_NPI);
		add_str(p, "payeeTaxId", payee_tin ? payee_tin : "");
		/* The check's or trace's digits. */
		add_str(p, "draftNumber", y->number + 3);
		add_str(p, "status", y->status);
		json_object_array_add(arr, p);
	}
	r = json_object_new_object();
	add_str(r, "claimNumber", q->claim);
	json_object_object_add(r, "payments", arr);
	return finish(r);
}

char *
respond_x12_system(const struct sim_request *q, int busy)
{
	struct sim_outcome e;

	/* The shape of a not-found answer, with the E1/E0 codes. */
	outcome_for("NOTFOUND", 8, &e);
	if (busy) {
		e.c507 = "E1";
		e.c507_desc = "Response not possible - System Status";
		e.c508 = "484";
		e.c508_desc = "Business application currently not available.";
	} else {
		e.c507 = "E0";
		e.c507_desc = "Response not possible - error on submitted "
		    "request data";
		e.c508 = "21";
		e.c508_desc = "Missing or invalid information.";
	}
	return respond_x12(&e, q);
}

char *
respond_member_search(const struct sim_outcome *o, int n)
{
	struct json_object *root, *arr, *c;
	int i;

	root = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		c = json_object_new_object();
		add_str(c, "claimNumber", o[i].found_as);
		add_str(c, "claimStatus",
		    outcome_status_name(o[i].member_status));
		add_date(c, "serviceDate", &o[i].member_service,
		    SIM_DATE_US);
		json_object_array_add(arr, c);
	}
	json_object_object_add(root, "claims", arr);
	return finish(root);
}

char *
respond_badjson(const char *claim)
{
	struct json_object *s = json_object_new_string(claim);
	char *r = NULL;
	size_t n;
	const char *cs;

	/* A body cut off mid-object, as a proxy timing out would send. */
	cs = json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN);
	n = strlen(cs) + 128;
	if ((r = malloc(n)) != NULL)
		snprintf(r, n, "{\"data\": {\"searchClaim\": {\"claims\": "
		    "[{\"claimNumber\": %s, \"claimStatus\": \"Proc", cs);
	json_object_put(s);
	return r;
}

char *
respond_badjson_lookup(const char *claim, int payment)
{
	struct json_object *s = json_object_new_string(claim);
	char *r = NULL;
	size_t n;
	const char *cs;

	cs = json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN);
	n = strlen(cs) + 128;
	if ((r = malloc(n)) != NULL && payment)
		snprintf(r, n, "{\"claimNumber\": %s, \"payments\": "
		    "[{\"paymentNumber\": \"EF", cs);
	else if (r != NULL)
		snprintf(r, n, "{\"claim\": {\"claimNumber\": %s, "
		    "\"claimStatus\": \"Proc", cs);
	json_object_put(s);
	return r;
}

/* "CO-45-70.00;PR-3-30.00", as the results store adjustments. */
static void
adj_text(const struct sim_line *l, char *buf, size_t sz)
{
	char amt[24];
	size_t o = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < l->nadj && o < sz; i++) {
		outcome_fmt_amount(l->adj[i].amount, amt, sizeof(amt));
		o += (size_t)snprintf(buf + o, sz - o, "%s%s-%s-%s",
		    i ? ";" : "", l->adj[i].group, l->adj[i].reason, amt);
	}
}

/* Appends code to a ";" list unless it is there already. */
static void
add_code(char *list, size_t sz, const char *code)
{
	const char *p;
	size_t n = strlen(code), len = strlen(list);

	if (n == 0)
		return;
	for (p = list; *p != '\0'; p += strcspn(p, ";"), p += *p == ';')
		if (strncmp(p, code, n) == 0 && (p[n] == ';' || p[n] == '\0'))
			return;
	if (len + n + 2 <= sz)
		snprintf(list + len, sz - len, "%s%s", len ? ";" : "", code);
}

/* The details and payments in --explain (after the status keys). */
static void
explain_remit(struct json_object *r, const struct sim_outcome *o)
{
	struct sim_remit rm;
	struct json_object *arr, *e;
	char carc[64] = "", rarc[64] = "", adj[128];
	long denied = 0, claim_paid = 0;
	int i, j, ndenied = 0;

	remit_for(o, &rm);
	add_str(r, "payer_claim_number", rm.control);
	add_amount(r, "deductible", rm.deductible);
	add_amount(r, "copay", rm.copay);
	add_amount(r, "coinsurance", rm.coinsurance);
	arr = json_object_new_array();
	for (i = 0; i < rm.nlines; i++) {
		const struct sim_line *l = &rm.lines[i];

		if (remit_line_denied(l)) {
			ndenied++;
			denied += l->charged;
		}
		for (j = 0; j < l->nadj; j++)
			if (strcmp(l->adj[j].group, "PR") != 0)
				add_code(carc, sizeof(carc), l->adj[j].reason);
		add_code(rarc, sizeof(rarc), l->remark);
		e = json_object_new_object();
		json_object_object_add(e, "line",
		    json_object_new_int(l->number));
		add_str(e, "code", l->code);
		add_str(e, "modifiers", l->modifier);
		json_object_object_add(e, "units",
		    json_object_new_int(l->units));
		add_date(e, "date", &l->service_date, SIM_DATE_ISO);
		add_amount(e, "charged", l->charged);
		add_amount(e, "allowed", l->allowed);
		add_amount(e, "paid", l->paid);
		add_amount(e, "patient_resp", l->patresp);
		adj_text(l, adj, sizeof(adj));
		add_str(e, "adjustments", adj);
		add_str(e, "remark_codes", l->remark);
		json_object_array_add(arr, e);
	}
	add_amount(r, "denied_amount", denied);
	json_object_object_add(r, "line_count", json_object_new_int(rm.nlines));
	json_object_object_add(r, "denied_line_count",
	    json_object_new_int(ndenied));
	add_str(r, "carc_codes", carc);
	add_str(r, "rarc_codes", rarc);
	json_object_object_add(r, "lines", arr);
	arr = json_object_new_array();
	for (i = 0; i < rm.npayments; i++) {
		const struct sim_payment *y = &rm.payments[i];

		if (strcmp(y->status, "Voided") != 0)
			claim_paid += y->claim_paid;
		e = json_object_new_object();
		add_str(e, "number", y->number);
		add_str(e, "method", y->method);
		add_date(e, "date", &y->issue_date, SIM_DATE_ISO);
		add_amount(e, "amount", y->amount);
		add_amount(e, "claim_paid", y->claim_paid);
		add_str(e, "status", y->status);
		json_object_array_add(arr, e);
	}
	add_amount(r, "claim_paid_amount", claim_paid);
	json_object_object_add(r, "void_reissue",
	    json_object_new_boolean(o->pay_kind == SIM_PAY_REISSUE));
	json_object_object_add(r, "eft_claims", json_object_new_int(
	    o->pay_kind == SIM_PAY_BATCH ? o->batch_claims :
	    o->pay_kind != SIM_PAY_NONE));
	json_object_object_add(r, "payments", arr);
}

/*
 * Which attempt of a client's not-found triage finds the claim
 * (found_by: as_sent, normalised, member_search or none), and how a
 * claim the claim routes do not find can be found.
 */
static void
explain_lookup(struct json_object *r, const struct sim_outcome *o)
{
	struct sim_outcome m[SIM_MEMBER_MAX];
	char how[64];

	add_str(r, "found_by", o->lookup == SIM_LOOKUP_NORMALISED ?
	    "normalised" : o->lookup == SIM_LOOKUP_MEMBER ? "member_search" :
	    o->status != SIM_NOT_FOUND ? "as_sent" : "none");
	switch (o->lookup) {
	case SIM_LOOKUP_NORMALISED:
		snprintf(how, sizeof(how), "found only as %s", o->found_as);
		add_str(r, "lookup", outcome_lookup_name(o->lookup));
		add_str(r, "how_found", how);
		add_str(r, "found_as", o->found_as);
		break;
	case SIM_LOOKUP_MEMBER:
		add_str(r, "lookup", outcome_lookup_name(o->lookup));
		add_str(r, "how_found", "found only by member search");
		add_str(r, "member_id", o->member_id);
		add_date(r, "member_dob", &o->member_dob, SIM_DATE_ISO);
		if (outcome_member_search(o->member_id, &o->member_dob,
		    o->epoch, m) > 0) {
			add_str(r, "member_claim_status",
			    outcome_status_name(m[0].member_status));
			add_date(r, "member_service_date", &m[0].member_service,
			    SIM_DATE_ISO);
		}
		break;
	default:
		break;
	}
}

char *
respond_explain(const char *claim, const char *first, const char *last)
{
	return respond_explain_epoch(claim, first, last, 0);
}

char *
respond_explain_epoch(const char *claim, const char *first,
    const char *last, long epoch)
{
	struct sim_outcome o;
	struct sim_csv c;
	struct json_object *r;
	char name[2 * SIM_MAX_FIELD + 2];
	int http;

	outcome_for_epoch(claim, strlen(claim), epoch, &o);
	outcome_csv(&o, &c);
	snprintf(name, sizeof(name), "%s%s%s", first ? first : "",
	    first && *first && last && *last ? " " : "", last ? last : "");

	r = json_object_new_object();
	add_str(r, "claim_number", claim);
	/* The output-CSV columns, exactly. */
	add_str(r, "status", c.status);
	add_str(r, "patient_name", name);
	add_str(r, "total_charged", c.total_charged);
	add_str(r, "total_paid", c.total_paid);
	add_str(r, "processed_date", c.processed_date);
	json_object_object_add(r, "success",
	    json_object_new_boolean(c.success));
	add_str(r, "error_message", c.error_message);
	json_object_object_add(r, "error_message_is_prefix",
	    json_object_new_boolean(c.error_is_prefix));
	/* What the payer says, for adapters' extended results. */
	add_str(r, "claim_status", outcome_status_name(o.status));
	json_object_object_add(r, "found",
	    json_object_new_boolean(o.status != SIM_NOT_FOUND));
	add_str(r, "forced", outcome_force_name(o.force));
	switch (o.force) {
	case SIM_FORCE_ERR5XX:
		http = o.force_code;
		break;
	case SIM_FORCE_RATELIMIT:
		http = 429;
		break;
	case SIM_FORCE_E401:
		http = 401;
		break;
	case SIM_FORCE_BUSY:
		http = 503;
		break;
	case SIM_FORCE_BADREQ:
		http = 400;
		break;
	default:
		http = 200;
		break;
	}
	/*
	 * Status of the first attempt (claim inquiry; the 277 route says
	 * BUSY and BADREQ inside a 200), and attempts until an answer
	 * (0: never).
	 */
	json_object_object_add(r, "first_http_status",
	    json_object_new_int(http));
	json_object_object_add(r, "attempts_to_answer",
	    json_object_new_int(o.force == SIM_FORCE_BADREQ ? 0 :
	    o.force == SIM_FORCE_ERR5XX || o.force == SIM_FORCE_BUSY ?
	    o.force_n + 1 : http == 200 ? 1 : 2));
	json_object_object_add(r, "hash", json_object_new_int64(o.hash));
	json_object_object_add(r, "bucket", json_object_new_int(
	    (int)(o.hash % 100)));
	/* The extended results columns an adapter can fill. */
	add_str(r, "x12_category", o.c507);
	add_str(r, "x12_category_desc", o.c507_desc);
	add_str(r, "x12_status_code", o.c508);
	add_str(r, "x12_status_desc", o.c508_desc);
	add_str(r, "check_number", o.has_payment ? o.payment_number : "");
	if (o.has_payment)
		add_date(r, "check_date", &o.payment_date, SIM_DATE_ISO);
	else
		add_str(r, "check_date", "");
	if (o.status != SIM_NOT_FOUND) {
		add_amount(r, "total_allowed", o.allowed);
		add_amount(r, "patient_responsibility", o.patresp);
		add_date(r, "received_date", &o.received, SIM_DATE_ISO);
		add_date(r, "service_start_date", &o.service_start,
		    SIM_DATE_ISO);
		add_date(r, "service_end_date", &o.service_end, SIM_DATE_ISO);
		explain_remit(r, &o);
	}
	explain_lookup(r, &o);
	/* Only past epoch 0, so that epoch 0 explains as before. */
	if (epoch != 0) {
		json_object_object_add(r, "epoch",
		    json_object_new_int64(epoch));
		json_object_object_add(r, "settled_epoch",
		    json_object_new_int(o.settled_epoch));
		json_object_object_add(r, "void_epoch",
		    json_object_new_int(o.void_epoch));
	}
	return finish(r);
}
