/*
 * The worker's watchdog process (issue 8): heartbeats for the jobs this
 * node runs, a liveness key for /health, and the sweep that requeues
 * jobs nobody runs any more.  See watchdog.c.
 */
#ifndef WATCHDOG_H
#define WATCHDOG_H

/*
 * The watchdog process's main loop; runs until SIGTERM (or the main
 * process dies).  Returns the exit status.  Called in a child forked
 * by the main process, which restarts it if it dies.
 */
int	watchdog_run(void);

#endif
