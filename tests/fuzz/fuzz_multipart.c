/*
 * libFuzzer target for the multipart/form-data parser (lib/multipart.c).
 * Every input is parsed with a fixed boundary, with a boundary derived
 * from its first line, and read as a Content-Type value; the invariants
 * live in mp_check.h, which the unit test shares to replay the corpus.
 * Build and run: tests/fuzz/run.sh [seconds].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mp_check.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *bad;

	if ((bad = mpcheck_one(data, size)) != NULL) {
		fprintf(stderr, "multipart invariant violated: %s\n", bad);
		abort();
	}
	return 0;
}
