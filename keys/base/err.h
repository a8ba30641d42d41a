/*
 * err.h - leal's one error type.
 *
 * Every function that can fail returns a leal_err; LEAL_OK (0) is success.
 * Values are explicit and stable: they travel in journals and --json output,
 * so a value is never renumbered or reused. Each module owns a range.
 * leal_strerror() gives a sentence a shop assistant can act on and never
 * returns NULL; leal_errname() gives the symbol ("LEAL_E_MAC").
 * Freestanding: C11 freestanding headers only.
 */
#ifndef LEAL_ERR_H
#define LEAL_ERR_H

#if defined(__GNUC__) || defined(__clang__)
#define LEAL_MUST_CHECK __attribute__((warn_unused_result))
/* A function whose large locals must not join its caller's frame (the
 * board's stack: its depth is the deepest call chain's frames). */
#define LEAL_NOINLINE __attribute__((noinline))
#else
#define LEAL_MUST_CHECK
#define LEAL_NOINLINE
#endif

typedef enum leal_err {
    LEAL_OK = 0,

    /* 1..49: general */
    LEAL_E_INTERNAL = 1,
    LEAL_E_ARG = 2,
    LEAL_E_UNSUPPORTED = 3,
    LEAL_E_NO_MEMORY = 4,
    LEAL_E_STATE = 5,
    LEAL_E_NOT_FOUND = 6,
    LEAL_E_EXISTS = 7,
    LEAL_E_IO = 8,
    LEAL_E_TIMEOUT = 9,
    LEAL_E_TRUNCATED = 10,
    LEAL_E_FORMAT = 11,
    LEAL_E_TRAILING = 12,
    LEAL_E_TOO_LARGE = 13,
    LEAL_E_NO_SPACE = 14,
    LEAL_E_RANGE = 15,
    LEAL_E_VERSION = 16,
    LEAL_E_OVERFLOW = 17,
    LEAL_E_PERMISSION = 18,
    LEAL_E_INTERRUPTED = 19,

    /* 20..49: crypto and integrity */
    LEAL_E_MAC = 20,
    LEAL_E_SIGNATURE = 21,
    LEAL_E_CRYPTO = 22,
    LEAL_E_RANDOM = 23,

    /* 50..99: keys, keystore, terminal bundles */
    LEAL_E_PASSPHRASE = 50,
    LEAL_E_KEYSTORE_CORRUPT = 51,
    LEAL_E_KEYSTORE_VERSION = 52,
    LEAL_E_UNKNOWN_ROLE = 53,
    LEAL_E_UNKNOWN_PROGRAM = 54,
    LEAL_E_PROGRAM_EXISTS = 55,
    LEAL_E_BUNDLE_EXPIRED = 56,
    LEAL_E_BUNDLE_WRONG_ISSUER = 57,
    LEAL_E_BUNDLE_WRONG_PROGRAM = 58,
    LEAL_E_KEY_VERSION = 59,
    LEAL_E_NO_PASSPHRASE = 60,

    /* 100..149: readers and transports */
    LEAL_E_NO_READER = 100,
    LEAL_E_NO_CARD = 101,
    LEAL_E_CARD_REMOVED = 102,
    LEAL_E_READER = 103,
    LEAL_E_VIRTUAL_READER = 104,
    LEAL_E_READER_BUSY = 105,
    LEAL_E_PROTOCOL = 106,
    LEAL_E_CARD_UNKNOWN = 107,

    /* 150..199: card status (DESFire and Classic answers) */
    LEAL_E_CARD_NO_CHANGES = 150,
    LEAL_E_CARD_OUT_OF_EEPROM = 151,
    LEAL_E_CARD_ILLEGAL_COMMAND = 152,
    LEAL_E_CARD_INTEGRITY = 153,
    LEAL_E_CARD_NO_SUCH_KEY = 154,
    LEAL_E_CARD_LENGTH = 155,
    LEAL_E_CARD_PERMISSION_DENIED = 156,
    LEAL_E_CARD_PARAMETER = 157,
    LEAL_E_CARD_APPLICATION_NOT_FOUND = 158,
    LEAL_E_CARD_AUTHENTICATION = 159,
    LEAL_E_CARD_BOUNDARY = 160,
    LEAL_E_CARD_COMMAND_ABORTED = 161,
    LEAL_E_CARD_COUNT = 162,
    LEAL_E_CARD_DUPLICATE = 163,
    LEAL_E_CARD_EEPROM = 164,
    LEAL_E_CARD_FILE_NOT_FOUND = 165,
    LEAL_E_CARD_STATUS = 166,
    LEAL_E_CARD_RESPONSE_MAC = 167,
    LEAL_E_CARD_MEMORY_DAMAGED = 168,
    LEAL_E_CARD_DISABLED = 169,

    /* 200..249: card layout and issuance */
    LEAL_E_CARD_TAMPERED = 200,
    LEAL_E_CARD_NOT_LEAL = 201,
    LEAL_E_CARD_ALREADY_ISSUED = 202,
    LEAL_E_CARD_BLOCKED = 203,
    LEAL_E_LAYOUT_VERSION = 204,
    LEAL_E_CARD_UID_MISMATCH = 205,
    LEAL_E_CARD_STORED_VALUE_OFF = 206,
    LEAL_E_CARD_NOT_BLANK = 207,
    LEAL_E_CARD_SHARE_UNKNOWN = 208,
    LEAL_E_CARD_TOPUP_UNSETTLED = 209,
    LEAL_E_CARD_KEY_VERSION = 215,
    LEAL_E_CARD_NO_BONOS = 216,
    LEAL_E_CARD_BONO_UNSETTLED = 217,
    /* 230..: the card itself (worn out, not NXP's) */
    LEAL_E_CARD_WORN_OUT = 230,
    LEAL_E_CARD_NOT_GENUINE = 231,
    LEAL_E_ORIGINALITY_TEST_KEY = 232,

    /* 250..299: ledger */
    LEAL_E_DB = 250,
    LEAL_E_DB_BUSY = 251,
    LEAL_E_DB_SCHEMA_NEWER = 252,
    LEAL_E_DB_CORRUPT = 253,
    LEAL_E_IDEMPOTENCY_CONFLICT = 254,
    LEAL_E_UNBALANCED = 255,
    LEAL_E_UNKNOWN_ID = 256,
    LEAL_E_ALREADY_VOIDED = 257,
    LEAL_E_VOID_OF_VOID = 258,
    LEAL_E_INSUFFICIENT_FUNDS = 259,
    LEAL_E_LEDGER_MISMATCH = 260,
    LEAL_E_DUPLICATE_ID = 261,
    LEAL_E_DB_SETTINGS = 262,
    LEAL_E_WRONG_PROGRAM = 263,
    LEAL_E_ASSET = 264,
    LEAL_E_REASON_REQUIRED = 265,
    LEAL_E_CARD_STATUS_CHANGE = 266,
    LEAL_E_DB_NOT_LEAL = 267,
    LEAL_E_PURSE_CAP_HELD = 268,
    LEAL_E_NO_LEDGER = 269,

    /* 300..349: user input */
    LEAL_E_AMOUNT = 300,
    LEAL_E_DATE = 301,
    LEAL_E_NUMBER = 302,
    LEAL_E_USAGE = 303,
    LEAL_E_AMOUNT_RANGE = 304,
    LEAL_E_TEXT = 305,
    LEAL_E_TIMEZONE = 306,
    LEAL_E_REQUEST_ID_RESERVED = 307,
    LEAL_E_ENTRY_KIND = 308,
    LEAL_E_OVER_LIMIT = 309,
    LEAL_E_LINE_TOO_LONG = 310,

    /* 350..399: the rules engine (firmware/core/rules.h) */
    LEAL_E_RULES_PROGRAM = 350,
    LEAL_E_RULES_SALE = 351,
    LEAL_E_RULES_POINTS = 352,
    LEAL_E_RULES_TIER = 353,
    LEAL_E_RULES_REWARD = 354,
    LEAL_E_RULES_BONO_EMPTY = 355,
    LEAL_E_RULES_BONO_EXPIRED = 356,
    LEAL_E_RULES_REFUND = 357,
    LEAL_E_RULES_CARD_FULL = 358,
    LEAL_E_RULES_FORMAT_VERSION = 359,

    /* 400..429: the terminal package (firmware/core/package.h) */
    LEAL_E_PACKAGE_FORMAT_VERSION = 400,
    LEAL_E_PACKAGE_MALFORMED = 401,
    LEAL_E_PACKAGE_UNSORTED = 402,
    LEAL_E_PACKAGE_KEY_VERSION = 403,
    LEAL_E_PACKAGE_SIGNATURE = 404,
    LEAL_E_PACKAGE_PROGRAM = 405,
    LEAL_E_PACKAGE_TERMINAL = 406,
    LEAL_E_PACKAGE_EXPIRED = 407,
    LEAL_E_PACKAGE_OLDER = 408,
    LEAL_E_PACKAGE_SAME = 409,
    LEAL_E_PACKAGE_RULES = 410,
    /* 510..519: package format 2 and host changes reaching cards (pkg) */
    LEAL_E_PACKAGE_FORMAT_OLD = 510,
    LEAL_E_ZONE_RULES = 511,
    LEAL_E_HOST_CHANGE_DOUBT = 512,

    /* 430..459: the terminal journal (firmware/core/journal.h) */
    LEAL_E_JOURNAL_FORMAT_VERSION = 430,
    LEAL_E_JOURNAL_MALFORMED = 431,
    LEAL_E_JOURNAL_MAC = 432,
    LEAL_E_JOURNAL_CHAIN = 433,
    LEAL_E_JOURNAL_FULL = 434,
    LEAL_E_JOURNAL_EMPTY = 435,
    LEAL_E_JOURNAL_TERMINAL = 436,
    LEAL_E_JOURNAL_ACK_STALE = 437,
    LEAL_E_JOURNAL_ACK_UNKNOWN = 438,
    LEAL_E_JOURNAL_TORN = 439,

    /* 460..479: an offline terminal's transactions (firmware/core/terminal.h) */
    LEAL_E_TERMINAL_HOT_LISTED = 460,
    LEAL_E_TERMINAL_BEHIND_FLOOR = 461,
    LEAL_E_TERMINAL_CAP_DAY = 462,
    LEAL_E_TERMINAL_CAP_SYNC = 463,
    LEAL_E_TERMINAL_TOPUP_OFFLINE = 464,
    LEAL_E_TERMINAL_FUNDS = 465,
    LEAL_E_TERMINAL_NOTHING_TO_VOID = 466,
    LEAL_E_TERMINAL_NO_BONO = 467,
    LEAL_E_TERMINAL_STAMP_CARD = 468,
    LEAL_E_TERMINAL_PURSE_CAP = 469,

    /* 480..489: journals taken by the host (host/sync) */
    LEAL_E_SYNC_GAP = 480,
    LEAL_E_SYNC_CONFLICT = 481,
    LEAL_E_SYNC_NOTHING = 482,

    /* 530..539: settlement between the shops of a collective (host/ledger/ledger_settle.h) */
    LEAL_E_SETTLE_NOT_COLLECTIVE = 530,
    LEAL_E_SETTLE_NO_VALUE = 531,
    LEAL_E_SETTLE_OPEN = 532,
    LEAL_E_SETTLE_ORDER = 533,

    /* 540..549: QR tokens (cardlayout/qr/qr_token.h) */
    LEAL_E_QR_MALFORMED = 540,
    LEAL_E_QR_TRUNCATED = 541,
    LEAL_E_QR_FORMAT_VERSION = 542,
    LEAL_E_QR_KEY_VERSION = 543,
    LEAL_E_QR_SIGNATURE = 544,
    LEAL_E_QR_PROGRAM = 545,
    LEAL_E_QR_FUTURE = 546,
    LEAL_E_QR_EXPIRED = 547,
    LEAL_E_QR_REVOKED = 548,
    LEAL_E_QR_REPLAYED = 549,
    /* 550..553: QR spending (qr took them beyond its block; notes-lead.txt) */
    LEAL_E_QR_STATIC_SPEND = 550,
    LEAL_E_QR_CAP_TX = 551,
    LEAL_E_QR_CAP_DAY = 552,
    LEAL_E_QR_REPLAY_FULL = 553,

    /* 610..639: the back office in a browser (host/web, host/ledger/ledger_user.h) */
    LEAL_E_WEB_SIGN_IN = 610,
    LEAL_E_WEB_RATE_LIMIT = 611,
    LEAL_E_WEB_SESSION = 612,
    LEAL_E_WEB_CSRF = 613,
    LEAL_E_WEB_FORBIDDEN = 614,
    LEAL_E_WEB_ROLE = 615,
    LEAL_E_WEB_PASSWORD = 616,
    LEAL_E_WEB_USER_EXISTS = 617,
    LEAL_E_WEB_LISTEN = 618,
    LEAL_E_WEB_NO_USER = 619,
    /* 640..659: reports (host/report) */
    LEAL_E_REPORT_UNKNOWN = 640,
    LEAL_E_REPORT_RANGE = 641,
    LEAL_E_REPORT_STORE = 642,
    LEAL_E_REPORT_SCHEMA = 643,
    LEAL_E_REPORT_EMPTY = 644,

    /* 680..699: e-mail and messages to customers (host/mail) */
    LEAL_E_MAIL_CONFIG = 680,
    LEAL_E_MAIL_CREDENTIALS = 681,
    LEAL_E_MAIL_ADDRESS = 682,
    LEAL_E_MAIL_UNREACHABLE = 683,
    LEAL_E_MAIL_AUTH = 684,
    LEAL_E_MAIL_REFUSED = 685,
    LEAL_E_MAIL_TLS = 686,
    LEAL_E_MESSAGE_TEMPLATE = 687,
    LEAL_E_MESSAGE_TOKEN = 688,

    /* 660..669: redeeming with a QR spending code (cardlayout/qr/QR.md) */
    LEAL_E_QR_REDEEM_ALLOWANCE = 660,
    LEAL_E_QR_NO_ALLOWANCE = 661,
    LEAL_E_QR_STATIC_REDEEM = 662,
    /* 663..669: the desk's Transaction MAC upgrade (leal card upgrade, issue 19) */
    LEAL_E_CARD_NO_TMAC = 663,
    LEAL_E_CARD_TMAC_MISMATCH = 664,
    /* 670..674: the web server's mail out (host/web/web_mail.h) */
    LEAL_E_WEB_MAIL_STOPPED = 670,
    /* 675..679: the desk's read of the Transaction MAC file (issue 19) */
    LEAL_E_CARD_TMAC_MISSING = 675,

    /* 620..639: back-office languages */
    LEAL_E_WEB_LANG = 620,
    /* 621..: the customer portal's sign-in links */
    LEAL_E_PORTAL_LINK_UNKNOWN = 621,
    LEAL_E_PORTAL_LINK_USED = 622,
    LEAL_E_PORTAL_LINK_EXPIRED = 623,
    LEAL_E_PORTAL_SESSION = 624,
    /* 625..632: the back office's user management (host/web/web_users.c) */
    LEAL_E_WEB_SELF = 625,
    /* 626..632: the promotions page's catalogue (host/web/web_catalogue.c) */
    LEAL_E_CATALOGUE_REFUSED = 626,
    /* 627..632: the portal's phone enrolment (host/web/web_portal_spend.c) */
    LEAL_E_QR_ENROL_LIMIT = 627,
    /* 628..632: the back office's customer notes, erasure requests and family cards
     * (host/ledger/ledger_note.h, host/ledger/ledger_erasure.h, host/web/web_care.c) */
    LEAL_E_NOTE_AUTHOR = 628,
    LEAL_E_ERASURE_PENDING = 629,
    LEAL_E_ERASURE_NONE = 630,
    LEAL_E_CARD_LAST = 631,
    /* 632: the back office's password reset by e-mail (host/web/web_reset.c) */
    LEAL_E_WEB_RESET_TOKEN = 632,
    /* 633..639: the portal's sign-in by card and PIN, rewards redeemed from the portal
     * (host/ledger/ledger_portal_pin.h) */
    LEAL_E_PORTAL_PIN = 633,
    LEAL_E_PORTAL_PIN_FORMAT = 634,
    LEAL_E_PORTAL_PIN_LOCKED = 635,
    LEAL_E_PORTAL_CARD_BLOCKED = 636,
    LEAL_E_PORTAL_REDEEM_KIND = 637,
    LEAL_E_REDEEM_CODE_UNKNOWN = 638,
    LEAL_E_REDEEM_CODE_USED = 639,

    /* 650..659: segments, saved filters over customers (host/ledger/ledger_segment.h) */
    LEAL_E_SEGMENT_FILTER = 650,
    LEAL_E_SEGMENT_UNKNOWN = 651,
    LEAL_E_SEGMENT_EXISTS = 652,
    LEAL_E_SEGMENT_AMBIGUOUS = 653,
    LEAL_E_SEGMENT_FIELD = 654,
    /* 655..659: a terminal's bono use imported into the ledger (host/ledger/ledger_terminal.c) */
    LEAL_E_LEDGER_BONO_DEFERRED = 655,
    /* 656..659: a tap judged on an EV2/EV3's TMC (issue 19, firmware/core/TERMINAL.md) */
    LEAL_E_TERMINAL_TMC_BEHIND = 656,
    LEAL_E_TERMINAL_LOCAL_HOT = 657,

    /* 700..709: the server's mail out (host/web/web_mail.h) */
    LEAL_E_WEB_MAIL_QUEUE = 700,

    /* 710..719: DESFire EV2 secure messaging in leal's card operations */
    LEAL_E_CARD_EV2_DOWNGRADE = 710,
    /* 711..719: the EV2/EV3 layout with the Transaction MAC file (issue 19) */
    LEAL_E_KEYSTORE_NO_TMAC = 711,
    /* 712..719: the QR certifier, a phone's key certified for the portal (host/qr/qr_certifier*.h)
     */
    LEAL_E_QR_CERTIFIER_DOWN = 712,
    LEAL_E_QR_CERTIFIER_REFUSED = 713,

    /* 720..729: terminals syncing over HTTPS (host/sync/sync_net.h, firmware/core/sync_auth.h) */
    LEAL_E_NET_PIN = 720,
    LEAL_E_NET_AUTH = 721,
    LEAL_E_NET_REPLAY = 722,
    LEAL_E_NET_CONNECT = 723,
    LEAL_E_NET_MALFORMED = 724,
    LEAL_E_NET_NO_PACKAGE = 725,
    LEAL_E_NET_REFUSED = 726,
    LEAL_E_NET_BUSY = 727,

    /* 740..749: campaigns, one-off messages to a segment (host/ledger/ledger_campaign.h),
     * and bounces (host/mail/mail_dsn.h, ledger_messages.h) */
    LEAL_E_CAMPAIGN_UNKNOWN = 740,
    LEAL_E_CAMPAIGN_SEGMENT = 741,
    LEAL_E_DSN_MALFORMED = 742,
    LEAL_E_MAIL_BOUNCED = 743,

    /* 760..769: the ledger on PostgreSQL (host/ledger/store_pg.c) */
    LEAL_E_PG_UNSUPPORTED = 760,
    LEAL_E_PG_CONNECT = 761,
    LEAL_E_PG_STATEMENT = 762,

    /* 770..774: leal-terminal serve --stdio, the board's till lines on a PC */
    LEAL_E_TILL_BOARD_LINE = 770,

    /* 780..789: SMS and WhatsApp through an HTTP gateway (host/mail/msg_gateway.h) */
    LEAL_E_GATEWAY_SECRET = 780,
    LEAL_E_GATEWAY_UNREACHABLE = 781,
    LEAL_E_GATEWAY_STATUS = 782,
    LEAL_E_GATEWAY_CONFIG = 783,
    LEAL_E_GATEWAY_REJECTED = 784,
    LEAL_E_SMS_TOO_LONG = 785,
    LEAL_E_CONSENT_PURPOSE = 786,

    /* 790..799: the Cortex-M3 board's flash in a host file under QEMU (cortex-m/board.h) */
    LEAL_E_FW_FLASH_FILE = 790,

    LEAL_ERR_END_ /* never a value; for tests that walk the table */
} leal_err;

/* A sentence for a person; never NULL, also for values not in the enum. */
const char *leal_strerror(leal_err err);

/* The symbol, e.g. "LEAL_E_MAC"; "LEAL_E_UNKNOWN" for values not defined. */
const char *leal_errname(leal_err err);

/* 1 if err is a defined value (so that tests can walk the table). */
int leal_err_is_defined(leal_err err);

#endif
