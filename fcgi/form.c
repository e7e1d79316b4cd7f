/*
 * Upload part checks (see form.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "form.h"
#include "utf8.h"

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

void
form_filename(const char *fname, char *out, size_t outsz)
{
	const unsigned char *s = (const unsigned char *)fname;
	size_t o = 0, n, left, max;

	if (outsz == 0)
		return;
	max = outsz - 1 < FORM_FILENAME_MAX ? outsz - 1 : FORM_FILENAME_MAX;
	left = fname != NULL ? strlen(fname) : 0;
	while (left > 0) {
		n = utf8_seq(s, left);
		if (n == 0 || (n == 1 && (iscntrl(*s) || *s == 0x7f))) {
			if (o + 1 > max)
				break;
			out[o++] = '_';
			s++;
			left--;
			continue;
		}
		if (o + n > max)
			break;
		memcpy(out + o, s, n);
		o += n;
		s += n;
		left -= n;
	}
	out[o] = '\0';
	/* Only dots or spaces left would make a useless name. */
	if (strspn(out, ". ") == o)
		snprintf(out, outsz, "upload.csv");
}
