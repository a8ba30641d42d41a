/*
 * layout.h - the constants of cardlayout/LAYOUT.md (layout versions 1 and 2), in one
 * place for the desk, the terminal and the tests: record types, the DESFire
 * application (AID, DF name, keys, files, access rights, settings) and the
 * MIFARE Classic sector map; version 2's bono file. LAYOUT.md is normative;
 * this header follows it.
 * Freestanding, constants only.
 */
#ifndef LEAL_LAYOUT_H
#define LEAL_LAYOUT_H

#define LAYOUT_VERSION 1
/* A card's layout version is its DESFire state file's version byte (LAYOUT.md
 * 4): 2 says the bono file exists. Identity and log records stay version 1. */
#define LAYOUT_VERSION_BONOS 2
/* Layout version 3 (LAYOUT.md 2.10), EV2/EV3 cards with the Transaction MAC
 * file: version 2 and a purse mirror at the end of a 36-byte state file. */
#define LAYOUT_VERSION_MIRROR 3

/* Record types (byte 1 of identity and log records, and of Classic sealed records). */
#define LAYOUT_TYPE_IDENTITY 0x01
#define LAYOUT_TYPE_STATE 0x02
#define LAYOUT_TYPE_LOG 0x03
#define LAYOUT_TYPE_BONOS 0x04

/* DESFire application (LAYOUT.md 2.2): AID as sent on the wire. */
#define LAYOUT_DF_AID_0 0x4C
#define LAYOUT_DF_AID_1 0x45
#define LAYOUT_DF_AID_2 0x41
#define LAYOUT_DF_ISO_FID 0x454C /* sent LE: 4C 45 */
#define LAYOUT_DF_NAME_LEN 7     /* F0 'L' 'E' 'A' 'L' '0' '1' */
#define LAYOUT_PICC_KEY_SETTINGS 0x0B
/* What erase leaves: NXP's factory PICC key settings (every change allowed,
 * free listing and creation), so an erased card is a blank card again. */
#define LAYOUT_PICC_KEY_SETTINGS_ERASED 0x0F
#define LAYOUT_APP_KEY_SETTINGS 0x09 /* LAYOUT.md 2.2: no free listing */
#define LAYOUT_APP_KEYS 3
#define LAYOUT_APP_SETTINGS2 (0x80 | 0x20 | LAYOUT_APP_KEYS) /* AES, ISO FIDs, 3 keys */

#define LAYOUT_KEY_APP_MASTER 0
#define LAYOUT_KEY_PURSE_CREDIT 1
#define LAYOUT_KEY_TERMINAL 2

#define LAYOUT_FILE_IDENTITY 0x01
#define LAYOUT_FILE_STATE 0x02
#define LAYOUT_FILE_PURSE 0x03
#define LAYOUT_FILE_COUNTER 0x04
#define LAYOUT_FILE_LOG 0x05
#define LAYOUT_FILE_BONOS 0x06 /* layout version 2 */
#define LAYOUT_FILE_TMAC 0x0F  /* reserved for EV2/EV3 */

#define LAYOUT_ISO_FID_IDENTITY 0x4C01
#define LAYOUT_ISO_FID_STATE 0x4C02
#define LAYOUT_ISO_FID_LOG 0x4C05
#define LAYOUT_ISO_FID_BONOS 0x4C06

/* Access rights as the LE16 value DESFire takes: R<<12 | W<<8 | RW<<4 | CAR. */
#define LAYOUT_AR(r, w, rw, car)                                                                   \
    ((unsigned)(r) << 12 | (unsigned)(w) << 8 | (unsigned)(rw) << 4 | (car))
#define LAYOUT_AR_IDENTITY LAYOUT_AR(0xE, 0, 0, 0)
#define LAYOUT_AR_STATE LAYOUT_AR(2, 2, 0, 0)
/* Layout version 3's state: RW 1 too, so that the host's purse credit
 * (key 1) writes the mirror in the credit's own transaction. */
#define LAYOUT_AR_STATE_MIRROR LAYOUT_AR(2, 2, 1, 0)
#define LAYOUT_AR_PURSE LAYOUT_AR(2, 2, 1, 0)
#define LAYOUT_AR_COUNTER LAYOUT_AR(2, 1, 0xF, 0xF)
#define LAYOUT_AR_LOG LAYOUT_AR(2, 1, 0, 0) /* written by host credits (key 1) and key 0 */
/* Bonos (LAYOUT.md 4.2): as the state, used by terminals and sold by the desk (key 2),
 * made by issuance and upgrades (key 0). */
#define LAYOUT_AR_BONOS LAYOUT_AR(2, 2, 0, 0)
/* Transaction MAC file of an EV2/EV3 (LAYOUT.md 2.9): terminals read TMC and
 * TMV (key 2); W (CommitReaderID) and RW are never, CAR is key 0. */
#define LAYOUT_AR_TMAC LAYOUT_AR(2, 0xF, 0xF, 0)

#define LAYOUT_COUNTER_START 0x7FFFFFFF
#define LAYOUT_LOG_RECORD_LEN 16
#define LAYOUT_LOG_RECORDS 6

/* MIFARE Classic (LAYOUT.md 3.1). */
#define LAYOUT_MAD_AID 0x014C
#define LAYOUT_CLASSIC_GPB_MAD 0xC1
#define LAYOUT_CLASSIC_IDENTITY_SECTOR 1 /* sectors 1, 2, 3 */
#define LAYOUT_CLASSIC_IDENTITY_SECTORS 3
#define LAYOUT_CLASSIC_STATE_SECTOR0 4 /* slot 0; slot 1 in sector 5 */
#define LAYOUT_CLASSIC_SECTORS_USED 6  /* 0..5 */
#define LAYOUT_CLASSIC_SEAL_K1 0xF1    /* third "AID" byte of the seal key inputs */
#define LAYOUT_CLASSIC_SEAL_K2 0xF2

#endif
