/*
 * limits.h - leal's size limits, in one list (cf. curl's DYN_* list): each
 * named, each used, each with its reason. Every reader of outside bytes checks
 * against one of these; host code reads files only with a cap from here.
 * Limits that belong to one format stay beside it (firmware/core/package.h,
 * rules.h; cardlayout/layout.h for the card layout; desfire.h). Freestanding.
 */
#ifndef LEAL_LIMITS_H
#define LEAL_LIMITS_H

/* Cards and readers */
#define LEAL_MAX_APDU 261         /* ISO 7816-4 short APDU: CLA INS P1 P2 Lc, 255 data, Le */
#define LEAL_MAX_RAPDU 258        /* short response: 256 data bytes + SW1 SW2 */
#define LEAL_MAX_DESFIRE_FRAME 59 /* native DESFire data bytes per frame (then AF chaining) */
/* A whole chained DESFire message, and a simulated file's size: the largest
 * DESFire EEPROM (8 KiB), so no file or answer of a real card is refused. */
#define LEAL_MAX_DESFIRE_MESSAGE 8192
#define LEAL_MAX_UID 10 /* ISO 14443-3 triple-size UID */
#define LEAL_MAX_ATR 33 /* ISO 7816-3: TS + 32 bytes */
#define LEAL_MAX_ATS 20 /* ISO 14443-4 answer to select (ATS) */
/* A virtual card's JSON file: a 4K Classic or an 8K DESFire in hex with its
 * structure is well under 100 KiB; ten times that refuses runaway files. */
#define LEAL_MAX_CARD_FILE (1024 * 1024)
#define LEAL_MAX_PN532_FRAME 272 /* PN532 extended frame: 264 data + header and trailer */

/* Keys */
#define LEAL_MAX_ISSUER_NAME 64 /* shown to people and sealed in bundles; a name, not a text */
/* Programs in one keystore: the keyset is a fixed table (keys/ has no malloc)
 * and its largest encoding (KEYSET_MAX_ENCODED) must fit LEAL_MAX_KEYSTORE_FILE. */
#define LEAL_MAX_PROGRAMS 16
/* Versions kept per role: years of yearly rotation. The Cortex-M board is
 * built with 4 (Makefile FW_CFLAGS): its software SAM holds a bundle's five
 * slots in RAM, 3 KiB less; it refuses a bundle of more (LEAL_E_TOO_LARGE). */
#ifndef LEAL_MAX_KEY_VERSIONS
#define LEAL_MAX_KEY_VERSIONS 16
#endif
#define LEAL_MAX_KEYSTORE_FILE (256 * 1024) /* holds KEYSET_MAX_ENCODED with its sealing */
#define LEAL_MAX_BUNDLE_FILE (64 * 1024)    /* holds BUNDLE_MAX_ENCODED with its sealing */
#define LEAL_MAX_PASSPHRASE 1024            /* a line of a passphrase file, before scrypt */
#define LEAL_MAX_DIVERSIFY_INPUT 31         /* AN10922: M is 1..31 bytes */
/* A terminal bundle's longest lifetime: bundles are renewed at least
 * yearly; 366 days so that a year from today always fits. */
#define LEAL_MAX_BUNDLE_DAYS 366
/* A terminal package's longest validity (--valid-days): a hot list is
 * never trusted for more than a year. */
#define LEAL_MAX_PACKAGE_DAYS 366

/* Records */
#define LEAL_MAX_RECORD 256 /* SIV: longest plaintext, and longest associated-data part */

/* User input */
#define LEAL_MAX_TEXT_FIELD 256 /* a name, note or reason kept in the ledger */
#define LEAL_MAX_AMOUNT_TEXT 24 /* "-99999999999.99" with room; longer is refused unparsed */
/* The buffer for one line of `leal ledger import` (CSV), newline and NUL
 * included: a movement row is far shorter, and a line over
 * LEAL_MAX_IMPORT_LINE - 2 bytes is refused by its number, never split. */
#define LEAL_MAX_IMPORT_LINE 1024

#endif
