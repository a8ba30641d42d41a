/* err.c - the one table of leal_err names and sentences. */
#include "err.h"

#include <stddef.h>

struct err_entry {
    leal_err err;
    const char *name;
    const char *text;
};

#define E(sym, text)                                                                               \
    {                                                                                              \
        sym, #sym, text                                                                            \
    }

static const struct err_entry err_table[] = {
    E(LEAL_OK, "success"),
    E(LEAL_E_INTERNAL, "internal error in leal; please report it with the command you ran"),
    E(LEAL_E_ARG, "invalid argument passed inside leal; please report it"),
    E(LEAL_E_UNSUPPORTED, "this operation is not supported here"),
    E(LEAL_E_NO_MEMORY, "out of memory"),
    E(LEAL_E_STATE, "operation not allowed in the current state"),
    E(LEAL_E_NOT_FOUND, "not found"),
    E(LEAL_E_EXISTS, "already exists"),
    E(LEAL_E_IO, "input/output error; check the file or device and try again"),
    E(LEAL_E_TIMEOUT, "timed out waiting; try again"),
    E(LEAL_E_TRUNCATED, "data is truncated"),
    E(LEAL_E_FORMAT, "data is malformed"),
    E(LEAL_E_TRAILING, "unexpected data after the end of a record"),
    E(LEAL_E_TOO_LARGE, "data is larger than allowed"),
    E(LEAL_E_NO_SPACE, "output buffer too small"),
    E(LEAL_E_RANGE, "value out of range"),
    E(LEAL_E_VERSION, "format version not supported by this leal; upgrade leal"),
    E(LEAL_E_OVERFLOW, "number too large"),
    E(LEAL_E_PERMISSION, "permission denied; check file ownership and mode"),
    E(LEAL_E_INTERRUPTED, "interrupted"),

    E(LEAL_E_MAC, "integrity check failed: the data was altered or the key is wrong"),
    E(LEAL_E_SIGNATURE,
      "signature does not verify: the data was altered or not signed by this issuer"),
    E(LEAL_E_CRYPTO, "cryptographic library error"),
    E(LEAL_E_RANDOM, "the system random number generator failed"),

    E(LEAL_E_PASSPHRASE, "wrong passphrase, or the file was altered"),
    E(LEAL_E_KEYSTORE_CORRUPT,
      "keystore file is damaged; restore it from a backup with 'leal keys restore'"),
    E(LEAL_E_KEYSTORE_VERSION, "file was written by a newer leal; upgrade leal to read it"),
    E(LEAL_E_UNKNOWN_ROLE, "unknown key role; 'leal keys list' shows the roles"),
    E(LEAL_E_UNKNOWN_PROGRAM, "unknown program; 'leal keys list' shows the programs"),
    E(LEAL_E_PROGRAM_EXISTS, "a program with this id already exists"),
    E(LEAL_E_BUNDLE_EXPIRED, "terminal key bundle has expired; export a new one for this terminal"),
    E(LEAL_E_BUNDLE_WRONG_ISSUER, "terminal key bundle belongs to another issuer"),
    E(LEAL_E_BUNDLE_WRONG_PROGRAM, "terminal key bundle belongs to another program"),
    E(LEAL_E_KEY_VERSION, "no key with this version; the card may need a key update at the desk"),
    E(LEAL_E_NO_PASSPHRASE,
      "no passphrase given; use --passphrase-file, LEAL_PASSPHRASE or a terminal"),

    E(LEAL_E_NO_READER, "no card reader found; plug one in or name it with --reader"),
    E(LEAL_E_NO_CARD, "no card on the reader; present a card and try again"),
    E(LEAL_E_CARD_REMOVED, "the card was removed during the operation; present it again"),
    E(LEAL_E_READER, "the card reader failed; reconnect it and try again"),
    E(LEAL_E_VIRTUAL_READER, "refusing a virtual (test) reader; pass --allow-virtual to use it"),
    E(LEAL_E_READER_BUSY, "the card reader is in use by another program"),
    E(LEAL_E_PROTOCOL, "the card or reader answered outside the protocol"),
    E(LEAL_E_CARD_UNKNOWN, "card type not recognised; leal handles MIFARE DESFire and Classic"),

    E(LEAL_E_CARD_NO_CHANGES, "card: nothing to commit or abort"),
    E(LEAL_E_CARD_OUT_OF_EEPROM, "card memory is full"),
    E(LEAL_E_CARD_ILLEGAL_COMMAND, "card does not support this command"),
    E(LEAL_E_CARD_INTEGRITY, "card reports a CRC or MAC error in the command; tap again"),
    E(LEAL_E_CARD_NO_SUCH_KEY, "card has no such key"),
    E(LEAL_E_CARD_LENGTH, "card reports a wrong command length"),
    E(LEAL_E_CARD_PERMISSION_DENIED, "card refuses: this key may not do that"),
    E(LEAL_E_CARD_PARAMETER, "card reports an invalid parameter"),
    E(LEAL_E_CARD_APPLICATION_NOT_FOUND, "card has no such application"),
    E(LEAL_E_CARD_AUTHENTICATION, "card authentication failed: wrong key for this card"),
    E(LEAL_E_CARD_BOUNDARY, "card refuses: the value or offset is outside the file's limits"),
    E(LEAL_E_CARD_COMMAND_ABORTED, "card aborted the command; tap again"),
    E(LEAL_E_CARD_COUNT, "card cannot hold more applications"),
    E(LEAL_E_CARD_DUPLICATE, "card already has this application or file"),
    E(LEAL_E_CARD_EEPROM, "card memory error; the card may be worn out"),
    E(LEAL_E_CARD_FILE_NOT_FOUND, "card has no such file"),
    E(LEAL_E_CARD_STATUS, "card answered with an unexpected status"),
    E(LEAL_E_CARD_RESPONSE_MAC,
      "card answer failed its MAC check: possible attack, operation refused"),
    E(LEAL_E_CARD_MEMORY_DAMAGED,
      "card reports damaged memory; the card must be replaced at the desk"),
    E(LEAL_E_CARD_DISABLED, "card is disabled and cannot be used; replace it at the desk"),

    E(LEAL_E_CARD_TAMPERED, "card data does not verify: the card was tampered with or damaged"),
    E(LEAL_E_CARD_NOT_LEAL, "this card was not issued by leal"),
    E(LEAL_E_CARD_ALREADY_ISSUED, "this card is already issued"),
    E(LEAL_E_CARD_BLOCKED, "this card is blocked"),
    E(LEAL_E_LAYOUT_VERSION, "card layout version not supported by this leal; upgrade leal"),
    E(LEAL_E_CARD_UID_MISMATCH,
      "card UID differs from the one recorded for this card: possible clone; keep the card and "
      "check it at the desk"),
    E(LEAL_E_CARD_STORED_VALUE_OFF,
      "stored value is off on MIFARE Classic cards (Classic money can be copied); keep the money "
      "in the account or issue a DESFire card"),
    E(LEAL_E_CARD_NOT_BLANK,
      "this card's sectors are locked with keys leal does not know; use a blank card"),
    E(LEAL_E_CARD_SHARE_UNKNOWN,
      "the account has other cards the desk never read, so this card's share of the balance is "
      "unknown; read them first ('leal card read')"),
    E(LEAL_E_CARD_TOPUP_UNSETTLED,
      "an earlier top-up of this card was interrupted and the card does not show it as written "
      "or as not written; keep the card and settle it with the ledger by hand"),
    E(LEAL_E_CARD_NO_BONOS,
      "bonos are not on MIFARE Classic cards yet (they stay at layout version 1, LAYOUT.md 4.5); "
      "sell the bono on a DESFire card"),
    E(LEAL_E_CARD_BONO_UNSETTLED,
      "an earlier bono sale or use of this card was interrupted and the card does not show it as "
      "written or as not written; keep the card and settle it with the ledger by hand"),
    E(LEAL_E_CARD_KEY_VERSION,
      "the card's keys are of a version this keystore does not hold (not tampered); use the "
      "keystore, or a backup of it, that holds that version"),
    E(LEAL_E_CARD_WORN_OUT, "the card has used up its transactions: replace it"),
    E(LEAL_E_CARD_NOT_GENUINE,
      "this card's NXP originality signature does not verify: not a genuine MIFARE DESFire "
      "(an emulator or a copy); refused, nothing was written"),
    E(LEAL_E_ORIGINALITY_TEST_KEY,
      "LEAL_ORIGINALITY_TEST_KEY is not a secp224r1 public key (114 hex digits starting 04); "
      "unset it (it is for tests only)"),

    E(LEAL_E_DB, "database error"),
    E(LEAL_E_DB_BUSY, "database is busy; try again"),
    E(LEAL_E_DB_SCHEMA_NEWER, "database was created by a newer leal; upgrade leal"),
    E(LEAL_E_DB_CORRUPT, "database file is damaged; restore it from a backup"),
    E(LEAL_E_IDEMPOTENCY_CONFLICT, "this request id was already used for a different movement"),
    E(LEAL_E_UNBALANCED, "entry lines do not sum to zero"),
    E(LEAL_E_UNKNOWN_ID, "no such id"),
    E(LEAL_E_ALREADY_VOIDED, "this entry was already voided"),
    E(LEAL_E_VOID_OF_VOID, "a void cannot be voided; post a new entry instead"),
    E(LEAL_E_INSUFFICIENT_FUNDS, "balance too low for this movement"),
    E(LEAL_E_LEDGER_MISMATCH, "ledger check failed: balances or entries disagree"),
    E(LEAL_E_DUPLICATE_ID, "this id or code is already in use; choose another"),
    E(LEAL_E_DB_SETTINGS,
      "database cannot run in safe mode (WAL, synchronous=FULL); put it on a local disk"),
    E(LEAL_E_WRONG_PROGRAM, "that account, store, terminal or card belongs to another program"),
    E(LEAL_E_ASSET, "unknown asset; use EUR, PTS or STAMP:name (a-z, 0-9, _ and -)"),
    E(LEAL_E_REASON_REQUIRED, "a reason and the operator's name are required"),
    E(LEAL_E_CARD_STATUS_CHANGE, "a card cannot change to that status from its current one"),
    E(LEAL_E_DB_NOT_LEAL, "this file is not a leal ledger; check the --db path"),
    E(LEAL_E_PURSE_CAP_HELD,
      "cards of this program may hold more than that cap; lower it once their money is spent"),
    E(LEAL_E_NO_LEDGER, "no ledger there; create one with 'leal ledger init' or check --db"),

    E(LEAL_E_AMOUNT, "malformed amount; write euros like 12.50 or 12,50 (no thousands separators, "
                     "2 decimals at most)"),
    E(LEAL_E_DATE, "malformed date; write it as YYYY-MM-DD"),
    E(LEAL_E_NUMBER, "malformed number"),
    E(LEAL_E_USAGE, "wrong usage; see --help"),
    E(LEAL_E_AMOUNT_RANGE, "amount too large; the largest accepted is 99999999999.99"),
    E(LEAL_E_TEXT, "text too long (255 bytes at most), not UTF-8, or holding control characters"),
    E(LEAL_E_TIMEZONE, "unknown time zone; use a tz database name like Europe/Madrid"),
    E(LEAL_E_REQUEST_ID_RESERVED,
      "request ids starting card:, void:, expire:, sync: or desk: are leal's own; choose another"),
    E(LEAL_E_ENTRY_KIND, "a manual post is kind adjust (or gift_sale to sell a gift card); other "
                         "kinds have their own commands"),
    E(LEAL_E_OVER_LIMIT,
      "over the program's limit for one operation; check the amount, or confirm with "
      "--over-limit"),
    E(LEAL_E_LINE_TOO_LONG, "line too long; nothing of it was imported"),

    E(LEAL_E_RULES_PROGRAM,
      "the program's rules are not valid (a rate, tier, rule, stamp card or reward out of range "
      "or out of order); correct them before a sale uses them"),
    E(LEAL_E_RULES_SALE,
      "the sale is not valid: an amount negative or over 1000000.00, items adding up to more "
      "than the sale, or a date or time that does not exist on the calendar"),
    E(LEAL_E_RULES_POINTS, "not enough points on the card for this reward"),
    E(LEAL_E_RULES_TIER, "this reward is for customers of a higher tier"),
    E(LEAL_E_RULES_REWARD, "no such reward in the program's catalogue"),
    E(LEAL_E_RULES_BONO_EMPTY, "this bono has no sessions left; a new one is sold at the desk"),
    E(LEAL_E_RULES_BONO_EXPIRED, "this bono has expired; a new one is sold at the desk"),
    E(LEAL_E_RULES_REFUND,
      "the refund is more than what is left of the sale to refund; check the amount"),
    E(LEAL_E_RULES_CARD_FULL,
      "the card cannot hold that many points or stamps; redeem some at the till or the desk"),
    E(LEAL_E_RULES_FORMAT_VERSION, "rule set written by a newer leal (unknown format version); "
                                   "update this leal or terminal software"),

    E(LEAL_E_PACKAGE_FORMAT_VERSION, "terminal package written by a newer leal (unknown format "
                                     "version); update the terminal software"),
    E(LEAL_E_PACKAGE_MALFORMED, "terminal package damaged (truncated, oversized or malformed); "
                                "copy it again or build a new one"),
    E(LEAL_E_PACKAGE_UNSORTED, "terminal package lists are out of order; build a new one"),
    E(LEAL_E_PACKAGE_KEY_VERSION, "terminal package signed with a package key version this "
                                  "terminal does not hold; export a new terminal bundle"),
    E(LEAL_E_PACKAGE_SIGNATURE, "terminal package signature does not verify: altered or not "
                                "from this issuer; copy it again or build a new one"),
    E(LEAL_E_PACKAGE_PROGRAM, "terminal package is for another program; build one for this "
                              "terminal's program"),
    E(LEAL_E_PACKAGE_TERMINAL, "terminal package is for another terminal; build one with this "
                               "terminal's id"),
    E(LEAL_E_PACKAGE_EXPIRED, "terminal package has expired; build a new one"),
    E(LEAL_E_PACKAGE_OLDER, "terminal package is older than the one loaded; the loaded one "
                            "stays; build a new one"),
    E(LEAL_E_PACKAGE_RULES, "terminal package's rule set does not decode (RULES.md section 7); "
                            "the loaded package stays in force: build the package again"),
    E(LEAL_E_PACKAGE_SAME, "terminal package has the version already loaded; nothing changed"),
    E(LEAL_E_PACKAGE_FORMAT_OLD, "terminal package is format 1 (no store, time zone or Classic "
                                 "cap); build a new one with `leal terminal package` and load it"),
    E(LEAL_E_ZONE_RULES, "the store's time zone has no rules a terminal can follow in the tz "
                         "database (no POSIX TZ footer with Mm.w.d rules); choose another zone"),
    E(LEAL_E_HOST_CHANGE_DOUBT,
      "a terminal may already have put the host's point changes on this card (a package carried "
      "them and the card has been written since); import the terminals' journals, then sync "
      "the card again"),
    E(LEAL_E_JOURNAL_FORMAT_VERSION, "terminal journal written by a newer leal (unknown format "
                                     "version); update leal"),
    E(LEAL_E_JOURNAL_MALFORMED, "terminal journal data is damaged or not a journal (truncated, "
                                "oversized or a field out of range); export it again"),
    E(LEAL_E_JOURNAL_MAC, "terminal journal data fails its MAC: altered, damaged or from another "
                          "terminal; nothing of it was taken"),
    E(LEAL_E_JOURNAL_CHAIN,
      "terminal journal chain is broken: an entry is missing, repeated or out "
      "of order"),
    E(LEAL_E_JOURNAL_FULL, "terminal journal is full of entries the host has not acknowledged; "
                           "export the journal, import it at the desk and load the ack"),
    E(LEAL_E_JOURNAL_EMPTY, "nothing to export: the host has acknowledged every journal entry"),
    E(LEAL_E_JOURNAL_TERMINAL, "journal data is for another terminal or program"),
    E(LEAL_E_JOURNAL_ACK_STALE, "journal acknowledgment is not newer than the one already applied "
                                "(replayed or old); nothing changed"),
    E(LEAL_E_JOURNAL_ACK_UNKNOWN, "journal acknowledgment names an entry this terminal does not "
                                  "hold; nothing changed"),
    E(LEAL_E_JOURNAL_TORN, "the terminal journal's last entry was cut by a power loss and is lost; "
                           "the card's next tap settles what happened"),
    E(LEAL_E_TERMINAL_HOT_LISTED, "card refused: it is on the terminal package's hot list "
                                  "(blocked, lost or replaced); send the customer to the desk"),
    E(LEAL_E_TERMINAL_BEHIND_FLOOR, "card refused: it shows fewer transactions than the host last "
                                    "saw (a restored copy or a clone); send it to the desk"),
    E(LEAL_E_TERMINAL_CAP_DAY, "card refused: the payment would pass the offline spending cap "
                               "per card per day; pay another way"),
    E(LEAL_E_TERMINAL_CAP_SYNC, "card refused: the payment would pass the offline spending cap "
                                "between two syncs; sync the terminal or pay another way"),
    E(LEAL_E_TERMINAL_TOPUP_OFFLINE, "top-ups are made at the desk, never at an offline terminal"),
    E(LEAL_E_TERMINAL_FUNDS, "the card's purse holds less than the payment; nothing was taken"),
    E(LEAL_E_TERMINAL_NOTHING_TO_VOID,
      "nothing to void: only this terminal's own last operation on this card, while the card "
      "has done nothing since"),
    E(LEAL_E_TERMINAL_NO_BONO, "the card holds no bono of that kind"),
    E(LEAL_E_TERMINAL_STAMP_CARD, "the program has no such stamp card"),
    E(LEAL_E_TERMINAL_PURSE_CAP,
      "a void would take the Classic card's purse over the program's cap; nothing was written"),
    E(LEAL_E_SYNC_GAP, "terminal journal skips entries the host never took; import the "
                       "terminal's earlier exports first"),
    E(LEAL_E_SYNC_CONFLICT, "terminal journal entry differs from the one the host took with the "
                            "same terminal, epoch and sequence (a wiped storage or a forgery)"),
    E(LEAL_E_SYNC_NOTHING, "nothing taken from this terminal yet: import its journal first"),
    E(LEAL_E_SETTLE_NOT_COLLECTIVE,
      "settlement is between the shops of a collective program; this program is not one"),
    E(LEAL_E_SETTLE_NO_VALUE, "the program has no point value for settlement; set it first "
                              "('leal settle value --program ID --point-value EUR')"),
    E(LEAL_E_SETTLE_OPEN, "the period has not ended yet; settle it once it has (--preview "
                          "shows it so far)"),
    E(LEAL_E_SETTLE_ORDER, "a later period is already settled; periods are settled in order"),
    E(LEAL_E_QR_MALFORMED, "not a leal QR code (or a damaged one); scan it again or ask the "
                           "customer for their card"),
    E(LEAL_E_QR_TRUNCATED, "QR code is cut short; scan the whole code again"),
    E(LEAL_E_QR_FORMAT_VERSION, "QR code made by a newer leal; update this terminal's software"),
    E(LEAL_E_QR_KEY_VERSION, "QR code signed with a key this terminal does not hold; load a "
                             "newer terminal bundle"),
    E(LEAL_E_QR_SIGNATURE, "QR code refused: its signature does not verify (altered or "
                           "forged)"),
    E(LEAL_E_QR_PROGRAM, "QR code belongs to another loyalty program"),
    E(LEAL_E_QR_FUTURE, "QR code is not valid yet (dated ahead of this terminal's clock); check "
                        "the clock"),
    E(LEAL_E_QR_EXPIRED, "QR code has expired; the customer gets a new one at the desk or in "
                         "the app"),
    E(LEAL_E_QR_REVOKED, "QR code revoked (a lost phone or a re-issued code); the customer "
                         "gets a new one at the desk"),
    E(LEAL_E_QR_REPLAYED, "QR code already used at this terminal; show a fresh code"),
    E(LEAL_E_QR_STATIC_SPEND, "a static QR code only earns points and stamps; to pay, the "
                              "customer shows the spending code of their phone or a card"),
    E(LEAL_E_QR_CAP_TX, "the payment is above what this phone may pay at once offline; pay "
                        "less or another way"),
    E(LEAL_E_QR_CAP_DAY, "the payment would pass what this phone may pay a day offline; pay "
                         "another way"),
    E(LEAL_E_QR_REPLAY_FULL, "this terminal's memory of recent phone codes is full; wait a "
                             "minute and scan a fresh code"),
    E(LEAL_E_WEB_SIGN_IN, "wrong user name or password (or the user is disabled)"),
    E(LEAL_E_WEB_RATE_LIMIT, "too many failed sign-ins for this user or address; wait a minute "
                             "and try again"),
    E(LEAL_E_WEB_SESSION, "not signed in, or the session has ended; sign in again"),
    E(LEAL_E_WEB_CSRF, "the request lacks this session's CSRF token; reload the page and try "
                       "again"),
    E(LEAL_E_WEB_FORBIDDEN, "this user's role or stores do not allow that"),
    E(LEAL_E_WEB_ROLE, "unknown role; the roles are admin, manager and staff (manager and staff "
                       "need --store ID)"),
    E(LEAL_E_WEB_PASSWORD, "password refused: it needs 10 to 128 characters"),
    E(LEAL_E_WEB_USER_EXISTS, "a user of that name exists already; pick another name"),
    E(LEAL_E_WEB_LISTEN, "cannot listen there: give --listen ADDRESS:PORT on a free port"),
    E(LEAL_E_WEB_NO_USER, "no such user; 'leal user list' shows them"),
    E(LEAL_E_REPORT_UNKNOWN, "no such report; 'leal report --help' lists them"),
    E(LEAL_E_REPORT_RANGE, "the report's --to is before its --from; give the first day, then "
                           "the last"),
    E(LEAL_E_REPORT_STORE, "the program has no store with that code, or the report covers the "
                           "whole program; check --store"),
    E(LEAL_E_REPORT_SCHEMA, "the ledger is at another schema version than this leal's; open it "
                            "once with 'leal ledger verify' to migrate it, then report"),
    E(LEAL_E_REPORT_EMPTY, "the report has no rows in that window, so there is no chart to "
                           "draw; widen --from/--to"),
    E(LEAL_E_HOST_CHANGE_DOUBT,
      "a terminal may already have put the host's point changes on this card (a package carried "
      "them and the card has been written since); import the terminals' journals, then sync "
      "the card again"),
    E(LEAL_E_MAIL_CONFIG, "the mail settings are incomplete or invalid (server, port 1..65535, "
                          "a sender address); fix them and try again"),
    E(LEAL_E_MAIL_CREDENTIALS, "the mail credentials file cannot be used: it must be a regular "
                               "file of yours with mode 0600 holding the user on its first line "
                               "and the password on its second (chmod 600 FILE)"),
    E(LEAL_E_MAIL_ADDRESS, "an e-mail address or header is not valid (one '@', no spaces, no "
                           "line breaks or control characters); correct it"),
    E(LEAL_E_MAIL_UNREACHABLE, "the mail server could not be reached or did not answer in time; "
                               "the message was not sent and can be retried later"),
    E(LEAL_E_MAIL_AUTH, "the mail server refused the user name or password in the credentials "
                        "file; correct them"),
    E(LEAL_E_MAIL_REFUSED, "the mail server refused the message for good (a 5xx answer, e.g. "
                           "no such recipient); do not retry it unchanged"),
    E(LEAL_E_MAIL_TLS, "the mail server's TLS failed (no STARTTLS offered, or a certificate "
                       "not trusted for that name); check the server name and CA file"),
    E(LEAL_E_QR_REDEEM_ALLOWANCE, "the reward costs more than this phone may still redeem "
                                  "offline here; redeem it at the desk or with the card"),
    E(LEAL_E_QR_NO_ALLOWANCE, "this phone has no points set aside to redeem offline; enrol it "
                              "with --redeem-allowance or redeem at the desk"),
    E(LEAL_E_QR_STATIC_REDEEM, "a static QR code never redeems a reward; the customer shows "
                               "their phone's spending code, or redeems at the desk"),
    E(LEAL_E_CARD_NO_TMAC, "this card has no Transaction MAC (a MIFARE DESFire EV1 or a MIFARE "
                           "Classic): it cannot be upgraded; only DESFire EV2 and EV3 cards can"),
    E(LEAL_E_CARD_TMAC_MISMATCH,
      "the card's Transaction MAC file is not the one the ledger records for it (missing, made "
      "with another key version, or not as leal makes it); nothing was added: keep the card and "
      "replace it"),
    E(LEAL_E_WEB_MAIL_STOPPED, "the server stopped before this e-mail went out; ask for the "
                               "link again"),
    E(LEAL_E_CARD_TMAC_MISSING,
      "the ledger records a Transaction MAC file on this card and the card shows none (a copy, or "
      "a card changed outside leal): its transaction count cannot be checked; nothing was done: "
      "keep the card and replace it"),
    E(LEAL_E_WEB_LANG, "unknown language; the back office speaks en (English) and es (Spanish)"),
    E(LEAL_E_PORTAL_LINK_UNKNOWN, "this sign-in link is not known here; ask for a new one"),
    E(LEAL_E_PORTAL_LINK_USED, "this sign-in link has already been used; ask for a new one"),
    E(LEAL_E_PORTAL_LINK_EXPIRED,
      "this sign-in link has expired (links last 15 minutes); ask for a new one"),
    E(LEAL_E_PORTAL_SESSION,
      "not signed in to the portal, or the session has ended; ask for a sign-in link"),
    E(LEAL_E_MESSAGE_TEMPLATE, "a message template names an unknown variable or has an unclosed "
                               "{{; use {{name}}, {{points}}, {{tier}}, {{store}}, {{program}}"),
    E(LEAL_E_MESSAGE_TOKEN, "no message carries that unsubscribe token; copy it whole from the "
                            "message's link"),
    E(LEAL_E_SEGMENT_FILTER, "a segment's filter does not hold (a value out of range or two "
                             "that contradict each other); see 'leal segment --help'"),
    E(LEAL_E_SEGMENT_UNKNOWN, "no segment has that name; 'leal segment list --program ID' lists "
                              "them"),
    E(LEAL_E_SEGMENT_EXISTS, "the program already has a segment with that name; choose another"),
    E(LEAL_E_SEGMENT_AMBIGUOUS, "segments of several programs have that name; name the program "
                                "with --program"),
    E(LEAL_E_SEGMENT_FIELD, "an export names an unknown field or one its purpose may not carry; "
                            "fields: name,email,phone,points,tier,store,last_visit"),
    E(LEAL_E_LEDGER_BONO_DEFERRED,
      "a bono session's euros could not be taken off what its holding defers (the account's bono "
      "holding is missing); nothing of this import was kept: run leal ledger verify"),
    E(LEAL_E_TERMINAL_TMC_BEHIND,
      "card refused after its commit: its transaction count (TMC) is not above the one the host "
      "last proved for it, so it is a copy or a clone; keep the card and call the desk"),
    E(LEAL_E_TERMINAL_LOCAL_HOT,
      "card refused: this terminal found it a copy or a clone at an earlier tap (its transaction "
      "count behind the host's); keep the card, call the desk and sync the terminal"),
    E(LEAL_E_WEB_MAIL_QUEUE, "too many e-mails are waiting to be sent; ask for the link again "
                             "in a few minutes"),
    E(LEAL_E_CARD_EV2_DOWNGRADE, "the host knows this card as a DESFire EV2/EV3 but it answered "
                                 "as an EV1 (no EV2 secure messaging): keep the card off this "
                                 "reader and report it; the desk reads it"),
    E(LEAL_E_NET_PIN, "the server's certificate is not the one pinned for this terminal; check "
                      "--server, or pin the server's new key (leal serve prints it)"),
    E(LEAL_E_NET_AUTH, "the terminal's request does not verify with its journal key: the terminal "
                       "is not registered, or its bundle is not this ledger's"),
    E(LEAL_E_NET_REPLAY, "the request's challenge was used already or has expired: a replayed or "
                         "late request; sync again"),
    E(LEAL_E_NET_CONNECT, "the server could not be reached, or the connection was cut; sync again "
                          "(what reached the ledger is taken once)"),
    E(LEAL_E_NET_MALFORMED, "a malformed terminal sync request or answer"),
    E(LEAL_E_NET_NO_PACKAGE, "the server holds no package for this terminal; build one with 'leal "
                             "terminal package --terminal ID -o DIR/terminal-ID.lpkg'"),
    E(LEAL_E_NET_REFUSED, "the server refused the terminal's upload; its answer says why"),
    E(LEAL_E_NET_BUSY, "the server took more syncs in the last two minutes than it can remember; "
                       "sync again in a minute"),
    E(LEAL_E_CAMPAIGN_UNKNOWN, "no campaign of that name in the program; add it with 'leal "
                               "messages campaign add'"),
    E(LEAL_E_CAMPAIGN_SEGMENT, "the campaign already targets another segment; a campaign's "
                               "segment cannot change, add a campaign of another name"),
    E(LEAL_E_DSN_MALFORMED, "not a delivery status notification (RFC 3464: a multipart/report "
                            "with a message/delivery-status part); give the bounces as the "
                            "mail server returned them"),
    E(LEAL_E_MAIL_BOUNCED, "the customer's e-mail address bounced for good; no e-mail goes to "
                           "it until the address changes ('leal customer edit ID --email')"),
    E(LEAL_E_PG_UNSUPPORTED, "this is not supported on a PostgreSQL ledger yet; use an SQLite "
                             "ledger (--db FILE) for it"),
    E(LEAL_E_PG_CONNECT, "cannot connect to the PostgreSQL server; check the URI, that the "
                         "server runs and that the database exists"),
    E(LEAL_E_PG_STATEMENT, "the PostgreSQL server refused the statement; its SQLSTATE and "
                           "reason say why"),
    E(LEAL_E_TILL_BOARD_LINE, "that till line is the board's own: leal-terminal takes its clock "
                              "and randomness from the system and its keys and package from "
                              "'leal-terminal init' and 'load'"),
    E(LEAL_E_WEB_SELF, "no one changes their own role or stores or disables themselves; "
                       "another admin or manager does it"),
    E(LEAL_E_CATALOGUE_REFUSED, "refused; the catalogue is left as it was"),
    E(LEAL_E_QR_ENROL_LIMIT, "too many phones set up for this customer or from this address; try "
                             "again in an hour"),
    E(LEAL_E_NOTE_AUTHOR, "only the note's author, or a manager or admin of its store, may "
                          "change or delete it"),
    E(LEAL_E_ERASURE_PENDING, "this customer's erasure request is already recorded and "
                              "pending; an admin carries it out ('leal customer erase')"),
    E(LEAL_E_ERASURE_NONE, "no pending erasure request for this customer; a manager or admin "
                           "records the customer's request first"),
    E(LEAL_E_CARD_LAST, "this is the account's only active card; block it instead, or add "
                        "another card at the desk first ('leal account add-card')"),
    E(LEAL_E_WEB_RESET_TOKEN, "this password reset link is unknown, used or expired; ask for a new "
                              "one on the sign-in page"),
    E(LEAL_E_PORTAL_PIN, "the card number or the PIN is not right; the sixth try in a minute is "
                         "refused, ten wrong PINs in a row lock it until the desk sets a new one"),
    E(LEAL_E_PORTAL_PIN_FORMAT, "a PIN is 4 to 8 digits"),
    E(LEAL_E_PORTAL_PIN_LOCKED, "this card's PIN is locked after ten wrong tries; ask at the "
                                "shop's desk for a new one ('leal card pin set')"),
    E(LEAL_E_PORTAL_CARD_BLOCKED, "this card is blocked; sign in with the link by e-mail or ask "
                                  "at the shop's desk"),
    E(LEAL_E_PORTAL_REDEEM_KIND, "a percentage reward depends on a sale: it is redeemed at the "
                                 "till, not from the portal"),
    E(LEAL_E_REDEEM_CODE_UNKNOWN, "no reward redeemed from the portal has this code; check it "
                                  "with the customer ('leal reward honour CODE')"),
    E(LEAL_E_REDEEM_CODE_USED, "this redemption code was honoured already; the reward is not "
                               "given twice"),
    E(LEAL_E_KEYSTORE_NO_TMAC, "the keystore has no tmac key, which DESFire EV2/EV3 cards are "
                               "issued with: run `leal keys rotate tmac` once, then issue again"),
    E(LEAL_E_QR_CERTIFIER_DOWN, "no QR certifier answers, so a phone cannot be enrolled now: the "
                                "operator starts one with `leal qr certifier --socket PATH` and "
                                "gives the same PATH to `leal serve --qr-certifier`"),
    E(LEAL_E_QR_CERTIFIER_REFUSED, "the QR certifier refused to certify: another program than its "
                                   "own, or caps or a refresh period above the limits it was "
                                   "started with"),
    E(LEAL_E_FW_FLASH_FILE, "the board's flash file is not the 49152 bytes of its storages, or "
                            "cut= is not a positive number: start from a file the board wrote, "
                            "or from none"),
    E(LEAL_E_GATEWAY_SECRET, "the gateway's secret file cannot be read: it must be a regular "
                             "file of this user, mode 0600, at most 4 KiB"),
    E(LEAL_E_GATEWAY_UNREACHABLE, "the message gateway did not answer; the message is retried "
                                  "later"),
    E(LEAL_E_GATEWAY_STATUS, "the message gateway answered with a status other than 2xx; the "
                             "message is retried later"),
    E(LEAL_E_GATEWAY_CONFIG, "no gateway for that channel; set one with 'leal messages gateway "
                             "set'"),
    E(LEAL_E_GATEWAY_REJECTED, "the message gateway refused the request as wrong (HTTP 4xx): it "
                               "is not retried; correct the gateway settings or the customer's "
                               "phone number"),
    E(LEAL_E_SMS_TOO_LONG, "the SMS text is longer than 3 messages (459 GSM-7 characters, or 201 "
                           "with characters outside GSM-7): shorten the SMS template"),
    E(LEAL_E_CONSENT_PURPOSE, "the purpose is marketing, service or profiling"),
};

#undef E

static const struct err_entry *find(leal_err err)
{
    for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
        if (err_table[i].err == err)
            return &err_table[i];
    return NULL;
}

const char *leal_strerror(leal_err err)
{
    const struct err_entry *e = find(err);
    return e ? e->text : "unknown error";
}

const char *leal_errname(leal_err err)
{
    const struct err_entry *e = find(err);
    return e ? e->name : "LEAL_E_UNKNOWN";
}

int leal_err_is_defined(leal_err err)
{
    return find(err) != NULL;
}
