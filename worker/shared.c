/*
 * The shared memory block between the main process and its children:
 * slots, counters, the Lamport clock and the revoked set.
 */
#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

struct wk_config wk_cfg;
struct wk_shared *wk_sh;

int
wk_shared_init(void)
{
	pthread_mutexattr_t a;
	int i;

	wk_sh = mmap(NULL, sizeof(*wk_sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (wk_sh == MAP_FAILED) {
		wk_sh = NULL;
		return -1;
	}
	memset(wk_sh, 0, sizeof(*wk_sh));
	for (i = 0; i < WK_TOTALS_MAX; i++)
		wk_sh->soft_override[i] = wk_sh->hard_override[i] = -1;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	/* A child killed while holding the lock must not wedge the rest. */
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&wk_sh->mtx, &a);
	pthread_mutexattr_destroy(&a);
	return 0;
}

void
wk_lock(void)
{
	if (pthread_mutex_lock(&wk_sh->mtx) == EOWNERDEAD)
		pthread_mutex_consistent(&wk_sh->mtx);
}

void
wk_unlock(void)
{
	pthread_mutex_unlock(&wk_sh->mtx);
}

unsigned long
wk_clock_tick(void)
{
	return __atomic_add_fetch(&wk_sh->clock, 1, __ATOMIC_SEQ_CST);
}

void
wk_clock_seen(unsigned long clock)
{
	unsigned long cur = __atomic_load_n(&wk_sh->clock, __ATOMIC_SEQ_CST);

	/* Lamport: max(local, received) + 1. */
	while (cur < clock && !__atomic_compare_exchange_n(&wk_sh->clock,
	    &cur, clock, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
	wk_clock_tick();
}

int
wk_is_revoked(const char *id)
{
	int i, n, found = 0;

	wk_lock();
	n = wk_sh->nrevoked < WK_REVOKED_MAX ? wk_sh->nrevoked :
	    WK_REVOKED_MAX;
	for (i = 0; i < n && !found; i++)
		if (strcmp(wk_sh->revoked[i], id) == 0)
			found = 1;
	wk_unlock();
	return found;
}

void
wk_revoke(const char *id)
{
	if (id[0] == '\0' || wk_is_revoked(id))
		return;
	wk_lock();
	/* A ring: the oldest ids are forgotten first. */
	memcpy(wk_sh->revoked[wk_sh->nrevoked % WK_REVOKED_MAX], id,
	    strnlen(id, CELERY_ID_MAX - 1));
	wk_sh->revoked[wk_sh->nrevoked % WK_REVOKED_MAX]
	    [strnlen(id, CELERY_ID_MAX - 1)] = '\0';
	wk_sh->nrevoked++;
	wk_unlock();
}

double
wk_parse_rate(const char *s)
{
	char *end;
	double n;

	if (s == NULL || *s == '\0')
		return 0;
	n = strtod(s, &end);
	if (end == s || n < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "/s") == 0)
		return n;
	if (strcmp(end, "/m") == 0)
		return n / 60;
	if (strcmp(end, "/h") == 0)
		return n / 3600;
	return -1;
}
