/*
 * Text encoding checks for uploaded files: is it text at all, is it
 * UTF-8 (RFC 3629), and if not, can it be read as Windows-1252 (what
 * Excel's "CSV (Comma delimited)" writes on Windows)?  Pure functions
 * over (buf, len); nothing is allocated.
 */
#ifndef TEXTENC_H
#define TEXTENC_H

#include <stddef.h>

/* What textenc_utf8_scan() found. */
struct textenc_scan {
	size_t	first_bad;	/* first invalid byte, or len */
	size_t	nmultibyte;	/* valid multi-byte sequences */
	size_t	ninvalid;	/* invalid bytes */
};

/*
 * Scans buf for UTF-8 validity as RFC 3629 defines it: overlong forms,
 * UTF-16 surrogates (U+D800..U+DFFF) and code points above U+10FFFF are
 * invalid.  The whole buffer is scanned (an invalid byte is skipped and
 * counted), so the caller can tell a clean legacy-encoded file (no valid
 * multi-byte sequence) from a mix of encodings.
 */
void	textenc_utf8_scan(const void *buf, size_t len,
	    struct textenc_scan *sc);

/*
 * Returns the offset of the first byte that no text file contains: NUL
 * or a C0 control other than TAB, LF, VT, FF, CR and SUB (an old DOS
 * end-of-file mark).  Returns len if there is none.
 */
size_t	textenc_find_binary(const void *buf, size_t len);

/*
 * Returns the offset of the first byte that Windows-1252 leaves
 * undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D), or len if every byte has a
 * character.
 */
size_t	textenc_cp1252_find_undefined(const void *buf, size_t len);

/*
 * Converts len bytes of Windows-1252 to UTF-8 into out, which must hold
 * TEXTENC_CP1252_MAXGROW * len bytes (a byte becomes at most 3).
 * Undefined bytes become U+FFFD.  Returns the number of bytes written;
 * out is not NUL-terminated.  Every byte is one character, so the input
 * may be cut anywhere.
 */
#define TEXTENC_CP1252_MAXGROW	3
size_t	textenc_cp1252_to_utf8(const void *in, size_t len, char *out);

#endif
