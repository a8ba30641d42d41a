/*
 * cardsim.h - the virtual card: one MIFARE DESFire (EV1; EV2, EV3 personalities) or
 * MIFARE Classic (1K, 4K) card whose whole EEPROM state is a JSON file, so a
 * card survives between processes as it does in a wallet. The RF layer is
 * modelled as a reader sees it: activation (anticollision, RATS) gives the
 * UID, ATQA, SAK and ATS; then exchanges; deactivation (the card leaves the
 * field) aborts what was not committed and drops any authentication.
 * Faces on top of this engine: vpcd (pcscd), PN532 on a pty (libnfc), and
 * the in-process sim: reader. Hosted; heap objects through cardsim_new/free.
 *
 * Exchange formats (cardsim_transceive):
 *  DESFire: native frames (INS data -> status data) or ISO 7816-4 wrapped
 *    (90 INS 00 00 Lc data 00 -> data 91 status), and ISO SELECT by DF name.
 *  Classic: native MIFARE commands as a PN53x passes them after doing
 *    Crypto1 itself: 60|61 blk key6 uid4 (auth), 30 blk (read -> 16 bytes),
 *    A0 blk data16 (write), C0|C1 blk value4 (decrement/increment),
 *    C2 blk 00000000 (restore), B0 blk (transfer). Crypto1 is not emulated.
 */
#ifndef LEAL_CARDSIM_H
#define LEAL_CARDSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"
#include "keys/base/limits.h"

enum cardsim_kind {
    CARDSIM_DESFIRE = 1,
    CARDSIM_CLASSIC = 2,
};

/* What the reader learns at activation. */
struct cardsim_ident {
    uint8_t uid[LEAL_MAX_UID]; /* anticollision UID: 08xxxxxx fresh each time on random-UID cards */
    size_t uid_len;
    uint8_t atqa[2]; /* as transmitted: DESFire 44 03 is shown by libnfc as 0344 */
    uint8_t sak;
    uint8_t ats[LEAL_MAX_ATS]; /* with TL; empty for Classic */
    size_t ats_len;
};

struct cardsim;

/* type: "desfire-ev1" (optionally "desfire-ev1-2k|4k|8k"), "desfire-ev2", "desfire-ev3"
 * (the same sizes), "classic-1k", "classic-4k". uid NULL: a random fixed UID (7 bytes DESFire, 4
 * bytes Classic). */
LEAL_MUST_CHECK leal_err cardsim_new(const char *type, const uint8_t *uid, size_t uid_len,
                                     bool random_uid, struct cardsim **out);
LEAL_MUST_CHECK leal_err cardsim_load(const char *path, struct cardsim **out);
/* DESFire EV2/EV3: gives the card its originality signature, made as NXP
 * makes it at production (ECDSA on secp224r1 over the 7-byte UID, no hash)
 * with the private key in the PEM file (a test key: NXP's is NXP's), for
 * Read_Sig to answer. LEAL_E_UNSUPPORTED for other types (EV1 has none),
 * LEAL_E_IO for an unreadable file, LEAL_E_FORMAT if it is not such a key. */
LEAL_MUST_CHECK leal_err cardsim_sign_originality(struct cardsim *card, const char *pem_path);
/* Atomic (host/file.h). */
LEAL_MUST_CHECK leal_err cardsim_save(const struct cardsim *card, const char *path);
/* The card file's text (malloc'd, NUL-terminated). */
LEAL_MUST_CHECK leal_err cardsim_to_string(const struct cardsim *card, char **out);
/* From card file text (for tests and fuzzing). */
LEAL_MUST_CHECK leal_err cardsim_from_string(const char *text, size_t len, struct cardsim **out);
void cardsim_free(struct cardsim *card);
enum cardsim_kind cardsim_kind(const struct cardsim *card);

/* Field on and selection; fills *id. */
LEAL_MUST_CHECK leal_err cardsim_activate(struct cardsim *card, struct cardsim_ident *id);
/* Field off: uncommitted changes are rolled back and authentication dropped. */
void cardsim_deactivate(struct cardsim *card);
/* The reader deselects or halts the card (ISO 14443-3 HLTA, -4 DESELECT) but
 * keeps the field on: as cardsim_deactivate, except that what a card draws at
 * power-up (a DESFire's random UID) stays until the field goes off. */
void cardsim_halt(struct cardsim *card);

/* One exchange (see the formats above). On a tear the card leaves the field:
 * the result is LEAL_E_CARD_REMOVED and no answer is given. */
LEAL_MUST_CHECK leal_err cardsim_transceive(struct cardsim *card, const uint8_t *cmd,
                                            size_t cmd_len, uint8_t *resp, size_t resp_cap,
                                            size_t *resp_len);

/* The card's random numbers (RndB, random UIDs) come from here when set, so
 * published authentication traces replay byte for byte. */
typedef leal_err (*cardsim_rng_fn)(void *ctx, uint8_t *out, size_t n);
void cardsim_set_rng(struct cardsim *card, cardsim_rng_fn fn, void *ctx);

/* Tearing on demand. The count is of exchanges from now, starting at 1. */
enum cardsim_tear_point {
    CARDSIM_TEAR_NONE = 0,
    CARDSIM_TEAR_BEFORE_COMMAND, /* the Nth command never reaches the card */
    CARDSIM_TEAR_BEFORE_ANSWER,  /* the Nth command executes; its answer is lost */
    CARDSIM_TEAR_INSIDE_COMMIT,  /* power lost inside the Nth command's commit (DESFire) */
};
/* What a torn Classic block write leaves (the test chooses). */
enum cardsim_torn_block {
    CARDSIM_TORN_OLD = 0,
    CARDSIM_TORN_NEW,
    CARDSIM_TORN_GARBAGE,
};
struct cardsim_tear {
    enum cardsim_tear_point point;
    unsigned after; /* tear at the Nth exchange */
    enum cardsim_torn_block classic_block;
    /* INSIDE_COMMIT: steps of the commit done before power is lost (DESFire:
     * 0 = nothing written, 1 = commit record written, 1+k = k files applied).
     * If the Nth command commits nothing, it is torn before its answer. */
    unsigned commit_step;
};
/* A tear fires once; NULL or point NONE cancels. */
void cardsim_set_tear(struct cardsim *card, const struct cardsim_tear *tear);
/* Whether the armed tear has fired (the card then left the field). */
bool cardsim_torn(const struct cardsim *card);

/* The type name ("desfire-ev1-4k", ...), as in the card file. */
const char *cardsim_type(const struct cardsim *card);
/* Whether the card is in the field (activated and not torn or deactivated). */
bool cardsim_active(const struct cardsim *card);
/* Saves to path if the state changed since the last load, save or sync. */
LEAL_MUST_CHECK leal_err cardsim_sync(struct cardsim *card, const char *path);

#endif
