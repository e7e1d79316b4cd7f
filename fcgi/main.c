/*
 * bulkclaims-fcgi: the API behind nginx.  Start-up only: a unix socket
 * we create ourselves (FCGX_OpenSocket exit()s on failure), a fixed pool
 * of threads blocking in FCGX_Accept_r, each with its own PostgreSQL and
 * Redis connection, handing each request to dispatch.c, and the main
 * thread waiting for signals: SIGTERM or SIGINT stop it gracefully
 * (FCGX_ShutdownPending + shutdown(2) of the listening socket wakes
 * every thread blocked in accept), SIGHUP reopens the log.  Without
 * log.file the log goes to stderr.
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
#include "auth.h"
#include "config.h"
#include "dispatch.h"
#include "log.h"

#define PROGNAME	"bulkclaims-fcgi"

/* Set by the main thread before it wakes the request threads. */
static _Atomic int stopping;

/*
 * Only our own user may talk to us: the socket's mode says so, and this
 * says it again for root and for a socket handed over by a spawner
 * (SO_PEERCRED; fd 0 from spawn-fcgi may be any mode).
 */
static int
peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t n = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &n) != 0)
		return 1;	/* not a unix socket: TCP is the spawner's */
	if (cr.uid == geteuid())
		return 1;
	log_warnx("refused a FastCGI connection from uid %u pid %d",
	    (unsigned)cr.uid, (int)cr.pid);
	return 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	FCGX_Request rq;
	int rc;

	req_worker_open(w);
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
		if (!peer_allowed(rq.ipcFd)) {
			FCGX_Finish_r(&rq);
			continue;
		}
		dispatch_request(w, &rq);
		FCGX_Finish_r(&rq);
	}
	FCGX_Finish_r(&rq);
	FCGX_Free(&rq, 1);
	req_worker_close(w);
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
	/*
	 * Owner only: nginx's workers run as our user (they hand us upload
	 * files that are theirs, mode 0600), nobody else needs to connect.
	 */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	umask(old);
	if (chmod(path, 0600) == -1)
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
	const char *cfg = NULL, *sockpath, *pub, *logfile;
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
	config_set_program("fcgi");
	if (config_load(cfg, &err) == -1) {
		fprintf(stderr, "%s: %s\n", PROGNAME, err.msg);
		return 1;
	}
	/* Without log.file, stderr (the supervisor's log), as documented. */
	logfile = config_get("log.file", NULL);
	if (log_init(PROGNAME, logfile, debug || logfile == NULL, debug) ==
	    -1) {
		fprintf(stderr, "%s: log file: %s\n", PROGNAME,
		    strerror(errno));
		return 1;
	}

	app.database_url = config_get_own("database.url", NULL);
	app.redis_url = config_get_own("redis.url", "redis://127.0.0.1:6379/0");
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
	/*
	 * Without it, pagination links would carry whatever Host header a
	 * client sent.  public.url_from_host = 1 is the explicit opt-out
	 * for a development box behind nothing but its own nginx.
	 */
	if (app.public_url == NULL &&
	    !config_get_bool("public.url_from_host", 0))
		fatalx("public.url is not set (the service's external base "
		    "URL, e.g. https://claims.example.org)");
	if (app.public_url != NULL && strncmp(app.public_url, "https://",
	    8) != 0 && strncmp(app.public_url, "http://", 7) != 0)
		fatalx("public.url must start with https:// or http://");
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
