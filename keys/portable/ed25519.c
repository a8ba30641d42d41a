/* ed25519.c - Ed25519 verification: GF(2^255 - 19), the twisted Edwards
 * curve in extended coordinates, scalars modulo L (RFC 8032 5.1). */
#include "ed25519.h"

#include "../base/bytes.h"
#include "../base/ct.h"
#include "sha512.h"

/* A field element: sum of v[k] * 2^ceil(25.5 k), limbs of 26 bits (k even)
 * and 25 bits (k odd), signed. "Carried": |v[k]| <= 2^25 or so, as fe_mul
 * leaves them; fe_add/fe_sub of carried elements may feed fe_mul. */
struct fe {
    int32_t v[10];
};

static const int limb_bits[10] = {26, 25, 26, 25, 26, 25, 26, 25, 26, 25};

/* d = -121665/121666, 2d, sqrt(-1) = 2^((p-1)/4) (RFC 8032 5.1). */
static const struct fe fe_d = {{56195235, 13857412, 51736253, 6949390, 114729, 24766616, 60832955,
                                30306712, 48412415, 21499315}};
static const struct fe fe_d2 = {{45281625, 27714825, 36363642, 13898781, 229458, 15978800, 54557047,
                                 27058993, 29715967, 9444199}};
static const struct fe fe_sqrtm1 = {{34513072, 25610706, 9377949, 3500415, 12389472, 33281959,
                                     41962654, 31548777, 326685, 11406482}};
/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const uint8_t order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                  0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                  0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};

static void fe_set(struct fe *h, int32_t small)
{
    leal_memset(h, 0, sizeof *h);
    h->v[0] = small;
}

static void fe_add(struct fe *h, const struct fe *f, const struct fe *g)
{
    for (int k = 0; k < 10; k++)
        h->v[k] = f->v[k] + g->v[k];
}

static void fe_sub(struct fe *h, const struct fe *f, const struct fe *g)
{
    for (int k = 0; k < 10; k++)
        h->v[k] = f->v[k] - g->v[k];
}

static void fe_neg(struct fe *h, const struct fe *f)
{
    for (int k = 0; k < 10; k++)
        h->v[k] = -f->v[k];
}

/* Brings 64-bit limb sums back to carried limbs; the carry out of the top
 * limb re-enters at the bottom times 19 (2^255 = 19 mod p). Two rounds: the
 * first leaves the bottom limb up to 2^41, the second makes it small. */
static void fe_carry(struct fe *h, int64_t t[10])
{
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 10; k++) {
            int w = limb_bits[k];
            /* Rounded, so limbs end signed and small; >> of a negative
             * value is arithmetic on every compiler leal targets. */
            int64_t c = (t[k] + ((int64_t)1 << (w - 1))) >> w;
            t[k] -= c * ((int64_t)1 << w);
            if (k == 9)
                t[0] += 19 * c;
            else
                t[k + 1] += c;
        }
    }
    for (int k = 0; k < 10; k++)
        h->v[k] = (int32_t)t[k];
}

/* h = f * g. Limb i times limb j lands at 2^ceil(25.5 i) * 2^ceil(25.5 j):
 * position i + j, doubled when both are odd (two half bits), and past
 * position 9 it wraps times 19. Inputs below 2^27 keep every sum in int64. */
static void fe_mul(struct fe *h, const struct fe *f, const struct fe *g)
{
    int64_t t[10] = {0}, g19[10];
    for (int j = 0; j < 10; j++)
        g19[j] = 19 * (int64_t)g->v[j];
    for (int i = 0; i < 10; i++) {
        int64_t fi = f->v[i], fi_odd = (i & 1) ? 2 * fi : fi; /* for odd j */
        for (int j = 0; j + i < 10; j += 2) {
            t[i + j] += fi * g->v[j];
            if (j + 1 + i < 10)
                t[i + j + 1] += fi_odd * g->v[j + 1];
            else
                t[i + j + 1 - 10] += fi_odd * g19[j + 1];
        }
        for (int j = 10 - i + ((10 - i) & 1); j < 10; j += 2) {
            t[i + j - 10] += fi * g19[j];
            t[i + j + 1 - 10] += fi_odd * g19[j + 1];
        }
    }
    fe_carry(h, t);
}

/* h = f^2: the products f_i f_j and f_j f_i are one, doubled. */
static void fe_square(struct fe *h, const struct fe *f)
{
    int64_t t[10] = {0};
    for (int i = 0; i < 10; i++) {
        int64_t fi = f->v[i];
        for (int j = i; j < 10; j++) {
            int64_t p = fi * (i == j ? 1 : 2) * ((i & j & 1) ? 2 : 1);
            if (i + j < 10)
                t[i + j] += p * f->v[j];
            else
                t[i + j - 10] += p * (19 * (int64_t)f->v[j]);
        }
    }
    fe_carry(h, t);
}

/* h = f^(2^n) */
static void fe_square_times(struct fe *h, const struct fe *f, int n)
{
    fe_square(h, f);
    for (int i = 1; i < n; i++)
        fe_square(h, h);
}

/* z^(2^250 - 1) and z^11: the common part of inversion and square roots. */
static void fe_pow_2_250_1(struct fe *out, struct fe *z11, const struct fe *z)
{
    struct fe z2, z9, t0, t1, z50;
    fe_square(&z2, z);
    fe_square_times(&t0, &z2, 2);
    fe_mul(&z9, &t0, z);
    fe_mul(z11, &z9, &z2);
    fe_square(&t0, z11);
    fe_mul(&t0, &t0, &z9); /* 2^5 - 1 */
    fe_square_times(&t1, &t0, 5);
    fe_mul(&t0, &t1, &t0); /* 2^10 - 1 */
    fe_square_times(&t1, &t0, 10);
    fe_mul(&t1, &t1, &t0); /* 2^20 - 1 */
    fe_square_times(&z50, &t1, 20);
    fe_mul(&t1, &z50, &t1); /* 2^40 - 1 */
    fe_square_times(&t1, &t1, 10);
    fe_mul(&z50, &t1, &t0); /* 2^50 - 1 */
    fe_square_times(&t1, &z50, 50);
    fe_mul(&t1, &t1, &z50); /* 2^100 - 1 */
    fe_square_times(&t0, &t1, 100);
    fe_mul(&t0, &t0, &t1); /* 2^200 - 1 */
    fe_square_times(&t0, &t0, 50);
    fe_mul(out, &t0, &z50); /* 2^250 - 1 */
}

/* 1/z = z^(p - 2) = z^(2^255 - 21); 0 for 0. */
static void fe_invert(struct fe *h, const struct fe *z)
{
    struct fe t, z11;
    fe_pow_2_250_1(&t, &z11, z);
    fe_square_times(&t, &t, 5);
    fe_mul(h, &t, &z11);
}

/* z^((p - 5) / 8) = z^(2^252 - 3), for square roots (RFC 8032 5.1.3). */
static void fe_pow_p58(struct fe *h, const struct fe *z)
{
    struct fe t, z11;
    fe_pow_2_250_1(&t, &z11, z);
    fe_square_times(&t, &t, 2);
    fe_mul(h, &t, z);
}

/* Carries limbs that are all >= 0 upward, none wrapping; returns the bits above 2^255. */
static int64_t carry_up(int64_t t[10])
{
    for (int k = 0; k < 9; k++) {
        t[k + 1] += t[k] >> limb_bits[k];
        t[k] &= ((int64_t)1 << limb_bits[k]) - 1;
    }
    int64_t top = t[9] >> 25;
    t[9] &= ((int64_t)1 << 25) - 1;
    return top;
}

/* The canonical 32-byte encoding of f (its value in [0, p)), bit 255 clear. */
static void fe_tobytes(uint8_t s[32], const struct fe *f)
{
    /* 2p limb by limb: with it every carried limb turns non-negative. */
    static const int64_t two_p[10] = {
        2 * ((1 << 26) - 19), 2 * ((1 << 25) - 1), 2 * ((1 << 26) - 1), 2 * ((1 << 25) - 1),
        2 * ((1 << 26) - 1),  2 * ((1 << 25) - 1), 2 * ((1 << 26) - 1), 2 * ((1 << 25) - 1),
        2 * ((1 << 26) - 1),  2 * ((1 << 25) - 1)};
    int64_t t[10], u[10], mask;
    uint64_t acc = 0;
    int bits = 0, n = 0;
    for (int k = 0; k < 10; k++)
        t[k] = (int64_t)f->v[k] + two_p[k];
    for (int round = 0; round < 3; round++)
        t[0] += 19 * carry_up(t);
    /* Now t < 2^255; it is >= p exactly when t + 19 reaches 2^255. */
    for (int k = 0; k < 10; k++)
        u[k] = t[k];
    u[0] += 19;
    mask = -carry_up(u);
    for (int k = 0; k < 10; k++)
        t[k] = (t[k] & ~mask) | (u[k] & mask);
    for (int k = 0; k < 10; k++) {
        acc |= (uint64_t)t[k] << bits;
        bits += limb_bits[k];
        for (; bits >= 8; bits -= 8) {
            s[n++] = (uint8_t)acc;
            acc >>= 8;
        }
    }
    s[n] = (uint8_t)acc; /* the last 7 bits: n is 31 */
}

/* The low 255 bits of s, little-endian (bit 255 is ignored: not reduced). */
static void fe_frombytes(struct fe *h, const uint8_t s[32])
{
    uint64_t acc = 0;
    int bits = 0, n = 0;
    for (int k = 0; k < 10; k++) {
        int w = limb_bits[k];
        for (; bits < w; bits += 8)
            acc |= (uint64_t)s[n++] << bits;
        h->v[k] = (int32_t)(acc & (((uint64_t)1 << w) - 1));
        acc >>= w;
        bits -= w;
    }
}

static int fe_is_zero(const struct fe *f)
{
    uint8_t s[32], any = 0;
    fe_tobytes(s, f);
    for (int i = 0; i < 32; i++)
        any |= s[i];
    return any == 0;
}

static int fe_is_negative(const struct fe *f)
{
    uint8_t s[32];
    fe_tobytes(s, f);
    return s[0] & 1;
}

/* A point (X : Y : Z : T), x = X/Z, y = Y/Z, x y = T/Z (Hisil et al. 2008). */
struct point {
    struct fe x, y, z, t;
};

/* The base point B (RFC 8032 5.1) with Z = 1 and T = x y as fe_mul leaves
 * it: a constant, so that no copy of it is on the stack of a verify. */
static const struct point base_point = {
    {{52811034, 25909283, 16144682, 17082669, 27570973, 30858332, 40966398, 8378388, 20764389,
      8758491}},
    {{40265304, 26843545, 13421772, 20132659, 26843545, 6710886, 53687091, 13421772, 40265318,
      26843545}},
    {{1, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {{28827062, -6116119, -27349572, 244363, 8635006, 11264893, 19351346, 13413597, 16611511,
      -6414980}},
};

/* r = p + q: add-2008-hwcd-3 for a = -1, complete on this curve, so it also
 * doubles and adds the neutral point. */
static void point_add(struct point *r, const struct point *p, const struct point *q)
{
    struct fe a, b, c, d, e, f, g, h;
    fe_sub(&e, &p->y, &p->x);
    fe_sub(&f, &q->y, &q->x);
    fe_mul(&a, &e, &f);
    fe_add(&e, &p->y, &p->x);
    fe_add(&f, &q->y, &q->x);
    fe_mul(&b, &e, &f);
    fe_mul(&c, &p->t, &q->t);
    fe_mul(&c, &c, &fe_d2);
    fe_mul(&d, &p->z, &q->z);
    fe_add(&d, &d, &d);
    fe_sub(&e, &b, &a);
    fe_sub(&f, &d, &c);
    fe_add(&g, &d, &c);
    fe_add(&h, &b, &a);
    fe_mul(&r->x, &e, &f);
    fe_mul(&r->y, &g, &h);
    fe_mul(&r->t, &e, &h);
    fe_mul(&r->z, &f, &g);
}

/* r = 2p: dbl-2008-hwcd for a = -1 (T is not read). */
LEAL_NOINLINE static void point_double(struct point *r, const struct point *p)
{
    struct fe a, b, c, e, f, g, h;
    fe_square(&a, &p->x);
    fe_square(&b, &p->y);
    fe_square(&c, &p->z);
    fe_add(&c, &c, &c);
    fe_add(&e, &p->x, &p->y);
    fe_square(&e, &e);
    fe_sub(&e, &e, &a);
    fe_sub(&e, &e, &b);
    fe_sub(&g, &b, &a); /* D + B with D = -A */
    fe_sub(&f, &g, &c);
    fe_add(&h, &a, &b);
    fe_neg(&h, &h); /* D - B = -(A + B) */
    fe_mul(&r->x, &e, &f);
    fe_mul(&r->y, &g, &h);
    fe_mul(&r->t, &e, &h);
    fe_mul(&r->z, &f, &g);
}

static void point_neutral(struct point *p)
{
    fe_set(&p->x, 0);
    fe_set(&p->y, 1);
    fe_set(&p->z, 1);
    fe_set(&p->t, 0);
}

/* RFC 8032 5.1.3, as OpenSSL reads it: y modulo p, and x = 0 taken with
 * either sign bit. Returns 0 if s is not a point. */
LEAL_NOINLINE static int point_decode(struct point *p, const uint8_t s[32])
{
    struct fe u, v, v3, vxx, check;
    fe_frombytes(&p->y, s);
    fe_set(&p->z, 1);
    fe_square(&u, &p->y);
    fe_mul(&v, &u, &fe_d);
    fe_sub(&u, &u, &p->z); /* u = y^2 - 1 */
    fe_add(&v, &v, &p->z); /* v = d y^2 + 1 */
    fe_square(&v3, &v);
    fe_mul(&v3, &v3, &v); /* v^3 */
    fe_square(&p->x, &v3);
    fe_mul(&p->x, &p->x, &v);
    fe_mul(&p->x, &p->x, &u); /* u v^7 */
    fe_pow_p58(&p->x, &p->x);
    fe_mul(&p->x, &p->x, &v3);
    fe_mul(&p->x, &p->x, &u); /* x = u v^3 (u v^7)^((p-5)/8) */
    fe_square(&vxx, &p->x);
    fe_mul(&vxx, &vxx, &v);
    fe_sub(&check, &vxx, &u);
    if (!fe_is_zero(&check)) {
        fe_add(&check, &vxx, &u);
        if (!fe_is_zero(&check))
            return 0;
        fe_mul(&p->x, &p->x, &fe_sqrtm1);
    }
    if (fe_is_negative(&p->x) != (s[31] >> 7))
        fe_neg(&p->x, &p->x);
    fe_mul(&p->t, &p->x, &p->y);
    return 1;
}

LEAL_NOINLINE static void point_encode(uint8_t s[32], const struct point *p)
{
    struct fe zinv, x, y;
    fe_invert(&zinv, &p->z);
    fe_mul(&x, &p->x, &zinv);
    fe_mul(&y, &p->y, &zinv);
    fe_tobytes(s, &y);
    s[31] |= (uint8_t)(fe_is_negative(&x) << 7);
}

/* 1 if the 32-byte little-endian s is below L. */
static int scalar_is_canonical(const uint8_t s[32])
{
    for (int i = 31; i >= 0; i--) {
        if (s[i] != order[i])
            return s[i] < order[i];
    }
    return 0;
}

/* r = h mod L for the 64-byte little-endian h: bit by bit from the top,
 * r = 2r + bit, less L when it reaches L (r < 2L < 2^254 always fits). */
static void scalar_reduce(uint8_t r[32], const uint8_t h[64])
{
    uint32_t acc[8] = {0}, l[8], diff[8];
    for (int i = 0; i < 8; i++)
        l[i] = load_le32(order + 4 * i);
    for (int bit = 511; bit >= 0; bit--) {
        uint32_t borrow = 0;
        for (int i = 7; i > 0; i--)
            acc[i] = acc[i] << 1 | acc[i - 1] >> 31;
        acc[0] = acc[0] << 1 | ((uint32_t)h[bit / 8] >> (bit % 8) & 1);
        for (int i = 0; i < 8; i++) {
            uint64_t d = (uint64_t)acc[i] - l[i] - borrow;
            diff[i] = (uint32_t)d;
            borrow = (uint32_t)(d >> 63);
        }
        if (!borrow)
            leal_memcpy(acc, diff, sizeof acc);
    }
    for (int i = 0; i < 8; i++)
        store_le32(r + 4 * i, acc[i]);
}

static int scalar_bit(const uint8_t s[32], int i)
{
    return s[i / 8] >> (i % 8) & 1;
}

/* r = [a]B + [b]Q, both scalars below 2^253, by one shared doubling chain;
 * r may be q (q is not read once r is written). */
LEAL_NOINLINE static void double_scalar_mult(struct point *r, const uint8_t a[32],
                                             const uint8_t b[32], const struct point *q)
{
    struct point both, acc;
    point_add(&both, &base_point, q);
    point_neutral(&acc);
    for (int i = 252; i >= 0; i--) {
        int ab = scalar_bit(a, i) | scalar_bit(b, i) << 1;
        point_double(&acc, &acc);
        if (ab == 1)
            point_add(&acc, &acc, &base_point);
        else if (ab == 2)
            point_add(&acc, &acc, q);
        else if (ab == 3)
            point_add(&acc, &acc, &both);
    }
    *r = acc;
}

/* k = SHA-512(R || A || msg) mod L (RFC 8032 5.1.7 step 2). */
LEAL_NOINLINE static void challenge(uint8_t k[32], const uint8_t sig[64],
                                    const uint8_t public_key[32], const uint8_t *msg, size_t len)
{
    struct portable_sha512 hash;
    uint8_t digest[64];
    portable_sha512_init(&hash);
    portable_sha512_update(&hash, sig, 32);
    portable_sha512_update(&hash, public_key, 32);
    portable_sha512_update(&hash, msg, len);
    portable_sha512_final(&hash, digest);
    scalar_reduce(k, digest);
}

/* The hash, the point arithmetic and the encoding each in a frame of their
 * own (not inlined here): a verify's deepest stack is the point arithmetic's
 * alone, not the hash's and the points' together (about 1.3 KiB rather than
 * 2.2 on a Cortex-M3, where a tap verifies the card's identity). */
leal_err portable_ed25519_verify(const uint8_t public_key[32], const uint8_t *msg, size_t len,
                                 const uint8_t sig[64])
{
    struct point a;
    uint8_t k[32], encoded[32];

    if (!scalar_is_canonical(sig + 32) || !point_decode(&a, public_key))
        return LEAL_E_SIGNATURE;
    fe_neg(&a.x, &a.x); /* -A */
    fe_neg(&a.t, &a.t);
    challenge(k, sig, public_key, msg, len);
    double_scalar_mult(&a, sig + 32, k, &a); /* [s]B - [k]A */
    point_encode(encoded, &a);
    return leal_ct_equal(encoded, sig, 32) ? LEAL_OK : LEAL_E_SIGNATURE;
}
