/*
 * The worker's watchdog process: heartbeats for the jobs this
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

/*
 * SIGHUP configuration reload for every process of the worker.  The
 * main process calls reload_init() with the -c path (NULL: the
 * environment's) before forking; each process installs reload_on_hup
 * as its SIGHUP handler and calls reload_if_asked() where no borrowed
 * configuration string is in use (the main loop; a child between
 * tasks).  What was copied at start-up (node name, queues, Redis URL,
 * concurrency) keeps its value until a restart; keys read when used
 * (payer.*, watchdog.*, task limits, database.url for new connections)
 * take the new value.
 */
void	reload_init(const char *path);
void	reload_on_hup(int sig);
/* Reloads if a SIGHUP came (and reopens the log); 1 if it did. */
int	reload_if_asked(void);

#endif
