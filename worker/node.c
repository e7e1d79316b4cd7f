/*
 * The node's presence (node.h): the main process's Redis command
 * connection, worker events and uptime.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "celery.h"
#include "celery_event.h"
#include "log.h"
#include "redisconn.h"
#include "util.h"
#include "worker.h"
#include "node.h"

#define SW_IDENT	"bulkclaims-c-celery"
#define SW_VER		"0.1.0"
/* Command connection timeout of the main process. */
#define NODE_TIMEOUT_MS	5000

static redisContext *rc_main;
static double started;

void
node_init(void)
{
	started = util_now();
}

void
node_cmd_set(redisContext *c)
{
	rc_main = c;
}

void
node_cmd_close(void)
{
	if (rc_main != NULL)
		redisFree(rc_main);
	rc_main = NULL;
}

/*
 * The main process's command connection.  It must never block the
 * control loop for long, so a dead connection gets one reconnect attempt
 * per second; after a reconnect the queue bindings are declared again
 * (a restarted Redis may have lost them).  NULL while Redis is away.
 */
redisContext *
node_cmd(void)
{
	static double next_try;
	struct errbuf err;
	int i;

	if (!rconn_dead(rc_main))
		return rc_main;
	if (rc_main != NULL) {
		log_warnx("redis connection lost: %s", rc_main->errstr);
		redisFree(rc_main);
		rc_main = NULL;
	}
	if (util_now() < next_try)
		return NULL;
	next_try = util_now() + 1;
	if ((rc_main = rconn_connect(wk_cfg.redis_url, NODE_TIMEOUT_MS,
	    &err)) == NULL) {
		log_warnx("%s", err.msg);
		return NULL;
	}
	for (i = 0; i < wk_cfg.nqueues; i++)
		if (celery_declare_queue(rc_main, wk_cfg.queues[i], &err) == -1)
			log_warnx("declare %s: %s", wk_cfg.queues[i], err.msg);
	return rc_main;
}

void
node_event(const char *type, int full)
{
	struct json_object *ev, *la;
	struct errbuf err;
	double loads[3];
	int i, active = 0;

	ev = celery_event_new(wk_cfg.node, getpid(), wk_clock_tick());
	json_object_object_add(ev, "freq", json_object_new_double(
	    full ? wk_cfg.heartbeat : 5.0));
	if (full) {
		wk_lock();
		for (i = 0; i < wk_cfg.concurrency; i++)
			active += wk_sh->slots[i].busy;
		json_object_object_add(ev, "active",
		    json_object_new_int(active));
		json_object_object_add(ev, "processed",
		    json_object_new_int64(wk_sh->processed));
		wk_unlock();
		la = json_object_new_array();
		if (getloadavg(loads, 3) != 3)
			loads[0] = loads[1] = loads[2] = 0;
		for (i = 0; i < 3; i++)
			json_object_array_add(la, json_object_new_double(
			    (double)(long)(loads[i] * 100 + 0.5) / 100));
		json_object_object_add(ev, "loadavg", la);
	}
	json_object_object_add(ev, "sw_ident",
	    json_object_new_string(SW_IDENT));
	json_object_object_add(ev, "sw_ver", json_object_new_string(SW_VER));
	json_object_object_add(ev, "sw_sys", json_object_new_string("Linux"));
	if (celery_event_send(node_cmd(), wk_cfg.db, wk_cfg.node, type, ev,
	    &err) == -1)
		log_warnx("event %s: %s", type, err.msg);
}

double
node_uptime(void)
{
	return util_now() - started;
}
