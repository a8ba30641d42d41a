/* ct.c - constant-time compare and wipe (cf. Monocypher crypto_verify16/crypto_wipe). */
#include "ct.h"

bool leal_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *pa = a;
    const volatile uint8_t *pb = b;
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (uint8_t)(pa[i] ^ pb[i]);
    /* Map 0 -> true without a data-dependent branch on which byte differed. */
    return (uint32_t)(((uint32_t)diff - 1u) >> 8) & 1u;
}

void leal_wipe(void *p, size_t n)
{
#if defined(__GNUC__)
    /* memset at full speed, then a barrier that tells the compiler the zeros
     * are read, so the store cannot be dropped as dead (as Linux's
     * memzero_explicit). The byte loop below cost the card simulator most of
     * its time wiping whole card images. */
    if (n == 0)
        return;
    __builtin_memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
#else
    volatile uint8_t *v = p;
    for (size_t i = 0; i < n; i++)
        v[i] = 0;
#endif
}
