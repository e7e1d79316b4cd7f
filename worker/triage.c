/*
 * Not-found triage (triage.h): the row's state between its triage
 * calls, the order of the attempts, the budget, and the reason stored
 * when nothing finds the claim.  The runner queues the calls through
 * its follow-up queue, so they share the engine's token, rate limit,
 * concurrency and retries with every other call of the job.
 *
 * Nothing here logs: claim numbers, subscriber ids and dates of birth
 * are PHI.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "claimnum.h"
#include "config.h"
#include "db.h"
#include "triage.h"

/* Attempts, in order; a row is at the one its last call made. */
enum stage { ST_AS_SENT, ST_NORMALISED, ST_MEMBER };

struct triage {
	struct triage	*next;
	enum stage	 stage;
	struct payer_claim base;	/* the row's first call */
	int		 calls;		/* requests sent, retries included */
	int		 limited;	/* a call was wanted; the cap said no */
	int		 failed;	/* a triage call failed */
	int		 member_claims;	/* member search answer, -1: none */
	int		 usual;		/* the number has the payer's shape */
	char		 number[CLAIMNUM_MAX + 1];	/* normal form, "" */
	json_object	*first;		/* the as-sent answer */
};

int
triage_ctx_init(struct triage_ctx *tc, PGconn *db, const char *job_id,
    const char *provider, long lo, long hi, int member, struct errbuf *err)
{
	char slo[32], shi[32];
	const char *p[3] = { job_id, slo, shi };
	long cap, total, used;
	PGresult *res;

	memset(tc, 0, sizeof(*tc));
	cap = config_get_long("payer.triage_max_calls",
	    TRIAGE_DEFAULT_MAX_CALLS);
	tc->fixed_len = strcasecmp(provider, "UHC") == 0 ? CLAIMNUM_UHC_LEN :
	    0;
	tc->member = member;
	if (cap <= 0)
		return 0;
	snprintf(slo, sizeof(slo), "%ld", lo > 0 ? lo : 1);
	snprintf(shi, sizeof(shi), "%ld", hi > 0 ? hi : (long)INT_MAX);
	if ((res = db_exec(db, err, "SELECT total_rows, (SELECT "
	    "COALESCE(sum(triage_calls), 0) FROM csv_job_rows WHERE job_id = "
	    "$1 AND row_number BETWEEN $2 AND $3) FROM csv_jobs WHERE id = $1",
	    3, p)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return errbuf_set(err, "job not found");
	}
	total = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	used = strtol(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	/* A chunk of a job gets the share of its rows (rounded down). */
	if (hi > 0 && total > 0 && hi - (lo > 0 ? lo : 1) + 1 < total)
		cap = (long)((double)cap * (double)(hi - (lo > 0 ? lo : 1) +
		    1) / (double)total);
	tc->on = 1;
	tc->left = cap - used;
	return 0;
}

/* Takes one call from the budget; 0 when it is used up. */
static int
budget_take(struct triage_ctx *tc, struct triage *t)
{
	if (tc->left <= 0) {
		t->limited = 1;
		return 0;
	}
	tc->left--;
	return 1;
}

/*
 * The next attempt after t's stage that applies and fits the budget,
 * into *next; 0 when none is left.
 */
static int
next_call(struct triage_ctx *tc, struct triage *t, struct payer_claim *next)
{
	const struct payer_claim *b = &t->base;

	if (t->stage < ST_NORMALISED) {
		t->stage = ST_NORMALISED;
		if (t->number[0] != '\0' && budget_take(tc, t)) {
			*next = *b;
			next->claim_number = t->number;
			next->triage = 1;
			next->udata = t;
			return 1;
		}
	}
	if (t->stage < ST_MEMBER) {
		t->stage = ST_MEMBER;
		if (tc->member && b->subscriber_id != NULL &&
		    b->subscriber_id[0] != '\0' && b->date_of_birth != NULL &&
		    b->date_of_birth[0] != '\0' && budget_take(tc, t)) {
			*next = *b;
			if (t->number[0] != '\0')
				next->claim_number = t->number;
			next->txn = PAYER_TXN_MEMBER;
			next->triage = 1;
			next->udata = t;
			return 1;
		}
	}
	return 0;
}

/* Why nothing found the claim (see the precedence in payer-adapters.md). */
static const char *
reason(const struct triage *t)
{
	/* An attempt not made or not answered: the others say little. */
	if (t->failed)
		return TRIAGE_R_ERROR;
	if (t->limited)
		return TRIAGE_R_LIMIT;
	if (!t->usual)
		return TRIAGE_R_FORMAT;
	if (t->member_claims > 0)
		return TRIAGE_R_NOT_ACCEPTED;
	if (t->member_claims == 0)
		return TRIAGE_R_NO_MEMBER;
	return TRIAGE_R_NO_CLAIM;
}

/* Adds the reason and the calls to o, the row's not-found answer. */
static void
finish_not_found(const struct triage *t, json_object *o)
{
	json_object_object_add(o, "not_found_reason",
	    json_object_new_string(reason(t)));
	json_object_object_add(o, "triage_calls",
	    json_object_new_int(t->calls));
}

int
triage_begin(struct triage_ctx *tc, struct triage **list,
    const struct payer_claim *c, json_object *o, struct payer_claim *next)
{
	struct triage *t;
	const char *num;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		/* No triage then: stored as not found, without a reason. */
		return 0;
	}
	t->base = *c;
	t->base.triage = 0;
	t->base.udata = NULL;
	t->member_claims = -1;
	claimnum_normalise(c->claim_number, strlen(c->claim_number),
	    tc->fixed_len, t->number, sizeof(t->number));
	num = t->number[0] != '\0' ? t->number : c->claim_number;
	t->usual = claimnum_usual(num, tc->fixed_len);
	if (!next_call(tc, t, next)) {
		finish_not_found(t, o);
		free(t);
		return 0;
	}
	t->first = o;
	t->next = *list;
	*list = t;
	return 1;
}

enum triage_step
triage_step(struct triage_ctx *tc, const struct payer_claim *c,
    const struct payer_result *pr, struct payer_claim *next,
    struct payer_claim *base, json_object **out)
{
	struct triage *t = c->udata;

	*out = NULL;
	t->calls += pr->attempts;
	/* Retries cost calls too. */
	if (pr->attempts > 1)
		tc->left -= pr->attempts - 1;
	if (strcmp(pr->lookup_result, "FOUND") == 0) {
		*base = *c;
		base->triage = 0;
		base->udata = NULL;
		return TRIAGE_FOUND;
	}
	if (strcmp(pr->lookup_result, "NOT_FOUND") != 0)
		t->failed = 1;
	else if (c->txn == PAYER_TXN_MEMBER)
		t->member_claims = pr->member_claims;
	if (next_call(tc, t, next))
		return TRIAGE_NEXT;
	finish_not_found(t, t->first);
	*out = t->first;
	t->first = NULL;
	return TRIAGE_NOT_FOUND;
}

void
triage_found(const struct payer_claim *c, const struct payer_result *pr,
    json_object *o)
{
	struct triage *t = c->udata;
	const char *matched = NULL;

	if (c->txn == PAYER_TXN_MEMBER) {
		json_object_object_add(o, "found_by",
		    json_object_new_string("member_search"));
		if (strcmp(pr->payer_claim_number, t->base.claim_number) != 0)
			matched = pr->payer_claim_number;
	} else {
		json_object_object_add(o, "found_by",
		    json_object_new_string("normalised"));
		matched = t->number;
	}
	json_object_object_add(o, "matched_claim_number", matched != NULL &&
	    matched[0] != '\0' ? json_object_new_string(matched) : NULL);
	json_object_object_add(o, "triage_calls",
	    json_object_new_int(t->calls));
	json_object_put(t->first);
	t->first = NULL;
}

void
triage_free(struct triage *list)
{
	struct triage *t;

	while ((t = list) != NULL) {
		list = t->next;
		json_object_put(t->first);
		free(t);
	}
}
