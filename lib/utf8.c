/*
 * UTF-8 validation and decoding (RFC 3629).  See utf8.h.
 */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

size_t
utf8_decode(const void *buf, size_t n, uint32_t *cp)
{
	const unsigned char *s = buf;
	unsigned char lo = 0x80, hi = 0xBF;
	uint32_t c = s[0];
	size_t need, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	/*
	 * The second-byte ranges are those of RFC 3629's UTF8-octets
	 * grammar: they exclude overlongs (C0, C1, E0 80..9F, F0 80..8F),
	 * surrogates (ED A0..BF) and code points above U+10FFFF (F4 90..,
	 * F5..FF).
	 */
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
		c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
		c &= 0x07;
	} else
		return 0;
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	c = (c << 6) | (s[1] & 0x3F);
	for (i = 2; i < need; i++) {
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	*cp = c;
	return need;
}

size_t
utf8_seq(const void *s, size_t n)
{
	uint32_t cp;

	return utf8_decode(s, n, &cp);
}

size_t
utf8_check(const void *buf, size_t len)
{
	const unsigned char *s = buf;
	size_t i = 0, k;
	uint64_t w;

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
		if ((k = utf8_seq(s + i, len - i)) == 0)
			return i;
		i += k;
	}
	return len;
}

int
utf8_valid(const void *buf, size_t len)
{
	return utf8_check(buf, len) == len;
}

size_t
utf8_chars(const void *buf, size_t n)
{
	const unsigned char *s = buf;
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

size_t
utf8_prefix(const void *buf, size_t n, size_t max)
{
	const unsigned char *s = buf;

	if (n <= max)
		return n;
	/* Back up over continuation bytes to a sequence start. */
	while (max > 0 && (s[max] & 0xC0) == 0x80)
		max--;
	return max;
}
