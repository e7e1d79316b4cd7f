/*
 * Upload part checks (see form.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "form.h"

int
form_csv_type_ok(const char *ctype)
{
	static const char *const ok[] = {
		"application/csv", "application/x-csv",
		"application/vnd.ms-excel", "application/octet-stream",
	};
	size_t n, i;

	if (ctype == NULL)
		return 1;
	while (*ctype == ' ' || *ctype == '\t')
		ctype++;
	/* The media type ends at ';' (parameters) or white space. */
	n = strcspn(ctype, "; \t");
	if (n == 0)
		return 1;
	if (n > 5 && strncasecmp(ctype, "text/", 5) == 0)
		return 1;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strlen(ok[i]) == n && strncasecmp(ctype, ok[i], n) == 0)
			return 1;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), or 0. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void
form_filename(const char *fname, char *out, size_t outsz)
{
	const unsigned char *s = (const unsigned char *)fname;
	size_t o = 0, n, max;

	if (outsz == 0)
		return;
	max = outsz - 1 < FORM_FILENAME_MAX ? outsz - 1 : FORM_FILENAME_MAX;
	while (s != NULL && *s != '\0') {
		n = utf8_len(s);
		if (n == 0 || (n == 1 && (iscntrl(*s) || *s == 0x7f))) {
			if (o + 1 > max)
				break;
			out[o++] = '_';
			s++;
			continue;
		}
		if (o + n > max)
			break;
		memcpy(out + o, s, n);
		o += n;
		s += n;
	}
	out[o] = '\0';
	/* Only dots or spaces left would make a useless name. */
	if (strspn(out, ". ") == o)
		snprintf(out, outsz, "upload.csv");
}
