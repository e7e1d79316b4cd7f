/*
 * Logging in the OpenBSD style: one line per event, "key=value" fields,
 * to a file and/or stderr.  Never pass patient data (names, dates of
 * birth, subscriber ids), tokens or secrets: log job ids and row numbers.
 */
#ifndef LOG_H
#define LOG_H

#define LOG_ATTR(n) __attribute__((format(printf, n, n + 1)))

/*
 * Sets the program name and destinations.  path may be NULL (no file);
 * to_stderr copies every line to stderr.  debug enables log_debug().
 * Returns 0, or -1 with errno set if the file cannot be opened.
 */
int	log_init(const char *progname, const char *path, int to_stderr,
	    int debug);
/* Reopens the log file (after rotation). */
void	log_reopen(void);

void	log_info(const char *fmt, ...) LOG_ATTR(1);
void	log_debug(const char *fmt, ...) LOG_ATTR(1);
/* Warning with ": strerror(errno)" appended. */
void	log_warn(const char *fmt, ...) LOG_ATTR(1);
/* Warning without errno. */
void	log_warnx(const char *fmt, ...) LOG_ATTR(1);
/* Logs with errno and exits 1: start-up or broken invariants only. */
void	fatal(const char *fmt, ...) LOG_ATTR(1) __attribute__((noreturn));
void	fatalx(const char *fmt, ...) LOG_ATTR(1) __attribute__((noreturn));

#endif
