/*
 * The job runner (runner.c): checks a job's unprocessed rows with the
 * payer and stores the results; the job tasks (task_csv.c,
 * task_chunk.c) call it between their state transitions (lib/job.h).
 */
#ifndef RUNNER_H
#define RUNNER_H

#include <libpq-fe.h>

#include "errbuf.h"
#include "tasks.h"

/*
 * Checks the unprocessed rows of job_id numbered range_lo..range_hi
 * (0, 0: all) with the payer and stores the results.  Returns 0 or -1
 * with res filled (retry or failure; a payer refusal marks the job
 * FAILED).  *outcome: 0 done, 1 stopped (resume later), 2 cancelled or
 * no longer PROCESSING.  The connection may be replaced during a
 * database outage: callers take task_db_get() again afterwards.
 */
int	run_rows(struct task_ctx *ctx, PGconn *db, const char *job_id,
	    const char *org_id, const char *provider, const char *transaction,
	    long range_lo, long range_hi, struct task_result *res,
	    int *outcome);
/* After a cancelled run: CANCELLING -> CANCELLED, logged. */
void	run_cancelled(PGconn *db, const char *job_id);
/*
 * After the last rows: PROCESSING -> COMPLETED if no row is left, and
 * the job's notifications queued.  1 finished, 0 not (rows left or the
 * status changed), -1 with err.
 */
int	run_finish(struct task_ctx *ctx, PGconn *db, const char *job_id,
	    struct errbuf *err);

#endif
