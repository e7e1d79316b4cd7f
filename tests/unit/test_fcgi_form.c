/*
 * Upload part checks: which Content-Types may carry a CSV, and the
 * stored filename (UTF-8 kept, junk replaced, length capped).
 */
#include <string.h>

#include "form.h"
#include "tap.h"

int
main(void)
{
	char out[FORM_FILENAME_MAX + 1], small[8], longname[600];
	size_t i;
	static const char *const yes[] = {
		NULL, "", "text/csv", "TEXT/CSV; charset=utf-8", "text/plain",
		"text/x-csv", "application/vnd.ms-excel",
		"application/octet-stream", " application/csv",
		"application/x-csv",
	};
	static const char *const no[] = {
		"image/png", "application/pdf", "application/json",
		"application/vnd.openxmlformats-officedocument."
		    "spreadsheetml.sheet",
		"text/", "application/csvx", "multipart/mixed",
	};

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ok(form_csv_type_ok(yes[i]) == 1, "accepted: %s",
		    yes[i] ? yes[i] : "(none)");
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ok(form_csv_type_ok(no[i]) == 0, "refused: %s", no[i]);

	form_filename("claims.csv", out, sizeof(out));
	ok(strcmp(out, "claims.csv") == 0, "plain name");
	form_filename("r\xc3\xa9sum\xc3\xa9 2026.csv", out, sizeof(out));
	ok(strcmp(out, "r\xc3\xa9sum\xc3\xa9 2026.csv") == 0, "UTF-8 kept");
	form_filename("bad\xff\xfe.csv", out, sizeof(out));
	ok(strcmp(out, "bad__.csv") == 0, "invalid UTF-8 replaced: %s", out);
	form_filename("a\x01\x1f\x7f.csv", out, sizeof(out));
	ok(strcmp(out, "a___.csv") == 0, "control characters replaced: %s",
	    out);
	form_filename("\xc0\xaf.csv", out, sizeof(out));
	ok(strcmp(out, "__.csv") == 0, "overlong UTF-8 refused: %s", out);
	form_filename("\xed\xa0\x80.csv", out, sizeof(out));
	ok(strcmp(out, "___.csv") == 0, "surrogate refused: %s", out);
	form_filename(NULL, out, sizeof(out));
	ok(strcmp(out, "upload.csv") == 0, "NULL -> upload.csv");
	form_filename("", out, sizeof(out));
	ok(strcmp(out, "upload.csv") == 0, "empty -> upload.csv");
	form_filename("..", out, sizeof(out));
	ok(strcmp(out, "upload.csv") == 0, ".. -> upload.csv");

	memset(longname, 'x', sizeof(longname));
	/* A 2-byte character straddling the cap must not be cut in half. */
	longname[FORM_FILENAME_MAX - 1] = '\xc3';
	longname[FORM_FILENAME_MAX] = '\xa9';
	longname[sizeof(longname) - 1] = '\0';
	form_filename(longname, out, sizeof(out));
	ok(strlen(out) == FORM_FILENAME_MAX - 1, "cut on a character boundary "
	    "(%zu bytes)", strlen(out));
	form_filename("abcdefghij", small, sizeof(small));
	ok(strcmp(small, "abcdefg") == 0, "cut to the buffer");
	return done_testing();
}
