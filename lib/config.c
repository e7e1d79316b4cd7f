/*
 * Configuration file loader with environment overrides.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "limits.h"

extern char **environ;

struct config_entry {
	char	*key;
	char	*value;
	int	 line;			/* in the file, for error messages */
};

struct config_table {
	struct config_entry *v;
	size_t	 n;
};

/* The live table; replaced whole by config_load(). */
static struct config_table cfg;

/* The running program, for config_get_own(). */
static const char *cfg_prog;

enum config_type {
	CFG_LONG,			/* decimal integer in min..max */
	CFG_DOUBLE,			/* finite number in min..max */
	CFG_BOOL,			/* 1/0 true/false yes/no on/off */
	CFG_TYPE__MAX
};

/*
 * Every key read as a number or a boolean, with the values it accepts.
 * A key is an fnmatch(3) pattern.  A value outside these is refused when
 * the file is loaded (and at start-up in the environment) rather than
 * silently replaced by the default where it is read.  0 usually means
 * "the built-in default" or "off", so most minimums are 0.
 */
static const struct config_num {
	const char	*key;
	enum config_type type;
	long		 min, max;
} config_nums[] = {
	{ "audit.retention_days",		CFG_LONG, 0, 36500 },
	{ "celery.result_expires",		CFG_LONG, 0, LONG_MAX },
	{ "celery.task.*.acks_late",		CFG_BOOL, 0, 1 },
	{ "celery.task.*.default_retry_delay",	CFG_LONG, 0, LONG_MAX },
	{ "celery.task.*.max_retries",		CFG_LONG, 0, LONG_MAX },
	{ "celery.task.*.soft_time_limit",	CFG_LONG, 0, LONG_MAX },
	{ "celery.task.*.time_limit",		CFG_LONG, 0, LONG_MAX },
	{ "celery.task.*.track_started",	CFG_BOOL, 0, 1 },
	{ "celery.visibility_timeout",		CFG_LONG, 1, LONG_MAX },
	{ "chunk.rows",				CFG_LONG, 1, LONG_MAX },
	{ "debug.failpoints",			CFG_BOOL, 0, 1 },
	{ "fcgi.threads",			CFG_LONG, 1, FCGI_MAX_THREADS },
	{ "limits.org_rows_per_day",		CFG_LONG, 0, LONG_MAX },
	{ "limits.org_running_jobs",		CFG_LONG, 0, LONG_MAX },
	{ "login.max_failures",			CFG_LONG, 0, LONG_MAX },
	{ "login.max_failures_per_address",	CFG_LONG, 0, LONG_MAX },
	{ "login.window_s",			CFG_LONG, 0, LONG_MAX },
	{ "metrics.allow_remote",		CFG_BOOL, 0, 1 },
	{ "notify.enabled",			CFG_BOOL, 0, 1 },
	{ "notify.retry_base_s",		CFG_LONG, 0, LONG_MAX },
	{ "notify.timeout_ms",			CFG_LONG, 0, LONG_MAX },
	{ "payer.allow_http",			CFG_BOOL, 0, 1 },
	{ "payer.backoff_max_ms",		CFG_LONG, 0, LONG_MAX },
	{ "payer.backoff_ms",			CFG_LONG, 0, LONG_MAX },
	{ "payer.concurrency",			CFG_LONG, 0,
						    PAYER_MAX_CONCURRENCY },
	{ "payer.connect_timeout_ms",		CFG_LONG, 0, LONG_MAX },
	{ "payer.max_attempts",			CFG_LONG, 0,
						    PAYER_MAX_ATTEMPTS },
	{ "payer.max_in_flight",		CFG_LONG, 0, LONG_MAX },
	{ "payer.outage_backoff_max_ms",	CFG_LONG, 0, LONG_MAX },
	{ "payer.outage_backoff_ms",		CFG_LONG, 0, LONG_MAX },
	{ "payer.outage_threshold",		CFG_LONG, 0, LONG_MAX },
	{ "payer.rate_limit",			CFG_DOUBLE, 0, 1000000000 },
	{ "payer.shared_state",			CFG_BOOL, 0, 1 },
	{ "payer.timeout_ms",			CFG_LONG, 0, LONG_MAX },
	{ "payer.triage_max_calls",		CFG_LONG, 0, LONG_MAX },
	{ "retention.days",			CFG_LONG, 0, 36500 },
	{ "session.idle_timeout_s",		CFG_LONG, 0, LONG_MAX },
	{ "session.max_lifetime_s",		CFG_LONG, 0, LONG_MAX },
	{ "sim.debug",				CFG_BOOL, 0, 1 },
	{ "sim.epoch",				CFG_LONG, 0, 1000000 },
	{ "sim.error_rate",			CFG_DOUBLE, 0, 1 },
	{ "sim.latency_max_ms",			CFG_LONG, 0, LONG_MAX },
	{ "sim.latency_min_ms",			CFG_LONG, 0, LONG_MAX },
	{ "sim.latency_ms",			CFG_LONG, 0, LONG_MAX },
	{ "sim.max_concurrency",		CFG_LONG, 0, LONG_MAX },
	{ "sim.port",				CFG_LONG, 0, 65535 },
	{ "sim.rate_limit",			CFG_DOUBLE, 0, 1000000000 },
	{ "sim.slow_ms",			CFG_LONG, 0, LONG_MAX },
	{ "sim.token_ttl_s",			CFG_LONG, 0, LONG_MAX },
	{ "upload.duplicate_window_s",		CFG_LONG, 0, LONG_MAX },
	{ "upload.max_bytes",			CFG_LONG, 0, LONG_MAX },
	{ "upload.max_rows",			CFG_LONG, 0, LONG_MAX },
	{ "watchdog.enabled",			CFG_BOOL, 0, 1 },
	{ "watchdog.interval_s",		CFG_LONG, 0, LONG_MAX },
	{ "watchdog.max_requeues",		CFG_LONG, 0, LONG_MAX },
	{ "watchdog.pending_s",			CFG_LONG, 0, LONG_MAX },
	{ "watchdog.stale_s",			CFG_LONG, 0, LONG_MAX },
	{ "worker.concurrency",			CFG_LONG, 1,
						    CELERY_MAX_CONCURRENCY },
	{ "worker.db_wait_s",			CFG_LONG, 0, LONG_MAX },
	{ "worker.diagnostic_tasks",		CFG_BOOL, 0, 1 },
	{ "worker.remote_control_dangerous",	CFG_BOOL, 0, 1 },
	{ "worker.heartbeat_interval",		CFG_LONG, 0, LONG_MAX },
	{ "worker.restore_interval",		CFG_LONG, 0, LONG_MAX },
	{ "worker.send_task_events",		CFG_BOOL, 0, 1 },
	{ NULL,					CFG_TYPE__MAX, 0, 0 }
};

static void
table_free(struct config_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].value);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

void
config_free(void)
{
	table_free(&cfg);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
table_set(struct config_table *t, const char *key, const char *value,
    int line)
{
	struct config_entry *n;
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].key, key) == 0) {
			char *v = strdup(value);

			if (v == NULL)
				return -1;
			free(t->v[i].value);
			t->v[i].value = v;
			t->v[i].line = line;
			return 0;
		}
	}
	n = realloc(t->v, (t->n + 1) * sizeof(*t->v));
	if (n == NULL)
		return -1;
	t->v = n;
	t->v[t->n].key = strdup(key);
	t->v[t->n].value = strdup(value);
	t->v[t->n].line = line;
	if (t->v[t->n].key == NULL || t->v[t->n].value == NULL) {
		free(t->v[t->n].key);
		free(t->v[t->n].value);
		return -1;
	}
	t->n++;
	return 0;
}

static const struct config_num *
num_find(const char *key)
{
	const struct config_num *c;

	for (c = config_nums; c->key != NULL; c++)
		if (fnmatch(c->key, key, 0) == 0)
			return c;
	return NULL;
}

/* 1 for a boolean's true forms, 0 for its false forms, -1 otherwise. */
static int
parse_bool(const char *v)
{
	if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
	    strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0)
		return 1;
	if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 ||
	    strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0)
		return 0;
	return -1;
}

/*
 * Checks value against c; 0, or -1 with why set to a short reason.
 * strtol/strtod accept leading blanks: the loader has trimmed them, and
 * an environment value with blanks is refused by the isspace() test.
 */
static int
num_check(const struct config_num *c, const char *v, const char **why)
{
	char *end;
	double d;
	long n;

	*why = NULL;
	if (*v == '\0' || isspace((unsigned char)*v))
		*why = c->type == CFG_BOOL ? "not a boolean" : "not a number";
	else if (c->type == CFG_BOOL) {
		if (parse_bool(v) == -1)
			*why = "not a boolean (1/0, true/false, yes/no, "
			    "on/off)";
	} else if (c->type == CFG_LONG) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno == ERANGE)
			*why = "out of range";
		else if (end == v || *end != '\0')
			*why = "not an integer";
		else if (n < c->min || n > c->max)
			*why = "out of range";
	} else {
		errno = 0;
		d = strtod(v, &end);
		if (end == v || *end != '\0')
			*why = "not a number";
		else if (errno == ERANGE || !isfinite(d) ||
		    d < (double)c->min || d > (double)c->max)
			*why = "out of range";
	}
	return *why == NULL ? 0 : -1;
}

/* Appends the accepted range of c to a message. */
static void
num_range(const struct config_num *c, char *buf, size_t bufsz)
{
	if (c->type == CFG_BOOL)
		buf[0] = '\0';
	else if (c->max == LONG_MAX)
		snprintf(buf, bufsz, ", must be >= %ld", c->min);
	else
		snprintf(buf, bufsz, ", must be %ld..%ld", c->min, c->max);
}

/*
 * BULKCLAIMS_ + key upper-cased, '.' and '-' as '_', into name.  Returns
 * -1 if it does not fit.
 */
static int
env_name(const char *key, char *name, size_t namesz)
{
	size_t i, n = strlen(key);

	if (n + sizeof("BULKCLAIMS_") > namesz)
		return -1;
	memcpy(name, "BULKCLAIMS_", 11);
	for (i = 0; i < n; i++) {
		char c = key[i];

		name[11 + i] = (c == '.' || c == '-') ? '_' :
		    (char)toupper((unsigned char)c);
	}
	name[11 + n] = '\0';
	return 0;
}

/*
 * Checks the numeric keys of t and of the environment.  Only numbers
 * and booleans are quoted in the message: no secret is one.
 */
static int
table_check(const struct config_table *t, const char *path,
    struct errbuf *err)
{
	const struct config_num *c;
	const char *why;
	char range[64], pat[256], **e;
	size_t i;

	for (i = 0; i < t->n; i++) {
		if ((c = num_find(t->v[i].key)) == NULL ||
		    num_check(c, t->v[i].value, &why) == 0)
			continue;
		num_range(c, range, sizeof(range));
		return errbuf_set(err, "%s:%d: %s = \"%.64s\": %s%s", path,
		    t->v[i].line, t->v[i].key, t->v[i].value, why, range);
	}
	/* The key patterns apply to the variable names too. */
	for (e = environ; e != NULL && *e != NULL; e++) {
		const char *eq;
		char name[256];
		size_t len;

		if (strncmp(*e, "BULKCLAIMS_", 11) != 0 ||
		    (eq = strchr(*e, '=')) == NULL)
			continue;
		len = (size_t)(eq - *e);
		if (len >= sizeof(name))
			continue;
		memcpy(name, *e, len);
		name[len] = '\0';
		for (c = config_nums; c->key != NULL; c++) {
			if (env_name(c->key, pat, sizeof(pat)) == -1 ||
			    fnmatch(pat, name, 0) != 0)
				continue;
			if (num_check(c, eq + 1, &why) == 0)
				break;
			num_range(c, range, sizeof(range));
			return errbuf_set(err, "environment %s (%s) = "
			    "\"%.64s\": %s%s", name, c->key, eq + 1, why,
			    range);
		}
	}
	return 0;
}

/* Parses path into t; 0, or -1 with err naming the file and line. */
static int
table_parse(struct config_table *t, const char *path, struct errbuf *err)
{
	char line[CONFIG_LINE_MAX], *p, *eq, *key, *value;
	FILE *f;
	int lineno = 0, rc = 0;

	if ((f = fopen(path, "r")) == NULL)
		return errbuf_set(err, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = errbuf_set(err, "%s:%d: line too long", path,
			    lineno);
			break;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			rc = errbuf_set(err, "%s:%d: expected 'key = value'",
			    path, lineno);
			break;
		}
		*eq = '\0';
		key = trim(p);
		value = trim(eq + 1);
		if (*key == '\0') {
			rc = errbuf_set(err, "%s:%d: empty key", path, lineno);
			break;
		}
		if (table_set(t, key, value, lineno) != 0) {
			rc = errbuf_set(err, "%s: out of memory", path);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = errbuf_set(err, "%s: read error", path);
	fclose(f);
	return rc;
}

int
config_load(const char *path, struct errbuf *err)
{
	struct config_table t = { NULL, 0 };

	if (path == NULL)
		path = getenv("BULKCLAIMS_CONFIG");
	if (path != NULL && *path == '\0')
		path = NULL;
	if ((path != NULL && table_parse(&t, path, err) == -1) ||
	    table_check(&t, path != NULL ? path : "-", err) == -1) {
		/* The live table stays as it was. */
		table_free(&t);
		return -1;
	}
	table_free(&cfg);
	cfg = t;
	return 0;
}

/*
 * The environment's value for key.  The name is built on the stack:
 * config_get() is called from the app's threads at once.
 */
static const char *
env_override(const char *key)
{
	char name[256];

	if (env_name(key, name, sizeof(name)) == -1)
		return NULL;
	return getenv(name);
}

const char *
config_get(const char *key, const char *def)
{
	const char *v;
	size_t i;

	if ((v = env_override(key)) != NULL)
		return v;
	for (i = 0; i < cfg.n; i++)
		if (strcmp(cfg.v[i].key, key) == 0)
			return cfg.v[i].value;
	return def;
}

void
config_set_program(const char *prog)
{
	cfg_prog = prog;
}

const char *
config_get_own(const char *key, const char *def)
{
	char own[256];
	const char *v;

	if (cfg_prog != NULL && (size_t)snprintf(own, sizeof(own), "%s.%s",
	    cfg_prog, key) < sizeof(own) &&
	    (v = config_get(own, NULL)) != NULL)
		return v;
	return config_get(key, def);
}

long
config_get_long(const char *key, long def)
{
	const char *v = config_get(key, NULL);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return def;
	return n;
}

int
config_get_bool(const char *key, int def)
{
	const char *v = config_get(key, NULL);
	int b;

	if (v == NULL || (b = parse_bool(v)) == -1)
		return def;
	return b;
}
