/*
 * Starting and stopping the real payer simulator from a test program.
 * The port is picked at run time in the payer tests' range 20100-20199,
 * skipping ports in use, because the same tests may run at the same time
 * in other build directories on this machine.  The child dies with its
 * parent (PR_SET_PDEATHSIG), so a crashed test leaves no simulator.
 */
#ifndef SIMPROC_H
#define SIMPROC_H

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "payer.h"

#define SIMPROC_PORT_MIN	20100
#define SIMPROC_PORT_MAX	20199

/*
 * The process-wide setup of a program that drives the payer engine:
 * libcurl initialised, SIGPIPE ignored (a peer closing a connection
 * must not kill the test).  Returns the simulator binary to start:
 * BULKCLAIMS_SIM_BIN, else the build tree's.
 */
static inline const char *
simproc_setup(void)
{
	const char *bin;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	signal(SIGPIPE, SIG_IGN);
	if ((bin = getenv("BULKCLAIMS_SIM_BIN")) == NULL)
		bin = "payer-sim/bulkclaims-payer-sim";
	return bin;
}

/* Gives c the member the simulator knows (John Doe, its test member). */
static inline void
simproc_member(struct payer_claim *c)
{
	c->first_name = "John";
	c->last_name = "Doe";
	c->date_of_birth = "1980-01-15";
	c->subscriber_id = "ABC123456";
}

static inline void
simproc_addr(struct sockaddr_in *sa, int port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)port);
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* 1 if nothing listens on 127.0.0.1:port and we could bind it. */
static inline int
simproc_port_free(int port)
{
	struct sockaddr_in sa;
	int fd, ok;

	simproc_addr(&sa, port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static inline int
simproc_connects(int port)
{
	struct sockaddr_in sa;
	int fd, ok;

	simproc_addr(&sa, port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/*
 * Starts `bin --listen 127.0.0.1 --port P extra...` on a free port P,
 * waits until it accepts connections and checks that it is our child
 * answering.  Returns the pid (port in *port), or -1.
 */
static inline pid_t
simproc_start(const char *bin, const char *const *extra, int *port)
{
	const char *argv[40];
	char pbuf[16];
	pid_t pid;
	int tries, p, i, j, st;

	p = SIMPROC_PORT_MIN + (int)(getpid() % (SIMPROC_PORT_MAX -
	    SIMPROC_PORT_MIN + 1));
	for (tries = 0; tries < 20; tries++, p++) {
		if (p > SIMPROC_PORT_MAX)
			p = SIMPROC_PORT_MIN;
		if (!simproc_port_free(p))
			continue;
		snprintf(pbuf, sizeof(pbuf), "%d", p);
		i = 0;
		argv[i++] = bin;
		argv[i++] = "--listen";
		argv[i++] = "127.0.0.1";
		argv[i++] = "--port";
		argv[i++] = pbuf;
		for (j = 0; extra != NULL && extra[j] != NULL && i < 38; j++)
			argv[i++] = extra[j];
		argv[i] = NULL;
		fflush(stdout);	/* or the child prints our buffered lines */
		if ((pid = fork()) == -1)
			return -1;
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (freopen("/dev/null", "w", stderr) == NULL)
				_exit(127);
			execv(bin, (char *const *)(uintptr_t)argv);
			_exit(127);
		}
		for (i = 0; i < 250; i++) {
			if (waitpid(pid, &st, WNOHANG) == pid)
				break;	/* lost the port to someone else */
			if (simproc_connects(p)) {
				/* still ours a moment later: it has the port */
				usleep(30000);
				if (waitpid(pid, &st, WNOHANG) == pid)
					break;
				*port = p;
				return pid;
			}
			usleep(20000);
		}
		if (i == 250) {
			kill(pid, SIGTERM);
			waitpid(pid, NULL, 0);
			return -1;
		}
	}
	return -1;
}

static inline void
simproc_stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

static inline size_t
simproc_collect(char *p, size_t sz, size_t n, void *arg)
{
	char **buf = arg;
	size_t have = *buf ? strlen(*buf) : 0;
	char *nb;

	if ((nb = realloc(*buf, have + sz * n + 1)) == NULL)
		return 0;
	memcpy(nb + have, p, sz * n);
	nb[have + sz * n] = '\0';
	*buf = nb;
	return sz * n;
}

/* GET /__stats as JSON (a new reference), or NULL. */
static inline struct json_object *
simproc_stats(int port)
{
	CURL *e = curl_easy_init();
	char url[64], *body = NULL;
	struct json_object *o = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/__stats", port);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, simproc_collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
	if (curl_easy_perform(e) == CURLE_OK && body != NULL)
		o = json_tokener_parse(body);
	curl_easy_cleanup(e);
	free(body);
	return o;
}

/* One integer of /__stats, or -1. */
static inline long
simproc_stat(int port, const char *key)
{
	struct json_object *o = simproc_stats(port), *v;
	long r = -1;

	if (o != NULL && json_object_object_get_ex(o, key, &v))
		r = (long)json_object_get_int64(v);
	json_object_put(o);
	return r;
}

#endif
