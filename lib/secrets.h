/*
 * API tokens and payer-credential encryption (libsodium).
 *
 * API tokens are 40 lower-case hex characters (as DRF's), shown once;
 * the database keeps only SHA-256(token).  Payer client secrets are
 * sealed with XChaCha20-Poly1305 under a 32-byte key read from
 * secrets.key_file (outside the database); the row identity is bound as
 * additional data so a sealed secret cannot be moved to another row.
 */
#ifndef SECRETS_H
#define SECRETS_H

#include <stddef.h>

#include "errbuf.h"

#define SECRETS_TOKEN_LEN	40
#define SECRETS_KEY_LEN		32

/* Size of the additional data secrets_payer_ad() writes, NUL included. */
#define SECRETS_AD_MAX		1024

/*
 * The additional data a payer client secret is sealed with: the
 * practice, the provider and the endpoint's base URL, so a secret moved
 * to another row, or kept while its endpoint moves to another host, no
 * longer opens.  Returns 0, or -1 when it does not fit in ad
 * (SECRETS_AD_MAX bytes).
 */
int	secrets_payer_ad(char ad[SECRETS_AD_MAX], const char *practice_id,
	    const char *provider, const char *base_url);

/* Writes a new random token (40 hex chars + NUL) into out. */
void	secrets_token_new(char out[SECRETS_TOKEN_LEN + 1]);

/*
 * SHA-256 of the token text into out[32].  Returns 0, or -1 when token
 * is not 40 hex characters (then out is zeroed).
 */
int	secrets_token_hash(const char *token, unsigned char out[32]);

/*
 * Reads the 32-byte key (64 hex characters, optional trailing newline)
 * from path into key.  A file that group or others may read or write
 * is refused.  Returns 0 or -1 with err.
 */
int	secrets_key_load(const char *path, unsigned char key[SECRETS_KEY_LEN],
	    struct errbuf *err);

/*
 * Reads the first line of the small secret file path (a password) into
 * out (outsz bytes, NUL-terminated, trailing newline and blanks cut).
 * Refuses a file other users may read or write, or an empty one.
 * Returns 0, or -1 with err (which never holds the secret).
 */
int	secrets_read_line(const char *path, char *out, size_t outsz,
	    struct errbuf *err);

/* Creates path (mode 0600) with a new random key; -1 if it exists. */
int	secrets_key_create(const char *path, struct errbuf *err);

/*
 * Seals plain (len bytes) under key with additional data ad.  *out is
 * malloc'd (nonce || ciphertext || tag), *outlen its size; the caller
 * frees it.  Returns 0 or -1 with err.
 */
int	secrets_seal(const unsigned char key[SECRETS_KEY_LEN], const char *ad,
	    const void *plain, size_t len, unsigned char **out, size_t *outlen,
	    struct errbuf *err);

/*
 * Opens what secrets_seal made.  *out is a malloc'd NUL-terminated
 * plaintext the caller must wipe (sodium_memzero) and free.  Returns 0,
 * or -1 with err if the key, the additional data or the data is wrong.
 */
int	secrets_open(const unsigned char key[SECRETS_KEY_LEN], const char *ad,
	    const unsigned char *sealed, size_t len, char **out,
	    struct errbuf *err);

#endif
