/*
 * The simulator's memory: issued tokens, attempts per claim number, the
 * rate limiter and the counters GET /__stats reports.  Used only from
 * MHD's one internal thread, so it needs no locks.
 */
#ifndef SIM_STATE_H
#define SIM_STATE_H

/* Routes, for counting requests by path. */
enum sim_route {
	ROUTE_TOKEN,
	ROUTE_INQUIRY,
	ROUTE_X12,
	ROUTE_DETAIL,		/* /oihub/claim/detail/v1 */
	ROUTE_PAYMENT,		/* /oihub/claim/payment/v1 */
	ROUTE_MEMBER,		/* /oihub/claim/member-search/v1 */
	ROUTE_STATS,
	ROUTE_RESET,
	ROUTE_OUTAGE,
	ROUTE_EPOCH,		/* /__epoch */
	ROUTE_OTHER,
	ROUTE__MAX
};

/*
 * What a claim request asks, for counting attempts per claim: both
 * claim status routes share one count (as a client uses one of them).
 */
enum sim_txn {
	TXN_STATUS,
	TXN_DETAILS,
	TXN_PAYMENT,
	TXN_MEMBER,		/* member searches that listed the claim */
	TXN__MAX
};

/* Why a claim request was answered without looking at it. */
enum sim_reject {
	REJECT_RATE,		/* sim.rate_limit exceeded */
	REJECT_CONCURRENCY,	/* sim.max_concurrency exceeded */
	REJECT_INJECTED,	/* sim.error_rate */
	REJECT_OUTAGE,		/* POST /__outage */
	REJECT__MAX
};

/* Path of a route as served ("/oihub/claim/inquiry/v1"). */
const char	*state_route_path(enum sim_route r);

/* Allocates the tables.  Returns 0 or -1 (out of memory). */
int		 state_init(void);

/* Frees everything (for leak checkers). */
void		 state_free(void);

/* POST /__reset: forgets counters and attempts; tokens stay valid. */
void		 state_reset(void);

/*
 * Counts one more request of transaction t for claim and returns its
 * number (1 for the first).  Past SIM_MAX_CLAIMS distinct claims new
 * ones are not stored and always get 1.
 */
long		 state_claim_attempt(const char *claim, enum sim_txn t);

/* Requests of transaction t counted for claim so far (0 if none). */
long		 state_claim_count(const char *claim, enum sim_txn t);

/*
 * Issues a random token valid for ttl_s seconds from now_ms (monotonic)
 * into out (65 bytes).  Returns 0 or -1.
 */
int		 state_token_issue(long ttl_s, long long now_ms,
		    char out[65]);

/* 0 if tok was issued here and has not expired at now_ms, else -1. */
int		 state_token_check(const char *tok, long long now_ms);

/* Expires tok now (E401 claims): it is refused from then on. */
void		 state_token_revoke(const char *tok);

/* Counts a response of status on route r. */
void		 state_count(enum sim_route r, unsigned status);

/* Counts a rejection. */
void		 state_count_reject(enum sim_reject why);

/* A claim request started (+1) or finished (-1); returns the new count. */
long		 state_inflight(int delta);

/*
 * Rate limiter for claim routes: fixed windows of one second holding
 * rate requests (below 1/s: 1/rate seconds holding one).  Returns 1 to
 * admit, or 0 to answer 429 with *retry_after seconds (>= 1) until the
 * window ends.  rate <= 0: no limit.  Also records the busiest second
 * (window starting at the first request after the previous one ended),
 * of admitted and of offered requests.
 */
int		 state_rate_admit(double rate, long long now_ms,
		    int *retry_after);

/*
 * POST /__outage: for ms from now_ms every claim request is answered
 * with status (0: its connection is closed without an answer).  ms 0
 * ends an outage.
 */
void		 state_outage_set(long ms, unsigned status,
		    long long now_ms);

/* 1 while an outage lasts, with its status in *status; else 0. */
int		 state_outage(long long now_ms, unsigned *status);

/*
 * GET /__stats body (JSON; claim may be NULL).  Returns a malloc'd
 * string or NULL.
 */
char		*state_stats_json(const char *claim, long long now_ms);

#endif
