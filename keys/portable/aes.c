/* aes.c - AES-128 with a computed, bit-sliced S-box (constant time). */
#include "aes.h"

#include "../base/bytes.h"
#include "../base/ct.h"

/* Bit k of byte i of a 16-byte group is bit i of plane k. */
struct planes {
    uint32_t p[8];
};

static void to_planes(const uint8_t s[16], struct planes *out)
{
    for (int k = 0; k < 8; k++) {
        uint32_t v = 0;
        for (int i = 0; i < 16; i++)
            v |= (uint32_t)((s[i] >> k) & 1u) << i;
        out->p[k] = v;
    }
}

static void from_planes(const struct planes *in, uint8_t s[16])
{
    for (int i = 0; i < 16; i++) {
        uint32_t v = 0;
        for (int k = 0; k < 8; k++)
            v |= ((in->p[k] >> i) & 1u) << k;
        s[i] = (uint8_t)v;
    }
}

/* Product in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, sixteen lanes at once. */
static void gf_mul(const struct planes *a, const struct planes *b, struct planes *out)
{
    uint32_t t[15] = {0};
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++)
            t[i + j] ^= a->p[i] & b->p[j];
    /* x^k = x^(k-8) * (x^4 + x^3 + x + 1), highest degree first. */
    for (int k = 14; k >= 8; k--) {
        t[k - 4] ^= t[k];
        t[k - 5] ^= t[k];
        t[k - 7] ^= t[k];
        t[k - 8] ^= t[k];
    }
    for (int k = 0; k < 8; k++)
        out->p[k] = t[k];
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
