/*
 * Failpoints (see failpoint.h).  Deliberately tiny: one comparison in
 * the normal case, and a SIGKILL, not exit(), so no atexit handler or
 * buffered write hides what a real crash would leave behind.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "failpoint.h"

void
failpoint(const char *name)
{
	const char *armed;

	if ((armed = getenv("BULKCLAIMS_FAILPOINT")) == NULL ||
	    strcmp(armed, name) != 0)
		return;
	if (!config_get_bool("debug.failpoints", 0))
		return;
	kill(getpid(), SIGKILL);
}
