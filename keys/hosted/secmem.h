/*
 * secmem.h - keeping secrets out of core dumps, swap and other processes.
 *
 * secmem_process_harden() is called first thing by every leal program that
 * holds keys: no core file (RLIMIT_CORE 0, soft and hard) and not dumpable
 * (PR_SET_DUMPABLE 0: no core, no ptrace attach by the same user, /proc/PID
 * files owned by root).
 * secmem_alloc() gives zeroed memory of its own mapping, marked
 * MADV_DONTDUMP and mlock()ed where the memory-lock limit allows (a refused
 * mlock is not an error: the memory is still kept out of dumps);
 * secmem_free() wipes it before unmapping. Key sets, decrypted keystores
 * and bundles live there. Hosted (Linux).
 * Errors: LEAL_E_NO_MEMORY, LEAL_E_PERMISSION (the kernel refused a limit).
 */
#ifndef LEAL_SECMEM_H
#define LEAL_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

#include "../base/err.h"

LEAL_MUST_CHECK leal_err secmem_process_harden(void);

/* n > 0 zeroed bytes, aligned for any object; NULL when out of memory. */
void *secmem_alloc(size_t n);
/* Wipes and unmaps p (from secmem_alloc); NULL allowed. */
void secmem_free(void *p);
/* Whether p's pages were locked in memory (for tests and diagnostics). */
bool secmem_locked(const void *p);

#endif
