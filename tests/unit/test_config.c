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
