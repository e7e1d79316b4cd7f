/*
 * UTF-8 as RFC 3629 section 4 defines it: overlong forms, UTF-16
 * surrogates (U+D800..U+DFFF) and code points above U+10FFFF are
 * invalid.  The one validator of the tree; pure functions over
 * (buf, len), nothing is allocated.
 */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length (1..4) of the valid UTF-8 sequence at the start of s, n bytes
 * long, or 0 if the sequence is invalid or cut short by n.  n must be
 * at least 1.
 */
size_t	utf8_seq(const void *s, size_t n);

/*
 * As utf8_seq(), and stores the code point of a valid sequence in *cp
 * (left alone for an invalid one).
 */
size_t	utf8_decode(const void *s, size_t n, uint32_t *cp);

/* Offset of the first byte of buf that starts no valid sequence, or len. */
size_t	utf8_check(const void *buf, size_t len);

/* 1 if all len bytes of buf are valid UTF-8 (len 0 is), else 0. */
int	utf8_valid(const void *buf, size_t len);

/*
 * Number of characters (code points) in n bytes of valid UTF-8: the
 * bytes that are not continuation bytes.
 */
size_t	utf8_chars(const void *s, size_t n);

/*
 * Length of the longest prefix of s (n bytes of valid UTF-8) that is at
 * most max bytes and does not cut a sequence, for truncating values.
 */
size_t	utf8_prefix(const void *s, size_t n, size_t max);

#endif
