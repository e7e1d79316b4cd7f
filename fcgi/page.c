/*
 * One DRF page answer (PageNumberPagination) for every list endpoint:
 * page validation, the next/previous links, LIMIT/OFFSET and the
 * {count, next, previous, results} body.
 */
#include <stdio.h>

#include <json.h>

#include "app.h"
#include "db.h"
#include "drf.h"
#include "limits.h"
#include "query.h"

int
resp_page(struct req *r, PGconn *db, const struct query *q, long count,
    long size, const char *sql_page, int nparams, const char **params,
    struct json_object *(*row_fn)(const PGresult *, int))
{
	return resp_page_head(r, db, q, NULL, count, size, sql_page, nparams,
	    params, row_fn);
}

int
resp_page_head(struct req *r, PGconn *db, const struct query *q,
    struct json_object *head, long count, long size, const char *sql_page,
    int nparams, const char **params,
    struct json_object *(*row_fn)(const PGresult *, int))
{
	char base[URL_MAX], next[URL_MAX], prev[URL_MAX], lim[32], off[32];
	struct json_object *o, *arr;
	long page, npages;
	struct errbuf err;
	PGresult *res;
	int row, n;

	if (drf_page_number(query_get(q, "page"), count, size, &page,
	    &npages) == -1) {
		json_object_put(head);
		resp_error(r, 404, "not_found", "Invalid page.", NULL, NULL);
		return -1;
	}
	if (resp_base_url(r, r->path, base, sizeof(base)) == -1 ||
	    drf_page_links(base, r->query, page, npages, next, sizeof(next),
	    prev, sizeof(prev)) == -1) {
		json_object_put(head);
		resp_error(r, 400, "invalid_query",
		    "The query string is malformed or too long.", NULL, NULL);
		return -1;
	}
	snprintf(lim, sizeof(lim), "%ld", size);
	snprintf(off, sizeof(off), "%ld", (page - 1) * size);
	params[nparams - 2] = lim;
	params[nparams - 1] = off;
	if ((res = db_exec(db, &err, sql_page, nparams, params)) == NULL) {
		json_object_put(head);
		resp_db_error(r, &err);
		return -1;
	}
	arr = json_object_new_array();
	n = PQntuples(res);
	for (row = 0; row < n; row++)
		json_object_array_add(arr, row_fn(res, row));
	PQclear(res);
	o = head != NULL ? head : json_object_new_object();
	json_object_object_add(o, "count", json_object_new_int64(count));
	json_object_object_add(o, "next",
	    next[0] ? json_object_new_string(next) : NULL);
	json_object_object_add(o, "previous",
	    prev[0] ? json_object_new_string(prev) : NULL);
	json_object_object_add(o, "results", arr);
	resp_json(r, 200, o, NULL);
	return n;
}
