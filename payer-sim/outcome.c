/*
 * Deterministic outcome of a claim number (see README-outcomes.md).
 *
 * The rule: h = FNV-1a 32 of the claim number's bytes; h % 100 picks
 * the status:
 *
 *   h % 100  status     share  claim507 / claim508 (X12 category / status)
 *    0..64   Processed  65 %   F1 Finalized/Payment            65
 *   65..72   Denied      8 %   F2 Finalized/Denial             88
 *   73..79   Pending     7 %   P1 Pending/In Process           20
 *   80..84   In Review   5 %   P2 Pending/Payer Review         20
 *   85..89   Rejected    5 %   A7 Rejected for Invalid Info    21
 *   90..94   Finalized   5 %   F4 Adjudication Complete, no payment  1
 *   95..99   Not Found   5 %   inquiry: no claim; 277: D0      35
 *
 * Amounts and dates come from mix32(h, k), one k per value, so they
 * look unrelated but are fixed per claim number:
 *   billed   = 100.00 .. 5000.00
 *   allowed  = billed * (60..95) %   (0 unless Processed, Finalized)
 *   patresp  = allowed * (0..20) %   (Finalized: all of allowed)
 *   paid     = allowed - patresp     (0 unless Processed)
 *   received = 2025-01-01 + 0..299 days; service start = received -
 *   1..14 days, end = start + 0..2 days; processed = received + 3..30
 *   days (none for Pending, In Review); payment = processed + 2 days.
 *
 * Forced behaviours by prefix (checked in this order, case-sensitive):
 *
 *   prefix       behaviour                                  status
 *   ERR50xN...   HTTP 50x (500..504) on attempts 1..N       Processed
 *   RL...        429 + Retry-After: 1 on attempt 1          Processed
 *   SLOW...      answer after sim.slow_ms (30 s)            Processed
 *   BADJSON...   HTTP 200 with a malformed JSON body        Processed
 *   MISMATCH...  member last name and DOB differ            Processed
 *   NOTFOUND...  no claim                                   Not Found
 *   DENY...      denied                                     Denied
 *   E401...      attempt 1: 401, and the token used expires  Processed
 *   BUSYN...     attempts 1..N (1..9): 277 category E1 in   Processed
 *                a 200; claim inquiry: 503
 *   BADREQ...    every time: 277 category E0 in a 200;      (error)
 *                claim inquiry: 400 INVALID_REQUEST
 *
 * Forced claims other than NOTFOUND, DENY and BADREQ are Processed so
 * that a test of retry handling knows the row must end as a success.
 *
 * How a Processed claim is paid (the payment the claim inquiry shows):
 *   mix32(h, 40) % 100 < 5: a check (CHKnnnnnnn, issued on the processed
 *     date) was voided and reissued as the claim's EFT (processed + 2).
 *   otherwise, when the claim number ends in two digits, its "bucket" is
 *     the number without them (100 claims).  In 30 % of buckets (by the
 *     hash of the bucket) the Processed claims without a reissue whose
 *     processed dates fall in the same 14-day payment cycle (cycles from
 *     2025-01-01) are paid by one EFT: EFTnnnnnnnn (8 digits, from the
 *     bucket and cycle), issued 2 days after the cycle's last day, for
 *     the sum of their paid amounts.  A cycle with one such claim is an
 *     ordinary single payment.
 *   otherwise one EFT (EFTnnnnnnn, 7 digits) on processed + 2.
 */
#include <stdio.h>
#include <string.h>

#include "outcome.h"

/* Longest claim number whose bucket is searched for a shared EFT. */
#define SIM_CLAIM_MAX	64

static const char *status_names[SIM_STATUS__MAX] = {
	"Processed", "Denied", "Pending", "In Review", "Rejected",
	"Finalized", "Not Found"
};

static const char *force_names[SIM_FORCE__MAX] = {
	"none", "err5xx", "ratelimit", "slow", "badjson", "mismatch",
	"notfound", "deny", "e401", "busy", "badreq"
};

/* claim507/claim508 (X12 category / status) codes per status. */
static const struct {
	const char	*c507, *c507_desc, *c508, *c508_desc;
} codes[SIM_STATUS__MAX] = {
	{ "F1", "Finalized/Payment-The claim/line has been paid.",
	  "65", "Claim/line has been paid." },
	{ "F2", "Finalized/Denial-The claim/line has been denied.",
	  "88", "Entity not eligible for benefits for submitted dates of "
	  "service." },
	{ "P1", "Pending/In Process-The claim or encounter is in the "
	  "adjudication system.", "20", "Accepted for processing." },
	{ "P2", "Pending/Payer Review-The claim/encounter is suspended "
	  "pending review.", "20", "Accepted for processing." },
	{ "A7", "Acknowledgement/Rejected for Invalid Information-The "
	  "claim/encounter has invalid information as specified in the "
	  "Status details and has been rejected.", "21",
	  "Missing or invalid information." },
	{ "F4", "Finalized/Adjudication Complete-No payment forthcoming-The "
	  "claim/encounter has been adjudicated and no further payment is "
	  "forthcoming.", "1", "For more detailed information, see "
	  "remittance advice." },
	{ "D0", "Data Search Unsuccessful-The payer is unable to return "
	  "status on the requested claim(s) based on the submitted search "
	  "criteria.", "35", "Claim/encounter not found." },
};

static const struct {
	const char	*prefix;
	enum sim_force	 force;
} prefixes[] = {
	{ "ERR5", SIM_FORCE_ERR5XX },
	{ "RL", SIM_FORCE_RATELIMIT },
	{ "SLOW", SIM_FORCE_SLOW },
	{ "BADJSON", SIM_FORCE_BADJSON },
	{ "MISMATCH", SIM_FORCE_MISMATCH },
	{ "NOTFOUND", SIM_FORCE_NOTFOUND },
	{ "DENY", SIM_FORCE_DENY },
	{ "E401", SIM_FORCE_E401 },
	{ "BUSY", SIM_FORCE_BUSY },
	{ "BADREQ", SIM_FORCE_BADREQ },
};

/* Where the simulated year of claims starts. */
#define BASE_YEAR	2025
/* Paid claims with a voided check and its reissue, percent. */
#define REISSUE_PCT	5
/* Buckets of 100 claim numbers paid by shared EFTs, percent. */
#define BATCH_PCT	30
/* Length of a payment cycle (days): one EFT per bucket and cycle. */
#define CYCLE_DAYS	14

uint32_t
outcome_hash(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* murmur3's finaliser: spreads h + k into an unrelated-looking value. */
uint32_t
outcome_mix32(uint32_t h, uint32_t k)
{
	h += k * 0x9e3779b9u;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

#define mix32	outcome_mix32

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static long
days_from_civil(int y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long z, struct sim_date *out)
{
	long era, doe, yoe, y, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp + (mp < 10 ? 3 : -9);
	out->y = (int)(y + (m <= 2));
	out->m = (int)m;
	out->d = (int)d;
}

static enum sim_force
force_of(const char *p, size_t len, int *code, int *n)
{
	size_t i, pl;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		pl = strlen(prefixes[i].prefix);
		if (len < pl || memcmp(p, prefixes[i].prefix, pl) != 0)
			continue;
		if (prefixes[i].force == SIM_FORCE_BUSY) {
			/* "BUSY" + N (1..9). */
			if (len < 5 || p[4] < '1' || p[4] > '9')
				return SIM_FORCE_NONE;
			*n = p[4] - '0';
			return SIM_FORCE_BUSY;
		}
		if (prefixes[i].force != SIM_FORCE_ERR5XX)
			return prefixes[i].force;
		/* "ERR5" + two digits (00..04) + N (1..9). */
		if (len < 7 || p[4] != '0' || p[5] < '0' || p[5] > '4' ||
		    p[6] < '1' || p[6] > '9')
			return SIM_FORCE_NONE;
		*code = 500 + (p[5] - '0');
		*n = p[6] - '0';
		return SIM_FORCE_ERR5XX;
	}
	return SIM_FORCE_NONE;
}

static enum sim_status
status_of_bucket(uint32_t b)
{
	if (b < 65)
		return SIM_PROCESSED;
	if (b < 73)
		return SIM_DENIED;
	if (b < 80)
		return SIM_PENDING;
	if (b < 85)
		return SIM_IN_REVIEW;
	if (b < 90)
		return SIM_REJECTED;
	if (b < 95)
		return SIM_FINALIZED;
	return SIM_NOT_FOUND;
}

/* The outcome without the payment grouping (which needs other claims). */
static void
outcome_base(const void *buf, size_t len, struct sim_outcome *o)
{
	uint32_t h;
	long base, received, start, processed;

	memset(o, 0, sizeof(*o));
	h = o->hash = outcome_hash(buf, len);
	o->force = force_of(buf, len, &o->force_code, &o->force_n);
	switch (o->force) {
	case SIM_FORCE_NONE:
		o->status = status_of_bucket(h % 100);
		break;
	case SIM_FORCE_NOTFOUND:
		o->status = SIM_NOT_FOUND;
		break;
	case SIM_FORCE_DENY:
		o->status = SIM_DENIED;
		break;
	default:
		o->status = SIM_PROCESSED;
		break;
	}
	o->c507 = codes[o->status].c507;
	o->c507_desc = codes[o->status].c507_desc;
	o->c508 = codes[o->status].c508;
	o->c508_desc = codes[o->status].c508_desc;
	if (o->status == SIM_NOT_FOUND)
		return;

	o->billed = 10000 + (long)(mix32(h, 1) % 490001);
	if (o->status == SIM_PROCESSED || o->status == SIM_FINALIZED) {
		o->allowed = o->billed * (60 + (long)(mix32(h, 2) % 36)) / 100;
		o->patresp = o->allowed * (long)(mix32(h, 3) % 21) / 100;
		if (o->status == SIM_FINALIZED)
			o->patresp = o->allowed;
		o->paid = o->allowed - o->patresp;
	}

	base = days_from_civil(BASE_YEAR, 1, 1);
	received = base + (long)(mix32(h, 4) % 300);
	start = received - 1 - (long)(mix32(h, 5) % 14);
	civil_from_days(received, &o->received);
	civil_from_days(start, &o->service_start);
	civil_from_days(start + (long)(mix32(h, 6) % 3), &o->service_end);
	if (o->status == SIM_PENDING || o->status == SIM_IN_REVIEW)
		return;
	o->has_processed = 1;
	processed = received + 3 + (long)(mix32(h, 7) % 28);
	civil_from_days(processed, &o->processed);
	if (o->status == SIM_PROCESSED) {
		o->has_payment = 1;
		civil_from_days(processed + 2, &o->payment_date);
		snprintf(o->payment_number, sizeof(o->payment_number),
		    "EFT%07u", (unsigned)(mix32(h, 8) % 10000000u));
	}

	/* Processed only from here: how it was paid. */
	o->pay_kind = o->status == SIM_PROCESSED ? SIM_PAY_SINGLE :
	    SIM_PAY_NONE;
	if (o->pay_kind == SIM_PAY_SINGLE && mix32(h, 40) % 100 < REISSUE_PCT) {
		o->pay_kind = SIM_PAY_REISSUE;
		o->void_date = o->processed;
		snprintf(o->void_number, sizeof(o->void_number), "CHK%07u",
		    (unsigned)(mix32(h, 41) % 10000000u));
	}
}

/* The 14-day payment cycle of a processed date (0: from 2025-01-01). */
static long
cycle_of(const struct sim_date *processed)
{
	return (outcome_days(processed) - days_from_civil(BASE_YEAR, 1, 1)) /
	    CYCLE_DAYS;
}

/*
 * A shared EFT: the Processed claims of o's bucket (its number without
 * the last two digits) in the same payment cycle, when the bucket is
 * one of those paid in batches.
 */
static void
outcome_batch(const unsigned char *p, size_t len, struct sim_outcome *o)
{
	struct sim_outcome s;
	unsigned char sib[SIM_CLAIM_MAX];
	uint32_t bh;
	long cycle, sum = 0;
	int i, n = 0;

	if (o->pay_kind != SIM_PAY_SINGLE || len < 3 || len > sizeof(sib) ||
	    p[len - 1] < '0' || p[len - 1] > '9' ||
	    p[len - 2] < '0' || p[len - 2] > '9')
		return;
	bh = outcome_hash(p, len - 2);
	if (mix32(bh, 50) % 100 >= BATCH_PCT)
		return;
	cycle = cycle_of(&o->processed);
	memcpy(sib, p, len);
	for (i = 0; i < 100; i++) {
		sib[len - 2] = (unsigned char)('0' + i / 10);
		sib[len - 1] = (unsigned char)('0' + i % 10);
		outcome_base(sib, len, &s);
		if (s.pay_kind != SIM_PAY_SINGLE || cycle_of(&s.processed) !=
		    cycle)
			continue;
		n++;
		sum += s.paid;
	}
	if (n < 2)
		return;
	o->pay_kind = SIM_PAY_BATCH;
	o->batch_claims = n;
	o->batch_amount = sum;
	outcome_civil(days_from_civil(BASE_YEAR, 1, 1) +
	    (cycle + 1) * CYCLE_DAYS + 1, &o->payment_date);
	snprintf(o->payment_number, sizeof(o->payment_number), "EFT%08u",
	    (unsigned)(mix32(bh, 51 + (uint32_t)cycle) % 100000000u));
}

void
outcome_for(const void *buf, size_t len, struct sim_outcome *o)
{
	outcome_base(buf, len, o);
	outcome_batch(buf, len, o);
}

long
outcome_days(const struct sim_date *d)
{
	return days_from_civil(d->y, d->m, d->d);
}

void
outcome_civil(long days, struct sim_date *out)
{
	civil_from_days(days, out);
}

/*
 * The results-CSV mapping, the contract the adapters follow:
 * - found (any claimStatus): status = claimStatus, total_charged =
 *   totalBilledChargeAmount, total_paid = totalPaidAmount,
 *   processed_date = processedDate as YYYY-MM-DD ("" if none),
 *   success = true, error_message = "".  Denied and Rejected are
 *   successful look-ups: the team learns the claim's real status.
 * - not found: status "Not Found", amounts and date "", success false,
 *   error "Claim not found in system".
 * - MISMATCH: the served claim's columns, but success false and error
 *   "Member data mismatch (last name, date of birth)".
 * - SLOW, BADJSON, BADREQ: no usable answer: status "Error", success
 *   false; error "payer returned malformed JSON" (BADJSON), or one
 *   starting with "payer timeout" (SLOW) or "payer rejected the request"
 *   (BADREQ), which the client completes (attempts, codes).
 */
void
outcome_csv(const struct sim_outcome *o, struct sim_csv *c)
{
	memset(c, 0, sizeof(*c));
	c->error_message = "";
	if (o->force == SIM_FORCE_SLOW || o->force == SIM_FORCE_BADJSON ||
	    o->force == SIM_FORCE_BADREQ) {
		c->status = "Error";
		c->error_message = o->force == SIM_FORCE_SLOW ?
		    "payer timeout" : o->force == SIM_FORCE_BADJSON ?
		    "payer returned malformed JSON" :
		    "payer rejected the request";
		/* Attempts and codes the client adds are its own. */
		c->error_is_prefix = o->force != SIM_FORCE_BADJSON;
		return;
	}
	c->status = status_names[o->status];
	if (o->status == SIM_NOT_FOUND) {
		c->error_message = "Claim not found in system";
		return;
	}
	outcome_fmt_amount(o->billed, c->total_charged,
	    sizeof(c->total_charged));
	outcome_fmt_amount(o->paid, c->total_paid, sizeof(c->total_paid));
	if (o->has_processed)
		outcome_fmt_date(&o->processed, SIM_DATE_ISO,
		    c->processed_date, sizeof(c->processed_date));
	c->success = 1;
	if (o->force == SIM_FORCE_MISMATCH) {
		c->success = 0;
		c->error_message =
		    "Member data mismatch (last name, date of birth)";
	}
}

const char *
outcome_status_name(enum sim_status s)
{
	if ((unsigned)s >= SIM_STATUS__MAX)
		return "?";
	return status_names[s];
}

const char *
outcome_force_name(enum sim_force f)
{
	if ((unsigned)f >= SIM_FORCE__MAX)
		return "?";
	return force_names[f];
}

void
outcome_fmt_amount(long cents, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s%ld.%02ld", cents < 0 ? "-" : "",
	    (cents < 0 ? -cents : cents) / 100,
	    (cents < 0 ? -cents : cents) % 100);
}

void
outcome_fmt_date(const struct sim_date *d, enum sim_datefmt f, char *buf,
    size_t sz)
{
	switch (f) {
	case SIM_DATE_US:
		snprintf(buf, sz, "%02d/%02d/%04d", d->m, d->d, d->y);
		break;
	case SIM_DATE_ISO:
		snprintf(buf, sz, "%04d-%02d-%02d", d->y, d->m, d->d);
		break;
	case SIM_DATE_X12:
		snprintf(buf, sz, "%04d%02d%02d", d->y, d->m, d->d);
		break;
	}
}
