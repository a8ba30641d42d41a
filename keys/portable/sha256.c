/* sha256.c - SHA-256, FIPS 180-4 section 6.2. */
#include "sha256.h"

#include "../base/bytes.h"
#include "../base/ct.h"

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t round_constants[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
    0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
    0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
    0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
    0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
    0xc67178f2u,
};

static uint32_t ror(uint32_t x, unsigned n)
{
    return x >> n | x << (32 - n);
}

/* The message schedule kept as its last 16 words (FIPS 180-4 6.2.2 step 1
 * computed as the rounds need it, w[t] in w[t % 16]): 64 bytes of stack
 * instead of 256. */
static void compress(uint32_t h[8], const uint8_t block[64])
{
    uint32_t w[16], v[8];
    for (int i = 0; i < 8; i++)
        v[i] = h[i];
    for (int t = 0; t < 64; t++) {
        uint32_t wt;
        if (t < 16) {
            wt = load_be32(block + 4 * t);
        } else {
            uint32_t w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
            uint32_t s0 = ror(w15, 7) ^ ror(w15, 18) ^ w15 >> 3;
            uint32_t s1 = ror(w2, 17) ^ ror(w2, 19) ^ w2 >> 10;
            wt = w[t & 15] + s0 + w[(t - 7) & 15] + s1;
        }
        w[t & 15] = wt;
        uint32_t e = v[4], a = v[0];
        uint32_t t1 = v[7] + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & v[5]) ^ (~e & v[6])) +
                      round_constants[t] + wt;
        uint32_t t2 =
            (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
        v[7] = v[6];
        v[6] = v[5];
        v[5] = v[4];
        v[4] = v[3] + t1;
        v[3] = v[2];
        v[2] = v[1];
        v[1] = v[0];
        v[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++)
        h[i] += v[i];
    leal_wipe(w, sizeof w);
    leal_wipe(v, sizeof v);
}

void portable_sha256_init(struct portable_sha256 *ctx)
{
    /* FIPS 180-4 5.3.3: fractional parts of the square roots of the first 8 primes. */
    static const uint32_t initial[8] = {
        0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
        0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
    };
    for (int i = 0; i < 8; i++)
        ctx->h[i] = initial[i];
    ctx->bytes = 0;
}

void portable_sha256_update(struct portable_sha256 *ctx, const uint8_t *msg, size_t len)
{
    size_t used = (size_t)(ctx->bytes % 64);
    ctx->bytes += len;
    while (len > 0) {
        size_t take = 64 - used < len ? 64 - used : len;
        if (used == 0 && take == 64) {
            compress(ctx->h, msg);
        } else {
            leal_memcpy(ctx->block + used, msg, take);
            if (used + take == 64)
                compress(ctx->h, ctx->block);
        }
        used = (used + take) % 64;
        msg += take;
        len -= take;
    }
}

void portable_sha256_final(struct portable_sha256 *ctx, uint8_t digest[32])
{
    size_t used = (size_t)(ctx->bytes % 64);
    uint64_t bits = ctx->bytes * 8;
    ctx->block[used++] = 0x80;
    if (used > 56) {
        leal_memset(ctx->block + used, 0, 64 - used);
        compress(ctx->h, ctx->block);
        used = 0;
    }
    leal_memset(ctx->block + used, 0, 56 - used);
    store_be64(ctx->block + 56, bits);
    compress(ctx->h, ctx->block);
    for (int i = 0; i < 8; i++)
        store_be32(digest + 4 * i, ctx->h[i]);
    leal_wipe(ctx, sizeof *ctx);
}
