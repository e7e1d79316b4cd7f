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
 *
 * Epochs (sim.epoch, POST /__epoch): epoch 0 is the rule above.  At
 * epoch e >= 1, for claims without a forced behaviour:
 *   Pending, In Review: u = mix32(h, 60) % 100; u < 80 settles at
 *     epoch 1 + u / 20 (20 % of them per epoch 1..4; 20 % never), as
 *     Processed when mix32(h, 61) % 100 < 75, else Denied; processed =
 *     received + 31 + 14 (s - 1) + mix32(h, 62) % 14 days, paid alone.
 *   Processed and paid alone (single EFT, also the settled ones):
 *     w = mix32(h, 63) % 100; w < 15 voids the EFT at epoch s + 1 +
 *     w / 5 (5 % per epoch for 3 epochs after the one it was paid in,
 *     s = 0 or the settling epoch) and reissues it as check CHKnnnnnnn
 *     14 days per epoch later.  Shared EFTs and reissues never change,
 *     so a claim's neighbours in a bucket keep their answers.
 *
 * Not-found triage (a claim found only under another spelling):
 *   normalised: claim numbers of 10 digits starting "0087" are known
 *     only so; a number that normalises to one (spaces and dashes
 *     dropped, leading "UHC" dropped, 6..9 digits zero-padded to 10)
 *     but is spelt otherwise is not found.
 *   member only: "MS" + 6..12 digits d is not found by number; a member
 *     search for subscriber "W" + d with the date of birth 1950-01-01
 *     + mix32(h, 80) % 18000 days lists it, its status by h % 95 (never
 *     Not Found) and the epochs as above.
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

static const char *lookup_names[SIM_LOOKUP__MAX] = {
	"direct", "normalised", "member"
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
/* Pending and In Review claims that settle per epoch, percent ... */
#define SETTLE_PCT	20
/* ... over this many epochs (the rest stay pending). */
#define SETTLE_EPOCHS	4
/* Settled claims that are paid (the others are denied), percent. */
#define SETTLE_PAID_PCT	75
/* Paid-alone claims whose EFT is voided per epoch, percent ... */
#define VOID_PCT	5
/* ... in each of the epochs after the one it was paid in. */
#define VOID_EPOCHS	3
/* Claims known only in their normalised spelling: 10 digits, "0087". */
#define NORM_PREFIX	"0087"
#define NORM_LEN	10
/* Claims found only by member search: "MS" + digits; member "W" + digits. */
#define MEMBER_CLAIM	"MS"
#define MEMBER_ID	"W"
#define MEMBER_DIGITS_MIN	6
#define MEMBER_DIGITS_MAX	12

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

static void
set_status(struct sim_outcome *o, enum sim_status st)
{
	o->status = st;
	o->c507 = codes[st].c507;
	o->c507_desc = codes[st].c507_desc;
	o->c508 = codes[st].c508;
	o->c508_desc = codes[st].c508_desc;
}

/*
 * Amounts, processed date and the payment of a claim adjudicated (as
 * o->status) on day processed.
 */
static void
adjudicate(struct sim_outcome *o, long processed)
{
	uint32_t h = o->hash;

	o->allowed = o->patresp = o->paid = 0;
	if (o->status == SIM_PROCESSED || o->status == SIM_FINALIZED) {
		o->allowed = o->billed * (60 + (long)(mix32(h, 2) % 36)) / 100;
		o->patresp = o->allowed * (long)(mix32(h, 3) % 21) / 100;
		if (o->status == SIM_FINALIZED)
			o->patresp = o->allowed;
		o->paid = o->allowed - o->patresp;
	}
	o->has_processed = 1;
	civil_from_days(processed, &o->processed);
	if (o->status == SIM_PROCESSED) {
		o->has_payment = 1;
		civil_from_days(processed + 2, &o->payment_date);
		snprintf(o->payment_number, sizeof(o->payment_number),
		    "EFT%07u", (unsigned)(mix32(h, 8) % 10000000u));
	}
	o->pay_kind = o->status == SIM_PROCESSED ? SIM_PAY_SINGLE :
	    SIM_PAY_NONE;
}

/* "MS" + 6..12 digits: a claim only a member search finds. */
static int
member_claim(const unsigned char *p, size_t len)
{
	size_t i, pl = strlen(MEMBER_CLAIM);

	if (len < pl + MEMBER_DIGITS_MIN || len > pl + MEMBER_DIGITS_MAX ||
	    memcmp(p, MEMBER_CLAIM, pl) != 0)
		return 0;
	for (i = pl; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* Turns o into "not found" (the claim routes' view). */
static void
hide(struct sim_outcome *o)
{
	set_status(o, SIM_NOT_FOUND);
	o->billed = o->allowed = o->patresp = o->paid = 0;
	o->has_processed = o->has_payment = 0;
	memset(&o->processed, 0, sizeof(o->processed));
	memset(&o->payment_date, 0, sizeof(o->payment_date));
	o->payment_number[0] = '\0';
	o->pay_kind = SIM_PAY_NONE;
	o->void_number[0] = '\0';
	memset(&o->void_date, 0, sizeof(o->void_date));
	o->settled_epoch = o->void_epoch = 0;
}

static void outcome_base(const void *, size_t, struct sim_outcome *, int);

/*
 * The outcome without the payment grouping (which needs other claims)
 * and without epochs.  reveal: a member-only claim as the member search
 * sees it (else not found).
 */
static void
outcome_base(const void *buf, size_t len, struct sim_outcome *o, int reveal)
{
	struct sim_outcome c;
	uint32_t h;
	long base, received, start;
	int member = 0;

	memset(o, 0, sizeof(*o));
	h = o->hash = outcome_hash(buf, len);
	o->force = force_of(buf, len, &o->force_code, &o->force_n);
	switch (o->force) {
	case SIM_FORCE_NONE:
		if (outcome_normalise(buf, len, o->found_as,
		    sizeof(o->found_as))) {
			/* Found under found_as only, if there at all. */
			outcome_base(o->found_as, strlen(o->found_as), &c, 0);
			if (c.status != SIM_NOT_FOUND)
				o->lookup = SIM_LOOKUP_NORMALISED;
			else
				o->found_as[0] = '\0';
			set_status(o, SIM_NOT_FOUND);
			return;
		}
		if ((member = member_claim(buf, len)) != 0) {
			o->lookup = SIM_LOOKUP_MEMBER;
			o->status = status_of_bucket(h % 95);
		} else
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
	set_status(o, o->status);
	if (o->status == SIM_NOT_FOUND)
		return;

	o->billed = 10000 + (long)(mix32(h, 1) % 490001);
	base = days_from_civil(BASE_YEAR, 1, 1);
	received = base + (long)(mix32(h, 4) % 300);
	start = received - 1 - (long)(mix32(h, 5) % 14);
	civil_from_days(received, &o->received);
	civil_from_days(start, &o->service_start);
	civil_from_days(start + (long)(mix32(h, 6) % 3), &o->service_end);
	if (member) {
		snprintf(o->member_id, sizeof(o->member_id), "%s%.*s",
		    MEMBER_ID, (int)(len - strlen(MEMBER_CLAIM)),
		    (const char *)buf + strlen(MEMBER_CLAIM));
		civil_from_days(days_from_civil(1950, 1, 1) +
		    (long)(mix32(h, 80) % 18000), &o->member_dob);
		o->member_service = o->service_start;
		if (!reveal) {
			o->member_status = o->status;
			hide(o);
			return;
		}
	}
	if (o->status == SIM_PENDING || o->status == SIM_IN_REVIEW)
		return;
	adjudicate(o, received + 3 + (long)(mix32(h, 7) % 28));

	/* Processed only from here: how it was paid. */
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
		outcome_base(sib, len, &s, 0);
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

/*
 * Moves o (found at epoch 0, after the payment grouping) to epoch e:
 * settling and voids only ever add to its history, and never touch a
 * shared EFT, so the claims around it keep their answers.
 */
static void
outcome_move(struct sim_outcome *o, long e)
{
	uint32_t h = o->hash, u, w;
	long received, paid_day;
	int s = 0, v;

	o->epoch = e;
	if (e <= 0 || o->force != SIM_FORCE_NONE)
		return;
	if (o->status == SIM_PENDING || o->status == SIM_IN_REVIEW) {
		u = mix32(h, 60) % 100;
		if (u >= SETTLE_PCT * SETTLE_EPOCHS)
			return;
		s = 1 + (int)(u / SETTLE_PCT);
		if (e < s)
			return;
		o->settled_epoch = s;
		set_status(o, mix32(h, 61) % 100 < SETTLE_PAID_PCT ?
		    SIM_PROCESSED : SIM_DENIED);
		received = outcome_days(&o->received);
		adjudicate(o, received + 31 + CYCLE_DAYS * (s - 1) +
		    (long)(mix32(h, 62) % CYCLE_DAYS));
	}
	if (o->pay_kind != SIM_PAY_SINGLE)
		return;
	w = mix32(h, 63) % 100;
	if (w >= VOID_PCT * VOID_EPOCHS)
		return;
	v = s + 1 + (int)(w / VOID_PCT);
	if (e < v)
		return;
	/* The EFT paid is voided; a check replaces it. */
	o->void_epoch = v;
	o->pay_kind = SIM_PAY_REISSUE;
	snprintf(o->void_number, sizeof(o->void_number), "%s",
	    o->payment_number);
	o->void_date = o->payment_date;
	paid_day = outcome_days(&o->payment_date);
	civil_from_days(paid_day + CYCLE_DAYS * (v - s), &o->payment_date);
	snprintf(o->payment_number, sizeof(o->payment_number), "CHK%07u",
	    (unsigned)(mix32(h, 64) % 10000000u));
}

void
outcome_for_epoch(const void *buf, size_t len, long epoch,
    struct sim_outcome *o)
{
	outcome_base(buf, len, o, 0);
	outcome_batch(buf, len, o);
	outcome_move(o, epoch);
}

void
outcome_for(const void *buf, size_t len, struct sim_outcome *o)
{
	outcome_for_epoch(buf, len, 0, o);
}

int
outcome_normalise(const void *buf, size_t len, char *out, size_t sz)
{
	const unsigned char *p = buf;
	char n[NORM_LEN + 1];
	size_t i, k = 0, olen = len;

	if (sz > 0)
		out[0] = '\0';
	if (len >= 3 && (p[0] == 'U' || p[0] == 'u') &&
	    (p[1] == 'H' || p[1] == 'h') && (p[2] == 'C' || p[2] == 'c')) {
		p += 3;
		len -= 3;
	}
	for (i = 0; i < len; i++) {
		if (p[i] == ' ' || p[i] == '-')
			continue;
		if (p[i] < '0' || p[i] > '9' || k == NORM_LEN)
			return 0;
		n[k++] = (char)p[i];
	}
	if (k < 6)
		return 0;
	/* Pad with the zeros a spreadsheet drops. */
	memmove(n + (NORM_LEN - k), n, k);
	memset(n, '0', NORM_LEN - k);
	n[NORM_LEN] = '\0';
	if (memcmp(n, NORM_PREFIX, strlen(NORM_PREFIX)) != 0 ||
	    (olen == NORM_LEN && memcmp(buf, n, NORM_LEN) == 0) ||
	    sz <= NORM_LEN)
		return 0;
	memcpy(out, n, NORM_LEN + 1);
	return 1;
}

int
outcome_member_search(const char *member_id, const struct sim_date *dob,
    long epoch, struct sim_outcome out[SIM_MEMBER_MAX])
{
	char claim[SIM_CLAIM_MAX];
	size_t il = strlen(MEMBER_ID), len = strlen(member_id);
	struct sim_outcome *o = &out[0];

	if (len <= il || memcmp(member_id, MEMBER_ID, il) != 0 ||
	    len - il + strlen(MEMBER_CLAIM) >= sizeof(claim))
		return 0;
	snprintf(claim, sizeof(claim), "%s%s", MEMBER_CLAIM, member_id + il);
	if (!member_claim((const unsigned char *)claim, strlen(claim)))
		return 0;
	outcome_base(claim, strlen(claim), o, 1);
	if (o->status == SIM_NOT_FOUND || outcome_days(&o->member_dob) !=
	    outcome_days(dob))
		return 0;
	outcome_move(o, epoch);
	o->member_status = o->status;
	snprintf(o->found_as, sizeof(o->found_as), "%s", claim);
	return 1;
}

int
outcome_parse_date(const char *s, struct sim_date *d)
{
	int y, m, dd, n = 0;

	if (strlen(s) == 10 && s[4] == '-' &&
	    sscanf(s, "%4d-%2d-%2d%n", &y, &m, &dd, &n) == 3)
		;
	else if (strlen(s) == 10 && s[2] == '/' &&
	    sscanf(s, "%2d/%2d/%4d%n", &m, &dd, &y, &n) == 3)
		;
	else if (strlen(s) == 8 && strspn(s, "0123456789") == 8 &&
	    sscanf(s, "%4d%2d%2d%n", &y, &m, &dd, &n) == 3)
		;
	else
		return -1;
	if (s[n] != '\0' || m < 1 || m > 12 || dd < 1 || dd > 31)
		return -1;
	d->y = y;
	d->m = m;
	d->d = dd;
	return 0;
}

const char *
outcome_lookup_name(enum sim_lookup l)
{
	if ((unsigned)l >= SIM_LOOKUP__MAX)
		return "?";
	return lookup_names[l];
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
