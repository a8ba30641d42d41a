/*
 * grow.h - room for one more element at the end of a caller's array that
 * grows by doubling (the host's lists read from the ledger: findings,
 * observations, ids). grow_room makes *cap greater than used, moving the
 * array with realloc when it must (16 elements first, then twice as many);
 * on a failure (LEAL_E_NO_MEMORY, also when the size would overflow) the
 * array and *cap are as they were, so the caller frees what it holds.
 * Hosted; the caller owns the array and frees it with free().
 */
#ifndef LEAL_GROW_H
#define LEAL_GROW_H

#include <stddef.h>

#include "keys/base/err.h"

/* array is the address of the caller's pointer (T **), each sizeof(T). */
LEAL_MUST_CHECK leal_err grow_room(void *array, size_t *cap, size_t used, size_t each);

#endif
