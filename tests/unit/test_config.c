/*
 * Unit tests for the configuration loader and small utilities.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "tap.h"
#include "util.h"

static void
write_file(const char *path, const char *text)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

/*
 * A failed load (reload) must leave the table loaded before untouched:
 * a SIGHUP with a broken file keeps the program on its old settings.
 */
static void
test_reload_keeps_old(const char *path)
{
	struct errbuf err;

	write_file(path, "redis.url = redis://old/0\npayer.concurrency = 32\n");
	ok(config_load(path, &err) == 0, "reload: the first file loads");
	write_file(path, "redis.url = redis://new/0\npayer.concurrency = 8\n"
	    "this line is broken\n");
	ok(config_load(path, &err) == -1, "reload: a broken file is refused");
	ok(strcmp(config_get("redis.url", ""), "redis://old/0") == 0,
	    "reload: the old string value is kept (%s)",
	    config_get("redis.url", "(unset)"));
	ok(config_get_long("payer.concurrency", 0) == 32,
	    "reload: the old number is kept");
	write_file(path, "redis.url = redis://new/0\npayer.concurrency = 4x\n");
	ok(config_load(path, &err) == -1, "reload: a bad number is refused");
	ok(config_get_long("payer.concurrency", 0) == 32 &&
	    strcmp(config_get("redis.url", ""), "redis://old/0") == 0,
	    "reload: nothing of the bad file is taken");
	ok(config_load("/nonexistent/bc.conf", &err) == -1 &&
	    config_get_long("payer.concurrency", 0) == 32,
	    "reload: a missing file keeps the old table");
	write_file(path, "payer.concurrency = 8\n");
	ok(config_load(path, &err) == 0 &&
	    config_get_long("payer.concurrency", 0) == 8 &&
	    config_get("redis.url", NULL) == NULL,
	    "reload: a good file replaces the whole table");
}

/* Loads "key = value" on line 2; expects a refusal naming all three. */
static void
bad_number(const char *path, const char *key, const char *value,
    const char *what)
{
	struct errbuf err;
	char text[512], want[256];

	snprintf(text, sizeof(text), "# line 1\n%s = %s\n", key, value);
	write_file(path, text);
	snprintf(want, sizeof(want), ":2: %s = \"%s\"", key, value);
	ok(config_load(path, &err) == -1 && strstr(err.msg, want) != NULL,
	    "%s is refused, naming key, line and value (%s)", what, err.msg);
}

static void
good_number(const char *path, const char *key, const char *value)
{
	struct errbuf err;
	char text[512];

	snprintf(text, sizeof(text), "%s = %s\n", key, value);
	write_file(path, text);
	ok(config_load(path, &err) == 0, "%s = %s is accepted", key, value);
}

static void
test_numbers(const char *path)
{
	struct errbuf err;

	bad_number(path, "fcgi.threads", "4x", "trailing garbage");
	bad_number(path, "payer.concurrency", "-3", "a negative number");
	bad_number(path, "worker.concurrency", "0", "below the minimum");
	bad_number(path, "fcgi.threads", "100000", "above the maximum");
	bad_number(path, "upload.max_bytes", "99999999999999999999999",
	    "an overflow");
	bad_number(path, "payer.timeout_ms", "", "an empty value");
	bad_number(path, "payer.timeout_ms", "0x10", "a hex number");
	bad_number(path, "payer.timeout_ms", "1.5", "a fraction");
	bad_number(path, "watchdog.enabled", "maybe", "a bad boolean");
	bad_number(path, "sim.error_rate", "2", "a double out of range");
	bad_number(path, "sim.error_rate", "nan", "a NaN");
	bad_number(path, "payer.rate_limit", "5/s", "a double with garbage");
	bad_number(path, "celery.task.bulkclaims.sleep.time_limit", "-1",
	    "a per-task number");
	good_number(path, "fcgi.threads", "256");
	good_number(path, "payer.concurrency", "0");
	good_number(path, "payer.rate_limit", "2.5");
	good_number(path, "watchdog.enabled", "off");
	good_number(path, "celery.task.bulkclaims.sleep.time_limit", "30");
	good_number(path, "some.other.key", "4x");
	ok(strcmp(config_get("some.other.key", ""), "4x") == 0,
	    "keys that are not numbers keep any text");

	/* The environment is checked the same way when a file loads. */
	write_file(path, "fcgi.threads = 4\n");
	setenv("BULKCLAIMS_FCGI_THREADS", "4x", 1);
	ok(config_load(path, &err) == -1 &&
	    strstr(err.msg, "BULKCLAIMS_FCGI_THREADS") != NULL &&
	    strstr(err.msg, "fcgi.threads") != NULL &&
	    strstr(err.msg, "\"4x\"") != NULL,
	    "a bad environment override is refused (%s)", err.msg);
	ok(config_load(NULL, &err) == -1,
	    "... also when no file is loaded");
	setenv("BULKCLAIMS_FCGI_THREADS", "8", 1);
	ok(config_load(path, &err) == 0 &&
	    config_get_long("fcgi.threads", 0) == 8,
	    "a good environment override is accepted");
	unsetenv("BULKCLAIMS_FCGI_THREADS");
	setenv("BULKCLAIMS_CELERY_TASK_BULKCLAIMS_SLEEP_SOFT_TIME_LIMIT", "-5",
	    1);
	ok(config_load(path, &err) == -1,
	    "a bad per-task environment override is refused (%s)", err.msg);
	unsetenv("BULKCLAIMS_CELERY_TASK_BULKCLAIMS_SLEEP_SOFT_TIME_LIMIT");
	setenv("BULKCLAIMS_TEST_SOMETHING", "not-a-number", 1);
	ok(config_load(path, &err) == 0,
	    "variables that are no numeric key are left alone");
	unsetenv("BULKCLAIMS_TEST_SOMETHING");
}

int
main(void)
{
	char path[] = "/tmp/bcconfXXXXXX", uuid[37], iso[40];
	struct errbuf err;
	FILE *f;
	int fd;

	ok(sodium_init() >= 0, "sodium_init");
	fd = mkstemp(path);
	ok(fd >= 0, "temp file");
	f = fdopen(fd, "w");
	fprintf(f, "# comment\n\nredis.url = redis://127.0.0.1:1/0\n"
	    "payer.concurrency=32\n  upload.max_bytes =  10485760  \n"
	    "flag = yes\n");
	fclose(f);
	unsetenv("BULKCLAIMS_REDIS_URL");
	ok(config_load(path, &err) == 0, "loads a valid file");
	ok(strcmp(config_get("redis.url", ""), "redis://127.0.0.1:1/0") == 0,
	    "value read");
	ok(config_get_long("payer.concurrency", 0) == 32, "integer value");
	ok(config_get_long("upload.max_bytes", 0) == 10485760,
	    "spaces trimmed");
	ok(config_get_long("missing.key", 7) == 7, "default for a missing key");
	ok(config_get_bool("flag", 0) == 1, "boolean yes");
	setenv("BULKCLAIMS_REDIS_URL", "unix:///tmp/r.sock?db=2", 1);
	ok(strcmp(config_get("redis.url", ""), "unix:///tmp/r.sock?db=2") == 0,
	    "environment overrides the file");
	unsetenv("BULKCLAIMS_REDIS_URL");

	f = fopen(path, "w");
	fprintf(f, "good = 1\nno equals sign here\n");
	fclose(f);
	ok(config_load(path, &err) == -1, "a line without '=' is rejected");
	ok(strstr(err.msg, ":2:") != NULL, "the error names line 2 (%s)",
	    err.msg);
	ok(config_load("/nonexistent/bc.conf", &err) == -1,
	    "a missing file is an error");
	test_reload_keeps_old(path);
	test_numbers(path);
	unlink(path);
	config_free();

	util_uuid4(uuid);
	ok(util_is_uuid(uuid) && uuid[14] == '4', "uuid4 is a v4 uuid");
	ok(!util_is_uuid("not-a-uuid"), "rejects a non-uuid");
	util_isotime(1795866948.492534, 0, iso, sizeof(iso));
	ok(strncmp(iso, "2026-11-28T", 11) == 0 && strlen(iso) == 26,
	    "isotime is naive ISO with microseconds (%s)", iso);
	return done_testing();
}
