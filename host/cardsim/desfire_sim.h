/*
 * desfire_sim.h - internals of the virtual MIFARE DESFire (desfire_sim*.c),
 * shared by the command engine, its crypto and its card-file codec. Not a
 * public interface: the card is reached through cardsim.h.
 *
 * Model of the EEPROM (what the card file holds): PICC master key and key
 * settings, configuration (random UID, FormatPICC disabled, default key),
 * applications (key settings, key type fixed at creation, keys), their files
 * with committed contents, and memory used in 32-byte blocks. Backup, value
 * and record files keep a working copy inside a transaction ("dirty");
 * CommitTransaction writes a commit record (commit_pending) and then applies
 * each dirty file, so power lost inside a commit is finished at the next
 * power-up, and power lost before it leaves the committed state.
 */
#ifndef LEAL_DESFIRE_SIM_H
#define LEAL_DESFIRE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "keys/base/err.h"
#include "keys/base/limits.h"

/* What a real DESFire EV1 allows (NXP datasheet), so the simulator refuses
 * what the card would. */
#define DF_MAX_APPS 28  /* applications per card */
#define DF_MAX_FILES 32 /* files per application (numbers 0..31) */
#define DF_MAX_KEYS 14  /* keys per application */
#define DF_BLOCK 32     /* EEPROM allocation unit */
/* PICC key settings as delivered: everything free, DES key 00..00. */
#define DF_FACTORY_PICC_KS1 0x0F

/* Native status codes (NXP; libfreefare freefare.h). */
enum df_status {
    DF_OK = 0x00,
    DF_NO_CHANGES = 0x0C,
    DF_OUT_OF_EEPROM = 0x0E,
    DF_ILLEGAL_COMMAND = 0x1C,
    DF_INTEGRITY_ERROR = 0x1E,
    DF_NO_SUCH_KEY = 0x40,
    DF_LENGTH_ERROR = 0x7E,
    DF_PERMISSION_DENIED = 0x9D,
    DF_PARAMETER_ERROR = 0x9E,
    DF_APPLICATION_NOT_FOUND = 0xA0,
    DF_AUTHENTICATION_ERROR = 0xAE,
    DF_ADDITIONAL_FRAME = 0xAF,
    DF_OK_EV2 = 0x90, /* success of EV2 commands such as Read_Sig */
    DF_BOUNDARY_ERROR = 0xBE,
    DF_COMMAND_ABORTED = 0xCA,
    DF_COUNT_ERROR = 0xCE,
    DF_DUPLICATE_ERROR = 0xDE,
    DF_FILE_NOT_FOUND = 0xF0,
};

enum df_keytype {
    DF_KEY_DES = 0,    /* DES or 2K3DES, 16 bytes (DES when both halves are equal) */
    DF_KEY_3K3DES = 1, /* 24 bytes */
    DF_KEY_AES = 2,    /* 16 bytes + version byte */
};

enum df_ftype {
    DF_FILE_STD = 0,
    DF_FILE_BACKUP = 1,
    DF_FILE_VALUE = 2,
    DF_FILE_LINEAR = 3,
    DF_FILE_CYCLIC = 4,
    DF_FILE_TMAC = 5, /* EV2/EV3: TransactionMAC file (MF2DL(H)x0 10.3); data = TMC || TMV */
};

struct df_key {
    uint8_t k[24];
    uint8_t version; /* AES only; DES/3DES carry it in parity bits */
};

struct df_file {
    bool exists;
    uint8_t type; /* enum df_ftype */
    uint8_t comm; /* 0 plain, 1 MACed, 3 enciphered */
    uint16_t ar;  /* R<<12 | W<<8 | RW<<4 | CAR */
    bool has_fid;
    uint16_t fid;
    /* std/backup */
    uint32_t size;
    uint8_t *data; /* committed */
    uint8_t *work; /* backup: working copy inside a transaction */
    /* value */
    int32_t lower, upper, value, work_value;
    uint8_t lc_options; /* bit 0 LimitedCredit enabled, bit 1 free GetValue */
    int32_t lc_value;   /* what LimitedCredit may still add (committed) */
    bool lc_available;
    int64_t work_debits;
    bool work_lc_done;
    /* linear/cyclic records */
    uint32_t rec_size, max_recs, count; /* count committed, oldest first in recs */
    uint8_t *recs;
    bool work_clear, work_new;
    uint8_t *work_rec;
    bool dirty; /* has uncommitted changes */
    /* TransactionMAC file: AppTransactionMACKey and its version (data and
     * size hold TMC (LE32) || TMV, 12 bytes) */
    uint8_t tm_key[16];
    uint8_t tm_key_version;
};

struct df_app {
    bool exists;
    uint32_t aid;
    uint8_t ks1; /* key settings */
    uint8_t nkeys;
    uint8_t keytype; /* enum df_keytype */
    bool has_fid;
    uint16_t fid;
    uint8_t df_name[16];
    size_t df_name_len;
    struct df_key keys[DF_MAX_KEYS];
    struct df_file files[DF_MAX_FILES];
};

enum df_personality {
    DF_EV1 = 1,
    DF_EV2 = 2,
    DF_EV3 = 3,
};

#define DF_SIG_LEN 56 /* originality signature: ECDSA secp224r1, r || s */

enum df_auth {
    DF_AUTH_NONE = 0,
    DF_AUTH_LEGACY, /* 0x0A: D40 secure messaging (MAC4, CRC16) */
    DF_AUTH_ISO,    /* 0x1A: EV1 secure messaging with (3)DES (CMAC, CRC32) */
    DF_AUTH_AES,    /* 0xAA: EV1 secure messaging with AES */
    DF_AUTH_EV2,    /* 0x71/0x77: EV2 secure messaging (MACt, TI, CmdCtr; EV2/EV3 only) */
};

/* A block cipher for secure messaging: AES-128 or (3)DES. */
struct df_cipher {
    uint8_t key[24];
    size_t key_len; /* 8, 16, 24 (DES family) or 16 (AES) */
    size_t bs;      /* block size: 8 or 16 */
    bool aes;
};

struct df_state {
    /* EEPROM */
    int personality;
    uint8_t storage; /* GetVersion storage size byte */
    uint32_t capacity, used;
    uint8_t uid[7];
    bool random_uid, format_disabled;
    uint8_t batch[5], week, year;
    struct df_key default_key;
    uint8_t default_key_version;
    struct df_app picc;
    struct df_app apps[DF_MAX_APPS];
    bool commit_pending;
    /* EV2/EV3: the originality signature written at production (over the
     * 7-byte UID); absent on a card made without a signing key. */
    bool has_sig;
    uint8_t sig[DF_SIG_LEN];

    /* RAM (lost when the card leaves the field) */
    uint8_t rid[4];        /* random UID of this power-up */
    struct df_app *sel;    /* &picc at PICC level */
    int ef;                /* ISO: file number of the current EF in sel, -1 none */
    int auth_key;          /* -1: not authenticated */
    int auth_mode;         /* enum df_auth */
    struct df_cipher sess; /* EV2: SesAuthENCKey */
    uint8_t iv[16];
    struct df_cipher sess_mac; /* EV2: SesAuthMACKey */
    uint8_t ti[4];             /* EV2: transaction identifier */
    uint16_t cmd_ctr;          /* EV2: command counter */
    uint8_t auth_ti[4];        /* EV2 NonFirst in progress: the session's TI and counter */
    uint16_t auth_ctr;
    /* Transaction MAC of the ongoing transaction (an application with a
     * TransactionMAC file): the TMI as a running CMAC under SesTMMACKey,
     * every update being whole 16-byte blocks: tmi_chain is the CBC state
     * before tmi_last, the last block seen, which the commit MACs with K1. */
    size_t tmi_len;
    struct df_cipher tm_mac;
    uint8_t tmi_chain[16], tmi_last[16];
    /* authentication in progress */
    int auth_step; /* 0 none, 1 waiting for the token */
    uint8_t auth_ins, auth_keyno;
    uint8_t rndb[16], auth_iv[16];
    size_t rnd_len;
    struct df_cipher auth_cipher;
    /* chaining: command being received, answer being sent */
    uint8_t *in;
    size_t in_len, in_expected;
    uint8_t *out;
    size_t out_len, out_off;
    uint8_t out_status;
    size_t out_chunks[DF_MAX_APPS + 2]; /* frame sizes when not 59 each */
    int out_nchunks, out_chunk_i;
};

/* desfire_sim_crypto.c */
LEAL_MUST_CHECK leal_err df_cipher_set(struct df_cipher *c, int keytype, const uint8_t *key,
                                       size_t key_len);
LEAL_MUST_CHECK leal_err df_ecb(const struct df_cipher *c, bool enc, const uint8_t *in,
                                uint8_t *out);
LEAL_MUST_CHECK leal_err df_cbc_encrypt(const struct df_cipher *c, uint8_t *iv, const uint8_t *in,
                                        uint8_t *out, size_t len);
LEAL_MUST_CHECK leal_err df_cbc_decrypt(const struct df_cipher *c, uint8_t *iv, const uint8_t *in,
                                        uint8_t *out, size_t len);
/* CMAC (SP 800-38B) starting from iv; iv becomes the full CMAC. */
LEAL_MUST_CHECK leal_err df_cmac(const struct df_cipher *c, uint8_t *iv, const uint8_t *msg,
                                 size_t len, uint8_t *mac);
uint32_t df_crc32(const uint8_t *p, size_t n, uint32_t crc);
uint16_t df_crc16(const uint8_t *p, size_t n);
size_t df_key_len(int keytype);
uint8_t df_key_version(int keytype, const struct df_key *k);
/* EV2/EV3: signs the UID with the secp224r1 private key in the PEM file, as
 * NXP does at production (ECDSA over the 7 bytes, no hash), into st->sig.
 * LEAL_E_UNSUPPORTED on EV1, LEAL_E_IO unreadable, LEAL_E_FORMAT not such a key. */
LEAL_MUST_CHECK leal_err df_sign_originality(struct df_state *st, const char *pem_path);

/* desfire_sim_json.c */
void df_file_clear(struct df_file *f);
void df_app_clear(struct df_app *a);
LEAL_MUST_CHECK leal_err df_to_json(const void *state, json_t *root);
/* Fills the EEPROM part of st from the card file (st zeroed by the caller). */
LEAL_MUST_CHECK leal_err df_state_from_json(struct df_state *st, json_t *root);

#endif
