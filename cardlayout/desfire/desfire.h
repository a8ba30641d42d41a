/*
 * desfire.h - MIFARE DESFire EV1 host-side driver over struct card_reader:
 * ISO 7816-4 wrapped native commands (90 INS 00 00 Lc data 00 -> data 91 st),
 * 0xAF chaining both ways, AES authentication (0xAA) and EV1 secure
 * messaging: CMAC with the running IV on plain and MACed traffic, full
 * encryption with CRC32 and zero padding. Sources: the MF3ICDx21_41_81 data
 * sheet, libfreefare (freefare.h, mifare_desfire*.c) and Elmue's published
 * PN532 trace of an EV1 AES session, whose bytes tests/unit/desfire_test.c
 * replays (ARCHITECTURE.md, Sources).
 *
 * EV2 secure messaging (desfire_authenticate_ev2_first): the same commands
 * with MACt, the EV2 IVs and M2 padding instead of the chained CMAC and
 * CRC32; a file in plain mode travels without a MAC both ways, other
 * commands of the session carry MACt both ways.
 *
 * Rule (LAYOUT.md 2.6): under a session every success answer must carry its
 * CMAC, or its CRC32 inside the encryption, and it is checked before the
 * answer is believed; a bare status byte is LEAL_E_CARD_RESPONSE_MAC
 * (libfreefare #90). Any error status, a failed check or SelectApplication
 * ends the session (the card does the same).
 *
 * Memory: struct desfire is the caller's (stack or static), holds the session
 * key and the message buffers; desfire_clear() wipes it. Freestanding; crypto
 * only through the provider, the card only through the reader.
 * Errors: card statuses mapped to LEAL_E_CARD_* (desfire_status_err), reader
 * errors unchanged, LEAL_E_PROTOCOL (answer outside the protocol),
 * LEAL_E_CARD_RESPONSE_MAC, LEAL_E_STATE (needs a session), LEAL_E_ARG,
 * LEAL_E_TOO_LARGE (over DESFIRE_MAX_DATA).
 */
#ifndef LEAL_DESFIRE_H
#define LEAL_DESFIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardlayout/card_reader.h"
#include "keys/crypto.h"

#define DESFIRE_MAX_DATA 256  /* data bytes of one command or answer (leal's files are smaller) */
#define DESFIRE_FRAME_DATA 55 /* data bytes per wrapped frame (LAYOUT.md 2.6) */
#define DESFIRE_UID_LEN 7

/* File communication modes (the byte CreateXFile takes). */
enum desfire_comm {
    DESFIRE_COMM_PLAIN = 0x00,
    DESFIRE_COMM_MACED = 0x01,
    DESFIRE_COMM_FULL = 0x03,
};

struct desfire {
    const struct card_reader *reader;
    const struct crypto_provider *cp;
    bool authenticated;
    uint8_t key_no;       /* the key of the session */
    uint8_t session[16];  /* AES session key */
    uint8_t iv[16];       /* running IV */
    bool ev2;             /* the session speaks EV2 secure messaging (desfire_ev2.h) */
    uint8_t ti[4];        /* EV2: transaction identifier from AuthenticateEV2First */
    uint16_t cmd_ctr;     /* EV2: command counter */
    uint8_t ses_mac[16];  /* EV2: SesAuthMACKey (session holds SesAuthENCKey) */
    uint8_t status;       /* last native status byte the card sent */
    unsigned round_trips; /* exchanges with the card, 0xAF frames counted */
    unsigned long bytes_out, bytes_in;
    uint8_t msg[DESFIRE_MAX_DATA + 48]; /* private: the logical command */
    uint8_t ans[DESFIRE_MAX_DATA + 48]; /* private: the logical answer */
};

struct desfire_version {
    uint8_t hw[7]; /* vendor, type, subtype, major, minor, storage size, protocol */
    uint8_t sw[7];
    uint8_t uid[7];
    uint8_t batch[5];
    uint8_t week, year;
};

/* Never fails. */
void desfire_init(struct desfire *d, const struct card_reader *reader,
                  const struct crypto_provider *cp);
/* Ends the session and wipes every secret; d may be NULL. */
void desfire_clear(struct desfire *d);

/* DESFire's CRC32 (preset FFFFFFFF, polynomial EDB88320, no final xor). */
uint32_t desfire_crc32(const uint8_t *p, size_t n);

/* leal error for a native status byte (00 -> LEAL_OK). */
leal_err desfire_status_err(uint8_t status);

/* Takes over a session another party established (a SAM that authenticated on
 * the driver's behalf): key number, session key and current IV. */
void desfire_resume_session(struct desfire *d, uint8_t key_no, const uint8_t session[16],
                            const uint8_t iv[16]);

/* One ChangeKey request: key_no (with 0x80 at PICC level for an AES key),
 * the new key and its version; old_key NULL: the key of the session itself. */
struct desfire_key_change {
    uint8_t key_no;
    const uint8_t *new_key; /* 16 bytes */
    uint8_t version;
    const uint8_t *old_key; /* 16 bytes or NULL */
};
/* The ChangeKey cryptogram (32 bytes) of k under session/iv (iv is advanced). */
LEAL_MUST_CHECK leal_err desfire_change_key_cryptogram(const struct crypto_provider *cp,
                                                       const uint8_t session[16], uint8_t iv[16],
                                                       const struct desfire_key_change *k,
                                                       uint8_t out[32]);

/* Takes over an EV2 session (tests that replay published exchanges): key
 * number, SesAuthENCKey, SesAuthMACKey, TI and the command counter. */
void desfire_resume_ev2_session(struct desfire *d, uint8_t key_no, const uint8_t enc[16],
                                const uint8_t mac[16], const uint8_t ti[4], uint16_t ctr);

/* PICC and application level */
LEAL_MUST_CHECK leal_err desfire_select_application(struct desfire *d, const uint8_t aid[3]);
LEAL_MUST_CHECK leal_err desfire_get_version(struct desfire *d, struct desfire_version *out);
LEAL_MUST_CHECK leal_err desfire_authenticate_aes(struct desfire *d, uint8_t key_no,
                                                  const uint8_t key[16]);
/* AuthenticateEV2First (71, LenCap 0; 2 RT): a new EV2 session with TI from
 * the card and CmdCtr 0; what follows speaks EV2 secure messaging (MACt,
 * ISO 9797-1 M2 padding, the EV2 IVs: desfire_ev2.h). An EV1 answers
 * LEAL_E_CARD_ILLEGAL_COMMAND. */
LEAL_MUST_CHECK leal_err desfire_authenticate_ev2_first(struct desfire *d, uint8_t key_no,
                                                        const uint8_t key[16]);
/* AuthenticateEV2NonFirst (77; 2 RT): another key inside an EV2 session; new
 * session keys, TI and CmdCtr kept. LEAL_E_STATE outside an EV2 session. */
LEAL_MUST_CHECK leal_err desfire_authenticate_ev2_nonfirst(struct desfire *d, uint8_t key_no,
                                                           const uint8_t key[16]);
LEAL_MUST_CHECK leal_err desfire_get_card_uid(struct desfire *d, uint8_t uid[DESFIRE_UID_LEN]);
/* GetCardUID and compare with expected: LEAL_E_CARD_UID_MISMATCH if different. */
LEAL_MUST_CHECK leal_err desfire_verify_card_uid(struct desfire *d,
                                                 const uint8_t expected[DESFIRE_UID_LEN]);
LEAL_MUST_CHECK leal_err desfire_get_key_version(struct desfire *d, uint8_t key_no,
                                                 uint8_t *version);
LEAL_MUST_CHECK leal_err desfire_get_key_settings(struct desfire *d, uint8_t *settings,
                                                  uint8_t *max_keys);
LEAL_MUST_CHECK leal_err desfire_change_key_settings(struct desfire *d, uint8_t settings);
/* GetFileSettings (F5): the answer as the card gives it (7, 13 or 17 bytes
 * by file type) into out (cap bytes). Needs key 0 when the selected
 * application's key settings keep listing closed (LAYOUT.md 2.2). */
#define DESFIRE_FILE_SETTINGS_MAX 32
LEAL_MUST_CHECK leal_err desfire_get_file_settings(struct desfire *d, uint8_t file_no, uint8_t *out,
                                                   size_t cap, size_t *len);
/* ChangeFileSettings (5F): file_no, then settings (comm mode, access rights
 * LE16, as the card's data sheet orders them; at most
 * DESFIRE_FILE_SETTINGS_MAX bytes), enciphered under the session (the file's
 * change key), plain outside one (change right free). */
LEAL_MUST_CHECK leal_err desfire_change_file_settings(struct desfire *d, uint8_t file_no,
                                                      const uint8_t *settings, size_t len);
/* Read_Sig (3C 00, DESFire EV2 and later) outside a session: NXP's 56-byte
 * originality signature (r || s, secp224r1, over the UID). An EV1 answers
 * LEAL_E_CARD_ILLEGAL_COMMAND. LEAL_E_STATE under a session. */
#define DESFIRE_SIG_LEN 56
LEAL_MUST_CHECK leal_err desfire_read_sig(struct desfire *d, uint8_t sig[DESFIRE_SIG_LEN]);
/* GetFreeMemory (6E): the bytes the card has left. */
LEAL_MUST_CHECK leal_err desfire_get_free_memory(struct desfire *d, uint32_t *bytes);
/* GetApplicationIDs (6A, answer chained with AF): up to cap AIDs into aids,
 * their count in *n (LEAL_E_PROTOCOL for more, or a ragged answer). A card
 * whose PICC key settings keep listing closed answers
 * LEAL_E_CARD_PERMISSION_DENIED outside a PICC master session. */
#define DESFIRE_MAX_APPS 28 /* applications an EV1 holds besides the PICC level */
LEAL_MUST_CHECK leal_err desfire_get_application_ids(struct desfire *d, uint8_t (*aids)[3],
                                                     size_t cap, size_t *n);
/* A card status the last command ended with (the card refused it, or is no
 * DESFire: LEAL_E_PROTOCOL), as opposed to a reader's failure: err as the
 * driver returned it. */
bool desfire_card_refused(const struct desfire *d, leal_err err);

/* One wrapped frame outside secure messaging, for the protocols this driver
 * leaves to its hosted callers (the factory DES key: host/issuance/factory.h):
 * 90 ins 00 00 [Lc data] 00 -> data 91 status, no chaining (an AF status is
 * the caller's). The frame buffers are wiped; counted in round_trips and
 * bytes. LEAL_E_ARG over DESFIRE_FRAME_DATA, LEAL_E_PROTOCOL for an answer
 * that is no DESFire status or does not fit ans_cap. */
struct desfire_frame {
    uint8_t ins;
    const uint8_t *data;
    size_t len;
    uint8_t *ans; /* the answer's data, without the status word */
    size_t ans_cap;
    size_t ans_len; /* out */
    uint8_t status; /* out: the native status byte */
};
LEAL_MUST_CHECK leal_err desfire_send_frame(struct desfire *d, struct desfire_frame *f);

/* old_key NULL when key_no is the session's key (the session then ends).
 * Under an EV2 session the key data (new key, or new xor old || version ||
 * CRC32 of the new key) travels FULL with MACt (AN12196 5.16); the change of
 * the session's own key is answered without MACt. */
LEAL_MUST_CHECK leal_err desfire_change_key(struct desfire *d, uint8_t key_no,
                                            const uint8_t new_key[16], uint8_t version,
                                            const uint8_t *old_key);
/* CreateApplication (CA): one request, as the card takes it. */
struct desfire_app_spec {
    const uint8_t *aid; /* 3 bytes, as sent */
    uint8_t settings1, settings2;
    uint16_t iso_fid;       /* 0: none */
    const uint8_t *df_name; /* NULL when df_name_len is 0 */
    size_t df_name_len;     /* 0..16 */
};
LEAL_MUST_CHECK leal_err desfire_create_application(struct desfire *d,
                                                    const struct desfire_app_spec *a);
LEAL_MUST_CHECK leal_err desfire_delete_application(struct desfire *d, const uint8_t aid[3]);
LEAL_MUST_CHECK leal_err desfire_format_picc(struct desfire *d);
/* SetConfiguration: option byte, data enciphered. */
LEAL_MUST_CHECK leal_err desfire_set_configuration(struct desfire *d, uint8_t option,
                                                   const uint8_t *data, size_t len);

/* Files: one request struct each (access rights as R<<12 | W<<8 | RW<<4 |
 * CAR; iso_fid 0: none). */
struct desfire_data_file {
    uint8_t file_no;
    bool backup; /* CreateBackupDataFile (CB), else CreateStdDataFile (CD) */
    uint16_t iso_fid;
    enum desfire_comm comm;
    uint16_t access;
    uint32_t size; /* 1..0xFFFFFF */
};
struct desfire_value_file {
    uint8_t file_no;
    enum desfire_comm comm;
    uint16_t access;
    int32_t lower, upper, value;
    uint8_t options; /* bit 0: limited credit */
};
struct desfire_record_file {
    uint8_t file_no;
    bool cyclic; /* CreateCyclicRecordFile (C0), else CreateLinearRecordFile (C1) */
    uint16_t iso_fid;
    enum desfire_comm comm;
    uint16_t access;
    uint32_t record_size, max_records; /* each 1..0xFFFFFF */
};
LEAL_MUST_CHECK leal_err desfire_create_data_file(struct desfire *d,
                                                  const struct desfire_data_file *f);
LEAL_MUST_CHECK leal_err desfire_create_value_file(struct desfire *d,
                                                   const struct desfire_value_file *f);
LEAL_MUST_CHECK leal_err desfire_create_record_file(struct desfire *d,
                                                    const struct desfire_record_file *f);
LEAL_MUST_CHECK leal_err desfire_read_data(struct desfire *d, uint8_t file_no,
                                           enum desfire_comm comm, uint32_t offset, size_t len,
                                           uint8_t *out);
/* ReadData of a whole file (offset 0, length 0), plain or MACed: the
 * answer's *got bytes (1 .. cap) into out; a longer or empty answer is
 * LEAL_E_PROTOCOL and ends the session. For a file whose length the caller
 * learns from its first byte (LAYOUT.md 2.10's state file). */
LEAL_MUST_CHECK leal_err desfire_read_file(struct desfire *d, uint8_t file_no,
                                           enum desfire_comm comm, uint8_t *out, size_t cap,
                                           size_t *got);
LEAL_MUST_CHECK leal_err desfire_write_data(struct desfire *d, uint8_t file_no,
                                            enum desfire_comm comm, uint32_t offset,
                                            const uint8_t *data, size_t len);
LEAL_MUST_CHECK leal_err desfire_get_value(struct desfire *d, uint8_t file_no,
                                           enum desfire_comm comm, int32_t *value);
LEAL_MUST_CHECK leal_err desfire_credit(struct desfire *d, uint8_t file_no, enum desfire_comm comm,
                                        int32_t amount);
LEAL_MUST_CHECK leal_err desfire_debit(struct desfire *d, uint8_t file_no, enum desfire_comm comm,
                                       int32_t amount);
LEAL_MUST_CHECK leal_err desfire_limited_credit(struct desfire *d, uint8_t file_no,
                                                enum desfire_comm comm, int32_t amount);
LEAL_MUST_CHECK leal_err desfire_write_record(struct desfire *d, uint8_t file_no,
                                              enum desfire_comm comm, uint32_t offset,
                                              const uint8_t *data, size_t len);
/* ReadRecords (BB): count records of record_size bytes from the newest-first
 * index first, into out (count * record_size bytes). */
struct desfire_records {
    uint8_t file_no;
    enum desfire_comm comm;
    uint32_t first, count;
    size_t record_size;
};
LEAL_MUST_CHECK leal_err desfire_read_records(struct desfire *d, const struct desfire_records *q,
                                              uint8_t *out);
LEAL_MUST_CHECK leal_err desfire_commit(struct desfire *d);
/* CreateTransactionMACFile (CE, DESFire EV2 and later; desfire_tmac.h):
 * FileNo || comm || access || TMKeyOption 02 (AES) in plain, then the
 * AppTransactionMACKey and its version enciphered (the data sheet sends
 * them in full mode), so it needs a session with the application master
 * key. An EV1 answers LEAL_E_CARD_ILLEGAL_COMMAND. */
struct desfire_tmac_file {
    uint8_t file_no;
    enum desfire_comm comm; /* of ReadData on the file */
    uint16_t access;        /* R: ReadData; W: CommitReaderID; RW must be F */
    const uint8_t *key;     /* 16 bytes */
    uint8_t key_version;
};
LEAL_MUST_CHECK leal_err desfire_create_tmac_file(struct desfire *d,
                                                  const struct desfire_tmac_file *f);
/* CommitTransaction with option 01 (the application holds a Transaction MAC
 * file): the card's answer TMC (LE32) || TMV, MACed under a session, into
 * *tmc and tmv. A card without the file refuses the option. */
LEAL_MUST_CHECK leal_err desfire_commit_tmac(struct desfire *d, uint32_t *tmc, uint8_t tmv[8]);
LEAL_MUST_CHECK leal_err desfire_abort(struct desfire *d);

#endif
