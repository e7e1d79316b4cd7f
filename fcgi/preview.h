/*
 * The validate-only preview's pure part: splitting a row's csvin
 * messages (joined with "; ") into one issue per column, so unit tests
 * check it without services.
 */
#ifndef PREVIEW_H
#define PREVIEW_H

#include <stddef.h>

/*
 * Called once per message: col is the canonical column it is about (or
 * NULL), msg/len the message (not NUL-terminated).
 */
typedef void (*preview_issue_fn)(void *arg, const char *col, const char *msg,
	    size_t len);

/*
 * Splits msgs, csvin's "; "-joined row messages, calling fn for each.
 * A "; " starts a new message only where a column name follows it (as
 * every csvin message starts), so a quoted value containing "; " stays
 * in its message.  Returns the number of messages.
 */
size_t	 preview_split(const char *msgs, preview_issue_fn fn, void *arg);

/* The canonical column msg (len bytes) is about, or NULL. */
const char *preview_column(const char *msg, size_t len);

#endif
