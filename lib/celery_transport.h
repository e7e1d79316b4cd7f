/*
 * kombu's Redis transport as a Celery worker uses it: BRPOP
 * over queues and priority lists with rotation, the unacked /
 * unacked_index acknowledgement emulation, restore of held messages and
 * the visibility-timeout sweep under unacked_mutex.  Keys and values are
 * compatible with kombu 5.2.4, so Python and C workers restore each
 * other's messages.  A NULL redisContext makes a function return -1.
 */
#ifndef CELERY_TRANSPORT_H
#define CELERY_TRANSPORT_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "errbuf.h"
#include "limits.h"

/* The queues a consumer BRPOPs, in kombu's rotating order. */
struct celery_consumer {
	char	 queues[CELERY_MAX_QUEUES][CELERY_NAME_MAX];
	int	 nqueues;
};

/*
 * Sets up a consumer of the given queues (1..CELERY_MAX_QUEUES names).
 * Returns 0 or -1 with err set.
 */
int	celery_consumer_init(struct celery_consumer *cs,
	    const char *const *queues, int nqueues, struct errbuf *err);

/*
 * One BRPOP over every queue and priority step (steps dominate queue
 * order, as kombu does) with timeout seconds (fractions allowed).  On a
 * message returns 1, *out = malloc'd NUL-terminated text (caller frees),
 * *lenp its length, queue = the queue name without priority suffix, and
 * rotates that queue to the end.  Returns 0 on timeout, -1 on a Redis
 * error (err set; the context may be dead).
 */
int	celery_consumer_pop(redisContext *c, struct celery_consumer *cs,
	    double timeout, char **out, size_t *lenp, char *queue,
	    size_t queuesz, struct errbuf *err);

/*
 * Records a delivered message as kombu does: MULTI ZADD unacked_index
 * <now> <tag>; HSET unacked <tag> [envelope, exchange, routing_key]; EXEC.
 * envelope is the JSON text as popped.  Returns 0 or -1.
 */
int	celery_unacked_add(redisContext *c, const char *tag,
	    const char *envelope, size_t len, const char *exchange,
	    const char *routing_key, struct errbuf *err);

/*
 * Refreshes the delivery time of a message still held (ETA), so the
 * visibility sweep of any worker does not restore it while we hold it
 * (the duplicate-delivery hazard; Python does not do this).
 * Returns 0 or -1.
 */
int	celery_unacked_touch(redisContext *c, const char *tag,
	    struct errbuf *err);

/*
 * Acknowledges (or rejects without requeue; identical on Redis):
 * MULTI ZREM unacked_index; HDEL unacked; EXEC.  Returns 0 or -1.
 */
int	celery_ack(redisContext *c, const char *tag, struct errbuf *err);

/*
 * Puts a held message back on its queue with kombu's WATCH transaction
 * (headers.redelivered and delivery_info.redelivered set).
 * to_back 0: RPUSH (popped next, as kombu's restore); 1: LPUSH (reject
 * with requeue).  Returns 1 if restored, 0 if the tag was not in
 * unacked (someone else acked or restored it), -1 on error.
 */
int	celery_restore(redisContext *c, const char *tag, int to_back,
	    struct errbuf *err);

/*
 * The visibility-timeout sweep (kombu's restore_visible): takes
 * unacked_mutex (SET NX PX 300000; skips if another worker holds it),
 * restores every message delivered more than visibility_timeout seconds
 * ago, releases the mutex with a compare-and-delete script.  *nrestored
 * (may be NULL) gets the count.  Returns 0 (also when skipped) or -1.
 */
int	celery_restore_visible(redisContext *c, double visibility_timeout,
	    int *nrestored, struct errbuf *err);

#endif
