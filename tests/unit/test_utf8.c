/*
 * Unit tests of lib/utf8.c: RFC 3629 validity at every boundary, and a
 * comparison with a plain reference decoder over every 1-, 2- and 3-byte
 * input and a sample of 4-byte ones.
 */
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "utf8.h"

/*
 * The reference: decode the bits the generic way, then refuse what
 * RFC 3629 forbids (overlongs, surrogates, above U+10FFFF).
 */
static size_t
ref_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len, i;
	uint32_t c = s[0];

	if (c < 0x80)
		len = 1;
	else if ((c & 0xE0) == 0xC0) {
		len = 2;
		c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3;
		c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4;
		c &= 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static size_t
encode(uint32_t c, unsigned char *o)
{
	if (c < 0x80) {
		o[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (unsigned char)(0xC0 | (c >> 6));
		o[1] = (unsigned char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (c >> 12));
		o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (c & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (c >> 18));
	o[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (c & 0x3F));
	return 4;
}

/* 1 if s (n bytes) is refused by all of seq, decode, check and valid. */
static int
refused(const char *s, size_t n)
{
	uint32_t cp = 0x1234;

	return utf8_seq(s, n) == 0 && utf8_decode(s, n, &cp) == 0 &&
	    cp == 0x1234 && utf8_check(s, n) == 0 && !utf8_valid(s, n);
}

/* 1 if s (n bytes) is one valid sequence for code point want. */
static int
accepted(const char *s, size_t n, uint32_t want)
{
	uint32_t cp = 0;

	return utf8_seq(s, n) == n && utf8_decode(s, n, &cp) == n &&
	    cp == want && utf8_check(s, n) == n && utf8_valid(s, n);
}

static void
test_boundaries(void)
{
	/* Lowest and highest of each length. */
	ok(accepted("\x00", 1, 0) && accepted("\x7F", 1, 0x7F), "1 byte");
	ok(accepted("\xC2\x80", 2, 0x80) && accepted("\xDF\xBF", 2, 0x7FF),
	    "2 bytes: U+0080 and U+07FF");
	ok(accepted("\xE0\xA0\x80", 3, 0x800) &&
	    accepted("\xEF\xBF\xBF", 3, 0xFFFF), "3 bytes: U+0800 and U+FFFF");
	ok(accepted("\xF0\x90\x80\x80", 4, 0x10000) &&
	    accepted("\xF4\x8F\xBF\xBF", 4, 0x10FFFF),
	    "4 bytes: U+10000 and U+10FFFF");
	/* Around the surrogates. */
	ok(accepted("\xED\x9F\xBF", 3, 0xD7FF), "U+D7FF accepted");
	ok(refused("\xED\xA0\x80", 3), "U+D800 (first surrogate) refused");
	ok(refused("\xED\xBF\xBF", 3), "U+DFFF (last surrogate) refused");
	ok(accepted("\xEE\x80\x80", 3, 0xE000), "U+E000 accepted");
	ok(refused("\xED\xA0\xBD\xED\xB8\x80", 6),
	    "CESU-8 surrogate pair refused");
	/* Overlongs: the largest overlong of each length. */
	ok(refused("\xC0\x80", 2) && refused("\xC1\xBF", 2),
	    "2-byte overlongs (C0, C1) refused");
	ok(refused("\xE0\x80\x80", 3) && refused("\xE0\x9F\xBF", 3),
	    "3-byte overlongs refused");
	ok(refused("\xF0\x80\x80\x80", 4) && refused("\xF0\x8F\xBF\xBF", 4),
	    "4-byte overlongs refused");
	ok(refused("\xC0\xAF", 2), "overlong '/' refused");
	/* Past U+10FFFF. */
	ok(refused("\xF4\x90\x80\x80", 4), "U+110000 refused");
	ok(refused("\xF5\x80\x80\x80", 4) && refused("\xF7\xBF\xBF\xBF", 4),
	    "F5..F7 leads refused");
	ok(refused("\xF8\x88\x80\x80\x80", 5) &&
	    refused("\xFC\x84\x80\x80\x80\x80", 6),
	    "5- and 6-byte forms refused");
	ok(refused("\xFE", 1) && refused("\xFF", 1), "FE and FF refused");
	/* Stray continuation bytes and bad continuations. */
	ok(refused("\x80", 1) && refused("\xBF", 1), "lone continuation");
	ok(refused("\xC3\x28", 2) && refused("\xC3\xC0", 2),
	    "continuation out of 80..BF");
	ok(refused("\xE2\x82\x7F", 3) && refused("\xF0\x9F\x98\xC0", 4),
	    "last continuation out of range");
}

static void
test_truncated(void)
{
	static const char *const full[] = {
		"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"
	};
	size_t i, k, n;
	int good = 1;

	for (i = 0; i < 3; i++) {
		n = strlen(full[i]);
		for (k = 1; k < n; k++)
			if (!refused(full[i], k))
				good = 0;
		if (!accepted(full[i], n, i == 0 ? 0xE9 : i == 1 ? 0x20AC :
		    0x1F600))
			good = 0;
	}
	ok(good, "every cut of a 2-, 3- and 4-byte sequence is refused");
	/* A cut sequence followed by more text is still refused. */
	ok(utf8_check("ab\xE2\x82" "c", 5) == 2, "cut sequence before ASCII");
	ok(utf8_check("abcdefgh\xF0\x9F\x98", 11) == 8,
	    "cut sequence at the end after the ASCII fast path");
}

static void
test_check(void)
{
	char buf[64];

	ok(utf8_valid("", 0) && utf8_check("", 0) == 0, "empty is valid");
	ok(utf8_check("abc\xC3\xA9\xF0\x9F\x98\x80", 9) == 9, "mixed valid");
	/* The fast path must not skip a bad byte at any offset. */
	memset(buf, 'a', sizeof(buf));
	{
		size_t i;
		int good = 1;

		for (i = 0; i < sizeof(buf); i++) {
			buf[i] = (char)0x80;
			if (utf8_check(buf, sizeof(buf)) != i)
				good = 0;
			buf[i] = 'a';
		}
		ok(good, "first bad byte found at each of 64 offsets");
	}
	ok(utf8_check("\xC3\xA9\xFF\xC3\xA9", 5) == 2,
	    "offset of the first bad byte, not a count");
	/* A NUL is a valid character (U+0000); strings stop at len only. */
	ok(utf8_valid("a\0b", 3), "NUL inside is valid UTF-8");
}

static void
test_reference(void)
{
	unsigned char s[4];
	uint32_t c, a = 0, b = 0;
	size_t n, la, lb;
	unsigned int x, y, z, w;
	long bad = 0;
	static const unsigned char edge[] = {
		0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF
	};

	/* Every scalar value round-trips; every surrogate is refused. */
	for (c = 0; c <= 0x10FFFF; c++) {
		n = encode(c, s);
		la = utf8_decode(s, n, &a);
		if (c >= 0xD800 && c <= 0xDFFF) {
			if (la != 0)
				bad++;
		} else if (la != n || a != c)
			bad++;
	}
	ok(bad == 0, "U+0000..U+10FFFF encode and decode (%ld wrong)", bad);

	/* Every 1-, 2- and 3-byte input, with n as the input's length. */
	bad = 0;
	for (x = 0; x < 256; x++) {
		s[0] = (unsigned char)x;
		la = utf8_decode(s, 1, &a);
		lb = ref_decode(s, 1, &b);
		if (la != lb || (la && a != b))
			bad++;
		for (y = 0; y < 256; y++) {
			s[1] = (unsigned char)y;
			la = utf8_decode(s, 2, &a);
			lb = ref_decode(s, 2, &b);
			if (la != lb || (la && a != b))
				bad++;
			for (z = 0; z < 256; z++) {
				s[2] = (unsigned char)z;
				la = utf8_decode(s, 3, &a);
				lb = ref_decode(s, 3, &b);
				if (la != lb || (la && a != b))
					bad++;
			}
		}
	}
	ok(bad == 0, "every 1-, 2- and 3-byte input as the reference "
	    "(%ld differ)", bad);

	/* 4 bytes: every lead and second byte, edge values after. */
	bad = 0;
	for (x = 0xE0; x < 256; x++)
		for (y = 0; y < 256; y++)
			for (z = 0; z < sizeof(edge); z++)
				for (w = 0; w < sizeof(edge); w++) {
					s[0] = (unsigned char)x;
					s[1] = (unsigned char)y;
					s[2] = edge[z];
					s[3] = edge[w];
					la = utf8_decode(s, 4, &a);
					lb = ref_decode(s, 4, &b);
					if (la != lb || (la && a != b))
						bad++;
				}
	ok(bad == 0, "4-byte inputs as the reference (%ld differ)", bad);
}

static void
test_chars_prefix(void)
{
	ok(utf8_chars("\xC3\xA9t\xC3\xA9", 5) == 3, "character count");
	ok(utf8_chars("", 0) == 0, "no characters");
	ok(utf8_prefix("a\xC3\xA9", 3, 2) == 1, "prefix does not cut");
	ok(utf8_prefix("a\xC3\xA9", 3, 3) == 3, "whole string fits");
	ok(utf8_prefix("\xF0\x9F\x98\x80x", 5, 3) == 0,
	    "prefix shorter than the first sequence is empty");
	ok(utf8_prefix("ab\xE2\x82\xAC", 5, 4) == 2, "cut before a 3-byte");
}

int
main(void)
{
	test_boundaries();
	test_truncated();
	test_check();
	test_reference();
	test_chars_prefix();
	return done_testing();
}
