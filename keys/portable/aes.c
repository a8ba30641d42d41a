/* aes.c - AES-128 with a computed, bit-sliced S-box (constant time). */
#include "aes.h"

#include "../base/bytes.h"
#include "../base/ct.h"

/* Bit k of byte i of a 16-byte group is bit i of plane k. */
struct planes {
    uint32_t p[8];
};

/* Transposes an 8x8 bit matrix held as 8 bytes (Hacker's Delight 7-3): bit
 * j of byte i becomes bit i of byte j. Its own inverse. */
static uint64_t transpose8(uint64_t x)
{
    uint64_t t;
    t = (x ^ x >> 7) & 0x00aa00aa00aa00aaULL;
    x ^= t ^ t << 7;
    t = (x ^ x >> 14) & 0x0000cccc0000ccccULL;
    x ^= t ^ t << 14;
    t = (x ^ x >> 28) & 0x00000000f0f0f0f0ULL;
    x ^= t ^ t << 28;
    return x;
}

static uint64_t load_le64(const uint8_t *p)
{
    return (uint64_t)load_le32(p + 4) << 32 | load_le32(p);
}

static void to_planes(const uint8_t s[16], struct planes *out)
{
    uint64_t lo = transpose8(load_le64(s)), hi = transpose8(load_le64(s + 8));
    for (int k = 0; k < 8; k++)
        out->p[k] = (uint32_t)(lo >> 8 * k & 0xff) | (uint32_t)(hi >> 8 * k & 0xff) << 8;
}

static void from_planes(const struct planes *in, uint8_t s[16])
{
    uint64_t lo = 0, hi = 0;
    for (int k = 0; k < 8; k++) {
        lo |= (uint64_t)(in->p[k] & 0xff) << 8 * k;
        hi |= (uint64_t)(in->p[k] >> 8 & 0xff) << 8 * k;
    }
    lo = transpose8(lo);
    hi = transpose8(hi);
    store_le32(s, (uint32_t)lo);
    store_le32(s + 4, (uint32_t)(lo >> 32));
    store_le32(s + 8, (uint32_t)hi);
    store_le32(s + 12, (uint32_t)(hi >> 32));
}

/* Product in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, sixteen lanes at once,
 * by Horner's rule from b's top bit: c = c x + a b_i, where c x moves each
 * plane up one and feeds the plane of x^7 back into x^4, x^3, x and 1. */
static void gf_mul(const struct planes *a, const struct planes *b, struct planes *out)
{
    uint32_t c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
    for (int i = 7; i >= 0; i--) {
        uint32_t top = c7, bi = b->p[i];
        c7 = c6 ^ (a->p[7] & bi);
        c6 = c5 ^ (a->p[6] & bi);
        c5 = c4 ^ (a->p[5] & bi);
        c4 = c3 ^ top ^ (a->p[4] & bi);
        c3 = c2 ^ top ^ (a->p[3] & bi);
        c2 = c1 ^ (a->p[2] & bi);
        c1 = c0 ^ top ^ (a->p[1] & bi);
        c0 = top ^ (a->p[0] & bi);
    }
    out->p[0] = c0;
    out->p[1] = c1;
    out->p[2] = c2;
    out->p[3] = c3;
    out->p[4] = c4;
    out->p[5] = c5;
    out->p[6] = c6;
    out->p[7] = c7;
}

/* Squaring is linear in GF(2^8): a_i x^2i reduced, written out. */
static void gf_square(const struct planes *a, struct planes *out)
{
    const uint32_t *p = a->p;
    uint32_t c[8];
    c[0] = p[0] ^ p[4] ^ p[6];
    c[1] = p[4] ^ p[6] ^ p[7];
    c[2] = p[1] ^ p[5];
    c[3] = p[4] ^ p[5] ^ p[6] ^ p[7];
    c[4] = p[2] ^ p[4] ^ p[7];
    c[5] = p[5] ^ p[6];
    c[6] = p[3] ^ p[5];
    c[7] = p[6] ^ p[7];
    for (int k = 0; k < 8; k++)
        out->p[k] = c[k];
}

/* x^254: the inverse of x, and 0 for 0 (FIPS 197 5.1.1). */
static void gf_invert(struct planes *x)
{
    struct planes x2, x3, x12, t;
    gf_square(x, &x2);
    gf_mul(&x2, x, &x3);
    gf_square(&x3, &t);
    gf_square(&t, &x12);
    gf_mul(&x12, &x3, &t); /* x^15 */
    for (int i = 0; i < 4; i++)
        gf_square(&t, &t); /* x^240 */
    gf_mul(&t, &x12, &t);  /* x^252 */
    gf_mul(&t, &x2, x);    /* x^254 */
    leal_wipe(&x2, sizeof x2);
    leal_wipe(&x3, sizeof x3);
    leal_wipe(&x12, sizeof x12);
    leal_wipe(&t, sizeof t);
}

/* Every lane of plane k gets bit k of c. */
static void add_constant(struct planes *x, unsigned c)
{
    for (int k = 0; k < 8; k++)
        x->p[k] ^= 0u - (uint32_t)((c >> k) & 1u);
}

static void sub_bytes(uint8_t s[16])
{
    struct planes x, y;
    to_planes(s, &x);
    gf_invert(&x);
    /* FIPS 197 (5.1): b_i ^ b_i+4 ^ b_i+5 ^ b_i+6 ^ b_i+7 ^ c_i, c = 0x63. */
    for (int i = 0; i < 8; i++)
        y.p[i] = x.p[i] ^ x.p[(i + 4) & 7] ^ x.p[(i + 5) & 7] ^ x.p[(i + 6) & 7] ^ x.p[(i + 7) & 7];
    add_constant(&y, 0x63);
    from_planes(&y, s);
    leal_wipe(&x, sizeof x);
    leal_wipe(&y, sizeof y);
}

static void inv_sub_bytes(uint8_t s[16])
{
    struct planes x, y;
    to_planes(s, &x);
    /* FIPS 197 (5.3.2): b_i+2 ^ b_i+5 ^ b_i+7 ^ d_i, d = 0x05, then invert. */
    for (int i = 0; i < 8; i++)
        y.p[i] = x.p[(i + 2) & 7] ^ x.p[(i + 5) & 7] ^ x.p[(i + 7) & 7];
    add_constant(&y, 0x05);
    gf_invert(&y);
    from_planes(&y, s);
    leal_wipe(&x, sizeof x);
    leal_wipe(&y, sizeof y);
}

static uint8_t xtime(uint8_t b)
{
    return (uint8_t)((unsigned)b << 1 ^ (0x1bu & (0u - (unsigned)(b >> 7))));
}

/* Row r turns left by r columns (state byte r + 4c, FIPS 197 3.4). */
static void shift_rows(uint8_t s[16], int dir)
{
    uint8_t t[16];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            t[r + 4 * c] = s[r + 4 * ((c + dir * r + 4) & 3)];
    leal_memcpy(s, t, 16);
    leal_wipe(t, sizeof t);
}

static void mix_columns(uint8_t s[16])
{
    for (int c = 0; c < 16; c += 4) {
        uint8_t a0 = s[c], a1 = s[c + 1], a2 = s[c + 2], a3 = s[c + 3];
        uint8_t all = (uint8_t)(a0 ^ a1 ^ a2 ^ a3);
        s[c] = (uint8_t)(a0 ^ all ^ xtime((uint8_t)(a0 ^ a1)));
        s[c + 1] = (uint8_t)(a1 ^ all ^ xtime((uint8_t)(a1 ^ a2)));
        s[c + 2] = (uint8_t)(a2 ^ all ^ xtime((uint8_t)(a2 ^ a3)));
        s[c + 3] = (uint8_t)(a3 ^ all ^ xtime((uint8_t)(a3 ^ a0)));
    }
}

/* InvMixColumns = MixColumns after multiplying by {04}x^2 + {05}: adds
 * {04}(a0 ^ a2) to a0 and a2, {04}(a1 ^ a3) to a1 and a3. */
static void inv_mix_columns(uint8_t s[16])
{
    for (int c = 0; c < 16; c += 4) {
        uint8_t u = xtime(xtime((uint8_t)(s[c] ^ s[c + 2])));
        uint8_t v = xtime(xtime((uint8_t)(s[c + 1] ^ s[c + 3])));
        s[c] ^= u;
        s[c + 1] ^= v;
        s[c + 2] ^= u;
        s[c + 3] ^= v;
    }
    mix_columns(s);
}

static void add_round_key(uint8_t s[16], const uint8_t *rk)
{
    for (int i = 0; i < 16; i++)
        s[i] ^= rk[i];
}

void portable_aes128_init(struct portable_aes128 *ks, const uint8_t key[16])
{
    uint8_t rcon = 1, word[16] = {0};
    leal_memcpy(ks->rk, key, 16);
    for (int i = 16; i < PORTABLE_AES128_ROUND_KEYS; i += 4) {
        leal_memcpy(word, ks->rk + i - 4, 4);
        if (i % 16 == 0) {
            uint8_t first = word[0]; /* RotWord, SubWord, Rcon */
            word[0] = word[1];
            word[1] = word[2];
            word[2] = word[3];
            word[3] = first;
            sub_bytes(word);
            word[0] ^= rcon;
            rcon = xtime(rcon);
        }
        for (int j = 0; j < 4; j++)
            ks->rk[i + j] = (uint8_t)(ks->rk[i + j - 16] ^ word[j]);
    }
    leal_wipe(word, sizeof word);
}

void portable_aes128_encrypt(const struct portable_aes128 *ks, const uint8_t in[16],
                             uint8_t out[16])
{
    uint8_t s[16];
    leal_memcpy(s, in, 16);
    add_round_key(s, ks->rk);
    for (int round = 1; round <= 10; round++) {
        sub_bytes(s);
        shift_rows(s, 1);
        if (round < 10)
            mix_columns(s);
        add_round_key(s, ks->rk + 16 * round);
    }
    leal_memcpy(out, s, 16);
    leal_wipe(s, sizeof s);
}

void portable_aes128_decrypt(const struct portable_aes128 *ks, const uint8_t in[16],
                             uint8_t out[16])
{
    uint8_t s[16];
    leal_memcpy(s, in, 16);
    add_round_key(s, ks->rk + 160);
    for (int round = 9; round >= 0; round--) {
        shift_rows(s, -1);
        inv_sub_bytes(s);
        add_round_key(s, ks->rk + 16 * round);
        if (round > 0)
            inv_mix_columns(s);
    }
    leal_memcpy(out, s, 16);
    leal_wipe(s, sizeof s);
}
