/*
 * Splitting csvin's row messages for the validate-only preview: every
 * message starts with the column's canonical name followed by ':' or ' '
 * (lib/csvin.h lists the forms).
 */
#include <string.h>

#include "csvin.h"
#include "preview.h"

const char *
preview_column(const char *msg, size_t len)
{
	size_t n;
	int col;

	for (col = 0; col < CSVIN_COL__MAX; col++) {
		n = strlen(csvin_col_names[col]);
		if (len > n && strncmp(msg, csvin_col_names[col], n) == 0 &&
		    (msg[n] == ':' || msg[n] == ' '))
			return csvin_col_names[col];
	}
	return NULL;
}

size_t
preview_split(const char *msgs, preview_issue_fn fn, void *arg)
{
	const char *start = msgs, *p = msgs;
	size_t len, count = 0;

	if (msgs == NULL || *msgs == '\0')
		return 0;
	for (;;) {
		p = strstr(p, "; ");
		if (p != NULL && preview_column(p + 2, strlen(p + 2)) == NULL) {
			p += 2;
			continue;
		}
		len = p != NULL ? (size_t)(p - start) : strlen(start);
		fn(arg, preview_column(start, len), start, len);
		count++;
		if (p == NULL)
			return count;
		p += 2;
		start = p;
	}
}
