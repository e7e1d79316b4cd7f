/*
 * bulkclaims: the command-line client.  Shared declarations of its
 * files: main.c (commands), http.c (requests through libcurl, errors),
 * conf.c (URL, token and CA from the environment or a private file),
 * wait.c (following a job to its end) and progress.c (pure formatting).
 */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#include <curl/curl.h>
#include <json-c/json.h>

/*
 * Exit codes, documented in docs/cli.md and bulkclaims(1).  Scripts
 * test them, so a value never changes meaning.
 */
enum cli_exit {
	CLI_OK = 0,
	CLI_EFAIL = 1,		/* server error, 429, bad answer, local I/O */
	CLI_EINPUT = 2,		/* bad usage or config; 400/413/415/422 */
	CLI_EJOB = 3,		/* the job ended FAILED or CANCELLED */
	CLI_EAUTH = 4,		/* 401, 403 */
	CLI_ENET = 5,		/* connection, TLS, timeout */
	CLI_ENOTFOUND = 6,	/* 404, 410 (purged) */
	CLI_ECONFLICT = 7,	/* 409: the job's state does not allow it */
	CLI_EXIT__MAX
};

/* The largest JSON answer kept in memory (a page of 100 jobs is ~200 KB). */
#define CLI_BODY_MAX	(8u * 1024 * 1024)

struct cli {
	char	 base[1024];	/* ".../api/v1/" */
	char	 auth[600];	/* "Authorization: Token ..." */
	char	*cacert;	/* NULL: the system's CAs */
	CURL	*curl;
};

/* One answer; cli_resp_free() releases it. */
struct cli_resp {
	long		 status;
	char		*body;		/* NUL-terminated; NULL when streamed */
	size_t		 len;
	struct json_object *json;	/* the body parsed, or NULL */
	int		 streamed;	/* a 2xx body went to the sink */
};

/* conf.c */
/*
 * Fills c from the environment (BULKCLAIMS_URL, BULKCLAIMS_TOKEN,
 * BULKCLAIMS_CACERT) and the config file (path, or the default under
 * $XDG_CONFIG_HOME or ~/.config; a missing default is fine).  A file
 * that group or others may read or write, or that another user owns, is
 * refused.  cacert (from --cacert, may be NULL) wins over both.  Returns
 * CLI_OK, or CLI_EINPUT after printing why to stderr.
 */
int	 conf_load(struct cli *c, const char *path, const char *cacert);

/* http.c */
/* Sets up the curl handle of c; CLI_OK or CLI_EFAIL (message printed). */
int	 http_init(struct cli *c);
void	 http_free(struct cli *c);
/*
 * One request to base + path (e.g. "claims/csv-jobs/").  method is
 * "GET" or "POST"; mime (may be NULL) is a multipart body; a 2xx body is
 * written to sink when sink is not NULL, otherwise kept in r.  nginx's
 * own 429 ("throttled", with Retry-After) is waited out and sent again,
 * for up to a minute.  Returns CLI_OK with r filled (whatever the HTTP
 * status), or CLI_ENET / CLI_EFAIL after printing why.
 */
int	 http_do(struct cli *c, const char *method, const char *path,
	    curl_mime *mime, FILE *sink, struct cli_resp *r);
/*
 * Maps r's status to an exit code.  For an error prints "bulkclaims:
 * what: <the API's message> (HTTP n code, line/row/column/field ...)".
 */
int	 http_check(const struct cli_resp *r, const char *what);
void	 cli_resp_free(struct cli_resp *r);

/* Borrowed string member of o, or NULL. */
const char *json_str(struct json_object *o, const char *key);
/* Integer member of o, or def. */
long long json_int(struct json_object *o, const char *key, long long def);
/* Number member of o, or def (null or absent). */
double	 json_num(struct json_object *o, const char *key, double def);

/* wait.c */
/*
 * Polls the job's progress every interval_ms until it leaves PENDING,
 * PROCESSING and CANCELLING, drawing a bar on stderr when stderr is a
 * terminal and one line per change of status otherwise.  Transient
 * failures (5xx, network) are retried for a while.  Returns CLI_OK for
 * COMPLETED, CLI_EJOB for FAILED or CANCELLED, or another code.
 */
int	 wait_job(struct cli *c, const char *id, long interval_ms);

#endif
