/*
 * Payer state shared by every worker on every machine, kept in Redis:
 * the OAuth2 access token of a credential (so N workers fetch one token,
 * not N), a lock so only one of them fetches it, and a token bucket per
 * payer for payer.rate_limit.  Used by payer.c; callers of the engine
 * only hand it a connected redisContext through payer_options.redis.
 *
 * All functions are synchronous, one round trip each (the engine calls
 * them once per token fetch and once per batch of rate permits), and
 * return -1 with err on a Redis failure so the engine can fall back to
 * its worker-local behaviour.  Nothing here logs.
 */
#ifndef PAYER_REDIS_H
#define PAYER_REDIS_H

#include <stddef.h>

#include "errbuf.h"
#include "limits.h"
#include "secrets.h"

struct redisContext;

/*
 * Access tokens are stored sealed: base64 (URL-safe, no padding) of
 * nonce || XChaCha20-Poly1305(token) under skey, a key only the workers
 * hold, with the Redis key name as additional data.  A value read from
 * Redis alone (a dump, a replica, a MONITOR) is useless, and it cannot
 * be moved under another credential's key.  PAYER_REDIS_SEALED_MAX is the
 * size of the largest such value plus its NUL.
 */
#define PAYER_REDIS_SEALED_MAX	((24 + PAYER_MAX_TOKEN + 16 + 2) / 3 * 4 + 1)

/*
 * Reads and opens the shared token under key into tok (toksz bytes), its
 * stored (sealed) form into raw (rawsz bytes, for payer_redis_token_drop)
 * and its remaining lifetime in *ttl_ms.  Returns 1 found, 0 none, -1
 * error (Redis, or a value that does not open under skey: another key, a
 * tampered or a clear value).
 */
int	payer_redis_token_get(struct redisContext *rc, const char *key,
	    const unsigned char skey[SECRETS_KEY_LEN], char *tok, size_t toksz,
	    char *raw, size_t rawsz, long long *ttl_ms, struct errbuf *err);

/* Seals tok and stores it under key for ttl_ms milliseconds.  0 or -1. */
int	payer_redis_token_put(struct redisContext *rc, const char *key,
	    const unsigned char skey[SECRETS_KEY_LEN], const char *tok,
	    long long ttl_ms, struct errbuf *err);

/*
 * Deletes the token under key only if its stored form is still raw (what
 * payer_redis_token_get read for the token the payer refused), so a fresh
 * token another worker just stored survives.  Returns 1 deleted, 0 not,
 * -1 error.
 */
int	payer_redis_token_drop(struct redisContext *rc, const char *key,
	    const char *raw, struct errbuf *err);

/*
 * Takes the lock key with the random value id for ms milliseconds.
 * Returns 1 taken, 0 held by another worker, -1 error.
 */
int	payer_redis_lock(struct redisContext *rc, const char *key,
	    const char *id, long ms, struct errbuf *err);

/* Releases the lock if it still holds id (it may have expired). */
void	payer_redis_unlock(struct redisContext *rc, const char *key,
	    const char *id);

/*
 * Token bucket (Lua, atomic, clock = Redis TIME so workers' clocks do not
 * matter): refills at rate per second up to burst, takes up to want
 * permits.  Returns the number granted (0..want), with *wait_ms the time
 * until the next permit when fewer than want were granted; -1 on error.
 */
int	payer_redis_rate_take(struct redisContext *rc, const char *key,
	    double rate, double burst, int want, long *wait_ms,
	    struct errbuf *err);

/*
 * payer.max_in_flight across workers: a hash {worker id: requests held}
 * in key, and a sorted set alive_key {worker id: expiry} so a crashed
 * worker's share is freed after ttl_ms.  take grants up to want of the
 * max - (sum of all holders) still free and returns the number granted
 * (0..want), or -1; give returns n to the pool (0 or -1).  Both renew
 * this worker's expiry.
 */
int	payer_redis_slots_take(struct redisContext *rc, const char *key,
	    const char *alive_key, const char *id, int max, int want,
	    long ttl_ms, struct errbuf *err);
int	payer_redis_slots_give(struct redisContext *rc, const char *key,
	    const char *alive_key, const char *id, int n, long ttl_ms,
	    struct errbuf *err);

/*
 * Payer metrics of all workers (GET /metrics reads them): hash
 * PAYER_REDIS_LATENCY {"0.05".."+Inf": requests in that bucket (not
 * cumulative), "sum_us", "count"} and PAYER_REDIS_ERRORS {cause: count}.
 */
#define PAYER_REDIS_LATENCY	"bulkclaims:metrics:payer_latency"
#define PAYER_REDIS_ERRORS	"bulkclaims:metrics:payer_errors"

struct payer_stats;
/*
 * Adds what now counted since was (a copy of the same engine's stats at
 * the last push) to the two hashes: HINCRBY commands pipelined, one round
 * trip.  Returns 0 or -1 with err.
 */
int	payer_redis_metrics_push(struct redisContext *rc,
	    const struct payer_stats *now, const struct payer_stats *was,
	    struct errbuf *err);

#endif
