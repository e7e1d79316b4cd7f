/*
 * Claim number normal form and shape (claimnum.h).  The triage of rows
 * the payer does not find (worker/runner.c) asks again under the normal
 * form; the rules are the mistakes a person or a spreadsheet makes with
 * a claim number, nothing that could turn one valid number into
 * another: a payer's name in front, spaces and dashes, and the leading
 * zeros Excel drops from a number it takes for an integer.
 */
#include <string.h>
#include <strings.h>

#include "claimnum.h"

/* Payer names written before the number, longest first. */
static const char *const prefixes[] = {
	"UNITEDHEALTHCARE", "UNITED", "OPTUM", "UHC"
};

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Characters dropped everywhere; *n: their length (2 for U+00A0). */
static int
is_space(const unsigned char *p, size_t left, size_t *n)
{
	*n = 1;
	if (p[0] == ' ' || p[0] == '\t' || p[0] == '-')
		return 1;
	if (left >= 2 && p[0] == 0xc2 && p[1] == 0xa0) {
		*n = 2;
		return 1;
	}
	return 0;
}

static int
is_sep(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '-' || c == ':' || c == '#' ||
	    c == '/' || c == '.';
}

/* Length of a payer-name prefix (with its separators) at p, or 0. */
static size_t
prefix_len(const unsigned char *p, size_t len)
{
	size_t i, k, n;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		k = strlen(prefixes[i]);
		if (len <= k || strncasecmp((const char *)p, prefixes[i],
		    k) != 0)
			continue;
		if (is_digit(p[k]))
			return k;
		if (!is_sep(p[k]))
			continue;
		for (n = k; n < len && is_sep(p[n]); n++)
			;
		/* "UHC-" alone, or a name then more words: not a prefix */
		if (n == len)
			return 0;
		return n;
	}
	return 0;
}

/*
 * One pass: leading payer names and spaces dropped, spaces and dashes
 * removed, lost zeros restored.  in and n may not overlap; n has
 * CLAIMNUM_MAX + 1 bytes.  Returns the length of n.
 */
static size_t
normalise_once(const char *in, size_t len, int fixed_len, char *n)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i, k = 0, skip, sl;

	/* "UHC UHC-123" as well: every leading name goes, spaces first. */
	for (i = 0;;) {
		while (i < len && is_space(p + i, len - i, &sl))
			i += sl;
		if ((skip = prefix_len(p + i, len - i)) == 0)
			break;
		i += skip;
	}
	for (; i < len; i += sl) {
		if (is_space(p + i, len - i, &sl))
			continue;
		sl = 1;
		n[k++] = (char)p[i];
	}
	n[k] = '\0';
	if (k > 0 && fixed_len > 0 && fixed_len <= CLAIMNUM_MAX &&
	    k >= CLAIMNUM_PAD_MIN && k < (size_t)fixed_len &&
	    strspn(n, "0123456789") == k) {
		memmove(n + (fixed_len - k), n, k + 1);
		memset(n, '0', fixed_len - k);
		k = fixed_len;
	}
	return k;
}

int
claimnum_normalise(const char *buf, size_t len, int fixed_len, char *out,
    size_t outsz)
{
	char n[CLAIMNUM_MAX + 1], m[CLAIMNUM_MAX + 1];
	size_t k, k2;
	int pass;

	if (outsz > 0)
		out[0] = '\0';
	/* a C string inside buf ends at its NUL */
	len = strnlen(buf, len);
	if (len == 0 || len > CLAIMNUM_MAX)
		return 0;
	k = normalise_once(buf, len, fixed_len, n);
	/*
	 * Again until nothing changes: removing spaces can make a name
	 * ("U<tab>HC45") or a no-break space (bytes around it) appear, and
	 * the normal form of a normal form must be itself.  Each pass that
	 * changes something without padding shortens it and padding happens
	 * once, so this ends within CLAIMNUM_MAX + 2 passes.
	 */
	for (pass = 0; pass < CLAIMNUM_MAX + 2 && k > 0; pass++) {
		k2 = normalise_once(n, k, fixed_len, m);
		if (k2 == k && memcmp(m, n, k) == 0)
			break;
		memcpy(n, m, k2 + 1);
		k = k2;
	}
	if (k == 0 || (k == len && memcmp(n, buf, len) == 0) || k >= outsz)
		return 0;
	memcpy(out, n, k + 1);
	return 1;
}

int
claimnum_usual(const char *s, int fixed_len)
{
	size_t i, len = strlen(s);
	int digits = 0;

	if (fixed_len > 0 ? len != (size_t)fixed_len : len < 5 || len > 30)
		return 0;
	for (i = 0; i < len; i++) {
		if (is_digit((unsigned char)s[i]))
			digits = 1;
		else if (!is_alpha((unsigned char)s[i]))
			return 0;
	}
	return digits;
}
