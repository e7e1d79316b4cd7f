/*
 * JSON members from the columns of a libpq result: the one place that
 * says how a SQL NULL, a number and a boolean look in the API's JSON.
 */
#ifndef PGJSON_H
#define PGJSON_H

#include <json-c/json.h>
#include <libpq-fe.h>

/* o[key] = the text of column col of row, or null. */
void	 pgjson_text(struct json_object *o, const char *key,
	    const PGresult *res, int row, int col);

/* o[key] = the integer in column col of row, or null. */
void	 pgjson_int(struct json_object *o, const char *key,
	    const PGresult *res, int row, int col);

/* o[key] = the boolean in column col of row ("t"/"f"), or null. */
void	 pgjson_bool(struct json_object *o, const char *key,
	    const PGresult *res, int row, int col);

#endif
