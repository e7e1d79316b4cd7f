/*
 * Text encoding checks: UTF-8 validation (RFC 3629 section 4), binary
 * detection and Windows-1252 to UTF-8 conversion.  See textenc.h.
 */
#include <stdint.h>
#include <string.h>

#include "textenc.h"

/*
 * Windows-1252 0x80..0x9F, where it differs from ISO-8859-1 (whose
 * C1 controls nobody types).  0 marks the five undefined bytes.  Source:
 * the Unicode mapping file cp1252.txt (unicode.org, VENDORS/MICSFT).
 */
static const uint16_t cp1252_c1[32] = {
	0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
	0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178
};

/*
 * Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid.  The
 * second-byte ranges are those of RFC 3629's UTF8-octets grammar, which
 * excludes overlongs, surrogates and code points above U+10FFFF.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return need;
}

void
textenc_utf8_scan(const void *buf, size_t len, struct textenc_scan *sc)
{
	const unsigned char *s = buf;
	size_t i = 0, n;
	uint64_t w;

	sc->first_bad = len;
	sc->nmultibyte = sc->ninvalid = 0;
	while (i < len) {
		/* ASCII fast path: eight bytes at a time. */
		if (len - i >= 8) {
			memcpy(&w, s + i, 8);
			if ((w & 0x8080808080808080ULL) == 0) {
				i += 8;
				continue;
			}
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_seq(s + i, len - i)) == 0) {
			if (sc->ninvalid++ == 0)
				sc->first_bad = i;
			i++;
			continue;
		}
		sc->nmultibyte++;
		i += n;
	}
}

size_t
textenc_find_binary(const void *buf, size_t len)
{
	const unsigned char *s = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] >= 0x20)
			continue;
		switch (s[i]) {
		case '\t': case '\n': case '\v': case '\f': case '\r':
		case 0x1A:
			continue;
		default:
			return i;
		}
	}
	return len;
}

size_t
textenc_cp1252_find_undefined(const void *buf, size_t len)
{
	const unsigned char *s = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] >= 0x80 && s[i] <= 0x9F && cp1252_c1[s[i] - 0x80] == 0)
			return i;
	return len;
}

size_t
textenc_cp1252_to_utf8(const void *in, size_t len, char *out)
{
	const unsigned char *s = in;
	unsigned char *o = (unsigned char *)out;
	unsigned int cp;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] < 0x80) {
			*o++ = s[i];
			continue;
		}
		cp = s[i] >= 0xA0 ? s[i] : cp1252_c1[s[i] - 0x80];
		if (cp == 0)
			cp = 0xFFFD;
		if (cp < 0x800) {
			*o++ = 0xC0 | (cp >> 6);
			*o++ = 0x80 | (cp & 0x3F);
		} else {
			*o++ = 0xE0 | (cp >> 12);
			*o++ = 0x80 | ((cp >> 6) & 0x3F);
			*o++ = 0x80 | (cp & 0x3F);
		}
	}
	return (size_t)(o - (unsigned char *)out);
}

size_t
textenc_utf8_chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

size_t
textenc_utf8_prefix(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	/* Back up over continuation bytes to a sequence start. */
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}
