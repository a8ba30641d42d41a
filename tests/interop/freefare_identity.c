/*
 * freefare_identity.c - another implementation reads a leal DESFire card from
 * the spec alone: libfreefare (Debian's 0.4.0) through libnfc, with no leal
 * code linked. It selects leal's application (cardlayout/LAYOUT.md §2.2),
 * authenticates with the terminal key (key 2) that the caller derived from
 * keys/KEYS.md with the `openssl mac` command line, reads the identity file
 * (plain) and the state file (MACed, so libfreefare checks the card's CMAC),
 * and prints what it found. Exit 0 only if every step succeeds.
 *
 * Usage: freefare_identity KEYHEX KEYVERSION
 * (the libnfc device comes from LIBNFC_DEVICE, as for nfc-list)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <freefare.h>
#include <nfc/nfc.h>

static int hex16(const char *s, uint8_t out[16])
{
    if (strlen(s) != 32)
        return -1;
    for (int i = 0; i < 16; i++) {
        unsigned v;
        char b[3] = {s[2 * i], s[2 * i + 1], 0};
        char *end;
        v = (unsigned)strtoul(b, &end, 16);
        if (*end)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int main(int argc, char **argv)
{
    nfc_context *ctx = NULL;
    nfc_device *dev = NULL;
    MifareTag *tags = NULL;
    MifareDESFireAID aid = NULL;
    MifareDESFireKey key = NULL;
    /* libfreefare 0.4.0 copies data and MAC (40 bytes) into the caller's buffer. */
    uint8_t keybytes[16], identity[64], state[64];
    int rc = 1;

    if (argc != 3 || hex16(argv[1], keybytes) != 0) {
        fprintf(stderr, "usage: freefare_identity KEYHEX KEYVERSION\n");
        return 2;
    }
    nfc_init(&ctx);
    if (ctx == NULL || (dev = nfc_open(ctx, NULL)) == NULL) {
        fprintf(stderr, "freefare_identity: no libnfc device\n");
        goto out;
    }
    tags = freefare_get_tags(dev);
    if (tags == NULL || tags[0] == NULL || freefare_get_tag_type(tags[0]) != DESFIRE) {
        fprintf(stderr, "freefare_identity: no DESFire card\n");
        goto out;
    }
    if (mifare_desfire_connect(tags[0]) < 0) {
        fprintf(stderr, "freefare_identity: connect: %s\n", freefare_strerror(tags[0]));
        goto out;
    }
    aid = mifare_desfire_aid_new(0x41454C); /* sent as 4C 45 41 */
    if (mifare_desfire_select_application(tags[0], aid) < 0) {
        fprintf(stderr, "freefare_identity: select: %s\n", freefare_strerror(tags[0]));
        goto out;
    }
    if (mifare_desfire_read_data_ex(tags[0], 1, 0, 32, identity, MDCM_PLAIN) != 32) {
        fprintf(stderr, "freefare_identity: read identity: %s\n", freefare_strerror(tags[0]));
        goto out;
    }
    key = mifare_desfire_aes_key_new_with_version(keybytes, (uint8_t)atoi(argv[2]));
    if (mifare_desfire_authenticate_aes(tags[0], 2, key) < 0) {
        fprintf(stderr, "freefare_identity: authenticate key 2: %s\n", freefare_strerror(tags[0]));
        goto out;
    }
    if (mifare_desfire_read_data_ex(tags[0], 2, 0, 32, state, MDCM_MACED) != 32) {
        fprintf(stderr, "freefare_identity: read state: %s\n", freefare_strerror(tags[0]));
        goto out;
    }
    {
        char *uid = freefare_get_tag_uid(tags[0]); /* malloc'd by libfreefare */
        printf("uid %s\n", uid);
        free(uid);
    }
    printf("identity version %u type %u card %llu issuer %08llx program %llu keyset %u kind %u\n",
           identity[0], identity[1], (unsigned long long)be(identity + 2, 8),
           (unsigned long long)be(identity + 10, 4), (unsigned long long)be(identity + 14, 4),
           identity[18], identity[19]);
    printf("state version %u card %llu seq %llu points %llu\n", state[0],
           (unsigned long long)be(state + 1, 8), (unsigned long long)be(state + 9, 4),
           (unsigned long long)be(state + 13, 4));
    rc = 0;
out:
    if (key)
        mifare_desfire_key_free(key);
    if (aid)
        free(aid);
    if (tags) {
        if (tags[0])
            mifare_desfire_disconnect(tags[0]);
        freefare_free_tags(tags);
    }
    if (dev)
        nfc_close(dev);
    if (ctx)
        nfc_exit(ctx);
    return rc;
}
