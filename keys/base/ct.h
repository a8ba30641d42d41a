/*
 * ct.h - constant-time comparison and wiping of secrets.
 * leal_ct_equal() is the only way to compare MACs, cryptograms and keys;
 * its time depends on n only. leal_wipe() zeroes behind a compiler barrier
 * (a volatile byte loop where the compiler has no inline asm) so the store
 * is never dropped as dead. Freestanding.
 */
#ifndef LEAL_CT_H
#define LEAL_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* true if the n bytes at a and b are equal; time depends only on n. */
bool leal_ct_equal(const void *a, const void *b, size_t n);

/* Overwrites n bytes at p with zeros; NULL with n == 0 is allowed. */
void leal_wipe(void *p, size_t n);

#endif
