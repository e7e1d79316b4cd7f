/*
 * Service lines and payments of a claim, from its outcome (README-
 * outcomes.md, "Claim details" and "Payments").
 *
 * Lines: 1-6 (30, 25, 20, 12, 8, 5 %) distinct procedure codes from the
 * table below, the first the one priced nearest to 3/4 of the bill.
 * Their list prices times units are the weights over
 * which the claim's billed total is shared; allowed and patient
 * responsibility are shared likewise, and the line with the largest
 * weight takes the rounding remainders, so every total is exact and
 * every line keeps paid >= 0, allowed <= charged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remit.h"

#define mix32	outcome_mix32

/* Procedure codes with list prices (cents per unit). */
static const struct {
	const char	*code;
	long		 price;
	int		 units;
	int		 em;		/* evaluation and management visit */
	const char	*modifier;
} procs[] = {
	{ "99213", 15000, 1, 1, "" },	/* office visit, established */
	{ "99214", 22500, 1, 1, "" },
	{ "99203", 19000, 1, 1, "" },	/* office visit, new patient */
	{ "99284", 65000, 1, 1, "" },	/* emergency department visit */
	{ "93000", 7500, 1, 0, "" },	/* electrocardiogram */
	{ "85025", 4500, 1, 0, "" },	/* complete blood count */
	{ "80053", 6000, 1, 0, "" },	/* metabolic panel */
	{ "36415", 2000, 1, 0, "" },	/* venipuncture */
	{ "71046", 12000, 1, 0, "" },	/* chest x-ray, 2 views */
	{ "20610", 30000, 1, 0, "LT" },	/* arthrocentesis, major joint */
	{ "97110", 4500, 2, 0, "GP" },	/* therapeutic exercise, 15 min */
	{ "73721", 180000, 1, 0, "RT" },	/* MRI, lower extremity joint */
	{ "90471", 3500, 1, 0, "" },	/* immunization administration */
	{ "90686", 4000, 1, 0, "" },	/* influenza vaccine */
	{ "96372", 5500, 1, 0, "" },	/* injection, IM/SC */
	{ "45378", 220000, 1, 0, "" },	/* colonoscopy, diagnostic */
};
#define NPROCS	(sizeof(procs) / sizeof(procs[0]))

/* Denial reasons (CARC) of Denied claims, with their remark (RARC). */
static const struct {
	const char	*carc, *rarc;
} denials[] = {
	{ "50", "N130" },	/* not medically necessary */
	{ "97", "M15" },	/* bundled into another service */
	{ "16", "MA130" },	/* missing information */
	{ "29", "N362" },	/* timely filing limit expired */
	{ "197", "N54" },	/* authorization absent */
};
#define NDENIALS	(sizeof(denials) / sizeof(denials[0]))

/* Copays of an office visit, cents. */
static const long copays[] = { 2000, 3000, 4000, 5000 };

static int
nlines_of(uint32_t h)
{
	static const int cum[SIM_MAX_LINES] = { 30, 55, 75, 87, 95, 100 };
	uint32_t b = mix32(h, 20) % 100;
	int i;

	for (i = 0; i < SIM_MAX_LINES - 1; i++)
		if (b < (uint32_t)cum[i])
			break;
	return i + 1;
}

/* Shares total by weights w[0..n); big takes the remainder. */
static void
share(long total, const long *w, long wsum, int n, int big, long *out)
{
	long rest = total;
	int i;

	for (i = 0; i < n; i++) {
		if (i == big || wsum == 0) {
			out[i] = 0;
			continue;
		}
		out[i] = (long)((long long)total * w[i] / wsum);
		rest -= out[i];
	}
	out[big] += rest;
}

static void
add_adj(struct sim_line *l, const char *group, const char *reason,
    long amount)
{
	if (amount <= 0 || l->nadj >= SIM_MAX_LINE_ADJ)
		return;
	l->adj[l->nadj].group = group;
	l->adj[l->nadj].reason = reason;
	l->adj[l->nadj].amount = amount;
	l->nadj++;
}

/* Splits a Processed line's patient responsibility into PR-1/2/3. */
static void
split_patresp(const struct sim_outcome *o, struct sim_line *l, int em,
    struct sim_remit *r)
{
	long ded = 0, copay = 0, coins = 0, p = l->patresp;

	if (o->status == SIM_FINALIZED)
		ded = p;	/* all applied to the deductible */
	else {
		switch (mix32(o->hash, 30 + (uint32_t)l->number) % 4) {
		case 0:
			coins = p;
			break;
		case 1:
			if (em) {
				copay = copays[mix32(o->hash, 36) % 4];
				if (copay > p)
					copay = p;
			}
			coins = p - copay;
			break;
		case 2:
			ded = p / 2;
			coins = p - ded;
			break;
		default:
			ded = p;
			break;
		}
	}
	add_adj(l, "PR", "1", ded);
	add_adj(l, "PR", "2", coins);
	add_adj(l, "PR", "3", copay);
	r->deductible += ded;
	r->copay += copay;
	r->coinsurance += coins;
}

static void
lines_for(const struct sim_outcome *o, struct sim_remit *r)
{
	long w[SIM_MAX_LINES], c[SIM_MAX_LINES], a[SIM_MAX_LINES];
	long p[SIM_MAX_LINES], wsum = 0, start, span;
	int idx[SIM_MAX_LINES], n, i, k, big = 0, step, first;
	const char *carc = "", *rarc = "";
	struct sim_line *l;

	n = nlines_of(o->hash);
	/*
	 * Line 1 is the service whose price comes nearest to 3/4 of the
	 * bill, so prices stay near the table's; the others are distinct
	 * codes met on an odd step through the table.
	 */
	idx[0] = 0;
	for (k = 1; k < (int)NPROCS; k++)
		if (labs(procs[k].price * procs[k].units - o->billed * 3 / 4) <
		    labs(procs[idx[0]].price * procs[idx[0]].units -
		    o->billed * 3 / 4))
			idx[0] = k;
	first = (int)(mix32(o->hash, 21) % NPROCS);
	step = 1 + 2 * (int)(mix32(o->hash, 22) % (NPROCS / 2));
	for (i = 1, k = 0; i < n; k++)
		if ((first + k * step) % (int)NPROCS != idx[0])
			idx[i++] = (first + k * step) % (int)NPROCS;
	for (i = 0; i < n; i++) {
		w[i] = procs[idx[i]].price * procs[idx[i]].units;
		wsum += w[i];
		if (w[i] > w[big])
			big = i;
	}
	share(o->billed, w, wsum, n, big, c);
	share(o->allowed, c, o->billed, n, big, a);
	share(o->patresp, a, o->allowed, n, big, p);

	if (o->status == SIM_DENIED) {
		i = (int)(mix32(o->hash, 23) % NDENIALS);
		carc = denials[i].carc;
		rarc = denials[i].rarc;
	} else if (o->status == SIM_REJECTED) {
		carc = "16";
		rarc = "MA130";
	}
	start = outcome_days(&o->service_start);
	span = outcome_days(&o->service_end) - start + 1;
	r->nlines = n;
	for (i = 0; i < n; i++) {
		l = &r->lines[i];
		l->number = i + 1;
		l->code = procs[idx[i]].code;
		l->modifier = procs[idx[i]].em && n > 1 ? "25" :
		    procs[idx[i]].modifier;
		l->units = procs[idx[i]].units;
		outcome_civil(start + i % span, &l->service_date);
		l->charged = c[i];
		l->allowed = a[i];
		l->patresp = p[i];
		l->paid = a[i] - p[i];
		l->remark = "";
		switch (o->status) {
		case SIM_PROCESSED:
		case SIM_FINALIZED:
			add_adj(l, "CO", "45", c[i] - a[i]);
			split_patresp(o, l, procs[idx[i]].em, r);
			break;
		case SIM_DENIED:
		case SIM_REJECTED:
			add_adj(l, "CO", carc, c[i]);
			l->remark = rarc;
			break;
		default:
			/* Pending, In Review: not adjudicated yet. */
			break;
		}
	}
}

static void
pay(struct sim_remit *r, const char *number, const char *method,
    const char *status, const struct sim_date *date, long amount,
    long claim_paid)
{
	struct sim_payment *p = &r->payments[r->npayments++];

	snprintf(p->number, sizeof(p->number), "%s", number);
	p->method = method;
	p->status = status;
	p->issue_date = *date;
	p->amount = amount;
	p->claim_paid = claim_paid;
}

void
remit_for(const struct sim_outcome *o, struct sim_remit *r)
{
	const char *cleared;

	memset(r, 0, sizeof(*r));
	if (o->status == SIM_NOT_FOUND)
		return;
	/* The payer's own claim number: its date and 5 digits. */
	snprintf(r->control, sizeof(r->control), "%04d%02d%02d%05u",
	    o->has_processed ? o->processed.y : o->received.y,
	    o->has_processed ? o->processed.m : o->received.m,
	    o->has_processed ? o->processed.d : o->received.d,
	    (unsigned)(mix32(o->hash, 24) % 100000u));
	lines_for(o, r);

	cleared = mix32(o->hash, 42) % 4 == 0 ? "Issued" : "Cleared";
	switch (o->pay_kind) {
	case SIM_PAY_SINGLE:
		pay(r, o->payment_number, "ACH", cleared, &o->payment_date,
		    o->paid, o->paid);
		break;
	case SIM_PAY_REISSUE:
		/* Epoch voids void the EFT and reissue a check. */
		pay(r, o->void_number, o->void_epoch ? "ACH" : "CHK", "Voided",
		    &o->void_date, o->paid, o->paid);
		pay(r, o->payment_number, o->void_epoch ? "CHK" : "ACH",
		    "Reissued", &o->payment_date, o->paid, o->paid);
		break;
	case SIM_PAY_BATCH:
		pay(r, o->payment_number, "ACH", cleared, &o->payment_date,
		    o->batch_amount, o->paid);
		break;
	default:
		break;
	}
}

int
remit_line_denied(const struct sim_line *l)
{
	int i;

	if (l->charged <= 0 || l->paid != 0)
		return 0;
	for (i = 0; i < l->nadj; i++)
		if (strcmp(l->adj[i].group, "PR") != 0 &&
		    strcmp(l->adj[i].reason, "45") != 0)
			return 1;
	return 0;
}
