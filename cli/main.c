/*
 * bulkclaims: the command-line client of the bulkclaims API, for people
 * who script uploads.  Uploads a claims CSV, follows the job to its end,
 * downloads the results, lists, cancels and retries jobs.  The server
 * and the token come from the environment or a private config file
 * (conf.c), never from argv.  Exit codes: cli.h, docs/cli.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

struct opts {
	const char	*cmd, *arg;	/* command, FILE or JOB */
	const char	*workflow, *out, *format, *cacert, *config;
	const char	*status;
	long		 limit, interval_ms;
	int		 wait, json, allow_dup;
};

static const char *const formats[] = { "csv", "extended", "lines",
    "payments", "changes", NULL };

static void
help(FILE *f)
{
	fprintf(f,
"usage: bulkclaims [--config FILE] [--cacert FILE] COMMAND [ARGS]\n"
"\n"
"  upload FILE [--workflow status|details|payment|full] [--allow-duplicate]\n"
"              [--wait [--out RESULTS.csv] [--format FORMAT]]\n"
"                      upload a claims CSV; prints the job id\n"
"  jobs [--status S] [--limit N] [--json]\n"
"                      the organisation's jobs, newest first\n"
"  status JOB [--json]  one job\n"
"  results JOB [--format FORMAT] [--out FILE]\n"
"                      the results CSV (to stdout without --out)\n"
"  cancel JOB           stop a job\n"
"  retry JOB [--wait [--out FILE] [--format FORMAT]]\n"
"                      send a job's failed rows to the payer again\n"
"\n"
"  FORMAT: csv (default), extended, lines, payments, changes\n"
"  --wait: follow the job to its end (a progress bar on a terminal);\n"
"          --interval SECONDS between polls (default 1)\n"
"\n"
"The server and the API token come from BULKCLAIMS_URL and\n"
"BULKCLAIMS_TOKEN, or the keys url and token of the config file\n"
"(default ~/.config/bulkclaims/config, mode 0600); cacert (or\n"
"BULKCLAIMS_CACERT, --cacert) names a private CA.  Never on the\n"
"command line.\n"
"\n"
"Exit codes: 0 done, 1 server or other error, 2 bad usage or input,\n"
"3 job failed or cancelled, 4 authentication or permission, 5 network\n"
"or TLS, 6 not found, 7 the job's state does not allow it (409).\n"
"See bulkclaims(1).\n");
}

static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "bulkclaims: %s\n", why);
	fprintf(stderr, "usage: bulkclaims COMMAND [ARGS]; "
	    "bulkclaims --help for more\n");
	return CLI_EINPUT;
}

/* Writes a 2xx body (JSON) to stdout as it came. */
static int
print_body(const struct cli_resp *r)
{
	if (r->body != NULL)
		fputs(r->body, stdout);
	if (r->len == 0 || r->body[r->len - 1] != '\n')
		fputc('\n', stdout);
	return CLI_OK;
}

/* A null or absent member as "", for the tables. */
static const char *
str_or_empty(struct json_object *o, const char *key)
{
	const char *s = json_str(o, key);

	return s != NULL ? s : "";
}

/*
 * Downloads a job's results to out (NULL or "-": stdout).  A file is
 * written beside out with mode 0600 (it holds patient data) and renamed
 * over it only once complete, so a failed download leaves no half file.
 */
static int
download(struct cli *c, const char *id, const char *format,
    const char *out)
{
	struct cli_resp r;
	char path[160], *tmp = NULL;
	FILE *f = stdout;
	int fd, rv;

	snprintf(path, sizeof(path), "claims/csv-jobs/%s/results/%s%s", id,
	    format != NULL ? "?format=" : "", format != NULL ? format : "");
	if (out != NULL && strcmp(out, "-") != 0) {
		if (asprintf(&tmp, "%s.XXXXXX", out) == -1)
			return CLI_EFAIL;
		if ((fd = mkstemp(tmp)) == -1 ||
		    (f = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, "bulkclaims: cannot write %s: %s\n",
			    out, strerror(errno));
			if (fd != -1) {
				close(fd);
				unlink(tmp);
			}
			free(tmp);
			return CLI_EFAIL;
		}
	}
	rv = http_do(c, "GET", path, NULL, f, &r);
	if (rv == CLI_OK)
		rv = http_check(&r, "results");
	cli_resp_free(&r);
	if (fflush(f) != 0 && rv == CLI_OK) {
		fprintf(stderr, "bulkclaims: cannot write %s: %s\n",
		    out != NULL ? out : "stdout", strerror(errno));
		rv = CLI_EFAIL;
	}
	if (tmp == NULL)
		return rv;
	if (fclose(f) != 0 && rv == CLI_OK) {
		fprintf(stderr, "bulkclaims: cannot write %s: %s\n", out,
		    strerror(errno));
		rv = CLI_EFAIL;
	}
	if (rv == CLI_OK && rename(tmp, out) == -1) {
		fprintf(stderr, "bulkclaims: cannot write %s: %s\n", out,
		    strerror(errno));
		rv = CLI_EFAIL;
	}
	if (rv != CLI_OK)
		unlink(tmp);
	free(tmp);
	return rv;
}

/* After an upload or a retry: --wait, then --out. */
static int
follow(struct cli *c, const struct opts *o, const char *id)
{
	int rv, drv;

	if (!o->wait)
		return CLI_OK;
	rv = wait_job(c, id, o->interval_ms);
	if ((rv == CLI_OK || rv == CLI_EJOB) && o->out != NULL &&
	    (drv = download(c, id, o->format, o->out)) != CLI_OK)
		return drv;
	return rv;
}

static int
cmd_upload(struct cli *c, const struct opts *o)
{
	struct cli_resp r;
	struct stat st;
	curl_mime *mime;
	curl_mimepart *part;
	char *copy, job[40];
	const char *id;
	int rv, fd;

	/* Check here, so a missing file is "bad input", not a curl error. */
	if ((fd = open(o->arg, O_RDONLY)) == -1 || fstat(fd, &st) == -1 ||
	    !S_ISREG(st.st_mode)) {
		fprintf(stderr, "bulkclaims: %s: %s\n", o->arg,
		    fd == -1 ? strerror(errno) : "not a regular file");
		if (fd != -1)
			close(fd);
		return CLI_EINPUT;
	}
	close(fd);
	if ((copy = strdup(o->arg)) == NULL ||
	    (mime = curl_mime_init(c->curl)) == NULL) {
		free(copy);
		return CLI_EFAIL;
	}
	part = curl_mime_addpart(mime);
	curl_mime_name(part, "file");
	curl_mime_filedata(part, o->arg);
	curl_mime_filename(part, basename(copy));
	curl_mime_type(part, "text/csv");
	free(copy);
	if (o->workflow != NULL) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, "workflow");
		curl_mime_data(part, o->workflow, CURL_ZERO_TERMINATED);
	}
	rv = http_do(c, "POST", o->allow_dup ?
	    "claims/bulk/upload/?allow_duplicate=1" : "claims/bulk/upload/",
	    mime, NULL, &r);
	curl_mime_free(mime);
	if (rv == CLI_OK)
		rv = http_check(&r, "upload");
	if (rv == CLI_OK && ((id = json_str(r.json, "id")) == NULL ||
	    !util_is_uuid(id))) {
		fprintf(stderr, "bulkclaims: upload: no job id in the "
		    "answer\n");
		rv = CLI_EFAIL;
	}
	if (rv != CLI_OK) {
		cli_resp_free(&r);
		return rv;
	}
	snprintf(job, sizeof(job), "%s", id);
	cli_resp_free(&r);
	printf("%s\n", job);
	fflush(stdout);
	return follow(c, o, job);
}

static int
cmd_jobs(struct cli *c, const struct opts *o)
{
	struct cli_resp r;
	struct json_object *list, *j;
	char path[160];
	size_t i, n;
	int rv;

	snprintf(path, sizeof(path), "claims/csv-jobs/?page_size=%ld%s%s",
	    o->limit, o->status != NULL ? "&status=" : "",
	    o->status != NULL ? o->status : "");
	if ((rv = http_do(c, "GET", path, NULL, NULL, &r)) != CLI_OK)
		return rv;
	if ((rv = http_check(&r, "jobs")) == CLI_OK && o->json)
		rv = print_body(&r);
	else if (rv == CLI_OK) {
		if (r.json == NULL ||
		    !json_object_object_get_ex(r.json, "results", &list) ||
		    !json_object_is_type(list, json_type_array)) {
			fprintf(stderr, "bulkclaims: jobs: not the expected "
			    "answer\n");
			cli_resp_free(&r);
			return CLI_EFAIL;
		}
		printf("%-36s  %-10s  %7s  %7s  %7s  %-19s  %s\n", "ID",
		    "STATUS", "ROWS", "OK", "FAILED", "CREATED", "FILE");
		n = json_object_array_length(list);
		for (i = 0; i < n; i++) {
			j = json_object_array_get_idx(list, i);
			printf("%-36s  %-10s  %7lld  %7lld  %7lld  %-19.19s  "
			    "%s\n", str_or_empty(j, "id"),
			    str_or_empty(j, "status"),
			    json_int(j, "total_rows", 0),
			    json_int(j, "success_count", 0),
			    json_int(j, "failure_count", 0),
			    str_or_empty(j, "created_at"),
			    str_or_empty(j, "filename"));
		}
	}
	cli_resp_free(&r);
	return rv;
}

static int
cmd_status(struct cli *c, const struct opts *o)
{
	static const char *const keys[] = { "id", "status", "workflow",
	    "filename", "total_rows", "processed_rows", "success_count",
	    "failure_count", "progress_percentage", "created_at",
	    "started_at", "completed_at", "processing_duration",
	    "error_message", "purged_at", NULL };
	struct json_object *v;
	struct cli_resp r;
	char path[128];
	int i, rv;

	snprintf(path, sizeof(path), "claims/csv-jobs/%s/", o->arg);
	if ((rv = http_do(c, "GET", path, NULL, NULL, &r)) != CLI_OK)
		return rv;
	if ((rv = http_check(&r, "status")) == CLI_OK && o->json)
		rv = print_body(&r);
	else if (rv == CLI_OK) {
		for (i = 0; keys[i] != NULL; i++) {
			if (r.json == NULL || !json_object_object_get_ex(
			    r.json, keys[i], &v))
				continue;
			printf("%s: %s\n", keys[i], v == NULL ? "" :
			    json_object_get_string(v));
		}
	}
	cli_resp_free(&r);
	return rv;
}

/* cancel and retry: POST claims/csv-jobs/ID/<verb>/. */
static int
cmd_post(struct cli *c, const struct opts *o, const char *verb)
{
	struct cli_resp r;
	char path[128];
	int rv;

	snprintf(path, sizeof(path), "claims/csv-jobs/%s/%s/", o->arg, verb);
	if ((rv = http_do(c, "POST", path, NULL, NULL, &r)) != CLI_OK)
		return rv;
	if ((rv = http_check(&r, verb)) == CLI_OK) {
		if (json_int(r.json, "retried_rows", -1) >= 0)
			printf("job %s: %s, %lld rows to retry\n", o->arg,
			    str_or_empty(r.json, "status"),
			    json_int(r.json, "retried_rows", 0));
		else
			printf("job %s: %s\n", o->arg,
			    str_or_empty(r.json, "status"));
		fflush(stdout);
	}
	cli_resp_free(&r);
	if (rv == CLI_OK && strcmp(verb, "retry") == 0)
		rv = follow(c, o, o->arg);
	return rv;
}

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* Parses argv into o; CLI_OK, or an exit code (help: -1 then 0). */
static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "workflow", required_argument, NULL, 'W' },
		{ "wait", no_argument, NULL, 'w' },
		{ "out", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "config", required_argument, NULL, 'c' },
		{ "status", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "allow-duplicate", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const workflows[] = { "status", "details",
	    "payment", "full", NULL };
	char *end;
	double d;
	int ch, i;

	memset(o, 0, sizeof(*o));
	o->limit = 20;
	o->interval_ms = 1000;
	for (i = 1; i < argc; i++)
		if (strncmp(argv[i], "--token", 7) == 0)
			return usage("the token is never read from the command "
			    "line (ps shows it to every user): set "
			    "BULKCLAIMS_TOKEN or token = in the config file");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 'W': o->workflow = optarg; break;
		case 'w': o->wait = 1; break;
		case 'o': o->out = optarg; break;
		case 'f': o->format = optarg; break;
		case 'C': o->cacert = optarg; break;
		case 'c': o->config = optarg; break;
		case 's': o->status = optarg; break;
		case 'j': o->json = 1; break;
		case 'D': o->allow_dup = 1; break;
		case 'h': help(stdout); return -1;
		case 'V': printf("bulkclaims " PACKAGE_VERSION "\n");
			return -1;
		case 'n':
			errno = 0;
			o->limit = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || o->limit < 1 ||
			    o->limit > 100)
				return usage("--limit: 1 to 100");
			break;
		case 'i':
			d = strtod(optarg, &end);
			if (*end != '\0' || !(d >= 0.2 && d <= 60))
				return usage("--interval: 0.2 to 60 seconds");
			o->interval_ms = (long)(d * 1000);
			break;
		default:
			if (optopt != 0)
				fprintf(stderr, "bulkclaims: option -%c: "
				    "unknown or without its value\n", optopt);
			else
				fprintf(stderr, "bulkclaims: %s: unknown "
				    "option or without its value\n",
				    argv[optind - 1]);
			return usage(NULL);
		}
	}
	if (optind >= argc)
		return usage("no command");
	o->cmd = argv[optind++];
	if (optind < argc)
		o->arg = argv[optind++];
	if (optind < argc)
		return usage("too many arguments");
	if (strcmp(o->cmd, "jobs") == 0) {
		if (o->arg != NULL)
			return usage("jobs takes no argument");
	} else if (!in_list(o->cmd, (const char *const[]){ "upload",
	    "status", "results", "cancel", "retry", NULL }))
		return usage("unknown command");
	else if (o->arg == NULL)
		return usage(strcmp(o->cmd, "upload") == 0 ?
		    "upload needs a FILE" : "this command needs a JOB id");
	else if (strcmp(o->cmd, "upload") != 0 && !util_is_uuid(o->arg))
		return usage("JOB is a job id (a UUID)");
	/* Options that the command would silently ignore are mistakes. */
	if (o->workflow != NULL && strcmp(o->cmd, "upload") != 0)
		return usage("--workflow is for upload");
	if (o->workflow != NULL && !in_list(o->workflow, workflows))
		return usage("--workflow: status, details, payment or full");
	if (o->allow_dup && strcmp(o->cmd, "upload") != 0)
		return usage("--allow-duplicate is for upload");
	if (o->wait && strcmp(o->cmd, "upload") != 0 &&
	    strcmp(o->cmd, "retry") != 0)
		return usage("--wait is for upload and retry");
	if (o->out != NULL && !o->wait && strcmp(o->cmd, "results") != 0)
		return usage("--out is for results, or with --wait");
	if (o->format != NULL && o->out == NULL &&
	    strcmp(o->cmd, "results") != 0)
		return usage("--format goes with --out");
	if (o->format != NULL && !in_list(o->format, formats))
		return usage("--format: csv, extended, lines, payments or "
		    "changes");
	if ((o->status != NULL || o->limit != 20) &&
	    strcmp(o->cmd, "jobs") != 0)
		return usage("--status and --limit are for jobs");
	if (o->status != NULL && !in_list(o->status, (const char *const[]){
	    "PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLING",
	    "CANCELLED", NULL }))
		return usage("--status: PENDING, PROCESSING, COMPLETED, "
		    "FAILED, CANCELLING or CANCELLED");
	if (o->json && strcmp(o->cmd, "jobs") != 0 &&
	    strcmp(o->cmd, "status") != 0)
		return usage("--json is for jobs and status");
	return CLI_OK;
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct opts o;
	int rv;

	memset(&c, 0, sizeof(c));
	if ((rv = parse(argc, argv, &o)) != CLI_OK)
		return rv == -1 ? CLI_OK : rv;
	if ((rv = conf_load(&c, o.config, o.cacert)) != CLI_OK)
		return rv;
	if ((rv = http_init(&c)) != CLI_OK) {
		http_free(&c);
		return rv;
	}
	if (strcmp(o.cmd, "upload") == 0)
		rv = cmd_upload(&c, &o);
	else if (strcmp(o.cmd, "jobs") == 0)
		rv = cmd_jobs(&c, &o);
	else if (strcmp(o.cmd, "status") == 0)
		rv = cmd_status(&c, &o);
	else if (strcmp(o.cmd, "results") == 0)
		rv = download(&c, o.arg, o.format, o.out);
	else
		rv = cmd_post(&c, &o, o.cmd);
	http_free(&c);
	if (fflush(stdout) != 0 && rv == CLI_OK)
		rv = CLI_EFAIL;
	return rv;
}
