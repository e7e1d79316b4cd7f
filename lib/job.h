/*
 * A job's lifecycle state: the one place that changes csv_jobs, the
 * result columns of csv_job_rows and csv_job_chunks.  Each function is
 * one transition, a call of the PL/pgSQL function of the same name in
 * sql/functions/job_state.sql, which states the states it leaves, owns the
 * counters and timestamps, and says whether it applied.  fcgi, the
 * worker and ctl call these; docs/state-machine.md draws the machine.
 *
 * Convention: int functions return 1 when the transition applied, 0
 * when the job was not in a state it leaves (or is gone), -1 on a
 * database error with err set (err may be NULL).  PGresult functions
 * return the rows (the caller PQclear()s them) or NULL with err set.
 */
#ifndef JOB_H
#define JOB_H

#include <json-c/json.h>
#include <libpq-fe.h>

#include "errbuf.h"

/* Room for a status name ("CANCELLING") and its NUL. */
#define JOB_STATUS_MAX	16

/* A new PENDING job (upload, inside its transaction).  0 or -1. */
int	 job_create(PGconn *db, struct errbuf *err, const char *job_id,
	    const char *org_id, const char *user_id, const char *filename,
	    const char *task_id, const char *sha256_hex, const char *workflow);
/* The upload's totals: total rows, invalid rows, input_columns JSON. */
int	 job_intake_done(PGconn *db, struct errbuf *err, const char *job_id,
	    const char *total, const char *invalid, const char *columns);
/* A PENDING job whose message could not be queued is deleted. */
int	 job_discard(PGconn *db, struct errbuf *err, const char *job_id);

/*
 * A run takes the job (PENDING, or PROCESSING with no live run) under
 * task_id on node.  Rows: organization_id, provider_code,
 * transaction_code; none when the job is not ours.
 */
PGresult *job_claim(PGconn *db, struct errbuf *err, const char *job_id,
	    const char *task_id, const char *node, long stale_s);
/*
 * The result flush: rows_json (array of payer answers: status columns,
 * "details", "payments"; see sql/functions/job_state.sql) stored and counted,
 * calls_json ({"calls_status": n, ...} or NULL) added to the request
 * counters, heartbeat refreshed, waiting_for_payer set, in one round
 * trip.  status gets the job's status ("" if gone).  0 or -1.
 */
int	 job_store_results(PGconn *db, struct errbuf *err, const char *job_id,
	    const char *rows_json, const char *calls_json, int waiting,
	    char status[JOB_STATUS_MAX]);
/*
 * job_store_results() in two halves: _send() sends the flush (0 or -1),
 * _recv() waits for its answer (0 or -1); nothing else may use db in
 * between.  The run loop stores one batch while it collects the next.
 */
int	 job_store_results_send(PGconn *db, struct errbuf *err,
	    const char *job_id, const char *rows_json, const char *calls_json,
	    int waiting);
int	 job_store_results_recv(PGconn *db, struct errbuf *err,
	    char status[JOB_STATUS_MAX]);
/* A run shows life; status as job_store_results().  0 or -1. */
int	 job_heartbeat(PGconn *db, struct errbuf *err, const char *job_id,
	    int waiting, char status[JOB_STATUS_MAX]);
/* The watchdog's heartbeat of its tasks' jobs (tasks: a text[] literal). */
int	 job_heartbeat_tasks(PGconn *db, struct errbuf *err,
	    const char *tasks);
/* A run lets go of a PROCESSING job without finishing it. */
int	 job_release(PGconn *db, struct errbuf *err, const char *job_id);

/*
 * Splits a PROCESSING job's open rows into chunks of per_chunk rows
 * (0: inline, earlier chunks forgotten).  Rows: first_row, last_row.
 */
PGresult *job_plan_chunks(PGconn *db, struct errbuf *err,
	    const char *job_id, long per_chunk);
/*
 * The open rows of a job (no status, or details/payments its workflow
 * wants not stored; not a duplicate); -1 on error.
 */
long	 job_open_rows(PGconn *db, struct errbuf *err, const char *job_id);
/* A chunk of the current split is taken by a worker. */
int	 job_chunk_start(PGconn *db, struct errbuf *err, const char *job_id,
	    const char *first, const char *last);
/*
 * A chunk is done (counted once).  1 counted, with *last_chunk and the
 * job's status set; 0 not counted (delivered again, or replaced).
 */
int	 job_chunk_done(PGconn *db, struct errbuf *err, const char *job_id,
	    const char *first, const char *last, const char *by,
	    int *last_chunk, char status[JOB_STATUS_MAX]);

/* PROCESSING -> COMPLETED when no row is left. */
int	 job_finish(PGconn *db, struct errbuf *err, const char *job_id);
/*
 * PENDING or PROCESSING -> FAILED with msg (no PHI); task_id not NULL:
 * only while the job still belongs to that task.
 */
int	 job_fail(PGconn *db, struct errbuf *err, const char *job_id,
	    const char *msg, const char *task_id);
/*
 * The user cancels job_id of org_id.  1 applied, status the new one
 * (CANCELLING or CANCELLED); 0 finished already, status the current
 * one; 2 no such job; -1 error.
 */
int	 job_cancel(PGconn *db, struct errbuf *err, const char *job_id,
	    const char *org_id, long stale_s, char status[JOB_STATUS_MAX]);
/* A run saw the cancel: CANCELLING -> CANCELLED. */
int	 job_cancelled(PGconn *db, struct errbuf *err, const char *job_id);

enum job_retry_result {
	JOB_RETRY_ERROR = -1,
	JOB_RETRY_NOT_FOUND,
	JOB_RETRY_RUNNING,
	JOB_RETRY_NOTHING,
	JOB_RETRY_RETRIED,
	JOB_RETRY__MAX
};
/*
 * The user retries a finished job of org_id under the new task_id:
 * failed rows reset, counters recounted, PENDING.  *todo: rows left.
 */
enum job_retry_result job_retry(PGconn *db, struct errbuf *err,
	    const char *job_id, const char *org_id, const char *task_id,
	    long long *todo);

/* A notification went out: channel "email" or "webhook". */
int	 job_mark_notified(PGconn *db, struct errbuf *err,
	    const char *job_id, const char *channel);

/*
 * The watchdog's sweep.  job_fail_lost: stale PROCESSING jobs requeued
 * max_requeues times -> FAILED (rows: id).  job_requeue: the other
 * stale PROCESSING jobs -> PENDING (rows: id, celery_task_id).
 * job_requeue_orphans: node's PROCESSING jobs whose task is not among
 * running (a text[] literal) -> PENDING (rows: id, celery_task_id).
 * job_cancel_orphans: stale CANCELLING jobs -> CANCELLED (rows: id).
 */
PGresult *job_fail_lost(PGconn *db, struct errbuf *err, long stale_s,
	    long max_requeues);
PGresult *job_requeue(PGconn *db, struct errbuf *err, long stale_s,
	    long max_requeues);
PGresult *job_requeue_orphans(PGconn *db, struct errbuf *err,
	    const char *node, const char *running, long grace_s,
	    long max_requeues);
PGresult *job_cancel_orphans(PGconn *db, struct errbuf *err, long stale_s);

/*
 * The Celery result value of a job: id, status and counts, no PHI.
 * NULL (err set) when the job is gone or the database failed; owned by
 * the caller.
 */
struct json_object *job_summary(PGconn *db, struct errbuf *err,
	    const char *job_id);

#endif
