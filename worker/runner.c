/*
 * The job runner: the run loop shared by claims.tasks.process_csv_file
 * (task_csv.c, all rows) and claims.tasks.process_csv_chunk
 * (task_chunk.c, a range of rows).
 *
 * PostgreSQL is the source of truth.  The run reads the rows that have
 * no result yet (so a re-run after a crash resumes where the last one
 * stopped and never asks the payer twice for a stored row), feeds them
 * to the payer engine, and stores results in batches: each batch
 * stores the rows and bumps the job counters in one call of
 * job_store_results() (lib/job.c), which counts only rows still without
 * a result, so the counters always equal the stored rows.
 *
 * The job's workflow says which payer calls a row gets: status (claim
 * status), details (claim details, whose answer also fills the status
 * columns), payment (status, then the payment for finalized claims) or
 * full (status, then details and payment for finalized claims).  A row
 * is fetched while any answer its workflow wants is missing, and only
 * the missing calls are sent; a status that rules out the later calls
 * is stored with NOT_REQUESTED (or NOT_FOUND) for them, so the row is
 * complete in one statement.  The calls after a status wait in a
 * follow-up queue that next_claim serves first.
 *
 * A row the payer does not find is triaged before it is stored as not
 * found (triage.c): asked again under its claim number's normal form
 * and by a member search, within payer.triage_max_calls.
 *
 * Every flush refreshes the job's heartbeat and reads its status back:
 * anything but PROCESSING (CANCELLING, or the job taken elsewhere)
 * stops the run.  A payer outage (many transient failures in a row)
 * pauses the run instead of failing every row: the failures of the
 * streak are dropped (the rows stay unprocessed), the job shows
 * waiting_for_payer, and the run resumes after a backoff.  A database
 * outage also pauses it: buffered results are kept and stored when the
 * database is back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json.h>
#include <sodium.h>

#include "config.h"
#include "db.h"
#include "job.h"
#include "log.h"
#include "payer.h"
#include "runner.h"
#include "triage.h"
#include "secrets.h"
#include "task_csv.h"
#include "task_db.h"
#include "util.h"

/* Rows fetched from PostgreSQL per query (keyset pagination). */
#define FETCH_ROWS		500
/* Results are stored every FLUSH_ROWS results or FLUSH_MS, first wins. */
#define FLUSH_ROWS		100
#define FLUSH_MS		250

/* One fetched page of rows; freed once all its claims are done. */
struct batch {
	PGresult	*res;
	int		 next;		/* next row to hand to the engine */
	int		 pending;	/* handed out or queued, not yet done */
	struct triage	*tri;		/* its rows' triage states */
	struct batch	*older;
};

/*
 * The columns of a fetched row (batch_fetch).  COL_MATCHED: the number
 * the payer knows the claim under (triage), for its follow-up calls.
 */
enum {
	COL_ROW, COL_CLAIM, COL_FIRST, COL_LAST, COL_DOB, COL_SUBSCRIBER,
	COL_SUCCESS, COL_NEED_DETAILS, COL_NEED_PAYMENT, COL_STATUS,
	COL_CATEGORY, COL_MATCHED, COL_FOUND_BY
};

/* Payer call counters kept per job: the transactions', then triage's. */
#define NCALLS		(PAYER_TXN__MAX + 1)
#define CALLS_TRIAGE	PAYER_TXN__MAX

enum workflow { WF_STATUS, WF_DETAILS, WF_PAYMENT, WF_FULL };

/* A details or payment call waiting for the engine (after its status). */
struct followup {
	struct batch	*b;
	struct payer_claim c;		/* strings borrowed from b */
};

struct run {
	PGconn		*db;
	const char	*job_id;
	struct task_ctx	*ctx;
	enum workflow	 workflow;
	struct payer_engine *pe;
	/* Requests per transaction (and triage) already counted in the job. */
	unsigned long	 calls_counted[NCALLS];
	struct followup	*fq;		/* follow-up queue, fq_head..fq_len */
	size_t		 fq_head, fq_len, fq_cap;
	struct batch	*feed;		/* newest batch, being handed out */
	long		 last_row;	/* highest row_number fetched */
	/* A chunk's rows range_lo..range_hi only; 0 = all. */
	long		 range_lo, range_hi;
	int		 exhausted;
	json_object	*results;	/* array of rows waiting to be stored */
	/* The flush sent and not answered yet (flush_collect). */
	json_object	*sent;
	unsigned long	 sent_calls[NCALLS];
	int		 sent_pending;
	long long	 last_flush_ms;
	long		 stored;
	int		 db_failed;
	int		 cancelled;	/* the job is no longer ours to run */
	/* Payer outage detection (see claim_done). */
	json_object	*streak_fail;	/* transient failures not stored yet */
	int		 streak;	/* transient failures in a row */
	int		 paused;	/* outage: hand out no more rows */
	int		 waiting;	/* job shows waiting_for_payer */
	int		 outage_threshold;
	struct triage_ctx tc;
	struct errbuf	 err;
};

/* The worker asked the task to stop (warm shutdown, soft time limit). */
static int
stopping(const struct run *r)
{
	return r->ctx != NULL && r->ctx->stop != NULL && *r->ctx->stop;
}

static void
batch_free_done(struct run *r)
{
	struct batch **bp = &r->feed->older, *b;

	/* Older batches are fully handed out; drop those with no claim left. */
	while ((b = *bp) != NULL) {
		if (b->pending == 0) {
			*bp = b->older;
			triage_free(b->tri);
			PQclear(b->res);
			free(b);
		} else
			bp = &b->older;
	}
}

static int	flush_collect(struct run *);

/* Fetches the next page of unprocessed rows; 0 when none are left. */
static int
batch_fetch(struct run *r)
{
	char last[32], limit[32], hi[32];
	const char *p[4] = { r->job_id, last, limit, hi };
	struct batch *b;
	PGresult *res;

	snprintf(last, sizeof(last), "%ld", r->last_row);
	snprintf(limit, sizeof(limit), "%d", FETCH_ROWS);
	snprintf(hi, sizeof(hi), "%ld", r->range_hi > 0 ? r->range_hi :
	    2147483647L);
	/* The rows open under the workflow (job_row_open() in SQL). */
	static const char *const open[] = {
		[WF_STATUS] = "success IS NULL",
		[WF_DETAILS] = "(success IS NULL OR (success AND "
		    "details_result IS NULL))",
		[WF_PAYMENT] = "(success IS NULL OR (success AND "
		    "payments_result IS NULL))",
		[WF_FULL] = "(success IS NULL OR (success AND "
		    "(details_result IS NULL OR payments_result IS NULL)))",
	};
	char sql[768];

	snprintf(sql, sizeof(sql), "SELECT row_number, claim_number, "
	    "first_name, last_name, date_of_birth, subscriber_id, "
	    "success IS NOT NULL, details_result IS NULL, "
	    "payments_result IS NULL, status, status_category_code, "
	    "COALESCE(matched_claim_number, claim_number), "
	    "COALESCE(found_by, '') "
	    "FROM csv_job_rows WHERE job_id = $1 AND %s "
	    /* a repeated claim number is checked once: its copy is the
	     * trigger's (sql/functions/job_state.sql). */
	    "AND duplicate_of IS NULL "
	    "AND row_number > $2 AND row_number <= $4 "
	    "ORDER BY row_number LIMIT $3", open[r->workflow]);
	if (flush_collect(r) == -1)
		return 0;
	res = db_exec(r->db, &r->err, sql, 4, p);
	if (res == NULL) {
		r->db_failed = 1;
		return 0;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		PQclear(res);
		r->db_failed = 1;
		return 0;
	}
	b->res = res;
	b->older = r->feed;
	r->feed = b;
	r->last_row = strtol(PQgetvalue(res, PQntuples(res) - 1, 0), NULL, 10);
	batch_free_done(r);
	return 1;
}

/* Whether the payer has finalized the claim (X12 category F*). */
static int
finalized(const char *status, const char *category)
{
	return strcasecmp(status, "Processed") == 0 ||
	    strcasecmp(status, "Denied") == 0 ||
	    strcasecmp(status, "Finalized") == 0 || category[0] == 'F';
}

/* Queues a details or payment call for the claim c of batch b. */
static int
followup_push(struct run *r, struct batch *b, const struct payer_claim *c,
    enum payer_txn txn)
{
	struct followup *f;
	size_t cap;

	if (r->fq_head == r->fq_len)
		r->fq_head = r->fq_len = 0;
	if (r->fq_len == r->fq_cap) {
		cap = r->fq_cap ? r->fq_cap * 2 : 64;
		if ((f = reallocarray(r->fq, cap, sizeof(*f))) == NULL)
			return -1;
		r->fq = f;
		r->fq_cap = cap;
	}
	f = &r->fq[r->fq_len++];
	f->b = b;
	f->c = *c;
	f->c.txn = txn;
	b->pending++;
	return 0;
}

/*
 * A claim found by member search only: the claim routes do not know its
 * number, so its details and payments are not asked for.
 */
#define NOTE_MEMBER	"not requested: found by member search"

/* Adds the "details" or "payments" part saying why a call is not made. */
static void
add_not_requested(json_object *o, const char *part, const char *result,
    const char *note)
{
	json_object *d = json_object_new_object();
	char key[32];

	snprintf(key, sizeof(key), "%s_result", part);
	json_object_object_add(d, key, json_object_new_string(result));
	snprintf(key, sizeof(key), "%s_note", part);
	json_object_object_add(d, key, json_object_new_string(note));
	json_object_object_add(o, part, d);
}

/*
 * A row whose status is stored: queues the details and payment calls
 * its workflow still wants.  A stored status that is not finalized
 * (no marker stored with it) gets its markers now.
 */
static void
row_followups(struct run *r, struct batch *b, int i,
    const struct payer_claim *c)
{
	int want_d = (r->workflow == WF_DETAILS || r->workflow == WF_FULL) &&
	    PQgetvalue(b->res, i, COL_NEED_DETAILS)[0] == 't';
	int want_p = (r->workflow == WF_PAYMENT || r->workflow == WF_FULL) &&
	    PQgetvalue(b->res, i, COL_NEED_PAYMENT)[0] == 't';
	char note[80];
	json_object *o;
	struct payer_claim m;
	int by_member;

	/* Found by triage: the later calls ask for the number that matched. */
	m = *c;
	m.claim_number = PQgetvalue(b->res, i, COL_MATCHED);
	c = &m;
	by_member = strcmp(PQgetvalue(b->res, i, COL_FOUND_BY),
	    "member_search") == 0;
	if (by_member || !finalized(PQgetvalue(b->res, i, COL_STATUS),
	    PQgetvalue(b->res, i, COL_CATEGORY))) {
		if (by_member)
			snprintf(note, sizeof(note), "%s", NOTE_MEMBER);
		else
			snprintf(note, sizeof(note),
			    "not requested: claim is %s",
			    PQgetvalue(b->res, i, COL_STATUS));
		o = json_object_new_object();
		json_object_object_add(o, "row_number",
		    json_object_new_int64(c->row_number));
		if (want_d)
			add_not_requested(o, "details", "NOT_REQUESTED", note);
		if (want_p)
			add_not_requested(o, "payments", "NOT_REQUESTED", note);
		json_object_array_add(r->results, o);
		return;
	}
	if (want_d && followup_push(r, b, c, PAYER_TXN_DETAILS) == -1)
		r->db_failed = 1;
	if (want_p && followup_push(r, b, c, PAYER_TXN_PAYMENT) == -1)
		r->db_failed = 1;
}

/* payer_next_fn: hands the engine the next call: follow-ups first. */
static int
next_claim(void *arg, struct payer_claim *c)
{
	struct run *r = arg;
	struct batch *b;
	int i;

	for (;;) {
		if (r->paused || r->cancelled || r->db_failed)
			return 0;
		if (r->fq_head < r->fq_len) {
			*c = r->fq[r->fq_head++].c;
			return 1;
		}
		if (r->exhausted)
			return 0;
		if (r->feed == NULL ||
		    r->feed->next >= PQntuples(r->feed->res)) {
			if (!batch_fetch(r)) {
				r->exhausted = 1;
				return 0;
			}
		}
		b = r->feed;
		i = b->next++;
		c->row_number = strtol(PQgetvalue(b->res, i, COL_ROW), NULL,
		    10);
		c->claim_number = PQgetvalue(b->res, i, COL_CLAIM);
		c->first_name = PQgetvalue(b->res, i, COL_FIRST);
		c->last_name = PQgetvalue(b->res, i, COL_LAST);
		c->date_of_birth = PQgetvalue(b->res, i, COL_DOB);
		c->subscriber_id = PQgetvalue(b->res, i, COL_SUBSCRIBER);
		if (PQgetvalue(b->res, i, COL_SUCCESS)[0] != 't') {
			c->txn = r->workflow == WF_DETAILS ?
			    PAYER_TXN_DETAILS : PAYER_TXN_STATUS;
			b->pending++;
			return 1;
		}
		/* Status stored: only the calls still missing. */
		row_followups(r, b, i, c);
	}
}

/* Adds a result field: a JSON string, or null when empty. */
static void
add_str(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key,
	    value[0] ? json_object_new_string(value) : NULL);
}

/* An amount "1500.00" (as the adapters write them) in cents; "" is 0. */
static long long
cents(const char *amount)
{
	const char *p = amount;
	long long c = 0;
	int neg = 0, dec = -1;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; *p != '\0' && dec < 2; p++) {
		if (*p == '.' && dec < 0)
			dec = 0;
		else if (*p >= '0' && *p <= '9') {
			c = c * 10 + (*p - '0');
			if (dec >= 0)
				dec++;
		} else
			break;
	}
	for (dec = dec < 0 ? 0 : dec; dec < 2; dec++)
		c *= 10;
	return neg ? -c : c;
}

static json_object *
json_cents(long long c)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%s%lld.%02lld", c < 0 ? "-" : "",
	    llabs(c) / 100, llabs(c) % 100);
	return json_object_new_string(buf);
}

/*
 * Appends the codes of the ;-separated list codes to list (size sz,
 * ;-separated) unless already there.
 */
static void
codes_add(char *list, size_t sz, const char *codes)
{
	char code[64], *tok, *save, *have, *hs;
	char copy[512];
	size_t n;
	int seen;

	snprintf(code, sizeof(code), "%s", codes);
	for (tok = strtok_r(code, ";", &save); tok != NULL;
	    tok = strtok_r(NULL, ";", &save)) {
		seen = 0;
		snprintf(copy, sizeof(copy), "%s", list);
		for (have = strtok_r(copy, ";", &hs); have != NULL && !seen;
		    have = strtok_r(NULL, ";", &hs))
			seen = strcmp(have, tok) == 0;
		n = strlen(list);
		if (!seen && n + strlen(tok) + 2 <= sz)
			snprintf(list + n, sz - n, "%s%s", n ? ";" : "", tok);
	}
}

/* The "details" part of a CLAIM_DETAILS answer, derived columns too. */
static json_object *
details_part(const struct payer_result *pr)
{
	const struct payer_details *d = pr->details;
	char carc[256] = "", rarc[256] = "", adj[512], lcarc[128];
	json_object *o, *lines, *l;
	long long denied_amount = 0;
	int i, j, ndenied = 0;
	size_t n;

	o = json_object_new_object();
	if (d == NULL) {
		/* Not found, or the call failed. */
		json_object_object_add(o, "details_result",
		    json_object_new_string(pr->lookup_result[0] ?
		    pr->lookup_result : "PAYER_ERROR"));
		json_object_object_add(o, "details_note",
		    pr->error_message[0] ?
		    json_object_new_string(pr->error_message) : NULL);
		return o;
	}
	json_object_object_add(o, "details_result",
	    json_object_new_string("FOUND"));
	add_str(o, "service_from", d->service_from);
	add_str(o, "service_to", d->service_to);
	add_str(o, "deductible", d->deductible);
	add_str(o, "copay", d->copay);
	add_str(o, "coinsurance", d->coinsurance);
	lines = json_object_new_array();
	for (i = 0; i < d->nlines; i++) {
		const struct payer_line *pl = &d->lines[i];
		int denied = 0;

		adj[0] = lcarc[0] = '\0';
		for (j = 0; j < pl->nadj && j < PAYER_LINE_MAX_ADJ; j++) {
			/*
			 * Denied: nothing paid of a charge, and the payer (not
			 * the patient's share, not the fee schedule's 45) took
			 * it.  A line the patient pays in full is not denied.
			 */
			if (strcmp(pl->adj[j].group, "PR") != 0 &&
			    strcmp(pl->adj[j].reason, "45") != 0 &&
			    cents(pl->paid) == 0 && cents(pl->charged) > 0)
				denied = 1;
			n = strlen(adj);
			snprintf(adj + n, sizeof(adj) - n, "%s%s-%s-%s",
			    n ? ";" : "", pl->adj[j].group, pl->adj[j].reason,
			    pl->adj[j].amount);
			n = strlen(lcarc);
			snprintf(lcarc + n, sizeof(lcarc) - n, "%s%s",
			    n ? ";" : "", pl->adj[j].reason);
			/* The claim's CARCs: the payer's adjustments, not
			 * the patient's share (PR). */
			if (strcmp(pl->adj[j].group, "PR") != 0)
				codes_add(carc, sizeof(carc),
				    pl->adj[j].reason);
		}
		codes_add(rarc, sizeof(rarc), pl->remark_codes);
		if (denied) {
			ndenied++;
			denied_amount += cents(pl->charged);
		}
		l = json_object_new_object();
		json_object_object_add(l, "line_number",
		    json_object_new_int(pl->line_number));
		add_str(l, "procedure_code", pl->procedure_code);
		add_str(l, "modifiers", pl->modifiers);
		add_str(l, "units", pl->units);
		add_str(l, "service_date", pl->service_date);
		add_str(l, "charged", pl->charged);
		add_str(l, "allowed", pl->allowed);
		add_str(l, "paid", pl->paid);
		add_str(l, "patient_resp", pl->patient_resp);
		add_str(l, "adjustments", adj);
		add_str(l, "carc_codes", lcarc);
		add_str(l, "remark_codes", pl->remark_codes);
		json_object_object_add(l, "denied",
		    json_object_new_boolean(denied));
		json_object_array_add(lines, l);
	}
	json_object_object_add(o, "line_count",
	    json_object_new_int(d->nlines));
	json_object_object_add(o, "denied_line_count",
	    json_object_new_int(ndenied));
	json_object_object_add(o, "denied_amount", json_cents(denied_amount));
	add_str(o, "carc_codes", carc);
	add_str(o, "rarc_codes", rarc);
	json_object_object_add(o, "lines", lines);
	return o;
}

/* The "payments" part of a CLAIM_PAYMENT answer, derived columns too. */
static json_object *
payments_part(const struct payer_result *pr)
{
	const struct payer_payments *pp = pr->payments;
	char methods[64] = "", numbers[1024] = "", dates[1024] = "";
	json_object *o, *list, *e;
	long long paid = 0;
	int i, void_reissue = 0;
	size_t n;

	o = json_object_new_object();
	if (pp == NULL) {
		json_object_object_add(o, "payments_result",
		    json_object_new_string(pr->lookup_result[0] ?
		    pr->lookup_result : "PAYER_ERROR"));
		json_object_object_add(o, "payments_note",
		    pr->error_message[0] ?
		    json_object_new_string(pr->error_message) : NULL);
		return o;
	}
	json_object_object_add(o, "payments_result",
	    json_object_new_string("FOUND"));
	list = json_object_new_array();
	for (i = 0; i < pp->npayments; i++) {
		const struct payer_payment *p = &pp->payments[i];

		codes_add(methods, sizeof(methods), p->method);
		n = strlen(numbers);
		snprintf(numbers + n, sizeof(numbers) - n, "%s%s",
		    n ? ";" : "", p->payment_number);
		n = strlen(dates);
		snprintf(dates + n, sizeof(dates) - n, "%s%s",
		    n ? ";" : "", p->issue_date);
		if (strcasecmp(p->status, "Voided") != 0)
			paid += cents(p->claim_paid_amount);
		if (strcasecmp(p->status, "Voided") == 0 ||
		    strcasecmp(p->status, "Reissued") == 0)
			void_reissue = 1;
		e = json_object_new_object();
		json_object_object_add(e, "seq", json_object_new_int(i + 1));
		add_str(e, "payment_number", p->payment_number);
		add_str(e, "payment_method", p->method);
		add_str(e, "issue_date", p->issue_date);
		add_str(e, "payment_amount", p->payment_amount);
		add_str(e, "claim_paid_amount", p->claim_paid_amount);
		add_str(e, "status", p->status);
		add_str(e, "payee_name", p->payee_name);
		json_object_array_add(list, e);
	}
	add_str(o, "payment_method", methods);
	add_str(o, "payment_numbers", numbers);
	add_str(o, "payment_dates", dates);
	json_object_object_add(o, "claim_paid_amount", json_cents(paid));
	json_object_object_add(o, "void_reissue",
	    json_object_new_boolean(void_reissue));
	json_object_object_add(o, "list", list);
	return o;
}

/* The status read back from the job: anything but PROCESSING stops us. */
static void
run_status_seen(struct run *r, const char *status)
{
	if (strcmp(status, "PROCESSING") != 0) {
		if (!r->cancelled)
			log_info("job no longer processing job=%s status=%s",
			    r->job_id, status[0] != '\0' ? status : "gone");
		r->cancelled = 1;
	}
}

/*
 * A failure that says the payer is unreachable or overloaded rather
 * than something about the row: timeouts, connection errors, 5xx, 429.
 */
static int
transient_failure(const struct payer_result *pr)
{
	if (pr->success || strcmp(pr->lookup_result, "PAYER_ERROR") != 0 ||
	    pr->attempts == 0)
		return 0;
	return pr->http_status == 0 || pr->http_status == 408 ||
	    pr->http_status == 429 || pr->http_status >= 500;
}

/*
 * Waits for the answer of the flush sent last, if any: its rows are
 * stored and counted then.  On failure they go back to the buffer, to
 * be sent again once the database is back (wait_db).  0 or -1.
 */
static int
flush_collect(struct run *r)
{
	char status[JOB_STATUS_MAX];
	size_t i, n;

	if (!r->sent_pending)
		return 0;
	r->sent_pending = 0;
	n = json_object_array_length(r->sent);
	if (job_store_results_recv(r->db, &r->err, status) == -1) {
		for (i = 0; i < n; i++)
			json_object_array_add(r->results, json_object_get(
			    json_object_array_get_idx(r->sent, i)));
		json_object_put(r->sent);
		r->sent = NULL;
		r->db_failed = 1;
		return -1;
	}
	memcpy(r->calls_counted, r->sent_calls, sizeof(r->calls_counted));
	run_status_seen(r, status);
	r->stored += n;
	json_object_put(r->sent);
	r->sent = NULL;
	return 0;
}

/*
 * Sends the buffered results and the payer requests sent since the last
 * flush (one statement; see job_store_results()), after collecting the
 * previous flush's answer: the server stores one batch while the payer
 * answers the next (the job status it returns is seen one flush later).
 */
static int
flush(struct run *r)
{
	/* member searches are always triage calls */
	static const char *const key[NCALLS] = {
		[PAYER_TXN_STATUS] = "calls_status",
		[PAYER_TXN_DETAILS] = "calls_details",
		[PAYER_TXN_PAYMENT] = "calls_payment",
		[CALLS_TRIAGE] = "calls_triage"
	};
	char calls[160];
	struct payer_stats st;
	unsigned long now[NCALLS];
	size_t n = 0;
	int t;

	if (flush_collect(r) == -1)
		return -1;
	calls[0] = '\0';
	memcpy(r->sent_calls, r->calls_counted, sizeof(r->sent_calls));
	if (r->pe != NULL) {
		payer_engine_stats(r->pe, &st);
		memcpy(now, st.requests_txn, sizeof(st.requests_txn));
		now[CALLS_TRIAGE] = st.requests_triage;
		for (t = 0; t < NCALLS; t++) {
			if (key[t] == NULL || now[t] == r->calls_counted[t])
				continue;
			n = strlen(calls);
			snprintf(calls + n, sizeof(calls) - n, "%s\"%s\": %lu",
			    n ? ", " : "{", key[t],
			    now[t] - r->calls_counted[t]);
		}
		if (calls[0] != '\0') {
			n = strlen(calls);
			snprintf(calls + n, sizeof(calls) - n, "}");
		}
		memcpy(r->sent_calls, now, sizeof(r->sent_calls));
	}
	if (json_object_array_length(r->results) == 0 && calls[0] == '\0')
		return 0;
	if (job_store_results_send(r->db, &r->err, r->job_id,
	    json_object_to_json_string_ext(r->results, JSON_C_TO_STRING_PLAIN),
	    calls[0] != '\0' ? calls : NULL, r->waiting) == -1) {
		r->db_failed = 1;
		return -1;
	}
	r->sent = r->results;
	r->sent_pending = 1;
	r->results = json_object_new_array();
	r->last_flush_ms = util_mono_ms();
	return 0;
}

/* A row answered normally: the held failures were real ones. */
static void
streak_end(struct run *r)
{
	size_t i, n = json_object_array_length(r->streak_fail);

	for (i = 0; i < n; i++)
		json_object_array_add(r->results, json_object_get(
		    json_object_array_get_idx(r->streak_fail, i)));
	json_object_put(r->streak_fail);
	r->streak_fail = json_object_new_array();
	r->streak = 0;
	if (r->waiting && !r->paused) {
		log_info("payer answering again job=%s", r->job_id);
		r->waiting = 0;
	}
}

/* The status columns of an answer. */
static void
add_status(json_object *o, const struct payer_result *pr)
{
	add_str(o, "status", pr->status);
	add_str(o, "patient_name", pr->patient_name);
	add_str(o, "total_charged", pr->total_charged);
	add_str(o, "total_paid", pr->total_paid);
	add_str(o, "processed_date", pr->processed_date);
	json_object_object_add(o, "success",
	    json_object_new_boolean(pr->success));
	add_str(o, "error_message", pr->error_message);
	json_object_object_add(o, "attempts",
	    json_object_new_int(pr->attempts));
	add_str(o, "lookup_result", pr->lookup_result);
	add_str(o, "status_category_code", pr->status_category_code);
	add_str(o, "status_code", pr->status_code);
	add_str(o, "status_description", pr->status_description);
	add_str(o, "payer_claim_number", pr->payer_claim_number);
	add_str(o, "total_allowed", pr->total_allowed);
	add_str(o, "patient_responsibility", pr->patient_responsibility);
	add_str(o, "check_number", pr->check_number);
	add_str(o, "check_date", pr->check_date);
	json_object_object_add(o, "member_match", pr->member_match < 0 ? NULL :
	    json_object_new_boolean(pr->member_match));
}

/*
 * A status answer of a payment or full workflow: a finalized claim gets
 * its details/payment calls queued; any other answer is stored with
 * why they are not made (o: the status object).
 */
static void
status_next(struct run *r, struct batch *b, const struct payer_claim *c,
    const struct payer_result *pr, json_object *o)
{
	const char *result = "NOT_REQUESTED";
	char note[80];

	if (pr->success && finalized(pr->status, pr->status_category_code)) {
		if (b == NULL)
			return;
		if (r->workflow == WF_FULL &&
		    followup_push(r, b, c, PAYER_TXN_DETAILS) == -1)
			r->db_failed = 1;
		if (followup_push(r, b, c, PAYER_TXN_PAYMENT) == -1)
			r->db_failed = 1;
		return;
	}
	if (strcmp(pr->lookup_result, "NOT_FOUND") == 0) {
		result = "NOT_FOUND";
		snprintf(note, sizeof(note), "not requested: claim not found");
	} else if (!pr->success)
		snprintf(note, sizeof(note),
		    "not requested: the claim status failed");
	else
		snprintf(note, sizeof(note), "not requested: claim is %s",
		    pr->status);
	if (r->workflow == WF_FULL) {
		add_str(o, "details_result", result);
		add_str(o, "details_note", note);
	}
	add_str(o, "payments_result", result);
	add_str(o, "payments_note", note);
}

/* Marks the details and payment calls of o's workflow not requested. */
static void
not_requested_all(struct run *r, json_object *o, const char *note)
{
	if (r->workflow == WF_DETAILS)
		add_not_requested(o, "details", "NOT_REQUESTED", note);
	if (r->workflow == WF_FULL) {
		add_str(o, "details_result", "NOT_REQUESTED");
		add_str(o, "details_note", note);
	}
	if (r->workflow == WF_PAYMENT || r->workflow == WF_FULL) {
		add_str(o, "payments_result", "NOT_REQUESTED");
		add_str(o, "payments_note", note);
	}
}

/*
 * The object job_store_results() stores for the answer pr to c; queues
 * the follow-up calls a status answer calls for.
 */
static json_object *
answer_object(struct run *r, struct batch *b, const struct payer_claim *c,
    const struct payer_result *pr)
{
	json_object *o;

	o = json_object_new_object();
	json_object_object_add(o, "row_number",
	    json_object_new_int64(c->row_number));
	if (c->txn == PAYER_TXN_MEMBER) {
		add_status(o, pr);
		not_requested_all(r, o, NOTE_MEMBER);
		return o;
	}
	/* The status columns: a status answer's, or a details workflow's. */
	if (c->txn == PAYER_TXN_STATUS || r->workflow == WF_DETAILS)
		add_status(o, pr);
	if (c->txn == PAYER_TXN_DETAILS)
		json_object_object_add(o, "details", details_part(pr));
	else if (c->txn == PAYER_TXN_PAYMENT)
		json_object_object_add(o, "payments", payments_part(pr));
	else if (r->workflow == WF_PAYMENT || r->workflow == WF_FULL)
		status_next(r, b, c, pr, o);
	return o;
}

/* Whether c is a row's first call (the one that says found or not). */
static int
first_call(const struct run *r, const struct payer_claim *c)
{
	return !c->triage && (c->txn == PAYER_TXN_STATUS ||
	    (r->workflow == WF_DETAILS && c->txn == PAYER_TXN_DETAILS));
}

/*
 * The answer to a triage call: queues the next one, or buffers the row
 * as found (the answer that found it) or not found (its first answer
 * with the reason).  A failed triage call ends the triage (the reason
 * says so); it does not count towards an outage.
 */
static int
triage_done(struct run *r, struct batch *b, const struct payer_claim *c,
    const struct payer_result *pr)
{
	struct payer_claim next, base;
	json_object *o;

	switch (triage_step(&r->tc, c, pr, &next, &base, &o)) {
	case TRIAGE_NEXT:
		if (b == NULL || followup_push(r, b, &next, next.txn) == -1)
			r->db_failed = 1;
		if (b != NULL)
			b->pending--;
		return 0;
	case TRIAGE_FOUND:
		o = answer_object(r, b, &base, pr);
		triage_found(c, pr, o);
		break;
	default:
		break;
	}
	if (b != NULL)
		b->pending--;
	json_object_array_add(r->results, o);
	if (json_object_array_length(r->results) >= FLUSH_ROWS ||
	    util_mono_ms() - r->last_flush_ms >= FLUSH_MS)
		return flush(r) != 0 || r->cancelled;
	return 0;
}

/* payer_done_fn: buffers one answer, stores when due. */
static int
claim_done(void *arg, const struct payer_claim *c,
    const struct payer_result *pr)
{
	struct run *r = arg;
	struct batch *b;
	struct payer_claim next;
	json_object *o;

	for (b = r->feed; b != NULL; b = b->older) {
		long first = strtol(PQgetvalue(b->res, 0, 0), NULL, 10);

		if (c->row_number >= first)
			break;
	}
	if (c->triage)
		return triage_done(r, b, c, pr);
	o = answer_object(r, b, c, pr);
	if (b != NULL)
		b->pending--;
	if (first_call(r, c) && strcmp(pr->lookup_result, "FOUND") == 0)
		add_str(o, "found_by", "as_sent");
	else if (first_call(r, c) && r->tc.on && b != NULL &&
	    strcmp(pr->lookup_result, "NOT_FOUND") == 0) {
		/* A not-found is an answer: the payer is up. */
		streak_end(r);
		if (triage_begin(&r->tc, &b->tri, c, o, &next)) {
			if (followup_push(r, b, &next, next.txn) == -1)
				r->db_failed = 1;
			return 0;
		}
	}
	if (transient_failure(pr)) {
		/*
		 * Held back until the streak ends: a real failure is stored
		 * then; during an outage it is dropped and the row retried.
		 */
		r->streak++;
		if (r->paused) {
			json_object_put(o);
			return 0;
		}
		json_object_array_add(r->streak_fail, o);
		if (r->streak >= r->outage_threshold) {
			log_warnx("payer unavailable job=%s: %d failures in a "
			    "row; pausing", r->job_id, r->streak);
			r->paused = 1;
			r->waiting = 1;
			json_object_put(r->streak_fail);
			r->streak_fail = json_object_new_array();
		}
		return 0;
	}
	streak_end(r);
	json_object_array_add(r->results, o);
	if (!pr->success)
		log_debug("row failed job=%s row=%ld attempts=%d", r->job_id,
		    c->row_number, pr->attempts);
	if (json_object_array_length(r->results) >= FLUSH_ROWS ||
	    util_mono_ms() - r->last_flush_ms >= FLUSH_MS)
		return flush(r) != 0 || r->cancelled;
	return 0;
}

/*
 * Marks the job FAILED with a message (no PHI) unless it finished, and
 * queues its notifications.
 */
static void
run_failed(struct task_ctx *ctx, PGconn *db, const char *job_id,
    const char *msg)
{
	struct errbuf err;
	int rc;

	if ((rc = job_fail(db, &err, job_id, msg, NULL)) == -1)
		log_warnx("cannot mark job failed job=%s", job_id);
	else if (rc == 1)
		notify_queue(ctx->redis, config_get("celery.queue", "celery"),
		    job_id);
}

/*
 * Loads the endpoint and the practice's decrypted credentials for the
 * job's organisation.  Returns the PGresult holding the borrowed strings
 * (caller PQclears) and *secret (caller wipes and frees), or NULL with err.
 */
static PGresult *
load_payer(PGconn *db, const char *org_id, const char *provider,
    const char *transaction, struct payer_endpoint *ep,
    struct payer_credential *cred, char **secret, struct errbuf *err)
{
	const char *p[3] = { org_id, provider, transaction };
	unsigned char key[SECRETS_KEY_LEN];
	const unsigned char *raw;
	unsigned char *sealed;
	char ad[SECRETS_AD_MAX];
	size_t sealedlen;
	PGresult *res;

	*secret = NULL;
	res = db_exec(db, err, "SELECT e.base_url, e.token_path, e.api_path, "
	    "e.payer_id, c.client_id, c.client_secret_enc, p.tin, "
	    "COALESCE(p.npi, ''), p.name, p.id "
	    "FROM organizations o "
	    "JOIN practices p ON p.organization_id = o.id AND p.tin = o.tin "
	    "JOIN payer_endpoints e ON e.provider_code = $2 "
	    "AND e.transaction_code = $3 AND e.is_active "
	    "LEFT JOIN payer_credentials c ON c.practice_id = p.id "
	    "AND c.provider_code = $2 WHERE o.id = $1", 3, p);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) != 1) {
		errbuf_set(err, "no practice with the organization's TIN, or "
		    "no %s/%s payer endpoint configured", provider,
		    transaction);
		PQclear(res);
		return NULL;
	}
	if (PQgetisnull(res, 0, 5)) {
		errbuf_set(err, "no %s payer credentials are configured for "
		    "the practice", provider);
		PQclear(res);
		return NULL;
	}
	raw = (const unsigned char *)PQgetvalue(res, 0, 5);
	sealed = PQunescapeBytea(raw, &sealedlen);
	if (secrets_payer_ad(ad, PQgetvalue(res, 0, 9), provider,
	    PQgetvalue(res, 0, 0)) == -1) {
		errbuf_set(err, "payer base URL too long");
		PQfreemem(sealed);
		PQclear(res);
		return NULL;
	}
	if (sealed == NULL ||
	    secrets_key_load(config_get("secrets.key_file", NULL), key,
	    err) != 0 ||
	    secrets_open(key, ad, sealed, sealedlen, secret, err) != 0) {
		if (sealed == NULL)
			errbuf_set(err, "out of memory");
		sodium_memzero(key, sizeof(key));
		PQfreemem(sealed);
		PQclear(res);
		return NULL;
	}
	sodium_memzero(key, sizeof(key));
	PQfreemem(sealed);
	ep->provider_code = provider;
	ep->transaction_code = transaction;
	ep->base_url = PQgetvalue(res, 0, 0);
	ep->token_path = PQgetvalue(res, 0, 1);
	ep->api_path = PQgetvalue(res, 0, 2);
	ep->payer_id = PQgetvalue(res, 0, 3);
	cred->client_id = PQgetvalue(res, 0, 4);
	cred->client_secret = *secret;
	cred->tin = PQgetvalue(res, 0, 6);
	cred->npi = PQgetvalue(res, 0, 7);
	cred->practice_name = PQgetvalue(res, 0, 8);
	return res;
}

/*
 * The engine settings from the configuration; the token cache, rate
 * limit and in-flight cap are shared with every worker through the
 * worker's Redis connection (payer_redis.c).
 */
static void
payer_options_from_config(struct payer_options *o, struct task_ctx *ctx)
{
	memset(o, 0, sizeof(*o));
	payer_options_load(o);
	if (o->concurrency > PAYER_MAX_CONCURRENCY)
		o->concurrency = PAYER_MAX_CONCURRENCY;
	if (config_get_bool("payer.shared_state", 1))
		o->redis = ctx->redis;
}

/* The job's workflow (csv_jobs.workflow), or -1 with err. */
static int
job_workflow(PGconn *db, const char *job_id, struct errbuf *err)
{
	static const char *const names[] = {
		[WF_STATUS] = "status", [WF_DETAILS] = "details",
		[WF_PAYMENT] = "payment", [WF_FULL] = "full"
	};
	const char *p[1] = { job_id };
	PGresult *res;
	int i, wf = WF_STATUS;

	if ((res = db_exec(db, err, "SELECT workflow FROM csv_jobs "
	    "WHERE id = $1", 1, p)) == NULL)
		return -1;
	for (i = 0; PQntuples(res) == 1 &&
	    i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (strcmp(PQgetvalue(res, 0, 0), names[i]) == 0)
			wf = i;
	PQclear(res);
	return wf;
}

/*
 * The engine for the job's workflow: one endpoint per transaction the
 * workflow uses (the claim status one is the job's transaction), the
 * practice's credential.  With *member set, the provider's member search
 * too if it has one (the triage goes without otherwise: *member is
 * cleared).  The engine copies what it keeps, so the rows and the secret
 * go at once.  NULL with err when something is missing.
 */
static struct payer_engine *
engine_for_job(struct task_ctx *ctx, PGconn *db, const char *org_id,
    const char *provider, const char *transaction, int workflow,
    int *member, struct errbuf *err)
{
	static const unsigned uses[] = {
		[WF_STATUS] = 1u << PAYER_TXN_STATUS,
		[WF_DETAILS] = 1u << PAYER_TXN_DETAILS,
		[WF_PAYMENT] = 1u << PAYER_TXN_STATUS | 1u << PAYER_TXN_PAYMENT,
		[WF_FULL] = 1u << PAYER_TXN_STATUS | 1u << PAYER_TXN_DETAILS |
		    1u << PAYER_TXN_PAYMENT
	};
	struct payer_endpoint ep[PAYER_TXN__MAX];
	const struct payer_endpoint *eps[PAYER_TXN__MAX] = { NULL };
	struct payer_credential cred[PAYER_TXN__MAX];
	PGresult *pres[PAYER_TXN__MAX] = { NULL };
	char *secret[PAYER_TXN__MAX] = { NULL };
	struct payer_options opt;
	struct payer_engine *pe = NULL;
	unsigned char key[SECRETS_KEY_LEN];
	struct errbuf kerr;
	int t, first = -1;

	memset(ep, 0, sizeof(ep));
	memset(cred, 0, sizeof(cred));
	for (t = 0; t < PAYER_TXN__MAX; t++) {
		if (!(uses[workflow] & 1u << t))
			continue;
		pres[t] = load_payer(db, org_id, provider,
		    t == PAYER_TXN_STATUS ? transaction :
		    payer_txn_code((enum payer_txn)t), &ep[t], &cred[t],
		    &secret[t], err);
		if (pres[t] == NULL)
			goto out;
		eps[t] = &ep[t];
		if (first < 0)
			first = t;
	}
	t = PAYER_TXN_MEMBER;
	if (*member && payer_has_adapter(provider, PAYER_TXN_MEMBER)) {
		struct errbuf e;

		/* No endpoint row: no member search, not a failed job. */
		if ((pres[t] = load_payer(db, org_id, provider,
		    payer_txn_code(PAYER_TXN_MEMBER), &ep[t], &cred[t],
		    &secret[t], &e)) != NULL)
			eps[t] = &ep[t];
	}
	*member = eps[t] != NULL;
	payer_options_from_config(&opt, ctx);
	/* the key that opened the secret seals the shared token */
	if (opt.redis != NULL && secrets_key_load(config_get(
	    "secrets.key_file", NULL), key, &kerr) == 0)
		opt.token_key = key;
	pe = payer_engine_new(eps, &cred[first], &opt, err);
	sodium_memzero(key, sizeof(key));
out:
	for (t = 0; t < PAYER_TXN__MAX; t++) {
		if (secret[t] != NULL) {
			sodium_memzero(secret[t], strlen(secret[t]));
			free(secret[t]);
		}
		PQclear(pres[t]);
	}
	return pe;
}

/* Sleeps up to ms, in short steps so a stop request is seen at once. */
static void
nap(struct run *r, long ms)
{
	struct timespec ts;
	long long until = util_mono_ms() + ms;

	while (util_mono_ms() < until && !stopping(r)) {
		ts.tv_sec = 0;
		ts.tv_nsec = 100 * 1000000L;
		nanosleep(&ts, NULL);
	}
}

/*
 * The database went away: waits for it (backoff up to 5 s, at most
 * worker.db_wait_s), keeping the buffered results, and stores them.
 * Returns 0 when it is back and the results are stored, -1 otherwise.
 */
static int
wait_db(struct run *r)
{
	long long give_up = util_mono_ms() +
	    config_get_long("worker.db_wait_s", 300) * 1000;
	long delay = 250;
	PGconn *db;

	log_warnx("database unavailable job=%s: %s; waiting", r->job_id,
	    r->err.msg);
	while (!stopping(r) && util_mono_ms() < give_up) {
		nap(r, delay);
		if (delay < 5000)
			delay *= 2;
		if ((db = task_db_get(&r->err)) == NULL)
			continue;
		r->db = db;
		r->db_failed = 0;
		if (flush(r) == 0 && flush_collect(r) == 0) {
			log_info("database back job=%s", r->job_id);
			return 0;
		}
	}
	return -1;
}

/*
 * The payer is down: marks the job waiting (with a heartbeat) and
 * sleeps the backoff, looking at the job status every second so a
 * cancel is seen.  Returns -1 if the run must end instead.
 */
static int
pause_payer(struct run *r, long ms)
{
	char status[JOB_STATUS_MAX];
	long long until = util_mono_ms() + ms;

	log_info("waiting for the payer job=%s for %ldms", r->job_id, ms);
	while (!stopping(r)) {
		if (job_heartbeat(r->db, &r->err, r->job_id, 1, status) == -1) {
			r->db_failed = 1;
			return -1;
		}
		run_status_seen(r, status);
		if (r->cancelled || util_mono_ms() >= until)
			break;
		nap(r, until - util_mono_ms() < 1000 ?
		    (long)(until - util_mono_ms()) : 1000);
	}
	return stopping(r) || r->cancelled ? -1 : 0;
}

/* Forgets the fetched pages so the next fetch starts over. */
static void
feed_reset(struct run *r)
{
	struct batch *b;

	/* Queued follow-ups are asked again: their rows are still open. */
	r->fq_head = r->fq_len = 0;
	while ((b = r->feed) != NULL) {
		r->feed = b->older;
		triage_free(b->tri);
		PQclear(b->res);
		free(b);
	}
	r->last_row = r->range_lo > 0 ? r->range_lo - 1 : 0;
	r->exhausted = 0;
	r->paused = 0;
	r->streak = 0;
	json_object_put(r->streak_fail);
	r->streak_fail = json_object_new_array();
}

/* The token endpoint failed for a transient reason (not the credentials). */
static int
token_outage(const char *msg)
{
	return strncmp(msg, "payer token endpoint:", 21) == 0 &&
	    strstr(msg, " attempts") != NULL;
}

/*
 * Runs the payer over every unprocessed row of the job: engine runs,
 * interrupted by payer and database outages (pause, then start over
 * from the rows still without a result), until no row is left, the run
 * is stopped or cancelled, or the payer refuses the job for good.
 * Returns 0 or -1 with res filled.  *outcome: 0 done, 1 stopped
 * (resume later), 2 cancelled or taken elsewhere.
 */
int
run_rows(struct task_ctx *ctx, PGconn *db, const char *job_id,
    const char *org_id, const char *provider, const char *transaction,
    long range_lo, long range_hi, struct task_result *res, int *outcome)
{
	struct payer_engine *pe;
	struct run r;
	long backoff_ms, backoff_max_ms;
	int rc, wf, member;

	*outcome = 0;
	memset(&r, 0, sizeof(r));
	if ((wf = job_workflow(db, job_id, &r.err)) == -1)
		return task_db_retry(res, "database unavailable");
	r.workflow = wf;
	member = config_get_long("payer.triage_max_calls",
	    TRIAGE_DEFAULT_MAX_CALLS) > 0;
	if ((pe = engine_for_job(ctx, db, org_id, provider, transaction,
	    r.workflow, &member, &r.err)) == NULL) {
		if (PQstatus(db) != CONNECTION_OK)
			return task_db_retry(res, "database unavailable");
		run_failed(ctx, db, job_id, r.err.msg);
		log_warnx("job failed job=%s reason=\"%s\"", job_id, r.err.msg);
		return task_fail(res, "PayerConfigurationError", "%s",
		    r.err.msg);
	}
	if (triage_ctx_init(&r.tc, db, job_id, provider, range_lo, range_hi,
	    member, &r.err) == -1) {
		payer_engine_free(pe);
		return task_db_retry(res, "database unavailable");
	}
	r.pe = pe;
	r.db = db;
	r.job_id = job_id;
	r.ctx = ctx;
	r.range_lo = range_lo;
	r.range_hi = range_hi;
	r.last_row = range_lo > 0 ? range_lo - 1 : 0;
	r.results = json_object_new_array();
	r.streak_fail = json_object_new_array();
	r.outage_threshold = (int)config_get_long("payer.outage_threshold",
	    10);
	if (r.outage_threshold < 1)
		r.outage_threshold = 1;
	backoff_ms = config_get_long("payer.outage_backoff_ms", 2000);
	backoff_max_ms = config_get_long("payer.outage_backoff_max_ms",
	    60000);
	r.last_flush_ms = util_mono_ms();
	for (;;) {
		r.err.msg[0] = '\0';
		rc = payer_engine_run(pe, next_claim, claim_done, &r, ctx->stop,
		    &r.err);
		/*
		 * Every row was answered: no later answer can end a streak
		 * of failures shorter than the outage threshold, so they are
		 * real ones and are stored (else the rows would stay open
		 * and the job would never finish).
		 */
		if (rc == 0 && !r.paused && !stopping(&r) && !r.cancelled)
			streak_end(&r);
		if (!r.db_failed)
			flush(&r);
		flush_collect(&r);
		if (stopping(&r) || r.cancelled)
			break;
		if (r.db_failed) {
			if (wait_db(&r) == -1)
				break;
			feed_reset(&r);
			continue;
		}
		if (rc != 0 && !token_outage(r.err.msg))
			break;
		if (rc == 0 && !r.paused)
			break;
		/* The payer is down: wait, then start over. */
		r.waiting = 1;
		if (pause_payer(&r, backoff_ms) == -1) {
			if (r.db_failed && wait_db(&r) == 0) {
				feed_reset(&r);
				continue;
			}
			break;
		}
		if (backoff_ms < backoff_max_ms)
			backoff_ms *= 2;
		if (backoff_ms > backoff_max_ms)
			backoff_ms = backoff_max_ms;
		feed_reset(&r);
		rc = 0;
	}
	payer_engine_free(pe);
	r.pe = NULL;
	json_object_put(r.results);
	json_object_put(r.sent);
	feed_reset(&r);
	free(r.fq);
	json_object_put(r.streak_fail);
	if (r.cancelled) {
		*outcome = 2;
		log_info("rows stored job=%s rows=%ld (run ended early)",
		    job_id, r.stored);
		return 0;
	}
	if (r.db_failed) {
		log_warnx("database error job=%s: %s", job_id, r.err.msg);
		return task_db_retry(res,
		    "database unavailable while storing results");
	}
	if (stopping(&r)) {
		*outcome = 1;
		log_info("rows stored job=%s rows=%ld (stopping)", job_id,
		    r.stored);
		return 0;
	}
	if (rc != 0) {
		run_failed(ctx, r.db, job_id, r.err.msg);
		log_warnx("job failed job=%s reason=\"%s\"", job_id, r.err.msg);
		return task_fail(res, "PayerError", "%s", r.err.msg);
	}
	log_info("rows stored job=%s rows=%ld", job_id, r.stored);
	return 0;
}


/*
 * Ends a run that was cancelled: CANCELLING becomes CANCELLED (rows
 * done stay; the others stay unprocessed).  Anything else is left as
 * it is (another run or the watchdog owns it).
 */
void
run_cancelled(PGconn *db, const char *job_id)
{
	int rc;

	if ((rc = job_cancelled(db, NULL, job_id)) == -1)
		log_warnx("cannot mark job cancelled job=%s", job_id);
	else if (rc == 1)
		log_info("job cancelled job=%s", job_id);
}

int
run_finish(struct task_ctx *ctx, PGconn *db, const char *job_id,
    struct errbuf *err)
{
	int rc;

	if ((rc = job_finish(db, err, job_id)) == 1) {
		log_info("job finished job=%s", job_id);
		notify_queue(ctx->redis, config_get("celery.queue", "celery"),
		    job_id);
	}
	return rc;
}
