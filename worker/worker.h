/*
 * bulkclaims-worker internals shared by its files.
 *
 * Process model: the main process runs the control plane (remote
 * control, worker events and heartbeats, supervision, hard time limits);
 * each of --concurrency child processes runs the whole consumer loop
 * (BRPOP, unacked bookkeeping, execution, results).  What the main
 * process must know about the children (running task, held ETA messages,
 * counters) lives in one shared memory block, struct wk_shared.
 */
#ifndef WORKER_H
#define WORKER_H

#include <sys/types.h>

#include <pthread.h>

#include "celery.h"
#include "limits.h"

/* Revoked ids remembered (Celery keeps 50,000; ours expire sooner). */
#define WK_REVOKED_MAX	1024
/* Task names counted for `inspect stats` "total". */
#define WK_TOTALS_MAX	64

struct wk_config {
	char	 node[CELERY_NAME_MAX];		/* celery@host */
	char	 redis_url[1024];
	int	 db;
	char	 queues[CELERY_MAX_QUEUES][CELERY_NAME_MAX];
	int	 nqueues;
	int	 concurrency;
	int	 diagnostic;
	int	 task_events;			/* -E */
	long	 result_expires;		/* seconds; 0 = never */
	double	 visibility_timeout;
	double	 sweep_interval;
	double	 heartbeat;			/* seconds between heartbeats */
};

/* A short description of a message, for inspect replies. */
struct wk_reqinfo {
	char	 id[CELERY_ID_MAX];
	char	 name[CELERY_NAME_MAX];
	char	 argsrepr[256];
	char	 kwargsrepr[256];
	char	 delivery_tag[CELERY_ID_MAX];
	char	 exchange[CELERY_NAME_MAX];
	char	 routing_key[CELERY_NAME_MAX];
	int	 priority;
	int	 redelivered;
	int	 acknowledged;
	double	 time_start;
	double	 eta;
	int	 stolen;	/* held: handed back to the queue by main */
};

/* One child process. */
struct wk_slot {
	pid_t	 pid;
	int	 busy;				/* a task is running */
	int	 acks_late;
	double	 hard_deadline;			/* 0 = none */
	double	 hard_limit;			/* seconds, for the result */
	struct wk_reqinfo cur;			/* the running task */
	int	 nheld;				/* ETA messages held */
	struct wk_reqinfo held[CELERY_MAX_HELD];
};

struct wk_shared {
	pthread_mutex_t	 mtx;			/* process-shared */
	unsigned long	 clock;			/* Lamport clock of events */
	long		 processed;
	long		 totals[WK_TOTALS_MAX];	/* by task_defs[] index */
	int		 nrevoked;		/* ring of revoked ids */
	char		 revoked[WK_REVOKED_MAX][CELERY_ID_MAX];
	int		 task_events;		/* enable/disable_events */
	/* `control time_limit` overrides by task_defs[] index; -1 = unset */
	double		 soft_override[WK_TOTALS_MAX];
	double		 hard_override[WK_TOTALS_MAX];
	/* Rate limits (tasks/s, 0 = none): token buckets of capacity 1. */
	double		 rate[WK_TOTALS_MAX];
	double		 rate_tokens[WK_TOTALS_MAX];
	double		 rate_last[WK_TOTALS_MAX];
	struct wk_slot	 slots[CELERY_MAX_CONCURRENCY];
};

extern struct wk_config wk_cfg;
extern struct wk_shared *wk_sh;

/* consumer.c: a child's main loop; returns the process exit status. */
int	consumer_run(int slot);

/* shared.c helpers */
int	wk_shared_init(void);
void	wk_lock(void);
void	wk_unlock(void);
unsigned long wk_clock_tick(void);
void	wk_clock_seen(unsigned long clock);
int	wk_is_revoked(const char *id);
void	wk_revoke(const char *id);
/* "10/s", "100/m", "3600/h" or a number (per second); 0 = none, -1 bad. */
double	wk_parse_rate(const char *s);

#endif
