/*
 * The resume timer: a min-heap of (due, connection) under one mutex and
 * a condition variable on the monotonic clock.
 *
 * Why the mutex is held around MHD_suspend_connection(): the timer must
 * never resume a connection before it has been suspended (a very short
 * delay could otherwise fire in between), so adding to the heap and
 * suspending are one step as seen by the timer thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "delay.h"
#include "util.h"

struct pending {
	long long		 due;
	struct MHD_Connection	*conn;
};

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static pthread_t thread;
static struct pending *heap;
static size_t heap_n, heap_cap;
static int stopping, started;

static void
heap_swap(size_t a, size_t b)
{
	struct pending t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
}

static void
heap_push(long long due, struct MHD_Connection *c)
{
	size_t i = heap_n++, p;

	heap[i].due = due;
	heap[i].conn = c;
	while (i > 0) {
		p = (i - 1) / 2;
		if (heap[p].due <= heap[i].due)
			break;
		heap_swap(i, p);
		i = p;
	}
}

static struct MHD_Connection *
heap_pop(void)
{
	struct MHD_Connection *c = heap[0].conn;
	size_t i = 0, l, r, m;

	heap[0] = heap[--heap_n];
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < heap_n && heap[l].due < heap[m].due)
			m = l;
		if (r < heap_n && heap[r].due < heap[m].due)
			m = r;
		if (m == i)
			break;
		heap_swap(i, m);
		i = m;
	}
	return c;
}

static void *
timer_main(void *arg)
{
	struct timespec ts;
	long long now, due;

	(void)arg;
	pthread_mutex_lock(&mtx);
	while (!stopping) {
		if (heap_n == 0) {
			pthread_cond_wait(&cond, &mtx);
			continue;
		}
		now = util_mono_ms();
		if (heap[0].due <= now) {
			MHD_resume_connection(heap_pop());
			continue;
		}
		/* util_mono_ms() is CLOCK_MONOTONIC, as is the condvar. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		due = heap[0].due - now;
		ts.tv_sec += due / 1000;
		ts.tv_nsec += (due % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&cond, &mtx, &ts);
	}
	while (heap_n > 0)
		MHD_resume_connection(heap_pop());
	pthread_mutex_unlock(&mtx);
	return NULL;
}

int
delay_start(size_t cap)
{
	pthread_condattr_t ca;
	int rc;

	if ((heap = calloc(cap, sizeof(*heap))) == NULL)
		return -1;
	heap_cap = cap;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&thread, NULL, timer_main, NULL)) != 0) {
		free(heap);
		heap = NULL;
		errno = rc;
		return -1;
	}
	started = 1;
	return 0;
}

int
delay_add(struct MHD_Connection *c, long long due_ms)
{
	int wake;

	pthread_mutex_lock(&mtx);
	if (stopping || heap_n >= heap_cap) {
		pthread_mutex_unlock(&mtx);
		return -1;
	}
	heap_push(due_ms, c);
	MHD_suspend_connection(c);
	/* Only a new earliest deadline changes what the timer waits for. */
	wake = heap[0].conn == c;
	pthread_mutex_unlock(&mtx);
	if (wake)
		pthread_cond_signal(&cond);
	return 0;
}

size_t
delay_pending(void)
{
	size_t n;

	pthread_mutex_lock(&mtx);
	n = heap_n;
	pthread_mutex_unlock(&mtx);
	return n;
}

void
delay_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&mtx);
	stopping = 1;
	pthread_mutex_unlock(&mtx);
	pthread_cond_signal(&cond);
	pthread_join(thread, NULL);
	pthread_cond_destroy(&cond);
	free(heap);
	heap = NULL;
	started = 0;
}
