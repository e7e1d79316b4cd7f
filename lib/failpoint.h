/*
 * Failpoints for fault-injection tests: a named place in the code where
 * a test can make the process die, to prove that what happens after a
 * crash there is safe.  Armed only when the configuration says
 * debug.failpoints = 1, and then by the environment variable
 * BULKCLAIMS_FAILPOINT=<name> (every time) or by a file named by
 * debug.failpoint_file that holds the name (once: the file is removed
 * when the point fires, so the restarted process runs normally).
 * Production configurations never arm them.
 */
#ifndef FAILPOINT_H
#define FAILPOINT_H

/*
 * If name is the armed failpoint, kills the calling process with
 * SIGKILL (no clean-up, as a crash or an OOM kill would).  Otherwise
 * returns at once.  Reads the configuration and the environment on
 * every call; call it only where a test needs it.
 */
void	failpoint(const char *name);

#endif
