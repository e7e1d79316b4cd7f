/*
 * Minimal TAP producer for unit tests, run by automake's tap-driver.sh.
 * ok(cond, fmt, ...) prints one "ok N - what" line; done_testing()
 * prints the plan and returns the exit status for main().
 */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do {						\
	int tap_ok_ = (cond) ? 1 : 0;					\
	tap_n++;							\
	if (!tap_ok_)							\
		tap_failed++;						\
	printf("%sok %d - ", tap_ok_ ? "" : "not ", tap_n);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!tap_ok_)							\
		printf("#   failed at %s:%d\n", __FILE__, __LINE__);	\
} while (0)

#define done_testing() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

#endif
