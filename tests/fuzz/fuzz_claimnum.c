/*
 * Fuzz target for the claim number normaliser (lib/claimnum.c), which
 * reads the claim number column of any uploaded CSV as free text.  Built
 * by tests/fuzz/run.sh (clang -fsanitize=fuzzer) over the seeds in
 * tests/fuzz/corpus/claimnum; make check replays the seeds through the
 * same invariants (tests/unit/test_claimnum.c).
 */
#include <stdint.h>
#include <stdlib.h>

#include "claimnum_check.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (claimnum_check_one(data, size) != NULL)
		abort();
	return 0;
}
