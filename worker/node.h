/*
 * This node as the main process shows it to Celery: its Redis command
 * connection, its worker events (online, heartbeat, offline) and its
 * uptime.  Used by main.c, pool.c and pidbox.c; calls none of them.
 */
#ifndef NODE_H
#define NODE_H

#include <hiredis/hiredis.h>

/* Records the start time for node_uptime(). */
void	node_init(void);

/*
 * Sets the command connection made at start-up (ownership passes to
 * this module).
 */
void	node_cmd_set(redisContext *c);

/*
 * The main process's command connection, reconnected when dead (one
 * attempt per second, queue bindings declared again).  NULL while Redis
 * is away.  Borrowed: do not free.
 */
redisContext *node_cmd(void);

/*
 * Frees the command connection: at exit, and in a forked child, where
 * it only closes the child's copy of the socket.
 */
void	node_cmd_close(void);

/* Sends worker-online / worker-heartbeat / worker-offline events. */
void	node_event(const char *type, int full);

/* Seconds since node_init(). */
double	node_uptime(void);

#endif
