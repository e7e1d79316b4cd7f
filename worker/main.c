/*
 * bulkclaims-worker: a Celery worker in C (see worker.h for the process
 * model).  The main process reads the configuration, starts the children
 * (pool.c), and then runs the control loop: signals, heartbeats
 * (node.c), remote control (pidbox.c), the visibility-timeout restore
 * sweep and the children's supervision (pool.c).  Calls go one way:
 * main.c uses pidbox.c, pool.c and node.c; pidbox.c uses pool.c and
 * node.c; pool.c uses node.c, consumer.c and watchdog.c; none calls back.
 *
 * bulkclaims-worker [-c CONFIG] [-d] [-E] [--concurrency N]
 *     [--diagnostic-tasks] [-Q queue[,queue...]] [-n nodename]
 * bulkclaims-worker [-c CONFIG] --publish TASK [--args JSON]
 *     [--kwargs JSON] [--countdown S] [--expires S] [--priority P] [-Q q]
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <sodium.h>

#include "celery.h"
#include "celery_transport.h"
#include "config.h"
#include "log.h"
#include "redisconn.h"
#include "tasks.h"
#include "util.h"
#include "worker.h"
#include "node.h"
#include "pidbox.h"
#include "pool.h"
#include "watchdog.h"

/* Redis connection timeout of the main process. */
#define MAIN_TIMEOUT_MS	5000
/* How long children get to finish and restore on a warm shutdown. */
#define WARM_GRACE_S	3600

static volatile int got_term, got_quit, got_chld;
static redisContext *rc_sub;	/* remote control (pidbox.c) */

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGQUIT)
		got_quit = 1;
	else
		got_term++;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bulkclaims-worker [-c config] [-d] [-E] "
	    "[--concurrency N] [--diagnostic-tasks]\n"
	    "         [-Q queue[,queue...]] [-n nodename]\n"
	    "       bulkclaims-worker [-c config] --publish task "
	    "[--args JSON] [--kwargs JSON]\n"
	    "         [--countdown S] [--expires S] [--priority P] "
	    "[-Q queue]\n");
	exit(2);
}

/* Expands Celery's %h (host name) and %n (short host name) in a node name. */
static void
expand_node(const char *in, char *out, size_t outsz)
{
	char host[256], shorthost[256], *dot;
	size_t o = 0;

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(shorthost, sizeof(shorthost), "%s", host);
	if ((dot = strchr(shorthost, '.')) != NULL)
		*dot = '\0';
	if (strchr(in, '@') == NULL) {
		/* Celery: a name without '@' gets "@<host>" appended. */
		if (snprintf(out, outsz, "%s@%s", in, host) >= (int)outsz)
			log_warnx("node name truncated");
		return;
	}
	for (; *in != '\0' && o + 1 < outsz; in++) {
		const char *sub = NULL;

		if (in[0] == '%' && in[1] == 'h')
			sub = host;
		else if (in[0] == '%' && in[1] == 'n')
			sub = shorthost;
		if (sub != NULL) {
			o += snprintf(out + o, outsz - o, "%s", sub);
			if (o >= outsz)
				o = outsz - 1;
			in++;
		} else
			out[o++] = *in;
	}
	out[o] = '\0';
}

static void
parse_queues(const char *list)
{
	const char *p = list, *e;
	size_t n;

	wk_cfg.nqueues = 0;
	while (*p != '\0' && wk_cfg.nqueues < CELERY_MAX_QUEUES) {
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		if (n > 0 && n < CELERY_NAME_MAX) {
			memcpy(wk_cfg.queues[wk_cfg.nqueues], p, n);
			wk_cfg.queues[wk_cfg.nqueues++][n] = '\0';
		}
		p = *e ? e + 1 : e;
	}
	if (wk_cfg.nqueues == 0)
		fatalx("no valid queue in \"%s\"", list);
}

/* --publish: the C producer as a command, for tests and operators. */
static int
publish_main(const char *task, const char *args_json, const char *kw_json,
    double countdown, double expires, int priority)
{
	struct celery_task_opts o;
	struct json_object *args, *kwargs = NULL;
	struct errbuf err;
	redisContext *c;
	char id[37];
	int rc;

	args = json_tokener_parse(args_json ? args_json : "[]");
	if (kw_json != NULL)
		kwargs = json_tokener_parse(kw_json);
	if (!json_object_is_type(args, json_type_array) ||
	    (kw_json != NULL && !json_object_is_type(kwargs,
	    json_type_object)))
		fatalx("--args must be a JSON array, --kwargs an object");
	if ((c = rconn_connect(wk_cfg.redis_url, MAIN_TIMEOUT_MS, &err))
	    == NULL)
		fatalx("%s", err.msg);
	util_uuid4(id);
	memset(&o, 0, sizeof(o));
	o.priority = priority;
	if (countdown > 0)
		o.eta = util_now() + countdown;
	if (expires > 0)
		o.expires = util_now() + expires;
	rc = celery_publish_ex(c, wk_cfg.queues[0], task, id, args, kwargs,
	    &o, &err);
	json_object_put(args);
	json_object_put(kwargs);
	redisFree(c);
	if (rc == -1)
		fatalx("publish: %s", err.msg);
	printf("%s\n", id);
	return 0;
}

static void
main_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Reliability: SIGHUP reloads the configuration (watchdog.c). */
	sa.sa_handler = reload_on_hup;
	sigaction(SIGHUP, &sa, NULL);
}

/* In every forked child: it must not use the remote control connection. */
static void
child_setup(void)
{
	if (rc_sub != NULL)
		redisFree(rc_sub);
	rc_sub = NULL;
}

/* The control loop of the main process. */
static int
control_loop(void)
{
	struct errbuf err;
	double next_hb, next_sweep, next_touch, touch_every, deadline = 0;
	int i, n, stopping = 0, cold = 0;

	next_hb = util_now() + wk_cfg.heartbeat;
	next_sweep = util_now() + wk_cfg.sweep_interval;
	touch_every = wk_cfg.visibility_timeout / 4;
	if (touch_every > 60)
		touch_every = 60;
	next_touch = util_now() + touch_every;
	for (;;) {
		if (got_quit && !cold) {
			cold = 1;
			log_info("cold shutdown");
			pool_signal(SIGQUIT);
		} else if (got_term > 1 && !cold) {
			cold = 1;
			log_info("second signal: cold shutdown");
			pool_signal(SIGQUIT);
		} else if ((got_term || pidbox_shutdown_requested()) &&
		    !stopping) {
			stopping = 1;
			deadline = util_now() + WARM_GRACE_S;
			log_info("warm shutdown: finishing running tasks");
			pool_signal(SIGTERM);
			pool_signal_watchdog(SIGTERM);
		}
		/* Reliability: SIGHUP reload, relayed to every child. */
		if (reload_if_asked()) {
			pool_signal(SIGHUP);
			pool_signal_watchdog(SIGHUP);
		}
		n = pool_reap(stopping || cold, cold);
		if ((stopping || cold) && n == 0)
			break;
		if (stopping && util_now() > deadline)
			pool_signal(SIGKILL);
		pool_check_hard_limits();
		if (!stopping)
			pool_steal_due();
		if (util_now() >= next_hb) {
			node_event("worker-heartbeat", 1);
			next_hb = util_now() + wk_cfg.heartbeat;
		}
		if (util_now() >= next_touch) {
			pool_touch_held();
			next_touch = util_now() + touch_every;
		}
		if (!stopping && util_now() >= next_sweep) {
			if (celery_restore_visible(node_cmd(),
			    wk_cfg.visibility_timeout, &i, &err) == -1)
				log_warnx("restore sweep: %s", err.msg);
			else if (i > 0)
				log_info("restored %d message(s) past the "
				    "visibility timeout", i);
			next_sweep = util_now() + wk_cfg.sweep_interval;
		}
		/* Waits up to 100 ms for remote control requests. */
		pidbox_poll(&rc_sub, 100);
	}
	return cold ? 1 : 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "concurrency", required_argument, NULL, 'C' },
		{ "diagnostic-tasks", no_argument, NULL, 'D' },
		{ "publish", required_argument, NULL, 'P' },
		{ "args", required_argument, NULL, 'A' },
		{ "kwargs", required_argument, NULL, 'K' },
		{ "countdown", required_argument, NULL, 'T' },
		{ "expires", required_argument, NULL, 'X' },
		{ "priority", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfgfile = NULL, *queues = NULL, *node = NULL;
	const char *publish = NULL, *pargs = NULL, *pkwargs = NULL, *logfile;
	double countdown = 0, expires = 0;
	int ch, debug = 0, concurrency = -1, diag = 0, events = 0;
	int priority = 0, i, rc;
	struct rconn_url u;
	struct errbuf err;
	redisContext *c = NULL;
	sigset_t all, old;
	char *end;

	while ((ch = getopt_long(argc, argv, "c:dEQ:n:h", longopts, NULL))
	    != -1) {
		switch (ch) {
		case 'c':
			cfgfile = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'E':
			events = 1;
			break;
		case 'Q':
			queues = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 'C':
			concurrency = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || concurrency < 1 ||
			    concurrency > CELERY_MAX_CONCURRENCY)
				usage();
			break;
		case 'D':
			diag = 1;
			break;
		case 'P':
			publish = optarg;
			break;
		case 'A':
			pargs = optarg;
			break;
		case 'K':
			pkwargs = optarg;
			break;
		case 'T':
			countdown = strtod(optarg, NULL);
			break;
		case 'X':
			expires = strtod(optarg, NULL);
			break;
		case 'R':
			priority = (int)strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (sodium_init() < 0)
		fatalx("sodium_init failed");
	reload_init(cfgfile);
	config_set_program("worker");
	if (config_load(cfgfile, &err) == -1)
		fatalx("%s", err.msg);
	logfile = config_get("log.file", NULL);
	if (publish != NULL)
		logfile = NULL;
	if (log_init("bulkclaims-worker", logfile, debug || logfile == NULL,
	    debug) == -1)
		fatal("log file %s", logfile);

	snprintf(wk_cfg.redis_url, sizeof(wk_cfg.redis_url), "%s",
	    config_get_own("redis.url", "redis://127.0.0.1:6379/0"));
	if (rconn_parse_url(wk_cfg.redis_url, &u, &err) == -1)
		fatalx("redis.url: %s", err.msg);
	wk_cfg.db = u.db;
	parse_queues(queues ? queues : config_get("celery.queue", "celery"));
	if (publish != NULL)
		return publish_main(publish, pargs, pkwargs, countdown, expires,
		    priority);

	expand_node(node ? node : config_get("worker.nodename", "celery@%h"),
	    wk_cfg.node, sizeof(wk_cfg.node));
	if (concurrency < 0)
		concurrency = (int)config_get_long("worker.concurrency", 1);
	if (concurrency < 1 || concurrency > CELERY_MAX_CONCURRENCY)
		fatalx("worker.concurrency must be 1..%d",
		    CELERY_MAX_CONCURRENCY);
	wk_cfg.concurrency = concurrency;
	wk_cfg.diagnostic = diag ||
	    config_get_bool("worker.diagnostic_tasks", 0);
	wk_cfg.task_events = events ||
	    config_get_bool("worker.send_task_events", 0);
	wk_cfg.result_expires = config_get_long("celery.result_expires",
	    86400);
	wk_cfg.visibility_timeout = (double)config_get_long(
	    "celery.visibility_timeout", 3600);
	wk_cfg.sweep_interval = (double)config_get_long(
	    "worker.restore_interval", 90);
	wk_cfg.heartbeat = (double)config_get_long("worker.heartbeat_interval",
	    2);
	if (wk_cfg.heartbeat <= 0)
		wk_cfg.heartbeat = 2;
	if (wk_shared_init() == -1)
		fatal("shared memory");
	wk_sh->task_events = wk_cfg.task_events;
	for (i = 0; task_defs[i].name != NULL && i < WK_TOTALS_MAX; i++) {
		char key[CELERY_NAME_MAX + 64];
		double rate;

		snprintf(key, sizeof(key), "celery.task.%s.rate_limit",
		    task_defs[i].name);
		if ((rate = wk_parse_rate(config_get(key, NULL))) < 0)
			fatalx("%s: not a rate (10/s, 5/m, 100/h)", key);
		wk_sh->rate[i] = rate;
		wk_sh->rate_tokens[i] = 1;
		wk_sh->rate_last[i] = util_now();
	}
	node_init();

	/* Start-up waits for Redis (with backoff) until it answers. */
	if (rconn_reconnect(&c, wk_cfg.redis_url, MAIN_TIMEOUT_MS,
	    &got_term, &err) == -1)
		fatalx("%s", err.msg);
	node_cmd_set(c);
	for (i = 0; i < wk_cfg.nqueues; i++)
		if (celery_declare_queue(c, wk_cfg.queues[i], &err) == -1)
			log_warnx("declare %s: %s", wk_cfg.queues[i], err.msg);
	if (celery_restore_visible(c, wk_cfg.visibility_timeout, &i,
	    &err) == -1)
		log_warnx("restore sweep: %s", err.msg);
	else if (i > 0)
		log_info("restored %d message(s) past the visibility timeout",
		    i);
	if (pidbox_start(&rc_sub, &err) == -1)
		log_warnx("remote control: %s", err.msg);
	log_info("%s ready: queues=%s%s concurrency=%d diagnostic=%d "
	    "events=%d", wk_cfg.node, wk_cfg.queues[0],
	    wk_cfg.nqueues > 1 ? ",..." : "", wk_cfg.concurrency,
	    wk_cfg.diagnostic, wk_cfg.task_events);

	/* Children start with signals blocked until their handlers exist. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	main_signals();
	pool_start(child_setup);
	sigprocmask(SIG_SETMASK, &old, NULL);
	node_event("worker-online", 1);

	rc = control_loop();

	node_event("worker-offline", 1);
	pidbox_stop(node_cmd());
	log_info("%s stopped", wk_cfg.node);
	if (rc_sub != NULL)
		redisFree(rc_sub);
	node_cmd_close();
	config_free();
	return rc;
}
