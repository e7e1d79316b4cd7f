/*
 * API tokens and sealed payer secrets with libsodium.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "secrets.h"

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

void
secrets_token_new(char out[SECRETS_TOKEN_LEN + 1])
{
	unsigned char b[SECRETS_TOKEN_LEN / 2];

	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(out, SECRETS_TOKEN_LEN + 1, b, sizeof(b));
	sodium_memzero(b, sizeof(b));
}

int
secrets_payer_ad(char ad[SECRETS_AD_MAX], const char *practice_id,
    const char *provider, const char *base_url)
{
	int n;

	n = snprintf(ad, SECRETS_AD_MAX, "practice:%s:%s:%s", practice_id,
	    provider, base_url);
	return n < 0 || n >= SECRETS_AD_MAX ? -1 : 0;
}

int
secrets_token_hash(const char *token, unsigned char out[32])
{
	size_t i;

	memset(out, 0, 32);
	if (token == NULL || strlen(token) != SECRETS_TOKEN_LEN)
		return -1;
	for (i = 0; i < SECRETS_TOKEN_LEN; i++)
		if (!isxdigit((unsigned char)token[i]))
			return -1;
	crypto_hash_sha256(out, (const unsigned char *)token,
	    SECRETS_TOKEN_LEN);
	return 0;
}

int
secrets_key_load(const char *path, unsigned char key[SECRETS_KEY_LEN],
    struct errbuf *err)
{
	char hex[SECRETS_KEY_LEN * 2 + 8];
	size_t binlen = 0;
	struct stat st;
	ssize_t n;
	int fd;

	if (path == NULL || *path == '\0')
		return errbuf_set(err, "secrets.key_file is not set");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errbuf_set(err, "%s: %s", path, strerror(errno));
	/* The key opens every payer and webhook secret: its owner alone. */
	if (fstat(fd, &st) != 0) {
		close(fd);
		return errbuf_set(err, "%s: %s", path, strerror(errno));
	}
	if ((st.st_mode & 077) != 0) {
		close(fd);
		return errbuf_set(err, "%s: the key file is open to group or "
		    "others (mode %03o); refusing it: chmod 600 %s", path,
		    (unsigned)(st.st_mode & 0777), path);
	}
	n = read(fd, hex, sizeof(hex) - 1);
	close(fd);
	if (n < 0)
		return errbuf_set(err, "%s: %s", path, strerror(errno));
	hex[n] = '\0';
	while (n > 0 && isspace((unsigned char)hex[n - 1]))
		hex[--n] = '\0';
	if (n != SECRETS_KEY_LEN * 2 ||
	    sodium_hex2bin(key, SECRETS_KEY_LEN, hex, n, NULL, &binlen,
	    NULL) != 0 || binlen != SECRETS_KEY_LEN) {
		sodium_memzero(hex, sizeof(hex));
		return errbuf_set(err, "%s: expected 64 hex characters", path);
	}
	sodium_memzero(hex, sizeof(hex));
	return 0;
}

int
secrets_read_line(const char *path, char *out, size_t outsz,
    struct errbuf *err)
{
	struct stat st;
	ssize_t n;
	char *nl;
	int fd;

	out[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errbuf_set(err, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		close(fd);
		return errbuf_set(err, "%s: %s", path, strerror(errno));
	}
	/* a secret anyone on the host can read is no secret */
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		close(fd);
		return errbuf_set(err, "%s: readable or writable by other "
		    "users (chmod 0600 or 0640)", path);
	}
	n = read(fd, out, outsz - 1);
	close(fd);
	if (n < 0)
		return errbuf_set(err, "%s: %s", path, strerror(errno));
	out[n] = '\0';
	if ((nl = strchr(out, '\n')) != NULL)
		*nl = '\0';
	else if ((size_t)n == outsz - 1) {
		sodium_memzero(out, outsz);
		return errbuf_set(err, "%s: line too long", path);
	}
	n = (ssize_t)strlen(out);
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	if (n == 0)
		return errbuf_set(err, "%s: empty", path);
	return 0;
}

int
secrets_key_create(const char *path, struct errbuf *err)
{
	unsigned char key[SECRETS_KEY_LEN];
	char hex[SECRETS_KEY_LEN * 2 + 2];
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errbuf_set(err, "%s: %s", path, strerror(errno));
	randombytes_buf(key, sizeof(key));
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	hex[SECRETS_KEY_LEN * 2] = '\n';
	if (write(fd, hex, SECRETS_KEY_LEN * 2 + 1) !=
	    SECRETS_KEY_LEN * 2 + 1)
		rc = errbuf_set(err, "%s: %s", path, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = errbuf_set(err, "%s: %s", path, strerror(errno));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

int
secrets_seal(const unsigned char key[SECRETS_KEY_LEN], const char *ad,
    const void *plain, size_t len, unsigned char **out, size_t *outlen,
    struct errbuf *err)
{
	unsigned char *buf;
	unsigned long long clen;

	*out = NULL;
	*outlen = 0;
	if ((buf = malloc(NONCE_LEN + len + TAG_LEN)) == NULL)
		return errbuf_set(err, "out of memory");
	randombytes_buf(buf, NONCE_LEN);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(buf + NONCE_LEN, &clen,
	    plain, len, (const unsigned char *)ad, strlen(ad), NULL, buf,
	    key) != 0) {
		free(buf);
		return errbuf_set(err, "encryption failed");
	}
	*out = buf;
	*outlen = NONCE_LEN + clen;
	return 0;
}

int
secrets_open(const unsigned char key[SECRETS_KEY_LEN], const char *ad,
    const unsigned char *sealed, size_t len, char **out, struct errbuf *err)
{
	unsigned long long plen;
	char *buf;

	*out = NULL;
	if (len < NONCE_LEN + TAG_LEN)
		return errbuf_set(err, "sealed secret is too short");
	if ((buf = malloc(len - NONCE_LEN - TAG_LEN + 1)) == NULL)
		return errbuf_set(err, "out of memory");
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)buf,
	    &plen, NULL, sealed + NONCE_LEN, len - NONCE_LEN,
	    (const unsigned char *)ad, strlen(ad), sealed, key) != 0) {
		free(buf);
		return errbuf_set(err, "secret cannot be decrypted "
		    "(wrong key or tampered data)");
	}
	buf[plen] = '\0';
	*out = buf;
	return 0;
}
