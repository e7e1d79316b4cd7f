/*
 * Claim details and payments of a claim (payer-sim/README-outcomes.md):
 * service lines with their CARC/RARC adjustments, and the checks
 * and EFTs that paid it.  Derived from the claim's outcome alone, so the
 * lines add up to the totals the claim inquiry reports and every route
 * tells the same story (rules in README-outcomes.md).
 */
#ifndef SIM_REMIT_H
#define SIM_REMIT_H

#include "outcome.h"

#define SIM_MAX_LINES		6
#define SIM_MAX_LINE_ADJ	4	/* CO or the denial, PR-1, PR-2, PR-3 */
#define SIM_MAX_PAYMENTS	2	/* a voided check and its reissue */

/* One claim adjustment: group code (CO, PR, OA, PI) and CARC. */
struct sim_adj {
	const char	*group;
	const char	*reason;
	long		 amount;	/* cents */
};

struct sim_line {
	int		 number;	/* 1.. */
	const char	*code;		/* CPT/HCPCS */
	const char	*modifier;	/* "" or one modifier */
	int		 units;
	struct sim_date	 service_date;
	long		 charged, allowed, paid, patresp;	/* cents */
	int		 nadj;
	struct sim_adj	 adj[SIM_MAX_LINE_ADJ];
	const char	*remark;	/* "" or one RARC */
};

struct sim_payment {
	char		 number[16];
	const char	*method;	/* "ACH", "CHK" */
	const char	*status;	/* Issued, Cleared, Voided, Reissued */
	struct sim_date	 issue_date;
	long		 amount;	/* the whole check or EFT, cents */
	long		 claim_paid;	/* this claim's share, cents */
};

struct sim_remit {
	char		 control[24];	/* payerClaimControlNumber */
	long		 deductible, copay, coinsurance;	/* cents */
	int		 nlines;
	struct sim_line	 lines[SIM_MAX_LINES];
	int		 npayments;
	struct sim_payment payments[SIM_MAX_PAYMENTS];
};

/*
 * Fills *r with the lines and payments of outcome o (none when o is Not
 * Found).  Pure; strings are static or inside *r.
 */
void	 remit_for(const struct sim_outcome *o, struct sim_remit *r);

/* 1 if line l is denied: nothing allowed although something charged. */
int	 remit_line_denied(const struct sim_line *l);

#endif
