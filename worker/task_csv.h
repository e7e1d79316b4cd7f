/*
 * claims.tasks.process_csv_file(job_id): checks every unprocessed row of
 * a job with the payer and stores the results.
 */
#ifndef TASK_CSV_H
#define TASK_CSV_H

#include "tasks.h"

/* The task function registered in worker/tasks.c. */
int	task_process_csv_file(struct task_ctx *ctx, struct json_object *args,
	    struct json_object *kwargs, struct task_result *res);

#endif
