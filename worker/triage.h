/*
 * Not-found triage (triage.c): what the job runner (runner.c) does with
 * a row the payer does not find by its number as uploaded, before it
 * stores it as not found.  Once each, where it applies, within
 * payer.triage_max_calls: ask again under the number's normal form
 * (lib/claimnum.h), then search the member's claims (subscriber id and
 * date of birth).  The stored row says which attempt found it
 * (found_by) or why none did (not_found_reason); docs/payer-adapters.md
 * lists the reasons.
 */
#ifndef TRIAGE_H
#define TRIAGE_H

#include <json.h>
#include <libpq-fe.h>

#include "errbuf.h"
#include "payer.h"

/* payer.triage_max_calls when unset: extra payer calls per job. */
#define TRIAGE_DEFAULT_MAX_CALLS	1000

/* The reasons a row stays not found (not_found_reason). */
#define TRIAGE_R_FORMAT		"claim number format unusual"
#define TRIAGE_R_ERROR		"triage incomplete: payer error"
#define TRIAGE_R_LIMIT		"triage call limit reached"
#define TRIAGE_R_NOT_ACCEPTED	\
	"member found, claim not found: may not be accepted yet"
#define TRIAGE_R_NO_MEMBER	"member not found under this TIN"
#define TRIAGE_R_NO_CLAIM	"no claim under this TIN"

/* One run's triage settings and budget. */
struct triage_ctx {
	int	 on;		/* payer.triage_max_calls > 0 */
	long	 left;		/* calls this run may still start */
	int	 fixed_len;	/* the payer's claim number length, 0: any */
	int	 member;	/* the engine can search members */
};

/* One row's triage; owned by its batch's list (triage_free). */
struct triage;

/*
 * Sets tc up for a run of job_id's rows lo..hi (0, 0: all) with provider:
 * the job's share of payer.triage_max_calls (a chunk gets the part of
 * its rows), less the triage calls its rows have stored.  member: the
 * engine has a MEMBER_SEARCH endpoint.  0, or -1 with err (database).
 */
int	triage_ctx_init(struct triage_ctx *tc, PGconn *db, const char *job_id,
	    const char *provider, long lo, long hi, int member,
	    struct errbuf *err);

/*
 * A row's first call (c, answered not found; o: the answer object the
 * runner would store, taken over) starts its triage.  Returns 1 with
 * *next the first triage call to queue (strings owned by the triage,
 * linked into *list, or borrowed from c), or 0 when no call applies:
 * then o has its not_found_reason and stays the caller's to store.
 */
int	triage_begin(struct triage_ctx *tc, struct triage **list,
	    const struct payer_claim *c, json_object *o,
	    struct payer_claim *next);

/* What a triage call's answer means for its row (triage_step). */
enum triage_step {
	TRIAGE_NEXT,		/* queue *next, store nothing yet */
	TRIAGE_FOUND,		/* found: store the answer + triage_found() */
	TRIAGE_NOT_FOUND,	/* store *out (the caller's now) */
	TRIAGE_STEP__MAX
};

/*
 * The answer pr to triage call c (c->udata is its triage).  For
 * TRIAGE_FOUND, *base gets the call as an ordinary one (triage and
 * udata cleared) for the runner to build the answer object with.
 */
enum triage_step triage_step(struct triage_ctx *tc,
	    const struct payer_claim *c, const struct payer_result *pr,
	    struct payer_claim *next, struct payer_claim *base,
	    json_object **out);

/*
 * Adds found_by, matched_claim_number and triage_calls of the triage of
 * c to o, the answer object of its found row; the triage's first answer
 * is dropped.
 */
void	triage_found(const struct payer_claim *c,
	    const struct payer_result *pr, json_object *o);

/* Frees a batch's list of triages; NULL is fine. */
void	triage_free(struct triage *list);

#endif
