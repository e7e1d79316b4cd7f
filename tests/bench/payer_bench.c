/*
 * payer-bench: rows per second of the payer engine against the simulator.
 *
 *   payer-bench [-s SIM] [-n ROWS] [-l LAT,LAT..] [-c CONC,CONC..]
 *               [-a UHC|X12] [-r RATE] [-u URL] [-R SOCK] [-m MAX]
 *
 * -u sends to an already running server at URL instead of starting one.
 * -R shares token, rate limit and -m MAX_IN_FLIGHT through the Redis at
 * that unix socket, to measure what the shared state costs per row.
 *
 * For each latency it starts the simulator (SIM, default
 * payer-sim/bulkclaims-payer-sim) on a free port of 20100-20199, then
 * for each concurrency runs ROWS claims (default 2000) through one engine
 * and prints rows/s, the ideal concurrency / latency, their ratio, and
 * this process's peak RSS.  Not a test: figures for the README.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
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
#include <hiredis.h>

#include "payer.h"
#include "util.h"
#include "../unit/simproc.h"

struct bench {
	long	 n, next, done, ok, retried;
	char	(*claims)[24];	/* one per row: borrowed until its done() */
};

static int
next_cb(void *arg, struct payer_claim *c)
{
	struct bench *b = arg;

	if (b->next >= b->n)
		return 0;
	b->next++;
	/* distinct numbers; outcomes spread like a real file's */
	snprintf(b->claims[b->next - 1], sizeof(b->claims[0]), "ZB%08ld",
	    b->next);
	c->row_number = b->next;
	c->claim_number = b->claims[b->next - 1];
	simproc_member(c);
	return 1;
}

static int
done_cb(void *arg, const struct payer_claim *c, const struct payer_result *r)
{
	struct bench *b = arg;

	b->done++;
	if (r->attempts > 1)
		b->retried++;
	if (getenv("BENCH_DEBUG") != NULL && (r->attempts > 1 ||
	    strcmp(r->lookup_result, "PAYER_ERROR") == 0))
		fprintf(stderr, "row %ld attempts %d %s\n", c->row_number,
		    r->attempts, r->error_message);
	if (strcmp(r->lookup_result, "PAYER_ERROR") != 0)
		b->ok++;
	return 0;
}

static pid_t
sim_start(const char *bin, int *port, long latency)
{
	char l[24];
	const char *extra[] = { "--latency-ms", l, NULL };

	snprintf(l, sizeof(l), "%ld", latency);
	return simproc_start(bin, extra, port);
}

static int
parse_list(char *s, long *out, int max)
{
	int n = 0;
	char *end;

	while (*s != '\0' && n < max) {
		out[n++] = strtol(s, &end, 10);
		if (end == s)
			return -1;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

int
main(int argc, char *argv[])
{
	const char *sim = "payer-sim/bulkclaims-payer-sim", *adapter = "UHC";
	const char *given_url = NULL, *redis_sock = NULL;
	redisContext *rc = NULL;
	int max_in_flight = 0;
	char lat_s[64] = "0,100,500", conc_s[64] = "32,128", url[64];
	long lats[8], concs[8], rows = 2000;
	double rate = 0;
	int port = 0, nl, nc, i, j, ch;
	struct rusage ru;

	while ((ch = getopt(argc, argv, "s:n:l:c:a:r:u:R:m:")) != -1) {
		switch (ch) {
		case 's': sim = optarg; break;
		case 'n': rows = strtol(optarg, NULL, 10); break;
		case 'l': snprintf(lat_s, sizeof(lat_s), "%s", optarg); break;
		case 'c': snprintf(conc_s, sizeof(conc_s), "%s", optarg); break;
		case 'a': adapter = optarg; break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 'u': given_url = optarg; break;
		case 'R': redis_sock = optarg; break;
		case 'm': max_in_flight = (int)strtol(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: payer-bench [-s SIM] "
			    "[-n ROWS] [-l LATS] [-c CONCS] [-a UHC|X12] "
			    "[-r RATE] [-u URL] [-R REDIS_SOCKET] "
			    "[-m MAX_IN_FLIGHT]\n");
			return 2;
		}
	}
	if ((nl = parse_list(lat_s, lats, 8)) <= 0 ||
	    (nc = parse_list(conc_s, concs, 8)) <= 0 || rows <= 0) {
		fprintf(stderr, "payer-bench: bad -l, -c or -n\n");
		return 2;
	}
	(void)simproc_setup();	/* -s SIM, not BULKCLAIMS_SIM_BIN */
	if (redis_sock != NULL && ((rc = redisConnectUnix(redis_sock)) ==
	    NULL || rc->err)) {
		fprintf(stderr, "payer-bench: cannot connect to %s\n",
		    redis_sock);
		return 1;
	}
	printf("%-8s %-6s %-5s %7s %9s %9s %6s %8s\n", "adapter", "lat_ms",
	    "conc", "rows", "rows/s", "ideal", "ratio", "maxrss");
	for (i = 0; i < nl; i++) {
		pid_t pid = given_url ? 0 : sim_start(sim, &port, lats[i]);

		if (pid == -1) {
			fprintf(stderr, "payer-bench: cannot start %s\n", sim);
			return 1;
		}
		if (given_url != NULL)
			snprintf(url, sizeof(url), "%s", given_url);
		else
			snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
		for (j = 0; j < nc; j++) {
			struct payer_endpoint ep = { adapter, "CLAIM_STATUS",
			    url, "/apip/auth/v2/token",
			    strcmp(adapter, "X12") == 0 ?
			    "/medicalnetwork/claimstatus/v2/" :
			    "/oihub/claim/inquiry/v1", "87726" };
			const struct payer_endpoint *eps[PAYER_TXN__MAX] = {
			    &ep };
			struct payer_credential cr = { "bulkclaims-dev",
			    "bulkclaims-dev-secret", "123456789", "1234567890",
			    "Bench Practice" };
			struct payer_options o;
			struct payer_engine *pe;
			struct bench b;
			struct errbuf err;
			long long t0, ms;
			double rps, ideal;
			char ratio[16];

			memset(&o, 0, sizeof(o));
			memset(&b, 0, sizeof(b));
			o.concurrency = (int)concs[j];
			o.timeout_ms = 30000;
			o.rate_limit = rate;
			o.redis = rc;
			/* a bench key: the token is shared sealed */
			o.token_key = (const unsigned char *)
			    "payer-bench token key, 32 bytes";
			o.max_in_flight = max_in_flight;
			b.n = rows;
			if ((b.claims = calloc((size_t)rows,
			    sizeof(*b.claims))) == NULL) {
				fprintf(stderr, "payer-bench: out of memory\n");
				return 1;
			}
			pe = payer_engine_new(eps, &cr, &o, &err);
			if (pe == NULL) {
				fprintf(stderr, "payer-bench: %s\n", err.msg);
				return 1;
			}
			t0 = util_mono_ms();
			if (payer_engine_run(pe, next_cb, done_cb, &b, NULL,
			    &err) == -1) {
				fprintf(stderr, "payer-bench: %s\n", err.msg);
				return 1;
			}
			ms = util_mono_ms() - t0;
			payer_engine_free(pe);
			free(b.claims);
			rps = ms > 0 ? b.done * 1000.0 / (double)ms : 0;
			ideal = lats[i] > 0 ? concs[j] * 1000.0 /
			    (double)lats[i] : 0;
			getrusage(RUSAGE_SELF, &ru);
			if (ideal > 0)
				snprintf(ratio, sizeof(ratio), "%.1f%%",
				    100.0 * rps / ideal);
			else
				snprintf(ratio, sizeof(ratio), "-");
			printf("%-8s %-6ld %-5ld %7ld %9.0f %9.0f %6s %5ldMiB"
			    "%s\n", adapter, lats[i], concs[j], b.done, rps,
			    ideal, ratio, ru.ru_maxrss / 1024, b.ok == b.done ?
			    "" : "  (some rows failed)");
			if (b.retried > 0)
				printf("  %ld rows needed more than one "
				    "attempt\n", b.retried);
			fflush(stdout);
		}
		if (pid > 0) {
			kill(pid, SIGTERM);
			waitpid(pid, NULL, 0);
		}
	}
	curl_global_cleanup();
	return 0;
}
