/*
 * mem.c - the four functions a C compiler may call by itself (memcpy,
 * memmove, memset, memcmp), as a terminal's port gives them, for the programs
 * the freestanding checks link with -nostdlib (check-freestanding.sh,
 * link_portable.sh, link_journal.sh). Linked, never run.
 */
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *d, const void *s, size_t n)
{
    return memmove(d, s, n);
}

void *memmove(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    if (dp < sp)
        for (size_t i = 0; i < n; i++)
            dp[i] = sp[i];
    else
        for (size_t i = n; i > 0; i--)
            dp[i - 1] = sp[i - 1];
    return d;
}

void *memset(void *d, int c, size_t n)
{
    uint8_t *dp = d;
    for (size_t i = 0; i < n; i++)
        dp[i] = (uint8_t)c;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *ap = a, *bp = b;
    for (size_t i = 0; i < n; i++)
        if (ap[i] != bp[i])
            return ap[i] < bp[i] ? -1 : 1;
    return 0;
}
