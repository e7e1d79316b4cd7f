/*
 * Celery remote control (inspect / control) in the worker's main process.
 * Answers through node.h (command connection, events, uptime) and pool.h
 * (revoke with terminate); neither calls back into it.
 */
#ifndef PIDBOX_H
#define PIDBOX_H

#include <hiredis/hiredis.h>

#include "errbuf.h"

/*
 * Connects *sub, declares the node's pidbox queue binding and
 * PSUBSCRIBEs /<db>.celery.pidbox.  Returns 0 or -1 with err set (the
 * poll loop then keeps retrying).
 */
int	pidbox_start(redisContext **sub, struct errbuf *err);

/* Waits up to ms for requests on *sub and answers them; reconnects. */
void	pidbox_poll(redisContext **sub, int ms);

/* 1 once a `shutdown` command was received. */
int	pidbox_shutdown_requested(void);

/* Removes the pidbox binding and lists (clean shutdown). */
void	pidbox_stop(redisContext *c);

#endif
