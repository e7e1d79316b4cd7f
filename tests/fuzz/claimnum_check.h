/*
 * Invariants of claimnum_normalise() and claimnum_usual() on arbitrary
 * bytes, shared by the libFuzzer target (fuzz_claimnum.c) and the corpus
 * replay in tests/unit/test_claimnum.c.  claimnum_check_one() returns
 * NULL, or the first invariant that does not hold.
 */
#ifndef CLAIMNUM_CHECK_H
#define CLAIMNUM_CHECK_H

#include <stdint.h>
#include <string.h>

#include "claimnum.h"

static const char *
claimnum_check_one(const uint8_t *data, size_t len)
{
	char out[CLAIMNUM_MAX + 1], again[CLAIMNUM_MAX + 1];
	static const int fixed[] = { 0, CLAIMNUM_UHC_LEN };
	size_t i, k, olen;
	int rc;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		memset(out, 'x', sizeof(out));
		rc = claimnum_normalise((const char *)data, len, fixed[i], out,
		    sizeof(out));
		olen = strnlen(out, sizeof(out));
		if (olen == sizeof(out))
			return "output not NUL-terminated";
		if (rc != 0 && rc != 1)
			return "result neither 0 nor 1";
		if (rc == 0 && olen != 0)
			return "no normal form but output not empty";
		if (rc == 1 && olen == 0)
			return "normal form empty";
		if (rc == 1 && olen == len && memcmp(out, data, len) == 0)
			return "normal form equal to the input";
		if (olen > len + (size_t)fixed[i])
			return "normal form longer than input plus padding";
		for (k = 0; k < olen; k++)
			if (out[k] == ' ' || out[k] == '-' || out[k] == '\t' ||
			    out[k] == '\0')
				return "a space, dash or NUL left";
		if (rc == 1 && claimnum_usual(out, fixed[i]) &&
		    fixed[i] > 0 && olen != (size_t)fixed[i])
			return "usual shape of the wrong length";
		/* the normal form of a normal form is itself, or shorter */
		if (rc == 1 && claimnum_normalise(out, olen, fixed[i], again,
		    sizeof(again)) == 1 && strlen(again) > olen)
			return "normalising again made it longer";
		(void)claimnum_usual((const char *)out, fixed[i]);
	}
	return NULL;
}

#ifdef CLAIMNUM_CORPUS_DIR
#include "corpus.h"

static void
claimnum_check_seed(const char *name, const uint8_t *data, size_t len,
    void *arg)
{
	const char *bad = claimnum_check_one(data, len);
	size_t i;

	for (i = 0; bad == NULL && i < len; i++)
		bad = claimnum_check_one(data, i);
	if (bad != NULL) {
		ok(0, "claimnum seed %s: %s", name, bad);
		*(int *)arg = 1;
	}
}

/* Replays dir through the invariants; the number of seeds, or -1. */
static int
claimnum_check_corpus(const char *dir)
{
	int failed = 0, n;

	n = corpus_each(dir, claimnum_check_seed, &failed);
	return failed ? -1 : n;
}
#endif

#endif
