/*
 * Canvas support of the C worker: link, link_error and chain; chords
 * refused (see canvas.c).
 */
#ifndef CANVAS_H
#define CANVAS_H

#include <stddef.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "celery.h"

/*
 * 0 if the message's embed holds only what we support; -1 with a reason
 * in why (for a FAILURE NotImplementedError) otherwise.
 */
int	canvas_check(const struct celery_message *m, char *why, size_t whysz);

/*
 * After a success, before its result is stored: sends link callbacks and
 * the next chain step with retval prepended; appends each sent message
 * to children ([[id, null], null]).  Returns 0, or -1 if one publish
 * failed (logged).
 */
int	canvas_on_success(redisContext *c, const struct celery_message *m,
	    struct json_object *retval, struct json_object *children);

/*
 * After a FAILURE is stored: sends errbacks (failed id prepended) and
 * marks the remaining chain steps FAILURE with exc.  Returns 0.
 */
int	canvas_on_failure(redisContext *c, const struct celery_message *m,
	    struct json_object *exc, long result_expires);

#endif
