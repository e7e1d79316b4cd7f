/*
 * Replays a fuzzing seed corpus in a unit test, so the fuzzers' seeds
 * run in every make check.  Include after tap.h.
 */
#ifndef CORPUS_H
#define CORPUS_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The most of a seed file that is read (seeds are small by design). */
#define CORPUS_FILE_MAX	(1 << 20)

/*
 * Calls fn(name, data, len, arg) for each file of dir but dot files.
 * Returns the number of files read, or -1 after a failed ok() if dir
 * cannot be opened.
 */
static int
corpus_each(const char *dir, void (*fn)(const char *, const uint8_t *,
    size_t, void *), void *arg)
{
	char path[4096];
	struct dirent *de;
	uint8_t *data;
	size_t len;
	int n = 0;
	FILE *f;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		ok(0, "open corpus %s", dir);
		return -1;
	}
	data = malloc(CORPUS_FILE_MAX);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		len = fread(data, 1, CORPUS_FILE_MAX, f);
		fclose(f);
		n++;
		fn(de->d_name, data, len, arg);
	}
	closedir(d);
	free(data);
	return n;
}

#endif
