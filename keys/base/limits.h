/*
 * limits.h - every size limit in leal, in one list (cf. curl's DYN_* list).
 * Every reader of outside bytes checks against one of these; host code reads
 * files only with a cap from here. Freestanding.
 */
#ifndef LEAL_LIMITS_H
#define LEAL_LIMITS_H

/* Cards and readers */
#define LEAL_MAX_APDU 261             /* short APDU: CLA INS P1 P2 Lc 255 Le */
#define LEAL_MAX_RAPDU 258            /* 256 data bytes + SW1 SW2 */
#define LEAL_MAX_DESFIRE_FRAME 59     /* native DESFire data bytes per frame */
#define LEAL_MAX_DESFIRE_MESSAGE 8192 /* whole chained DESFire message */
#define LEAL_MAX_UID 10
#define LEAL_MAX_ATR 33
#define LEAL_MAX_ATS 20
#define LEAL_MAX_CARD_FILE (1024 * 1024) /* a virtual card's JSON file */
#define LEAL_MAX_VPCD_MESSAGE 65537
#define LEAL_MAX_PN532_FRAME 272 /* extended frame: 264 data + header and trailer */

/* Keys */
#define LEAL_MAX_ISSUER_NAME 64
#define LEAL_MAX_PROGRAMS 64
#define LEAL_MAX_KEY_VERSIONS 16 /* versions kept per role */
#define LEAL_MAX_KEYSTORE_FILE (256 * 1024)
#define LEAL_MAX_BUNDLE_FILE (64 * 1024)
#define LEAL_MAX_PASSPHRASE 1024
#define LEAL_MAX_DIVERSIFY_INPUT 31 /* AN10922: M is 1..31 bytes */

/* Records, journals, packages */
#define LEAL_MAX_RECORD 256
#define LEAL_MAX_JOURNAL_ENTRY 256
#define LEAL_MAX_HOTLIST_ENTRIES 100000
#define LEAL_MAX_PACKAGE (4 * 1024 * 1024)
#define LEAL_MAX_QR_TOKEN 512

/* User input */
#define LEAL_MAX_TEXT_FIELD 256
#define LEAL_MAX_AMOUNT_TEXT 24

#endif
