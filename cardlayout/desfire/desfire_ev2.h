/*
 * desfire_ev2.h - the EV2 secure messaging of MIFARE DESFire EV2/EV3, as
 * NXP's public application notes give it: AN12343 ("MIFARE DESFire Light
 * features and hints", session keys p.33-35, MACs p.54) and AN12196 ("NTAG
 * 424 DNA and NTAG 424 DNA TagTamper features and hints", AuthenticateEV2First
 * 6.6 and 6.10, enciphered GetCardUID 7.3); byte order as proxmark3's
 * DesfireGenSessionKeyEV2 and icedevml's ev2.py (REFERENCE.md 2.5).
 *
 * - AuthenticateEV2First (71 KeyNo LenCap [PCDcap2]) and NonFirst (77 KeyNo):
 *   the card answers E(K, RndB); the reader sends E(K, RndA || rot(RndB));
 *   the card answers E(K, TI || rot(RndA) || PDcap2 || PCDcap2) (First) or
 *   E(K, rot(RndA)) (NonFirst); AES-CBC with IV zero for every part.
 * - SesAuthENCKey = CMAC(K, SV1), SesAuthMACKey = CMAC(K, SV2); SV1 = A5 5A
 *   00 01 00 80 || RndA[0..1] || RndA[2..7] ^ RndB[0..5] || RndB[6..15] ||
 *   RndA[8..15], SV2 the same with 5A A5.
 * - Command counter CmdCtr (LE16): 0 after First, kept by NonFirst, +1 after
 *   every command of the session; TI (4 bytes) from First.
 * - MACt: bytes 1, 3, .., 15 of CMAC(SesAuthMACKey, code || CmdCtr || TI ||
 *   data); a command's code is its INS and its data header || data (the
 *   ciphertext when enciphered), an answer's code its status (00) with CmdCtr
 *   + 1.
 * - Enciphered data: AES-CBC under SesAuthENCKey, padded with ISO/IEC 9797-1
 *   method 2 (80 00..; always at least one byte), IV = E(SesAuthENCKey, A5 5A
 *   || TI || CmdCtr || 00*8) for a command, 5A A5 and CmdCtr + 1 for its answer.
 *
 * Pure functions over the crypto provider; no state. Freestanding.
 * Errors: the provider's, LEAL_E_CARD_AUTHENTICATION (the card did not prove
 * the key: rot(RndA) differs), LEAL_E_ARG.
 */
#ifndef LEAL_DESFIRE_EV2_H
#define LEAL_DESFIRE_EV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys/crypto.h"

#define DESFIRE_EV2_TI_LEN 4
#define DESFIRE_EV2_MACT_LEN 8
#define DESFIRE_EV2_SV_LEN 32
/* The data a MACt covers at most (header and data of one logical command). */
#define DESFIRE_EV2_MAC_DATA_MAX 320

/* SV1 (l0 l1 = A5 5A) or SV2 (5A A5). */
void desfire_ev2_sv(uint8_t l0, uint8_t l1, const uint8_t rnd_a[16], const uint8_t rnd_b[16],
                    uint8_t sv[DESFIRE_EV2_SV_LEN]);
LEAL_MUST_CHECK leal_err desfire_ev2_session_keys(const struct crypto_provider *cp,
                                                  const uint8_t key[16], const uint8_t rnd_a[16],
                                                  const uint8_t rnd_b[16], uint8_t enc[16],
                                                  uint8_t mac[16]);
/* IVc (response false, ctr: the command's CmdCtr) or IVr (response true, ctr:
 * CmdCtr + 1). */
LEAL_MUST_CHECK leal_err desfire_ev2_iv(const struct crypto_provider *cp, const uint8_t enc[16],
                                        bool response, const uint8_t ti[DESFIRE_EV2_TI_LEN],
                                        uint16_t ctr, uint8_t iv[16]);
/* What a MACt covers: code || ctr (LE16) || ti || data. */
struct desfire_ev2_msg {
    uint8_t code; /* the command's INS, or the answer's status */
    uint16_t ctr;
    const uint8_t *ti; /* DESFIRE_EV2_TI_LEN bytes */
    const uint8_t *data;
    size_t len; /* at most DESFIRE_EV2_MAC_DATA_MAX */
};
LEAL_MUST_CHECK leal_err desfire_ev2_mac(const struct crypto_provider *cp,
                                         const uint8_t mac_key[16], const struct desfire_ev2_msg *m,
                                         uint8_t mact[DESFIRE_EV2_MACT_LEN]);
/* ISO/IEC 9797-1 method 2 padding of buf[0..len) in place to the next
 * multiple of 16 (16 more when len is one already); buf has room for it.
 * Returns the padded length. */
size_t desfire_ev2_pad(uint8_t *buf, size_t len);
/* The data length of a padded plaintext (len a non-zero multiple of 16):
 * false when the padding is not 80 00.. within the last block. */
bool desfire_ev2_unpad(const uint8_t *buf, size_t len, size_t *data_len);

/* The reader's second frame: RndB from the card's E(K, RndB) (ek_rnd_b) and
 * token = E(K, RndA || rot(RndB)). */
LEAL_MUST_CHECK leal_err desfire_ev2_auth_token(const struct crypto_provider *cp,
                                                const uint8_t key[16], const uint8_t ek_rnd_b[16],
                                                const uint8_t rnd_a[16], uint8_t rnd_b[16],
                                                uint8_t token[32]);
/* The card's last answer: First's 32 bytes (ti receives TI) or NonFirst's 16
 * (ti NULL); LEAL_E_CARD_AUTHENTICATION unless it holds rot(RndA). */
LEAL_MUST_CHECK leal_err desfire_ev2_auth_answer(const struct crypto_provider *cp,
                                                 const uint8_t key[16], const uint8_t *ans,
                                                 size_t len, const uint8_t rnd_a[16], uint8_t *ti);

#endif
