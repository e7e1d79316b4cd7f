/*
 * Failpoints (see failpoint.h).  Deliberately tiny: a getenv and a
 * configuration lookup in the normal case, and a SIGKILL, not exit(),
 * so no atexit handler or buffered write hides what a real crash would
 * leave behind.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "failpoint.h"

/* 1 if the file holds name (trailing whitespace ignored). */
static int
file_names(const char *path, const char *name)
{
	char buf[128];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' ||
	    buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	return strcmp(buf, name) == 0;
}

void
failpoint(const char *name)
{
	const char *armed, *file;

	if (!config_get_bool("debug.failpoints", 0))
		return;
	if ((armed = getenv("BULKCLAIMS_FAILPOINT")) != NULL &&
	    strcmp(armed, name) == 0)
		kill(getpid(), SIGKILL);
	file = config_get("debug.failpoint_file", NULL);
	if (file != NULL && *file != '\0' && file_names(file, name)) {
		unlink(file);
		kill(getpid(), SIGKILL);
	}
}
