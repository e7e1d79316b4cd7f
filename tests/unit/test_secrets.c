/*
 * Unit tests for API tokens and sealed secrets.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "secrets.h"
#include "tap.h"

int
main(void)
{
	char tok[SECRETS_TOKEN_LEN + 1], tok2[SECRETS_TOKEN_LEN + 1];
	char path[] = "/tmp/bckeyXXXXXX", *plain = NULL;
	char ad[SECRETS_AD_MAX], ad2[SECRETS_AD_MAX], big[SECRETS_AD_MAX];
	char line[64];
	unsigned char h1[32], h2[32], key[SECRETS_KEY_LEN], *sealed = NULL;
	size_t sealedlen = 0;
	struct errbuf err;
	int fd;

	ok(sodium_init() >= 0, "sodium_init");
	secrets_token_new(tok);
	secrets_token_new(tok2);
	ok(strlen(tok) == 40 && strcmp(tok, tok2) != 0,
	    "tokens are 40 chars and differ");
	ok(secrets_token_hash(tok, h1) == 0, "hash of a token");
	ok(secrets_token_hash(tok, h2) == 0 && memcmp(h1, h2, 32) == 0,
	    "hash is deterministic");
	ok(secrets_token_hash("short", h2) == -1, "short token rejected");
	ok(secrets_token_hash("zz34567890123456789012345678901234567890",
	    h2) == -1, "non-hex token rejected");

	fd = mkstemp(path);
	close(fd);
	unlink(path);
	ok(secrets_key_create(path, &err) == 0, "key file created");
	ok(secrets_key_create(path, &err) == -1, "existing key not replaced");
	ok(secrets_key_load(path, key, &err) == 0, "key loaded");
	chmod(path, 0640);
	ok(secrets_key_load(path, key, &err) == -1 &&
	    strstr(err.msg, "chmod 600") != NULL,
	    "group-readable key file refused, saying what to do");
	chmod(path, 0604);
	ok(secrets_key_load(path, key, &err) == -1,
	    "world-readable key file refused");
	chmod(path, 0400);
	ok(secrets_key_load(path, key, &err) == 0, "owner-only key loaded");
	chmod(path, 0600);
	ok(secrets_seal(key, "practice:1:UHC", "s3cret", 6, &sealed,
	    &sealedlen, &err) == 0 && sealedlen > 6, "seal");
	ok(memmem(sealed, sealedlen, "s3cret", 6) == NULL,
	    "ciphertext does not contain the plaintext");
	ok(secrets_open(key, "practice:1:UHC", sealed, sealedlen, &plain,
	    &err) == 0 && strcmp(plain, "s3cret") == 0, "open");
	free(plain);
	plain = NULL;
	ok(secrets_open(key, "practice:2:UHC", sealed, sealedlen, &plain,
	    &err) == -1, "other row's additional data rejected");
	sealed[sealedlen - 1] ^= 1;
	ok(secrets_open(key, "practice:1:UHC", sealed, sealedlen, &plain,
	    &err) == -1, "tampered data rejected");
	free(sealed);

	/* the payer endpoint's base URL is bound too */
	ok(secrets_payer_ad(ad, "7", "UHC", "https://api.payer.example") == 0,
	    "payer additional data");
	ok(secrets_seal(key, ad, "s3cret", 6, &sealed, &sealedlen, &err) == 0,
	    "seal bound to practice, provider and endpoint");
	ok(secrets_payer_ad(ad2, "7", "UHC", "https://evil.example") == 0 &&
	    secrets_open(key, ad2, sealed, sealedlen, &plain, &err) == -1,
	    "the secret does not open for a moved endpoint");
	ok(secrets_payer_ad(ad2, "7", "UHC", "https://api.payer.example") ==
	    0 && secrets_open(key, ad2, sealed, sealedlen, &plain, &err) == 0 &&
	    strcmp(plain, "s3cret") == 0, "it opens for its own endpoint");
	free(plain);
	free(sealed);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(secrets_payer_ad(ad2, "7", "UHC", big) == -1,
	    "an over-long base URL is refused, not cut");

	/* password files (redis.password_file) */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0 && write(fd, "pw one \nsecond\n", 15) == 15,
	    "password file written");
	close(fd);
	ok(secrets_read_line(path, line, sizeof(line), &err) == 0 &&
	    strcmp(line, "pw one") == 0, "first line, trailing blanks cut");
	chmod(path, 0644);
	ok(secrets_read_line(path, line, sizeof(line), &err) == -1 &&
	    strstr(err.msg, "other users") != NULL && line[0] == '\0',
	    "a file others may read is refused (%s)", err.msg);
	chmod(path, 0640);
	ok(secrets_read_line(path, line, 4, &err) == -1,
	    "a line longer than the buffer is refused");
	unlink(path);
	ok(secrets_key_load(path, key, &err) == -1, "missing key file");
	return done_testing();
}
