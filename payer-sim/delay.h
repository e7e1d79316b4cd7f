/*
 * Latency without a thread per request: a connection that must wait is
 * suspended (MHD_suspend_connection) and one timer thread resumes it
 * when its time has come.  The pending set is a binary heap ordered by
 * due time, so 10,000 waiting requests cost one array and one thread.
 */
#ifndef SIM_DELAY_H
#define SIM_DELAY_H

#include <microhttpd.h>

/*
 * Starts the timer thread with room for cap waiting connections.
 * Returns 0, or -1 with errno set.
 */
int	delay_start(size_t cap);

/*
 * Suspends connection c (from inside MHD's access handler) until
 * due_ms (util_mono_ms() clock), then resumes it; MHD calls the handler
 * again.  Returns 0, or -1 if the set is full or stopping: the caller
 * answers at once instead.
 */
int	delay_add(struct MHD_Connection *c, long long due_ms);

/* Number of connections waiting now. */
size_t	delay_pending(void);

/*
 * Resumes every waiting connection at once, refuses new ones and stops
 * the thread.  Call before MHD_stop_daemon(), which must not find a
 * connection still suspended.
 */
void	delay_stop(void);

#endif
