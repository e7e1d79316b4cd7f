/*
 * bulkclaims-fcgi: the API behind nginx.  A unix socket we create
 * ourselves (FCGX_OpenSocket exit()s on failure), a fixed pool of
 * threads blocking in FCGX_Accept_r, each with its own PostgreSQL and
 * Redis connection, and the main thread waiting for signals: SIGTERM or
 * SIGINT stop it gracefully (FCGX_ShutdownPending + shutdown(2) of the
 * listening socket wakes every thread, notes 2.2), SIGHUP reopens the log.
 *
 * usage: bulkclaims-fcgi [-d] [-c config]
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "intake.h"
#include "log.h"
#include "query.h"
#include "redisconn.h"
#include "security.h"
#include "util.h"

#define PROGNAME	"bulkclaims-fcgi"

/* RFC 3986 unreserved characters and '/': safe in a Location header. */
#define URL_SAFE	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"0123456789-._~/"

/* Set by the main thread before it wakes the request threads. */
static _Atomic int stopping;

void
req_oneline(const char *msg, char *out, size_t outsz)
{
	size_t i, n;

	/* In place (msg == out) is allowed. */
	if (msg != out)
		snprintf(out, outsz, "%s", msg ? msg : "");
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20)
			out[i] = ' ';
	n = strlen(out);
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
}

const char *
req_param(const struct req *r, const char *name)
{
	return FCGX_GetParam(name, r->rq->envp);
}

/* Session settings, again after every reconnect (a reset loses them). */
static int
db_setup(PGconn *db)
{
	struct errbuf err;

	char line[512];

	if (PQsetClientEncoding(db, "UTF8") != 0 ||
	    db_cmd(db, &err, "SET statement_timeout = '60s'", 0, NULL) == -1) {
		req_oneline(PQerrorMessage(db), line, sizeof(line));
		log_warnx("database session setup failed: %s", line);
		return -1;
	}
	return 0;
}

PGconn *
req_db(struct req *r)
{
	struct worker *w = r->w;
	struct errbuf err;
	PGresult *res;
	char line[512];

	if (w->db == NULL) {
		if ((w->db = db_connect(w->app->database_url, PROGNAME,
		    &err)) == NULL) {
			req_oneline(err.msg, line, sizeof(line));
			log_warnx("thread %d: %s", w->id, line);
			return NULL;
		}
		if (db_setup(w->db) == -1)
			return NULL;
	} else if (PQstatus(w->db) != CONNECTION_OK) {
		if (!db_ensure(w->db)) {
			req_oneline(PQerrorMessage(w->db), line, sizeof(line));
			log_warnx("thread %d: database reconnect failed: %s",
			    w->id, line);
			return NULL;
		}
		log_info("thread %d: database reconnected", w->id);
		if (db_setup(w->db) == -1)
			return NULL;
	}
	/* A handler always ends its transaction; this is the safety net. */
	if (PQtransactionStatus(w->db) != PQTRANS_IDLE) {
		res = PQexec(w->db, "ROLLBACK");
		PQclear(res);
	}
	return w->db;
}

redisContext *
req_redis(struct req *r, struct errbuf *err)
{
	struct worker *w = r->w;

	if (w->redis != NULL && rconn_dead(w->redis))
		req_redis_drop(r);
	if (w->redis == NULL)
		w->redis = rconn_connect(w->app->redis_url,
		    w->app->redis_timeout_ms, err);
	return w->redis;
}

void
req_redis_drop(struct req *r)
{
	if (r->w->redis != NULL)
		redisFree(r->w->redis);
	r->w->redis = NULL;
}

/*
 * The path to route: REQUEST_URI without its query (what Django's
 * path_info is built from), percent-decoded; DOCUMENT_URI or
 * SCRIPT_NAME + PATH_INFO when a server does not send it.
 */
static int
req_path(struct req *r)
{
	const char *uri, *sn, *pi;
	char tmp[FCGI_MAX_PATH];
	size_t n;

	if ((uri = req_param(r, "REQUEST_URI")) != NULL && *uri != '\0') {
		n = strcspn(uri, "?#");
		return query_unescape(uri, n, 0, r->path, sizeof(r->path)) < 0 ?
		    -1 : 0;
	}
	if ((uri = req_param(r, "DOCUMENT_URI")) != NULL && *uri != '\0')
		return snprintf(r->path, sizeof(r->path), "%s", uri) <
		    (int)sizeof(r->path) ? 0 : -1;
	sn = req_param(r, "SCRIPT_NAME");
	pi = req_param(r, "PATH_INFO");
	if (snprintf(tmp, sizeof(tmp), "%s%s", sn ? sn : "", pi ? pi : "") >=
	    (int)sizeof(tmp))
		return -1;
	return snprintf(r->path, sizeof(r->path), "%s", tmp) <
	    (int)sizeof(r->path) ? 0 : -1;
}

/* Django's APPEND_SLASH redirect (308 for methods with a body). */
static void
redirect_slash(struct req *r)
{
	char hdr[FCGI_MAX_PATH + QUERY_MAX_BYTES + 32];
	int status = (strcmp(r->method, "GET") == 0 ||
	    strcmp(r->method, "HEAD") == 0) ? 301 : 308;

	/*
	 * The id segment of a matching path is client text ("%0d%0a"
	 * decodes to CRLF): only plain URL characters go into a header.
	 */
	if (strlen(r->query) > QUERY_MAX_BYTES ||
	    strspn(r->path, URL_SAFE) != strlen(r->path) ||
	    strspn(r->query, URL_SAFE "?&=%+;,:@!$'()*") !=
	    strlen(r->query)) {
		resp_error(r, 404, "not_found", "Not found.", NULL, NULL);
		return;
	}
	snprintf(hdr, sizeof(hdr), "Location: %s/%s%s\r\n", r->path,
	    *r->query ? "?" : "", r->query);
	resp_error(r, status, "moved",
	    "This endpoint's URL ends in a slash.", NULL, hdr);
}

/*
 * nginx auth_request mode (the FastCGI param BULKCLAIMS_AUTH_ONLY is set):
 * nginx asks before it reads a 10 MB upload body whether the caller may
 * send it.  Only 2xx, 401 and 403 mean something to auth_request, so
 * every other outcome answers 204 and leaves the answer to the real
 * request.  $request_method and $request_uri are the main request's.
 */
static void
dispatch_auth_only(struct req *r)
{
	if (req_path(r) == -1 ||
	    router_match(r->method, r->path, &r->route) != ROUTE_OK) {
		resp_headers(r, 204, NULL, -1, NULL);
		return;
	}
	if (auth_check(r) == -1)
		return;
	if (strcmp(r->method, "POST") == 0 && strcmp(r->role, "viewer") == 0) {
		resp_error(r, 403, "forbidden",
		    "You do not have permission to perform this action.",
		    NULL, NULL);
		return;
	}
	resp_headers(r, 204, NULL, -1, NULL);
}

static void
dispatch(struct req *r)
{
	enum route_result rr;
	char allow[64];
	const char *ao;

	if ((ao = req_param(r, "BULKCLAIMS_AUTH_ONLY")) != NULL &&
	    *ao != '\0' && strcmp(ao, "0") != 0) {
		dispatch_auth_only(r);
		return;
	}
	if (req_path(r) == -1) {
		snprintf(r->path, sizeof(r->path), "(unreadable)");
		resp_error(r, 404, "not_found", "Not found.", NULL, NULL);
		return;
	}
	if (health_dispatch(r))
		return;
	rr = router_match(r->method, r->path, &r->route);
	r->head = r->route.head;
	switch (rr) {
	case ROUTE_NOT_FOUND:
		resp_error(r, 404, "not_found", "Not found.", NULL, NULL);
		return;
	case ROUTE_ADD_SLASH:
		redirect_slash(r);
		return;
	case ROUTE_BAD_METHOD:
		/* DRF authenticates before it looks at the method. */
		if (auth_check(r) == -1)
			return;
		snprintf(allow, sizeof(allow), "Allow: %s\r\n", r->route.allow);
		resp_error(r, 405, "method_not_allowed",
		    "Method not allowed.", NULL, allow);
		return;
	case ROUTE_OK:
		break;
	}
	/* The one endpoint that needs no credentials. */
	if (r->route.id == ROUTE_AUTH_LOGIN) {
		session_login(r);
		return;
	}
	if (auth_check(r) == -1)
		return;
	if (strcmp(r->method, "POST") == 0 && strcmp(r->role, "viewer") == 0 &&
	    r->route.id != ROUTE_AUTH_LOGOUT) {
		resp_error(r, 403, "forbidden",
		    "You do not have permission to perform this action.",
		    NULL, NULL);
		return;
	}
	switch (r->route.id) {
	case ROUTE_UPLOAD:
		if (quota_check(r) == 0)
			upload_handle(r);
		break;
	case ROUTE_JOB_LIST:
		jobs_list(r);
		break;
	case ROUTE_JOB_DETAIL:
		jobs_detail(r);
		break;
	case ROUTE_JOB_PROGRESS:
		jobs_progress(r);
		break;
	case ROUTE_JOB_RESULTS:
		if (purge_gate(r) == 0)
			download_results(r);
		break;
	case ROUTE_JOB_PURGE:
		admin_purge(r);
		break;
	case ROUTE_AUTH_LOGOUT:
		session_logout(r);
		break;
	case ROUTE_AUTH_ME:
		session_me(r);
		break;
	case ROUTE_AUDIT:
		audit_list(r);
		break;
	case ROUTE_JOB_RETRY:
		if (purge_gate(r) == 0)
			jobs_retry(r);
		break;
	/* intake */
	case ROUTE_VALIDATE:
		validate_handle(r);
		break;
	case ROUTE_TEMPLATE:
		template_handle(r);
		break;
	case ROUTE_JOB_ROWS:
		if (purge_gate(r) == 0)
			rows_list(r);
		break;
	case ROUTE_JOB_CANCEL:
		cancel_handle(r);
		break;
	case ROUTE_JOB_ROW:
		if (purge_gate(r) == 0)
			rows_detail(r);
		break;
	default:
		resp_error(r, 404, "not_found", "Not found.", NULL, NULL);
		break;
	}
}

/* Query keys only: values (a search term, a name) could be patient data. */
static void
log_keys(const char *qs, char *out, size_t outsz)
{
	struct query q;
	size_t i, o = 0, n;

	out[0] = '\0';
	if (qs == NULL || *qs == '\0')
		return;
	if (query_parse(qs, &q) == -1) {
		snprintf(out, outsz, "(malformed)");
		return;
	}
	for (i = 0; i < q.n; i++) {
		n = strlen(q.p[i].key);
		if (o + n + 2 >= outsz)
			break;
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, q.p[i].key, n);
		o += n;
		out[o] = '\0';
	}
	/* Keys are client text too: keep the log line one line. */
	for (i = 0; i < o; i++)
		if ((unsigned char)out[i] < 0x21 || out[i] == 0x7f)
			out[i] = '?';
}

static void
access_log(const struct req *r, long long ms)
{
	char path[128], keys[128], user[24], rows[24];
	size_t i;

	snprintf(path, sizeof(path), "%.*s", (int)sizeof(path) - 1, r->path);
	for (i = 0; path[i] != '\0'; i++)
		if ((unsigned char)path[i] < 0x21 || path[i] == 0x7f)
			path[i] = '?';
	log_keys(r->query, keys, sizeof(keys));
	snprintf(user, sizeof(user), "%lld", r->user_id);
	snprintf(rows, sizeof(rows), "%ld", r->rows);
	log_info("access method=%.8s path=%s query=%s status=%d ms=%lld "
	    "user=%s job=%s rows=%s bytes=%lld", r->method, path,
	    keys[0] ? keys : "-", r->status, ms, r->user_id ? user : "-",
	    r->job_id[0] ? r->job_id : "-", r->rows >= 0 ? rows : "-",
	    r->bytes);
}

static void
handle(struct worker *w, FCGX_Request *rq)
{
	struct req *r;
	long long t0 = util_mono_ms();

	/* A request holds a path of a few KiB: keep it off the stack. */
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		FCGX_FPrintF(rq->out, "Status: 503 Service Unavailable\r\n"
		    "Content-Type: application/json\r\n\r\n"
		    "{\"error\":{\"code\":\"server_error\","
		    "\"message\":\"out of memory\"}}");
		return;
	}
	r->rq = rq;
	r->w = w;
	r->app = w->app;
	r->rows = -1;
	r->method = req_param(r, "REQUEST_METHOD");
	if (r->method == NULL)
		r->method = "GET";
	r->query = req_param(r, "QUERY_STRING");
	if (r->query == NULL)
		r->query = "";
	dispatch(r);
	if (!r->sent)
		resp_error(r, 503, "server_error", "No response was produced.",
		    NULL, NULL);
	audit_request(r);
	access_log(r, util_mono_ms() - t0);
	free(r->captured);
	free(r);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	FCGX_Request rq;
	struct errbuf err;
	char line[512];
	int rc;

	if ((w->db = db_connect(w->app->database_url, PROGNAME, &err)) ==
	    NULL) {
		req_oneline(err.msg, line, sizeof(line));
		log_warnx("thread %d: %s (will retry per request)", w->id,
		    line);
	}
	else if (db_setup(w->db) == -1) {
		PQfinish(w->db);
		w->db = NULL;
	}
	if (FCGX_InitRequest(&rq, w->listen_fd, 0) != 0) {
		log_warnx("thread %d: FCGX_InitRequest failed", w->id);
		return NULL;
	}
	for (;;) {
		rc = FCGX_Accept_r(&rq);
		if (stopping)
			break;
		if (rc < 0) {
			/* EMFILE and friends: back off instead of spinning. */
			log_warnx("thread %d: accept failed (%d)", w->id, rc);
			usleep(100 * 1000);
			continue;
		}
		handle(w, &rq);
		FCGX_Finish_r(&rq);
	}
	FCGX_Finish_r(&rq);
	FCGX_Free(&rq, 1);
	if (w->db != NULL)
		PQfinish(w->db);
	if (w->redis != NULL)
		redisFree(w->redis);
	return NULL;
}

/*
 * Creates the listening socket at path, mode 0660.  A stale socket file
 * (nobody accepting) is replaced; a live one or another file is fatal.
 */
static int
listen_unix(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("fcgi.socket: path too long: %s", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			fatalx("fcgi.socket: %s exists and is not a socket",
			    path);
		if ((probe = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
			fatal("socket");
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			fatalx("fcgi.socket: %s is in use by another process",
			    path);
		close(probe);
		if (unlink(path) == -1)
			fatal("unlink %s", path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	umask(old);
	if (chmod(path, 0660) == -1)
		fatal("chmod %s", path);
	if (listen(fd, 128) == -1)
		fatal("listen %s", path);
	return fd;
}

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-d] [-c config]\n", PROGNAME);
	exit(2);
}

int
main(int argc, char *argv[])
{
	static struct app app;
	struct worker *workers;
	pthread_t *tids;
	const char *cfg = NULL, *sockpath, *pub;
	struct errbuf err;
	sigset_t set;
	struct stat st;
	long nthreads, i;
	int ch, debug = 0, listen_fd, sig;
	char *pubcopy = NULL;
	size_t n;

	while ((ch = getopt(argc, argv, "c:d")) != -1) {
		switch (ch) {
		case 'c':
			cfg = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (config_load(cfg, &err) == -1) {
		fprintf(stderr, "%s: %s\n", PROGNAME, err.msg);
		return 1;
	}
	if (log_init(PROGNAME, config_get("log.file", NULL), debug, debug) ==
	    -1) {
		fprintf(stderr, "%s: log file: %s\n", PROGNAME,
		    strerror(errno));
		return 1;
	}

	app.database_url = config_get("database.url", NULL);
	app.redis_url = config_get("redis.url", "redis://127.0.0.1:6379/0");
	app.queue = config_get("celery.queue", "celery");
	app.max_bytes = config_get_long("upload.max_bytes", UPLOAD_MAX_BYTES);
	if (app.max_bytes <= 0)
		app.max_bytes = UPLOAD_MAX_BYTES;
	app.max_rows = config_get_long("upload.max_rows", UPLOAD_MAX_ROWS);
	if (app.max_rows <= 0)
		app.max_rows = UPLOAD_MAX_ROWS;
	/* Intake: 0 turns duplicate-file detection off. */
	app.duplicate_window_s = config_get_long("upload.duplicate_window_s",
	    UPLOAD_DUPLICATE_WINDOW_S);
	app.redis_timeout_ms = 5000;
	if ((pub = config_get("public.url", NULL)) != NULL && *pub != '\0') {
		if ((pubcopy = strdup(pub)) == NULL)
			fatal("strdup");
		n = strlen(pubcopy);
		while (n > 0 && pubcopy[n - 1] == '/')
			pubcopy[--n] = '\0';
		app.public_url = pubcopy;
	}
	if (app.database_url == NULL || *app.database_url == '\0')
		fatalx("database.url is not set");
	session_init();
	nthreads = config_get_long("fcgi.threads", 4);
	if (nthreads < 1 || nthreads > FCGI_MAX_THREADS)
		fatalx("fcgi.threads must be 1..%d", FCGI_MAX_THREADS);

	/* Signals go to the main thread's sigwait(), not to handlers. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		fatalx("pthread_sigmask");

	if (FCGX_Init() != 0)
		fatalx("FCGX_Init failed");
	sockpath = config_get("fcgi.socket", NULL);
	if (sockpath != NULL && *sockpath != '\0')
		listen_fd = listen_unix(sockpath);
	else if (fstat(0, &st) == 0 && S_ISSOCK(st.st_mode))
		listen_fd = 0;	/* spawn-fcgi hands the socket over as fd 0 */
	else
		fatalx("fcgi.socket is not set and stdin is not a socket");

	if ((workers = calloc((size_t)nthreads, sizeof(*workers))) == NULL ||
	    (tids = calloc((size_t)nthreads, sizeof(*tids))) == NULL)
		fatal("calloc");
	for (i = 0; i < nthreads; i++) {
		workers[i].id = (int)i;
		workers[i].app = &app;
		workers[i].listen_fd = listen_fd;
		if (pthread_create(&tids[i], NULL, worker_main,
		    &workers[i]) != 0)
			fatalx("pthread_create");
	}
	log_info("started socket=%s threads=%ld queue=%s max_bytes=%ld "
	    "max_rows=%ld", sockpath ? sockpath : "(stdin)", nthreads,
	    app.queue, app.max_bytes, app.max_rows);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_reopen();
			log_info("log reopened");
			continue;
		}
		break;
	}
	log_info("stopping on signal %d", sig);
	stopping = 1;
	FCGX_ShutdownPending();
	shutdown(listen_fd, SHUT_RDWR);
	for (i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	if (sockpath != NULL && *sockpath != '\0')
		unlink(sockpath);
	close(listen_fd);
	free(workers);
	free(tids);
	free(pubcopy);
	config_free();
	log_info("stopped");
	return 0;
}
