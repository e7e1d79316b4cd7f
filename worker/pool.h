/*
 * Supervision of the worker's child processes in the main process: the
 * prefork consumers (one per --concurrency slot) and the watchdog.
 * Spawns them, reaps them, enforces hard time limits, restarts the dead
 * (after a pause if they died young), terminates a revoked task's
 * process, and keeps the messages the children hold visible.  Uses
 * node.h, consumer_run() and watchdog_run(); calls back into nothing.
 */
#ifndef POOL_H
#define POOL_H

/*
 * Starts one consumer per wk_cfg.concurrency slot and the watchdog.
 * child_setup (may be NULL) runs first in every forked child, to close
 * what the caller owns (the command connection is closed here).
 */
void	pool_start(void (*child_setup)(void));

/*
 * Reaps children; restarts them unless stopping.  After a cold shutdown
 * nothing is cleaned up.  Returns the number of live consumers.
 */
int	pool_reap(int stopping, int cold);

/* Kills the processes past their task's hard time limit (time_limit). */
void	pool_check_hard_limits(void);

/*
 * Kills the process running task id (revoke with terminate=True),
 * stores REVOKED "terminated" and restarts the process.  Returns 1 if
 * found, 0 if no process runs id.
 */
int	pool_terminate(const char *id, int signum);

/* Refreshes the visibility of every message the children hold. */
void	pool_touch_held(void);

/* Hands due ETA messages of busy processes back to the queue. */
void	pool_steal_due(void);

/* Sends sig to every consumer; pool_signal_watchdog() to the watchdog. */
void	pool_signal(int sig);
void	pool_signal_watchdog(int sig);

#endif
