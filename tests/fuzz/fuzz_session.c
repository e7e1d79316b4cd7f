/*
 * libFuzzer target for the session parsers of fcgi/cookie.c: every input
 * is read as a Cookie header (looking for __Host-bc_session and for a
 * name taken from the input), as a login body, and as a CSRF header
 * compared with a fixed token.  Invariants: a found cookie value fits
 * its buffer, holds only RFC 6265 cookie-octets, and is a substring of
 * the header; a parsed login has non-empty NUL-free fields within the
 * caps; csrf_equal is 1 only for the exact token.  Build and run:
 * tests/fuzz/run.sh 10 session.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fcgi/cookie.h"

#define TOKEN	"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_cookie(const uint8_t *data, size_t size, const char *name)
{
	char out[64];
	int n;
	size_t i;

	n = cookie_find(data, size, name, out, sizeof(out));
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(out) || strlen(out) != (size_t)n)
		abort();
	for (i = 0; i < (size_t)n; i++)
		if ((unsigned char)out[i] <= 0x20 || out[i] == '"' ||
		    out[i] == ',' || out[i] == ';' || out[i] == '\\' ||
		    (unsigned char)out[i] >= 0x7f)
			abort();
	if (n > 0 && memmem(data, size, out, (size_t)n) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char user[LOGIN_MAX_USERNAME + 1], pw[LOGIN_MAX_PASSWORD + 1];
	char name[16], *csrf;
	const char *why;
	size_t n;

	check_cookie(data, size, COOKIE_SESSION_NAME);
	/* A name from the input's first bytes (up to '=' or 15 bytes). */
	n = 0;
	while (n < size && n < sizeof(name) - 1 && data[n] != '=' &&
	    data[n] != '\0')
		n++;
	memcpy(name, data, n);
	name[n] = '\0';
	check_cookie(data, size, name);

	if (login_parse(data, size, user, pw, &why) == 0) {
		if (why != NULL || user[0] == '\0' || pw[0] == '\0' ||
		    strlen(user) > LOGIN_MAX_USERNAME ||
		    strlen(pw) > LOGIN_MAX_PASSWORD)
			abort();
	} else if (why == NULL || pw[0] != '\0')
		abort();

	if ((csrf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(csrf, data, size);
	csrf[size] = '\0';
	if (csrf_equal(TOKEN, csrf) != (strcmp(csrf, TOKEN) == 0))
		abort();
	free(csrf);
	return 0;
}
