/*
 * Adapter X12 / CLAIM_STATUS: the JSON form of the X12 276/277 claim
 * status exchange (see docs/payer-adapters.md).  Pure functions.
 */
#ifndef PAYER_X12_H
#define PAYER_X12_H

#include "payer_int.h"

/* The adapter, found by payer_adapter_find("X12", "CLAIM_STATUS"). */
extern const struct payer_adapter payer_x12_adapter;

#endif
