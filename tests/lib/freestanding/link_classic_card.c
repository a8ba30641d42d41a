/*
 * link_classic_card.c - linked, never run, by check-freestanding.sh beside
 * link_desfire_card.c (which gives the entry point and the few functions a C
 * compiler may call by itself): calls every MIFARE Classic card operation
 * (cardlayout/classic/classic_card.h, classic_keys.h, classic_record.h), so
 * any use of the C library in what they reach is an undefined symbol in a
 * program linked with -nostdlib against the freestanding objects only. The
 * reader and the provider are empty: nothing here runs.
 */
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/classic/classic_card.h"
#include "cardlayout/classic/classic_keys.h"

void link_classic_card(void);

static const struct card_reader reader;
static const struct crypto_provider provider;

void link_classic_card(void)
{
    static struct classic_card c;
    static struct classic_card_keys k;
    static struct classic_card_one_key one;
    static struct classic_card_keyring ring;
    static struct classic_card_view v;
    static struct classic_record_state next;
    static struct card_view cv;
    static enum classic_card_sector st[CLASSIC_CARD_SECTORS];
    static uint8_t t[6], b[16], mad[32], seal[32], ispan[CLASSIC_RECORD_IDENTITY_SPAN];
    static uint8_t sspan[CLASSIC_RECORD_STATE_SPAN], versions[2];
    static const uint8_t uid[4] = {1, 2, 3, 4};
    const struct classic_keys_card card = {uid, sizeof uid, 1, 1};
    const struct classic_card_secrets s = {&k, &ring, uid, sizeof uid, 1, 1, 0};
    leal_err err = LEAL_OK;

    classic_card_init(&c, &reader);
    classic_card_keyring_one(&provider, &one, &ring);
    err |= classic_keys_sector(&provider, b, &card, 1, t);
    err |= classic_keys_seal(&provider, b, &card, seal);
    err |= classic_card_auth(&c, 1, CLASSIC_KEY_A, t);
    err |= classic_card_write_block(&c, 4, b);
    err |= classic_card_probe(&c, t, &k, st);
    err |= classic_card_to_transport(&c, &k, 1);
    err |= classic_card_read_mad(&c, mad);
    err |= classic_card_read_identity(&c, &k, ispan);
    err |= classic_card_read_issued_state(&c, &k, sspan);
    err |= classic_card_read_state(&c, &k, v.slot[0], v.slot[1]);
    err |= classic_card_write_state(&c, &k, 1, sspan);
    err |= classic_card_write_trailer(&c, &k, 1);
    err |= classic_card_personalise(&c, t, &k, ispan, sspan);
    err |= classic_card_open_identity(&ring, ispan, uid, sizeof uid, &v.id, versions);
    err |= classic_card_normalise_slots(&ring, 1, &v);
    err |= classic_card_read_view_identity(&c, &s, &v);
    err |= classic_card_read_view_state(&c, &s, false, &v);
    err |= classic_card_read_view(&c, &s, &v);
    err |= classic_card_seal_next(&s, &v, &next, sspan);
    err |= classic_card_write_next(&c, &s, &next, sspan, &v);
    classic_card_fill_view(&v, &s, &cv);
    for (;;)
        (void)err;
}
