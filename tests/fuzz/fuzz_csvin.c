/*
 * libFuzzer target for the CSV intake (lib/csvin.c, libcsv underneath).
 * The invariants live in csvin_check.h, which the unit test shares to
 * replay the corpus.  Build and run: tests/fuzz/run.sh [seconds] csvin.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "csvin_check.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *bad;

	if ((bad = csvincheck_one(data, size)) != NULL) {
		fprintf(stderr, "csvin invariant violated: %s\n", bad);
		abort();
	}
	return 0;
}
