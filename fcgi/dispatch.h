/*
 * Answering one accepted FastCGI request (dispatch.c): routing, the
 * route's checks, its handler, the audit row and the access log line.
 */
#ifndef FCGI_DISPATCH_H
#define FCGI_DISPATCH_H

#include "app.h"

void	 dispatch_request(struct worker *w, FCGX_Request *rq);

#endif
