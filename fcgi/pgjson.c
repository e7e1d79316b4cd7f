/*
 * JSON members from libpq result columns (pgjson.h).
 */
#include <stdlib.h>

#include "pgjson.h"

void
pgjson_text(struct json_object *o, const char *key, const PGresult *res,
    int row, int col)
{
	json_object_object_add(o, key, PQgetisnull(res, row, col) ? NULL :
	    json_object_new_string(PQgetvalue(res, row, col)));
}

void
pgjson_int(struct json_object *o, const char *key, const PGresult *res,
    int row, int col)
{
	json_object_object_add(o, key, PQgetisnull(res, row, col) ? NULL :
	    json_object_new_int64(strtoll(PQgetvalue(res, row, col), NULL,
	    10)));
}

void
pgjson_bool(struct json_object *o, const char *key, const PGresult *res,
    int row, int col)
{
	json_object_object_add(o, key, PQgetisnull(res, row, col) ? NULL :
	    json_object_new_boolean(PQgetvalue(res, row, col)[0] == 't'));
}
