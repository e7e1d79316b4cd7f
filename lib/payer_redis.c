/*
 * Shared payer state in Redis (see payer_redis.h): token cache, fetch
 * lock, token bucket.  Scripts run atomically on the server, so two
 * workers never both see a permit or both delete a fresh token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>
#include <sodium.h>

#include "payer.h"
#include "payer_redis.h"

/* GET + PTTL in one step, so the lifetime belongs to the value read. */
static const char token_get_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return nil end\n"
    "return {v, redis.call('PTTL', KEYS[1])}\n";

static const char token_drop_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  return redis.call('DEL', KEYS[1])\n"
    "end\n"
    "return 0\n";

/*
 * The bucket is a hash {tokens, ts}; ts in ms of Redis TIME.  It expires
 * once it would be full again, so idle payers leave nothing behind.
 */
static const char rate_lua[] =
    "local rate = tonumber(ARGV[1])\n"
    "local burst = tonumber(ARGV[2])\n"
    "local want = tonumber(ARGV[3])\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')\n"
    "local tokens = tonumber(b[1]) or burst\n"
    "local ts = tonumber(b[2]) or now\n"
    "if now > ts then\n"
    "  tokens = math.min(burst, tokens + (now - ts) * rate / 1000)\n"
    "end\n"
    "if now < ts then now = ts end\n"
    "local got = math.min(want, math.floor(tokens))\n"
    "if got < 0 then got = 0 end\n"
    "tokens = tokens - got\n"
    "redis.call('HSET', KEYS[1], 'tokens', tostring(tokens),\n"
    "    'ts', tostring(now))\n"
    "redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)\n"
    "local wait = 0\n"
    "if got < want then\n"
    "  wait = math.ceil((1 - (tokens - math.floor(tokens))) * 1000 / rate)\n"
    "end\n"
    "return {got, wait}\n";

/* Frees the shares of workers whose expiry passed, then grants. */
static const char slots_take_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)\n"
    "for i = 1, #dead do redis.call('HDEL', KEYS[1], dead[i]) end\n"
    "if #dead > 0 then\n"
    "  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)\n"
    "end\n"
    "local used = 0\n"
    "for _, v in ipairs(redis.call('HVALS', KEYS[1])) do\n"
    "  used = used + tonumber(v)\n"
    "end\n"
    "local got = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) - used)\n"
    "if got < 0 then got = 0 end\n"
    "redis.call('HINCRBY', KEYS[1], ARGV[1], got)\n"
    "redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[1])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[4])\n"
    "return got\n";

static const char slots_give_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -tonumber(ARGV[2]))\n"
    "if n <= 0 then\n"
    "  redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "  redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "else\n"
    "  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])\n"
    "end\n"
    "return n\n";

/* Checks a reply: NULL (dead context) or an error reply become -1. */
static int
reply_ok(struct redisContext *rc, redisReply *r, struct errbuf *err)
{
	if (r == NULL)
		return errbuf_set(err, "redis: %s", rc->errstr[0] ?
		    rc->errstr : "no reply");
	if (r->type == REDIS_REPLY_ERROR) {
		errbuf_set(err, "redis: %.200s", r->str);
		freeReplyObject(r);
		return -1;
	}
	return 0;
}

/* Opens the base64 text raw (sealed under skey, ad key) into tok. */
static int
token_open(const unsigned char skey[SECRETS_KEY_LEN], const char *key,
    const char *raw, size_t rawlen, char *tok, size_t toksz,
    struct errbuf *err)
{
	unsigned char *bin;
	size_t binlen = 0;
	char *plain = NULL;
	int rv = 0;

	if ((bin = malloc(rawlen)) == NULL)
		return errbuf_set(err, "out of memory");
	if (sodium_base642bin(bin, rawlen, raw, rawlen, NULL, &binlen, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    secrets_open(skey, key, bin, binlen, &plain, err) != 0)
		rv = errbuf_set(err, "redis: shared token does not open "
		    "(another key, or not sealed)");
	else if (strlen(plain) == 0 || strlen(plain) >= toksz)
		rv = errbuf_set(err, "redis: shared token unusable");
	else
		memcpy(tok, plain, strlen(plain) + 1);
	if (plain != NULL) {
		sodium_memzero(plain, strlen(plain));
		free(plain);
	}
	free(bin);
	return rv;
}

int
payer_redis_token_get(struct redisContext *rc, const char *key,
    const unsigned char skey[SECRETS_KEY_LEN], char *tok, size_t toksz,
    char *raw, size_t rawsz, long long *ttl_ms, struct errbuf *err)
{
	redisReply *r;
	int rv = 0;

	r = redisCommand(rc, "EVAL %s 1 %s", token_get_lua, key);
	if (reply_ok(rc, r, err) == -1)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[1]->type == REDIS_REPLY_INTEGER) {
		if (r->element[0]->len == 0 || r->element[0]->len >= rawsz)
			rv = errbuf_set(err, "redis: shared token unusable");
		else if (r->element[1]->integer == -2)
			rv = 0;		/* expired between GET and PTTL */
		else if ((rv = token_open(skey, key, r->element[0]->str,
		    r->element[0]->len, tok, toksz, err)) == 0) {
			memcpy(raw, r->element[0]->str, r->element[0]->len);
			raw[r->element[0]->len] = '\0';
			/* -1: no expiry (someone set it by hand) */
			*ttl_ms = r->element[1]->integer;
			rv = 1;
		}
	}
	freeReplyObject(r);
	return rv;
}

int
payer_redis_token_put(struct redisContext *rc, const char *key,
    const unsigned char skey[SECRETS_KEY_LEN], const char *tok,
    long long ttl_ms, struct errbuf *err)
{
	unsigned char *sealed;
	size_t sealedlen;
	char *text;
	redisReply *r;

	if (ttl_ms <= 0)
		return 0;
	if (secrets_seal(skey, key, tok, strlen(tok), &sealed, &sealedlen,
	    err) != 0)
		return -1;
	text = malloc(sodium_base64_ENCODED_LEN(sealedlen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING));
	if (text == NULL) {
		free(sealed);
		return errbuf_set(err, "out of memory");
	}
	sodium_bin2base64(text, sodium_base64_ENCODED_LEN(sealedlen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING), sealed, sealedlen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	free(sealed);
	r = redisCommand(rc, "SET %s %s PX %lld", key, text, ttl_ms);
	free(text);
	if (reply_ok(rc, r, err) == -1)
		return -1;
	freeReplyObject(r);
	return 0;
}

int
payer_redis_token_drop(struct redisContext *rc, const char *key,
    const char *raw, struct errbuf *err)
{
	redisReply *r;
	int rv;

	r = redisCommand(rc, "EVAL %s 1 %s %s", token_drop_lua, key, raw);
	if (reply_ok(rc, r, err) == -1)
		return -1;
	rv = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
	freeReplyObject(r);
	return rv;
}

int
payer_redis_lock(struct redisContext *rc, const char *key, const char *id,
    long ms, struct errbuf *err)
{
	redisReply *r;
	int rv;

	r = redisCommand(rc, "SET %s %s NX PX %ld", key, id, ms);
	if (reply_ok(rc, r, err) == -1)
		return -1;
	/* OK when taken, nil when another worker holds it */
	rv = r->type == REDIS_REPLY_STATUS;
	freeReplyObject(r);
	return rv;
}

void
payer_redis_unlock(struct redisContext *rc, const char *key, const char *id)
{
	redisReply *r;

	r = redisCommand(rc, "EVAL %s 1 %s %s", token_drop_lua, key, id);
	if (r != NULL)
		freeReplyObject(r);
}

int
payer_redis_rate_take(struct redisContext *rc, const char *key, double rate,
    double burst, int want, long *wait_ms, struct errbuf *err)
{
	redisReply *r;
	char srate[32], sburst[32];
	int got = -1;

	*wait_ms = 0;
	if (rate <= 0 || want <= 0)
		return want > 0 ? want : 0;
	snprintf(srate, sizeof(srate), "%.6f", rate);
	snprintf(sburst, sizeof(sburst), "%.6f", burst < 1 ? 1.0 : burst);
	r = redisCommand(rc, "EVAL %s 1 %s %s %s %d", rate_lua, key, srate,
	    sburst, want);
	if (reply_ok(rc, r, err) == -1)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->type == REDIS_REPLY_INTEGER) {
		got = (int)r->element[0]->integer;
		*wait_ms = (long)r->element[1]->integer;
	} else
		errbuf_set(err, "redis: unexpected rate reply");
	freeReplyObject(r);
	return got;
}

int
payer_redis_slots_take(struct redisContext *rc, const char *key,
    const char *alive_key, const char *id, int max, int want, long ttl_ms,
    struct errbuf *err)
{
	redisReply *r;
	int got = -1;

	if (want <= 0)
		return 0;
	r = redisCommand(rc, "EVAL %s 2 %s %s %s %d %d %ld", slots_take_lua,
	    key, alive_key, id, max, want, ttl_ms);
	if (reply_ok(rc, r, err) == -1)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		got = (int)r->integer;
	else
		errbuf_set(err, "redis: unexpected in-flight reply");
	freeReplyObject(r);
	return got;
}

int
payer_redis_slots_give(struct redisContext *rc, const char *key,
    const char *alive_key, const char *id, int n, long ttl_ms,
    struct errbuf *err)
{
	redisReply *r;

	if (n <= 0)
		return 0;
	r = redisCommand(rc, "EVAL %s 2 %s %s %s %d %ld", slots_give_lua, key,
	    alive_key, id, n, ttl_ms);
	if (reply_ok(rc, r, err) == -1)
		return -1;
	freeReplyObject(r);
	return 0;
}

int
payer_redis_metrics_push(struct redisContext *rc,
    const struct payer_stats *now, const struct payer_stats *was,
    struct errbuf *err)
{
	redisReply *r;
	unsigned long d;
	int i, n = 0, rv = 0;

	for (i = 0; i < PAYER_LAT_NBUCKETS; i++) {
		if ((d = now->lat_bucket[i] - was->lat_bucket[i]) == 0)
			continue;
		redisAppendCommand(rc, "HINCRBY %s %s %lu", PAYER_REDIS_LATENCY,
		    payer_latency_le(i), d);
		n++;
	}
	if (now->lat_count != was->lat_count) {
		redisAppendCommand(rc, "HINCRBY %s sum_us %llu",
		    PAYER_REDIS_LATENCY, now->lat_sum_us - was->lat_sum_us);
		redisAppendCommand(rc, "HINCRBY %s count %lu",
		    PAYER_REDIS_LATENCY, now->lat_count - was->lat_count);
		n += 2;
	}
	/* entries keep their index, so was's i-th is now's i-th */
	for (i = 0; i < now->nerr; i++) {
		d = now->err[i].n - (i < was->nerr ? was->err[i].n : 0);
		if (d == 0)
			continue;
		redisAppendCommand(rc, "HINCRBY %s %s %lu", PAYER_REDIS_ERRORS,
		    now->err[i].cause, d);
		n++;
	}
	/* read every reply, so none is left for the next command */
	while (n-- > 0) {
		r = NULL;
		if (redisGetReply(rc, (void **)&r) != REDIS_OK) {
			return errbuf_set(err, "redis: %s", rc->errstr[0] ?
			    rc->errstr : "no reply");
		}
		if (reply_ok(rc, r, err) == -1)
			rv = -1;
		else
			freeReplyObject(r);
	}
	return rv;
}
