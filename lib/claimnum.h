/*
 * Claim numbers as people type them (docs/payer-adapters.md, "Not-found
 * triage"): the normal form a payer may know a claim number under, and
 * whether a number has the shape of the payer's claim numbers.  Pure
 * functions of (buf, len); no I/O, nothing logged (claim numbers are PHI).
 */
#ifndef CLAIMNUM_H
#define CLAIMNUM_H

#include <stddef.h>

/* UHC claim numbers are 10 letters and digits ("ZE59426195"). */
#define CLAIMNUM_UHC_LEN	10
/* Shortest all-digit number padded with lost leading zeros. */
#define CLAIMNUM_PAD_MIN	6
/* Longest normal form kept (longer inputs have none). */
#define CLAIMNUM_MAX		64

/*
 * The normal form of the claim number buf[0..len) (up to a NUL) into out
 * (outsz bytes, NUL-terminated), in this order:
 *   1. a leading payer name, UHC, UNITEDHEALTHCARE, UNITED or OPTUM (any
 *      case), is dropped when a separator (space, tab, '-', ':', '#', '/'
 *      or '.') or a digit follows it and something follows; the
 *      separators after it go too (and a second name after those);
 *   2. spaces (also tabs and no-break spaces) and dashes are dropped
 *      everywhere;
 *   3. with fixed_len > 0 (the payer's claim numbers have that length),
 *      an all-digit result of CLAIMNUM_PAD_MIN..fixed_len-1 digits gets
 *      back the leading zeros a spreadsheet dropped.
 * Nothing else changes: case, letters, other punctuation stay.
 * Returns 1 when the normal form differs from the input, 0 when it is
 * the same or there is none (empty result, input longer than
 * CLAIMNUM_MAX or outsz too small): out is then "".
 */
int	claimnum_normalise(const char *buf, size_t len, int fixed_len,
	    char *out, size_t outsz);

/*
 * Whether s (NUL-terminated, normalised) looks like one of the payer's
 * claim numbers: only ASCII letters and digits, at least one digit, and
 * fixed_len characters (fixed_len > 0) or 5..30 (fixed_len 0).  1 or 0.
 */
int	claimnum_usual(const char *s, int fixed_len);

#endif
