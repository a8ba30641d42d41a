/*
 * desfire_tmac.h - the Transaction MAC of MIFARE DESFire EV2/EV3 as the host
 * recomputes it: the card keeps a Transaction MAC Input (TMI) over the
 * commands of a transaction and, at CommitTransaction, increments its
 * Transaction MAC Counter (TMC) and MACs the TMI under a session key only it
 * and the key's holder can derive. Source: the public MIFARE DESFire Light
 * data sheet (NXP MF2DL(H)x0, section 10.3); NXP's EV3 description is not
 * public and a real EV3 may differ (cardlayout/LAYOUT.md 2.8).
 *
 * - SV1 = 5A 00 01 00 80 || TMC (LE32) || UID (7 bytes), where TMC is the
 *   value CommitTransaction reports: the counter before the commit plus one
 *   (the data sheet's "TMC+1").
 * - SesTMMACKey = CMAC(AppTransactionMACKey, SV1) (NIST SP 800-108, PRF CMAC).
 * - TMI: per command, Cmd || FileNo || its parameters, zero-padded to a
 *   multiple of 16, then its data, if any, zero-padded to a multiple of 16.
 *   The parameters: Offset || Length (LE24 each) for ReadData, WriteData and
 *   WriteRecord (ReadData's Length 0 replaced by the bytes read); the value
 *   (LE32) for GetValue, Credit, Debit and LimitedCredit; RecNo || RecCount
 *   for ReadRecords (RecCount 0 replaced by the records read); none for
 *   ClearRecordFile. The data: what ReadData/ReadRecords returned or what
 *   WriteData/WriteRecord wrote, always in plain.
 * - TMV = MACt(SesTMMACKey, TMI): bytes 1, 3, .., 15 of the CMAC, zero IV.
 *
 * Vectors: tests/vectors/desfire_tmac.txt (a worked derivation; NXP publishes
 * none). Pure functions over the crypto provider. Freestanding.
 * Errors: the provider's, LEAL_E_TOO_LARGE (the TMI would pass
 * DESFIRE_TMI_MAX), LEAL_E_ARG.
 */
#ifndef LEAL_DESFIRE_TMAC_H
#define LEAL_DESFIRE_TMAC_H

#include <stddef.h>
#include <stdint.h>

#include "keys/crypto.h"

#define DESFIRE_TMV_LEN 8
#define DESFIRE_TMAC_FILE_LEN 12 /* TMC (LE32) || TMV: what the file and the commit give */
/* Enough for one leal transaction (a few value operations and records); the
 * card itself has no such bound (it MACs as it goes). */
#define DESFIRE_TMI_MAX 512

/* Commands that update the TMI (the data sheet's list, the ones leal uses). */
enum desfire_tmi_ins {
    DESFIRE_TMI_READ_DATA = 0xBD,
    DESFIRE_TMI_WRITE_DATA = 0x3D,
    DESFIRE_TMI_GET_VALUE = 0x6C,
    DESFIRE_TMI_CREDIT = 0x0C,
    DESFIRE_TMI_DEBIT = 0xDC,
    DESFIRE_TMI_LIMITED_CREDIT = 0x1C,
    DESFIRE_TMI_WRITE_RECORD = 0x3B,
    DESFIRE_TMI_READ_RECORDS = 0xBB,
    DESFIRE_TMI_CLEAR_RECORD_FILE = 0xEB,
};

struct desfire_tmi {
    uint8_t buf[DESFIRE_TMI_MAX];
    size_t len;
};

/* Empty TMI. Never fails. */
void desfire_tmi_init(struct desfire_tmi *t);
/* One command as its TMI update takes it. */
struct desfire_tmi_cmd {
    uint8_t ins; /* enum desfire_tmi_ins */
    uint8_t file_no;
    const uint8_t *params;
    size_t plen; /* at most 14 */
    const uint8_t *data;
    size_t dlen;
};
/* One command's update: ins || file_no || params zero-padded to 16, then
 * data (dlen > 0) zero-padded to 16. Nothing is added on failure. */
LEAL_MUST_CHECK leal_err desfire_tmi_add(struct desfire_tmi *t, const struct desfire_tmi_cmd *c);
/* GetValue (the value read), Credit, Debit, LimitedCredit (the amount). */
LEAL_MUST_CHECK leal_err desfire_tmi_value(struct desfire_tmi *t, uint8_t ins, uint8_t file_no,
                                           int32_t value);
/* ReadData, WriteData, WriteRecord: offset, then len bytes of data. */
LEAL_MUST_CHECK leal_err desfire_tmi_data(struct desfire_tmi *t, uint8_t ins, uint8_t file_no,
                                          uint32_t offset, const uint8_t *data, size_t len);
/* ReadRecords: first record (0 newest), count, then the records read. */
LEAL_MUST_CHECK leal_err desfire_tmi_records(struct desfire_tmi *t, uint8_t file_no, uint32_t first,
                                             uint32_t count, const uint8_t *data, size_t len);

/* SV1 for the reported tmc (see above). */
void desfire_tmac_sv(uint32_t tmc, const uint8_t uid[7], uint8_t sv[16]);
/* SesTMMACKey for the reported tmc. */
LEAL_MUST_CHECK leal_err desfire_tmac_session_key(const struct crypto_provider *cp,
                                                  const uint8_t key[16], uint32_t tmc,
                                                  const uint8_t uid[7], uint8_t ses[16]);
/* TMV of tmi (not empty) for the reported tmc. */
LEAL_MUST_CHECK leal_err desfire_tmv(const struct crypto_provider *cp, const uint8_t key[16],
                                     uint32_t tmc, const uint8_t uid[7],
                                     const struct desfire_tmi *tmi, uint8_t tmv[DESFIRE_TMV_LEN]);

#endif
