/*
 * Fuzz target for the Celery message decoder (celery_message_parse), the
 * code that reads whatever anyone LPUSHed onto our queue.  Built two
 * ways:
 *   - by tests/fuzz/run.sh (clang -fsanitize=fuzzer): a libFuzzer target
 *     over the seeds in tests/fuzz/corpus/celery;
 *   - with -DCELERY_CORPUS_DIR (make check): a TAP program replaying
 *     every seed plus truncations of each.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "celery.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct celery_message m;
	struct errbuf err;
	char *text;
	size_t len;

	if (celery_message_parse((const char *)data, size, &m, &err) == 0) {
		/* What the worker does next with a valid message. */
		text = celery_envelope_build(m.routing_key[0] ? m.routing_key :
		    "q", m.task, m.id, m.args, m.kwargs, NULL, &len, &err);
		free(text);
		text = celery_json_dump(m.args, NULL);
		free(text);
	}
	celery_message_free(&m);
	return 0;
}

#ifdef CELERY_CORPUS_DIR
#include "tap.h"

static int
replay(const char *path)
{
	unsigned char *buf;
	size_t n, i;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	buf = malloc(1 << 20);
	n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	for (i = 0; i <= n; i += (n > 256 ? n / 64 : 1))
		LLVMFuzzerTestOneInput(buf, i);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int
main(void)
{
	const char *dir = CELERY_CORPUS_DIR;
	char path[4096];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (sodium_init() < 0)
		return 1;
	if ((d = opendir(dir)) == NULL) {
		ok(0, "open corpus %s", dir);
		return done_testing();
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ok(replay(path) == 0, "replayed %s and its truncations",
		    de->d_name);
		n++;
	}
	closedir(d);
	ok(n > 0, "corpus has %d inputs", n);
	return done_testing();
}
#endif
