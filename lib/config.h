/*
 * The one configuration loader: "key = value" lines, '#' comments, read
 * from the file named by -c or BULKCLAIMS_CONFIG.  Any key can be
 * overridden by the environment variable BULKCLAIMS_ + the key in upper
 * case with dots as underscores (redis.url -> BULKCLAIMS_REDIS_URL).
 * Every key is documented in README.md.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include "errbuf.h"

/*
 * Loads path (NULL: $BULKCLAIMS_CONFIG, or no file) into a new table and
 * checks every numeric and boolean key (of the file and of the
 * BULKCLAIMS_* environment) against its type and range.  Only if all is
 * well does the new table replace the process-wide one.  Returns 0, or -1
 * with err naming the file, line, key and (for a number) the value; the
 * table loaded before is then kept untouched, so a SIGHUP reload with a
 * bad file leaves the program on its old configuration.  Not
 * thread-safe: call before starting threads (or while they are paused,
 * for SIGHUP reloads).
 */
int	 config_load(const char *path, struct errbuf *err);

/*
 * Returns the value of key (environment first, then the file), or def.
 * The string is borrowed: valid until the next config_load().
 */
const char *config_get(const char *key, const char *def);

/*
 * Names the running program ("fcgi", "worker", "ctl"; NULL: none) for
 * config_get_own().  Call once at start-up; the string must outlive
 * the process (a literal).
 */
void	 config_set_program(const char *prog);

/*
 * The program's own value of key: "<prog>.<key>" if set (environment or
 * file, e.g. worker.database.url / BULKCLAIMS_WORKER_DATABASE_URL), else
 * key's, else def.  For the settings that differ by program on one
 * host with one configuration file: connection URLs, Redis users and
 * password files.  Borrowed as config_get()'s.
 */
const char *config_get_own(const char *key, const char *def);

/* Integer value of key, or def if unset or not an integer. */
long	 config_get_long(const char *key, long def);

/* Boolean (1/0, true/false, yes/no, on/off), or def. */
int	 config_get_bool(const char *key, int def);

/* Frees the table (for leak checkers). */
void	 config_free(void);

#endif
