/*
 * Line-oriented logging.  Each line is written with one write(2) so that
 * lines from threads and processes sharing a file never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "bulkclaims";
static char *log_path;
static int log_fd = -1;
static int log_stderr = 1;
static int log_debug_on;
static pthread_mutex_t log_mtx = PTHREAD_MUTEX_INITIALIZER;

int
log_init(const char *progname, const char *path, int to_stderr, int debug)
{
	log_prog = progname;
	log_stderr = to_stderr;
	log_debug_on = debug;
	free(log_path);
	log_path = path ? strdup(path) : NULL;
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	if (path == NULL)
		return 0;
	log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	return log_fd < 0 ? -1 : 0;
}

void
log_reopen(void)
{
	int fd;

	if (log_path == NULL)
		return;
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return;
	pthread_mutex_lock(&log_mtx);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	pthread_mutex_unlock(&log_mtx);
}

static void
log_vwrite(const char *level, const char *fmt, va_list ap, int errnum)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	int n, m;
	ssize_t r = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_prog,
	    (int)getpid(), level);
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (errnum)
		n += snprintf(line + n, sizeof(line) - n, " error=\"%s\"",
		    strerror(errnum));
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	pthread_mutex_lock(&log_mtx);
	/* A failed write has nowhere left to be reported. */
	if (log_fd >= 0)
		r = write(log_fd, line, n);
	if (log_stderr)
		r = write(STDERR_FILENO, line, n);
	(void)r;
	pthread_mutex_unlock(&log_mtx);
}

#define LOG_BODY(level, errnum) do {			\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_vwrite(level, fmt, ap, errnum);		\
	va_end(ap);					\
} while (0)

void
log_info(const char *fmt, ...)
{
	LOG_BODY("info", 0);
}

void
log_debug(const char *fmt, ...)
{
	if (log_debug_on)
		LOG_BODY("debug", 0);
}

void
log_warn(const char *fmt, ...)
{
	int e = errno;

	LOG_BODY("warn", e);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY("warn", 0);
}

void
fatal(const char *fmt, ...)
{
	int e = errno;

	LOG_BODY("fatal", e);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY("fatal", 0);
	exit(1);
}
