/*
 * Small helpers both programs need: ids and time stamps.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>

/* The number of elements of an array (not of a pointer). */
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Writes a random UUID4 as 36 characters + NUL into out[37]. */
void	util_uuid4(char out[37]);

/* 1 if s is a UUID in canonical text form (any version), else 0. */
int	util_is_uuid(const char *s);

/* Seconds since the epoch as a double (CLOCK_REALTIME). */
double	util_now(void);

/* Monotonic milliseconds, for timeouts and rates. */
long long util_mono_ms(void);

/*
 * Formats t (epoch seconds) as naive UTC ISO-8601 with microseconds,
 * as Python's datetime.isoformat() does: "2026-11-28T11:55:48.492534".
 * utc_suffix appends "+00:00".  out must hold 40 bytes.
 */
void	util_isotime(double t, int utc_suffix, char *out, size_t outsz);

#endif
