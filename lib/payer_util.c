/*
 * Small pure helpers the payer adapters share: amount formats,
 * member comparison, the failed-row result, and the adapter table.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "date.h"
#include "limits.h"
#include "payer_int.h"
#include "payer_uhc.h"
#include "payer_x12.h"

static const struct payer_adapter *const adapters[] = {
	&payer_uhc_adapter,
	&payer_uhc_details_adapter,
	&payer_uhc_payment_adapter,
	&payer_uhc_member_adapter,
	&payer_x12_adapter,
};

static const char *const txn_codes[PAYER_TXN__MAX] = {
	[PAYER_TXN_STATUS] = "CLAIM_STATUS",
	[PAYER_TXN_DETAILS] = "CLAIM_DETAILS",
	[PAYER_TXN_PAYMENT] = "CLAIM_PAYMENT",
	[PAYER_TXN_MEMBER] = "MEMBER_SEARCH",
};

int
payer_has_adapter(const char *provider, enum payer_txn txn)
{
	return payer_adapter_find(provider, payer_txn_code(txn)) != NULL;
}

const char *
payer_txn_code(enum payer_txn txn)
{
	return (unsigned)txn < PAYER_TXN__MAX ? txn_codes[txn] : NULL;
}

int
payer_txn_from_code(const char *code)
{
	int t;

	for (t = 0; code != NULL && t < PAYER_TXN__MAX; t++)
		if (strcasecmp(code, txn_codes[t]) == 0)
			return t;
	return -1;
}

void
payer_result_clear(struct payer_result *res)
{
	if (res->details != NULL)
		free(res->details->lines);
	free(res->details);
	res->details = NULL;
	if (res->payments != NULL)
		free(res->payments->payments);
	free(res->payments);
	res->payments = NULL;
}

const struct payer_adapter *
payer_adapter_find(const char *provider_code, const char *transaction_code)
{
	size_t i;

	if (provider_code == NULL || transaction_code == NULL)
		return NULL;
	for (i = 0; i < sizeof(adapters) / sizeof(adapters[0]); i++)
		if (strcasecmp(adapters[i]->provider_code,
		    provider_code) == 0 &&
		    strcasecmp(adapters[i]->transaction_code,
		    transaction_code) == 0)
			return adapters[i];
	return NULL;
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int
payer_amount_norm(const char *in, char *out, size_t outsz)
{
	const char *p = in, *dot;
	size_t ni, nf;
	int neg = 0;

	if (in == NULL || outsz == 0)
		return -1;
	out[0] = '\0';
	if (*p == '-') {
		neg = 1;
		p++;
	}
	dot = strchr(p, '.');
	ni = dot ? (size_t)(dot - p) : strlen(p);
	nf = dot ? strlen(dot + 1) : 0;
	/* numeric(12,2) holds 10 integer digits; payers send 2 decimals */
	if (ni == 0 || ni > 10 || nf > 2 || !all_digits(p, ni) ||
	    (dot && !all_digits(dot + 1, nf)))
		return -1;
	if ((size_t)snprintf(out, outsz, "%s%.*s.%.*s%.*s", neg ? "-" : "",
	    (int)ni, p, (int)nf, dot ? dot + 1 : "", (int)(2 - nf), "00") >=
	    outsz) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

void
payer_result_error(struct payer_result *res, const char *msg)
{
	res->success = 0;
	snprintf(res->status, sizeof(res->status), "Error");
	snprintf(res->lookup_result, sizeof(res->lookup_result),
	    "PAYER_ERROR");
	snprintf(res->error_message, sizeof(res->error_message), "%s", msg);
	res->total_charged[0] = res->total_paid[0] = '\0';
	res->processed_date[0] = '\0';
}

void
payer_result_mismatch(struct payer_result *res, const char *fields)
{
	res->member_match = 0;
	res->success = 0;
	snprintf(res->error_message, sizeof(res->error_message),
	    "Member data mismatch (%s)", fields);
}

void
payer_result_not_found(struct payer_result *res)
{
	res->success = 0;
	snprintf(res->status, sizeof(res->status), "Not Found");
	snprintf(res->lookup_result, sizeof(res->lookup_result), "NOT_FOUND");
	snprintf(res->error_message, sizeof(res->error_message),
	    "Claim not found in system");
	res->member_match = -1;
}

int
payer_request_check(const struct payer_credential *cred,
    const struct payer_claim *claim, struct errbuf *err)
{
	if (cred->tin == NULL || strlen(cred->tin) != 9 ||
	    strspn(cred->tin, "0123456789") != 9)
		return errbuf_set(err, "practice TIN is not 9 digits");
	if (claim->claim_number == NULL || claim->claim_number[0] == '\0')
		return errbuf_set(err, "claim_number is empty");
	return 0;
}

int
payer_request_body(struct payer_request *req, struct json_object *root,
    struct errbuf *err)
{
	const char *s;

	s = json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	req->body = s != NULL ? strdup(s) : NULL;
	json_object_put(root);
	if (req->body == NULL)
		return errbuf_set(err, "out of memory building the request");
	req->body_len = strlen(req->body);
	return 0;
}

/* Appends name to the comma-separated list in out. */
static void
list_add(char *out, size_t outsz, const char *name)
{
	size_t n;

	if (out == NULL || outsz == 0)
		return;
	n = strlen(out);
	snprintf(out + n, outsz - n, "%s%s", n > 0 ? ", " : "", name);
}

int
payer_member_compare(const struct payer_claim *claim, const char *first,
    const char *last, const char *dob, const char *member_id, char *why,
    size_t whysz)
{
	char a[11], b[11];
	int match = 1;

	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (first == NULL && last == NULL && dob == NULL && member_id == NULL)
		return -1;
	if (first != NULL && (claim->first_name == NULL ||
	    strcasecmp(first, claim->first_name) != 0)) {
		list_add(why, whysz, "first name");
		match = 0;
	}
	if (last != NULL && (claim->last_name == NULL ||
	    strcasecmp(last, claim->last_name) != 0)) {
		list_add(why, whysz, "last name");
		match = 0;
	}
	if (dob != NULL && (date_to_iso(dob, a) == -1 ||
	    date_to_iso(claim->date_of_birth, b) == -1 ||
	    strcmp(a, b) != 0)) {
		list_add(why, whysz, "date of birth");
		match = 0;
	}
	if (member_id != NULL && (claim->subscriber_id == NULL ||
	    strcasecmp(member_id, claim->subscriber_id) != 0)) {
		list_add(why, whysz, "subscriber id");
		match = 0;
	}
	return match;
}

void
payer_result_member(struct payer_result *res, const struct payer_claim *claim,
    struct json_object *member, const char *id_key)
{
	char fields[96];

	res->member_match = member == NULL ? -1 : payer_member_compare(claim,
	    payer_json_str(member, "firstName"),
	    payer_json_str(member, "lastName"),
	    payer_json_str(member, "dateOfBirth"),
	    payer_json_str(member, id_key), fields, sizeof(fields));
	if (res->member_match == 0)
		payer_result_mismatch(res, fields);
}

void
payer_copy_safe(char *dst, size_t dstsz, const char *src)
{
	size_t i, j = 0;

	if (dstsz == 0)
		return;
	for (i = 0; src != NULL && src[i] != '\0' && j + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)src[i];

		/* control characters would break log lines and CSV cells */
		dst[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	/* cut short: drop a UTF-8 sequence left incomplete */
	if (src != NULL && src[i] != '\0') {
		size_t k = j;

		while (k > 0 && ((unsigned char)dst[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0 && ((unsigned char)dst[k - 1] & 0xc0) == 0xc0) {
			unsigned char lead = (unsigned char)dst[k - 1];
			size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;

			if (j - (k - 1) < need)
				j = k - 1;
		}
	}
	dst[j] = '\0';
}

struct json_object *
payer_json_parse(const void *buf, size_t len)
{
	struct json_tokener *tok;
	struct json_object *obj;
	const char *p = buf;
	size_t off;

	if (len == 0 || len > PAYER_MAX_RESPONSE)
		return NULL;
	if ((tok = json_tokener_new_ex(JSON_MAX_DEPTH)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, p, (int)len);
	if (obj == NULL ||
	    json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(obj);
		json_tokener_free(tok);
		return NULL;
	}
	/* trailing garbage after the value means the body is not JSON */
	for (off = json_tokener_get_parse_end(tok); off < len; off++)
		if (!isspace((unsigned char)p[off])) {
			json_object_put(obj);
			json_tokener_free(tok);
			return NULL;
		}
	json_tokener_free(tok);
	return obj;
}

const char *
payer_json_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct json_object *
payer_json_get(struct json_object *obj, const char *key, int t)
{
	struct json_object *v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, (enum json_type)t))
		return NULL;
	return v;
}

void
payer_json_error_code(struct json_object *root, char *out, size_t outsz)
{
	struct json_object *errs, *e;
	const char *code;
	size_t i;

	out[0] = '\0';
	if ((errs = payer_json_get(root, "errors", json_type_array)) == NULL ||
	    json_object_array_length(errs) == 0)
		return;
	e = json_object_array_get_idx(errs, 0);
	if ((code = payer_json_str(e, "code")) == NULL)
		return;
	/* codes are identifiers; anything else could echo PHI back */
	for (i = 0; code[i] != '\0' && i + 1 < outsz; i++) {
		char c = code[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			break;
		out[i] = c;
	}
	out[i] = '\0';
}

void
payer_result_no_data(struct payer_result *res, struct json_object *root,
    const char *what)
{
	char code[96], msg[160];

	/* GraphQL and the 277 both report some errors inside a 200 */
	payer_json_error_code(root, code, sizeof(code));
	if (code[0] != '\0')
		snprintf(msg, sizeof(msg), "payer error %s", code);
	else
		snprintf(msg, sizeof(msg), "invalid payer response: no %s",
		    what);
	payer_result_error(res, msg);
}

int
payer_result_found(struct payer_result *res, struct json_object *c)
{
	const char *st;

	if ((st = payer_json_str(c, "claimStatus")) == NULL || st[0] == '\0') {
		payer_result_error(res,
		    "invalid payer response: no claimStatus");
		return -1;
	}
	res->success = 1;
	payer_copy_safe(res->status, sizeof(res->status), st);
	snprintf(res->lookup_result, sizeof(res->lookup_result), "FOUND");
	return 0;
}

struct json_object *
payer_json_body(const void *buf, size_t len, const char *key, int t,
    struct json_object **root, struct payer_result *res)
{
	struct json_object *v;

	if ((*root = payer_json_parse(buf, len)) == NULL) {
		payer_result_error(res, "payer returned malformed JSON");
		return NULL;
	}
	if ((v = payer_json_get(*root, key, t)) == NULL) {
		payer_result_no_data(res, *root, key);
		json_object_put(*root);
		*root = NULL;
	}
	return v;
}

enum payer_verdict
payer_classify_http(long http_status, const void *buf, size_t len, char *why,
    size_t whysz)
{
	struct json_object *root;
	char code[64];

	code[0] = '\0';
	if ((root = payer_json_parse(buf, len)) != NULL) {
		payer_json_error_code(root, code, sizeof(code));
		json_object_put(root);
	}
	switch (http_status) {
	case 401:
		snprintf(why, whysz, "rejected the access token (401)");
		return PAYER_REAUTH;
	case 408:
	case 425:
	case 500:
	case 502:
	case 503:
	case 504:
		snprintf(why, whysz, "error %ld", http_status);
		return PAYER_RETRY;
	case 429:
		snprintf(why, whysz, "rate limit (429)");
		return PAYER_RETRY;
	case 400:
	case 422:
		snprintf(why, whysz, "rejected the request (%ld%s%s)",
		    http_status, code[0] ? " " : "", code);
		return PAYER_FAIL;
	case 403:
		snprintf(why, whysz, "refused access (403%s%s)",
		    code[0] ? " " : "", code);
		return PAYER_FAIL;
	default:
		/* other 5xx are server trouble too; other 4xx will not heal */
		snprintf(why, whysz, "error %ld%s%s", http_status,
		    code[0] ? " " : "", code);
		return http_status >= 500 && http_status <= 599 ? PAYER_RETRY :
		    PAYER_FAIL;
	}
}

/* Upper bounds of the latency buckets in microseconds; then +Inf. */
static const long long lat_bound_us[PAYER_LAT_NBUCKETS - 1] = {
	50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000
};
static const char *const lat_le[PAYER_LAT_NBUCKETS] = {
	"0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"
};

int
payer_latency_bucket(long long usec)
{
	int i;

	for (i = 0; i < PAYER_LAT_NBUCKETS - 1; i++)
		if (usec <= lat_bound_us[i])
			return i;
	return PAYER_LAT_NBUCKETS - 1;
}

const char *
payer_latency_le(int i)
{
	if (i < 0 || i >= PAYER_LAT_NBUCKETS)
		return "+Inf";
	return lat_le[i];
}

void
payer_stats_latency(struct payer_stats *st, long long usec)
{
	if (usec < 0)
		usec = 0;
	st->lat_bucket[payer_latency_bucket(usec)]++;
	st->lat_sum_us += (unsigned long long)usec;
	st->lat_count++;
}

void
payer_stats_error(struct payer_stats *st, const char *cause)
{
	int i;

	if (st->nerr == PAYER_ERR_CAUSES)
		cause = "other";
	for (i = 0; i < st->nerr; i++)
		if (strncmp(st->err[i].cause, cause,
		    sizeof(st->err[i].cause) - 1) == 0)
			break;
	if (i == st->nerr) {
		/* the last entry is kept for "other" */
		if (st->nerr == PAYER_ERR_CAUSES - 1)
			cause = "other";
		snprintf(st->err[i].cause, sizeof(st->err[i].cause), "%s",
		    cause);
		st->err[i].n = 0;
		st->nerr++;
	}
	st->err[i].n++;
}

size_t
payer_latency_render(const char *name,
    const unsigned long long bucket[PAYER_LAT_NBUCKETS],
    unsigned long long sum_us, char *out, size_t outsz)
{
	unsigned long long cum = 0;
	size_t len = 0, room;
	int i, n;

	if (outsz > 0)
		out[0] = '\0';
	for (i = 0; i < PAYER_LAT_NBUCKETS; i++) {
		cum += bucket[i];
		room = len < outsz ? outsz - len : 0;
		n = snprintf(out + outsz - room, room,
		    "%s_bucket{le=\"%s\"} %llu\n", name, lat_le[i], cum);
		if (n > 0)
			len += (size_t)n;
	}
	room = len < outsz ? outsz - len : 0;
	n = snprintf(out + outsz - room, room,
	    "%s_sum %llu.%06llu\n%s_count %llu\n", name, sum_us / 1000000,
	    sum_us % 1000000, name, cum);
	if (n > 0)
		len += (size_t)n;
	return len;
}

void
payer_json_amount(char *dst, size_t dstsz, struct json_object *obj,
    const char *key)
{
	const char *s = payer_json_str(obj, key);

	if (s == NULL || payer_amount_norm(s, dst, dstsz) == -1)
		dst[0] = '\0';
}

void
payer_json_date(char dst[11], struct json_object *obj, const char *key)
{
	if (date_to_iso(payer_json_str(obj, key), dst) == -1)
		dst[0] = '\0';
}

struct json_object *
payer_json_pick(struct json_object *arr, const char *key, const char *value)
{
	size_t i, n = json_object_array_length(arr);
	const char *v;

	for (i = 0; i < n; i++) {
		v = payer_json_str(json_object_array_get_idx(arr, i), key);
		if (v != NULL && value != NULL && strcasecmp(v, value) == 0)
			return json_object_array_get_idx(arr, i);
	}
	return n > 0 ? json_object_array_get_idx(arr, 0) : NULL;
}
