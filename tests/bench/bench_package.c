/*
 * bench_package.c - the terminal package at a real chain's size (issue 12):
 * 100,000 hot-listed cards and 1,000,000 per-card floors, encoded and signed
 * (OpenSSL Ed25519), written to a file and verified from it through a pread
 * callback as a terminal would (package_verify: a 1 KiB block at a time).
 * Prints the package size, the verify time against a same-run reference
 * (one-shot SHA-256 of the same bytes held in RAM), and the lookup time of
 * package_hot_find / package_floor_find reading the file through pread,
 * against the same binary search done by libc bsearch over the same records
 * held in RAM (the reference), on the same ids (half listed, half not).
 * Environment: LEAL_BENCH_HOT (100000), LEAL_BENCH_FLOORS (1000000),
 * LEAL_BENCH_LOOKUPS (20000). Reports only.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "firmware/core/package.h"
#include "keys/hosted/provider_openssl.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

static uint64_t rng = 88172645463325252u;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static leal_err pread_cb(void *ctx, uint32_t offset, uint8_t *out, size_t len)
{
    int fd = *(int *)ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, out + done, len - done, (off_t)offset + (off_t)done);
        if (n <= 0)
            return LEAL_E_IO;
        done += (size_t)n;
    }
    return LEAL_OK;
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int cmp_rec(const void *key, const void *rec)
{
    uint64_t k = *(const uint64_t *)key, id = be64(rec);
    return k < id ? -1 : k > id;
}

int main(void)
{
    long nhot = env_long("LEAL_BENCH_HOT", 100000), nfl = env_long("LEAL_BENCH_FLOORS", 1000000),
         nlook = env_long("LEAL_BENCH_LOOKUPS", 20000);
    static const char seed_hex[] =
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    uint8_t seed[32], msg[PACKAGE_SIGNED_MSG_LEN], digest[32];
    struct package_hot *hot = calloc((size_t)nhot, sizeof *hot);
    struct package_floor *fl = calloc((size_t)nfl, sizeof *fl);
    uint64_t *ids = calloc((size_t)nlook * 2, sizeof *ids);
    struct package_key key = {1, {0}};
    struct package_info p;
    char path[] = "/tmp/leal-bench-package-XXXXXX";
    uint32_t size;
    size_t body;
    uint8_t *buf;
    int fd;
    if (!hot || !fl || !ids)
        return 1;
    for (int i = 0; i < 32; i++)
        sscanf(seed_hex + 2 * i, "%2hhx", &seed[i]);
    if (crypto_openssl_ed25519_public(seed, key.public_key) != LEAL_OK)
        return 1;
    /* Card ids spread over 2^40, ascending; hot list every 10th gap. */
    uint64_t id = 1000;
    for (long i = 0; i < nfl; i++) {
        id += 1 + next_rand() % 2000;
        fl[i].card_id = id;
        fl[i].kind = (uint8_t)(i % 4 == 0 ? PACKAGE_FLOOR_CLASSIC : PACKAGE_FLOOR_DESFIRE);
        fl[i].taps = (uint32_t)(next_rand() % 5000);
        if (fl[i].kind == PACKAGE_FLOOR_CLASSIC) {
            fl[i].flags = PACKAGE_FLOOR_TAG_KNOWN;
            fl[i].seq = fl[i].taps + 1;
            memcpy(fl[i].tag, &id, 8);
        }
    }
    id = 500;
    for (long i = 0; i < nhot; i++) {
        id += 1 + next_rand() % 20000;
        hot[i].card_id = id;
        hot[i].reason = (uint8_t)(1 + i % 3);
    }
    struct package_contents c = {.key_version = 1,
                                 .program_id = 7,
                                 .terminal_id = 3,
                                 .version = 1,
                                 .issued = 1780000000u,
                                 .valid_until = 1780000000u + 7 * 86400u,
                                 .hot = hot,
                                 .hot_count = (uint32_t)nhot,
                                 .floors = fl,
                                 .floor_count = (uint32_t)nfl,
                                 .cap_day_cents = 5000,
                                 .cap_sync_cents = 20000};
    if (package_encoded_size(&c, &size) != LEAL_OK || (buf = malloc(size)) == NULL ||
        package_encode_body(crypto_openssl(), &c, buf, size, &body, msg) != LEAL_OK ||
        crypto_openssl_ed25519_sign(seed, msg, sizeof msg, buf + body) != LEAL_OK) {
        fprintf(stderr, "bench_package: encoding failed\n");
        return 1;
    }
    if ((fd = mkstemp(path)) < 0 || write(fd, buf, size) != (ssize_t)size) {
        fprintf(stderr, "bench_package: cannot write %s\n", path);
        return 1;
    }
    unlink(path);
    printf("package: %ld hot-listed cards, %ld floors: %u bytes (%.1f MiB; %u per hot card, %u "
           "per floor)\n",
           nhot, nfl, size, size / 1048576.0, (unsigned)PACKAGE_HOT_RECORD_LEN,
           (unsigned)PACKAGE_FLOOR_RECORD_LEN);

    struct package_source src = {pread_cb, &fd, size};
    struct package_expect e = {7, 3, 1780000000u, 0, &key, 1};
    double t0 = now_s();
    leal_err err = package_verify(crypto_openssl(), &src, &e, &p);
    double tv = now_s() - t0;
    t0 = now_s();
    if (crypto_openssl()->sha256(buf, body, digest) != LEAL_OK)
        return 1;
    double ts = now_s() - t0;
    printf("verify from the file (pread, 1 KiB blocks, every record checked): %.1f ms (%s); "
           "reference one-shot SHA-256 of the body in RAM: %.1f ms; ratio %.2f\n",
           tv * 1e3, leal_errname(err), ts * 1e3, tv / ts);
    if (err != LEAL_OK)
        return 1;

    /* Lookup ids: every other one listed, the rest random (mostly misses);
     * both sides search the same ids and must find the same ones. */
    for (long i = 0; i < nlook; i++) {
        ids[2 * i] = i % 2 ? hot[next_rand() % (uint64_t)nhot].card_id
                           : fl[next_rand() % (uint64_t)nfl].card_id;
        ids[2 * i + 1] = 1000 + next_rand() % (id + 40000000u);
    }
    uint8_t *hot_ram = buf + p.hot_offset, *fl_ram = buf + p.floor_offset;
    long found_pkg = 0, found_ref = 0;
    double t_pkg = 0, t_ref = 0;
    /* Interleaved A B A B in rounds so a disturbance hits both sides. */
    for (int round = 0; round < 4; round++) {
        long from = round * (nlook / 2), to = from + nlook / 2;
        t0 = now_s();
        for (long i = from; i < to; i++) {
            bool f;
            uint8_t reason;
            struct package_floor fo;
            if (package_hot_find(&p, &src, ids[i], &f, &reason) != LEAL_OK)
                return 1;
            found_pkg += f;
            if (package_floor_find(&p, &src, ids[i], &f, &fo) != LEAL_OK)
                return 1;
            found_pkg += f;
        }
        t_pkg += now_s() - t0;
        t0 = now_s();
        for (long i = from; i < to; i++) {
            found_ref += bsearch(&ids[i], hot_ram, (size_t)p.hot_count, PACKAGE_HOT_RECORD_LEN,
                                 cmp_rec) != NULL;
            found_ref += bsearch(&ids[i], fl_ram, (size_t)p.floor_count, PACKAGE_FLOOR_RECORD_LEN,
                                 cmp_rec) != NULL;
        }
        t_ref += now_s() - t0;
    }
    long n = 2 * nlook * 2;
    printf("lookup (hot list + floors, %ld searches, %ld found by both): package_*_find through "
           "pread %.2f us each; reference libc bsearch in RAM %.3f us each; ratio %.1f\n",
           n, found_pkg, t_pkg / (double)n * 1e6, t_ref / (double)n * 1e6, t_pkg / t_ref);
    printf("RAM for a lookup: one 8-byte key per step (at most %d steps for the hot list, %d "
           "for the floors) and one record; the lists stay in storage\n",
           64 - __builtin_clzll((unsigned long long)p.hot_count),
           64 - __builtin_clzll((unsigned long long)p.floor_count));
    if (found_pkg != found_ref) {
        fprintf(stderr, "bench_package: %ld found against %ld by bsearch\n", found_pkg, found_ref);
        return 1;
    }
    close(fd);
    free(buf);
    free(hot);
    free(fl);
    free(ids);
    return 0;
}
