/*
 * The simulator's answer for a claim number: a pure function of the
 * claim number's bytes, so tests, benchmarks and `--explain` can name
 * their expectations without asking the server.  The rule is written
 * down in payer-sim/README-outcomes.md and in outcome.c; the payer
 * adapters map a real answer to the same output columns.
 */
#ifndef SIM_OUTCOME_H
#define SIM_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

/* Claim status the payer reports; SIM_NOT_FOUND means "no claim". */
enum sim_status {
	SIM_PROCESSED,
	SIM_DENIED,
	SIM_PENDING,
	SIM_IN_REVIEW,
	SIM_REJECTED,
	SIM_FINALIZED,
	SIM_NOT_FOUND,
	SIM_STATUS__MAX
};

/* Behaviour forced by a claim-number prefix (table in outcome.c). */
enum sim_force {
	SIM_FORCE_NONE,
	SIM_FORCE_ERR5XX,	/* ERR5xxN...: status 5xx on attempts 1..N */
	SIM_FORCE_RATELIMIT,	/* RL...: 429 on attempt 1 */
	SIM_FORCE_SLOW,		/* SLOW...: answer after sim.slow_ms */
	SIM_FORCE_BADJSON,	/* BADJSON...: 200 with a malformed body */
	SIM_FORCE_MISMATCH,	/* MISMATCH...: last name, DOB differ */
	SIM_FORCE_NOTFOUND,	/* NOTFOUND...: no claim */
	SIM_FORCE_DENY,		/* DENY...: denied */
	SIM_FORCE_E401,		/* E401...: 401, token expires */
	SIM_FORCE_BUSY,		/* BUSYN...: E1 / 503 on attempts 1..N */
	SIM_FORCE_BADREQ,	/* BADREQ...: 277 E0 / 400, every time */
	SIM_FORCE__MAX
};

/* A calendar date (proleptic Gregorian). */
struct sim_date {
	int	 y, m, d;
};

/* How a paid claim was paid (see README-outcomes.md, "Payments"). */
enum sim_paykind {
	SIM_PAY_NONE,		/* no payment: not Processed */
	SIM_PAY_SINGLE,		/* one EFT for this claim alone */
	SIM_PAY_REISSUE,	/* a voided check, then its reissue (EFT) */
	SIM_PAY_BATCH,		/* one EFT paying several claims */
	SIM_PAY__MAX
};

/*
 * How a claim can be found (see README-outcomes.md, "Not-found
 * triage"): by its number as sent, only under its normalised number,
 * or only by a member search.
 */
enum sim_lookup {
	SIM_LOOKUP_DIRECT,	/* the claim routes answer the number */
	SIM_LOOKUP_NORMALISED,	/* not found; found as found_as */
	SIM_LOOKUP_MEMBER,	/* not found; member search lists it */
	SIM_LOOKUP__MAX
};

/* Everything the simulator says about one claim number. */
struct sim_outcome {
	uint32_t	 hash;		/* FNV-1a 32 of the claim */
	enum sim_status	 status;
	enum sim_force	 force;
	int		 force_code;	/* ERR5xx: 500..504 */
	int		 force_n;	/* ERR5xx, BUSY: failing attempts */
	/* Amounts in cents; 0 where the status has none. */
	long		 billed, allowed, paid, patresp;
	struct sim_date	 received, service_start, service_end;
	int		 has_processed;	/* processed date present */
	struct sim_date	 processed;
	int		 has_payment;	/* Processed only */
	struct sim_date	 payment_date;
	char		 payment_number[16];	/* the payment that counts */
	enum sim_paykind pay_kind;
	long		 batch_amount;	/* BATCH: the EFT's total, cents */
	int		 batch_claims;	/* BATCH: claims it pays (>= 2) */
	char		 void_number[16]; /* REISSUE: the voided check */
	struct sim_date	 void_date;
	/* X12 category (claim507) and status (claim508) codes; static. */
	const char	*c507, *c507_desc, *c508, *c508_desc;
	/* Epochs (sim.epoch): how the claim moved since epoch 0. */
	long		 epoch;		/* the epoch this outcome is for */
	int		 settled_epoch;	/* Pending/In Review -> final; 0 */
	int		 void_epoch;	/* its EFT voided, reissued by check */
	/* Not-found triage. */
	enum sim_lookup	 lookup;
	char		 found_as[24];	/* NORMALISED: the payer's spelling */
	char		 member_id[24];	/* MEMBER: subscriber id, */
	struct sim_date	 member_dob;	/* date of birth, */
	enum sim_status	 member_status;	/* and what the search shows */
	struct sim_date	 member_service; /* its service date */
};

/* The output-CSV columns the results should hold for a claim. */
struct sim_csv {
	const char	*status;	/* "Processed", ..., "Error" */
	char		 total_charged[24];	/* "" when not found */
	char		 total_paid[24];
	char		 processed_date[16];	/* YYYY-MM-DD or "" */
	int		 success;
	const char	*error_message;	/* static; "" on success */
	int		 error_is_prefix; /* the client completes the text */
};

/* Date formats used on the wire and in the CSV. */
enum sim_datefmt {
	SIM_DATE_US,		/* MM/DD/YYYY (claim inquiry) */
	SIM_DATE_ISO,		/* YYYY-MM-DD (results CSV) */
	SIM_DATE_X12		/* YYYYMMDD (276/277) */
};

/* Spreads h + k into an unrelated-looking value (murmur3 finaliser). */
uint32_t	 outcome_mix32(uint32_t h, uint32_t k);

/* Days since 1970-01-01 of d, and back. */
long		 outcome_days(const struct sim_date *d);
void		 outcome_civil(long days, struct sim_date *out);

/* FNV-1a, 32 bits, of buf[0..len). */
uint32_t	 outcome_hash(const void *buf, size_t len);

/*
 * Fills *out with the outcome for the claim number buf[0..len) (its
 * exact bytes; no case folding or trimming) at epoch 0.  Pure and
 * thread-safe.
 */
void		 outcome_for(const void *buf, size_t len,
		    struct sim_outcome *out);

/*
 * The same at epoch (>= 0; 0 is outcome_for()): Pending and In Review
 * claims settle and paid claims get their EFT voided and reissued as
 * epochs pass (README-outcomes.md, "Epochs").
 */
void		 outcome_for_epoch(const void *buf, size_t len, long epoch,
		    struct sim_outcome *out);

/*
 * The normalised form of claim number buf[0..len) into out (sz >= 24):
 * spaces and dashes dropped, a leading "UHC" dropped, and an all-digit
 * result of 6..9 digits padded with zeros to 10 (the zeros a
 * spreadsheet drops).  Returns 1 if that form is a claim the payer
 * knows only in that spelling (10 digits starting "0087") and buf is
 * not already it, else 0 (out is then "").
 */
int		 outcome_normalise(const void *buf, size_t len, char *out,
		    size_t sz);

/* Highest sim.epoch (the sim.epoch range in lib/config.c agrees). */
#define SIM_MAX_EPOCH	1000000

/* Most claims a member search returns. */
#define SIM_MEMBER_MAX	4

/*
 * Member search (POST /oihub/claim/member-search/v1): the claims of
 * subscriber member_id born on dob, at epoch.  Fills out[0..n) with
 * their outcomes (lookup SIM_LOOKUP_MEMBER; member_status and
 * member_service are what the search shows) and returns n (0: none).
 */
int		 outcome_member_search(const char *member_id,
		    const struct sim_date *dob, long epoch,
		    struct sim_outcome out[SIM_MEMBER_MAX]);

/* Parses "YYYY-MM-DD", "YYYYMMDD" or "MM/DD/YYYY".  Returns 0 or -1. */
int		 outcome_parse_date(const char *s, struct sim_date *out);

/* Name of a lookup ("direct", "normalised", "member"); never NULL. */
const char	*outcome_lookup_name(enum sim_lookup l);

/*
 * Fills *out with the results-CSV columns for outcome o (see
 * README-outcomes.md).  Strings are static or inside *out.
 */
void		 outcome_csv(const struct sim_outcome *o,
		    struct sim_csv *out);

/* Name of a status as the payer spells it ("In Review"); never NULL. */
const char	*outcome_status_name(enum sim_status s);

/* Name of a forced behaviour ("none", "err5xx", ...); never NULL. */
const char	*outcome_force_name(enum sim_force f);

/* Formats cents as "1234.50" into buf (at least 24 bytes). */
void		 outcome_fmt_amount(long cents, char *buf, size_t sz);

/* Formats d in format f into buf (at least 16 bytes). */
void		 outcome_fmt_date(const struct sim_date *d,
		    enum sim_datefmt f, char *buf, size_t sz);

#endif
