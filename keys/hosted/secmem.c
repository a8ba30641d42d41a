/* secmem.c - secret memory and process hardening (see secmem.h). */
#include "secmem.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../base/ct.h"

/* Each allocation is its own mapping; a header in front of the caller's
 * bytes records the mapping's size and whether it is locked. */
struct secmem_head {
    size_t map_len;
    int locked;
    int pad;
    uint64_t magic;
};
#define SECMEM_MAGIC UINT64_C(0x6c65616c2d6b6579) /* "leal-key" */
#define SECMEM_HEAD_LEN 32                        /* keeps the caller's bytes 16-aligned */

_Static_assert(sizeof(struct secmem_head) <= SECMEM_HEAD_LEN, "secmem header fits");

leal_err secmem_process_harden(void)
{
    const struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0)
        return LEAL_E_PERMISSION;
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return LEAL_E_PERMISSION;
    return LEAL_OK;
}

void *secmem_alloc(size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t pg = page > 0 ? (size_t)page : 4096, len;
    struct secmem_head *h;
    void *base;

    if (n == 0 || n > SIZE_MAX - SECMEM_HEAD_LEN - pg)
        return NULL;
    len = (n + SECMEM_HEAD_LEN + pg - 1) / pg * pg;
    base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    /* Out of core dumps even if the process were made dumpable again; and
     * a fork (a reader helper, say) does not get a copy. */
    (void)madvise(base, len, MADV_DONTDUMP);
    (void)madvise(base, len, MADV_DONTFORK);
    h = base;
    h->map_len = len;
    /* RLIMIT_MEMLOCK may refuse: not fatal. The system call itself, because
     * sanitizer runtimes replace mlock() with a no-op that reports success. */
    h->locked = syscall(SYS_mlock, base, len) == 0;
    h->magic = SECMEM_MAGIC;
    return (uint8_t *)base + SECMEM_HEAD_LEN;
}

static struct secmem_head *head_of(const void *p)
{
    struct secmem_head *h = (struct secmem_head *)(uintptr_t)((const uint8_t *)p - SECMEM_HEAD_LEN);
    return h->magic == SECMEM_MAGIC ? h : NULL;
}

void secmem_free(void *p)
{
    struct secmem_head *h;
    size_t len;
    int locked;
    if (p == NULL || (h = head_of(p)) == NULL)
        return;
    len = h->map_len;
    locked = h->locked;
    leal_wipe(h, len);
    if (locked)
        (void)syscall(SYS_munlock, h, len);
    (void)munmap(h, len);
}

bool secmem_locked(const void *p)
{
    const struct secmem_head *h = p ? head_of(p) : NULL;
    return h != NULL && h->locked;
}
