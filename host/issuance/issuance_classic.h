/*
 * issuance_classic.h - the desk's MIFARE Classic 1K/4K path (LAYOUT.md 3),
 * called by issuance.c when the card in the field is a Classic card (PC/SC
 * part 3 storage-card ATR). Same contract as issuance.h: PENDING in the
 * ledger before the first write, ACTIVE only after the card was read back and
 * verified (MAD, signed and sealed identity, both state slots). A torn
 * issuance is started over on the next tap: sectors already under leal's keys
 * go back to the transport key first. Stored value (LAYOUT.md 3.2) is on only
 * where the program enables it (its Classic cap; the identity's flag bit 1 is
 * set at issuance from it) and bounded by that cap; the card keeps no log, so
 * a top-up is recorded in the ledger as pending before the card is written,
 * settled (posted and removed in one transaction) once it is, and every read
 * settles an open one from the card's seq and purse (LAYOUT.md 3.3). With
 * stored value off, a top-up, an opening top-up, and a replacement of a card
 * that held euros (its share of the account; out's account_eur says how
 * many) are refused with LEAL_E_CARD_STORED_VALUE_OFF, the last two before the
 * card or the ledger is touched; over the cap, LEAL_E_CARD_BOUNDARY. Hosted.
 * Errors: issuance.h's, LEAL_E_CARD_NOT_BLANK (sectors under unknown keys),
 * LEAL_E_CARD_STORED_VALUE_OFF, LEAL_E_CARD_BOUNDARY, LEAL_E_CARD_TOPUP_UNSETTLED
 * (a pending top-up the card neither shows nor undid: a top-up is refused).
 * Key rotation (keys/KEYS.md): sectors open with whichever version of their
 * keys they carry and records with whichever classic-seal and package
 * versions sealed and signed them; a card the ledger knows is then brought to
 * the current versions (trailers, re-sealed state, re-sealed and re-signed
 * identity kept in the ledger until written whole) and its versions recorded.
 */
#ifndef LEAL_ISSUANCE_CLASSIC_H
#define LEAL_ISSUANCE_CLASSIC_H

#include "issuance.h"

/* LEDGER_TECH_CLASSIC_1K or _4K from the card's ATR, 0 for anything else. */
enum ledger_card_tech issuance_classic_tech(const struct reader_card *rc);

LEAL_MUST_CHECK leal_err issuance_classic_issue(struct issuance *is, struct reader *r,
                                                const struct reader_card *rc,
                                                enum ledger_card_tech tech,
                                                const struct issuance_request *req,
                                                struct issuance_card *out);
LEAL_MUST_CHECK leal_err issuance_classic_read(struct issuance *is, struct reader *r,
                                               const struct reader_card *rc,
                                               enum ledger_card_tech tech,
                                               struct issuance_card *out);
/* Reads the card (verified; an open pending top-up settled), then tops it up:
 * the other state slot written with seq + 1 and purse + cents (23 RT). */
LEAL_MUST_CHECK leal_err issuance_classic_topup(struct issuance *is, struct reader *r,
                                                const struct reader_card *rc,
                                                enum ledger_card_tech tech, int64_t cents,
                                                struct issuance_card *out);
/* Back to the transport state (every sector 0-5: zero data, key A and B
 * FFFFFFFFFFFF, access bits FF0780); the ledger marks the card lost first and
 * keeps its history. A card torn in an earlier erase is finished. A live card
 * whose purse the desk last read above 0 is refused with LEAL_E_CARD_BOUNDARY
 * before anything is written. */
LEAL_MUST_CHECK leal_err issuance_classic_erase(struct issuance *is, struct reader *r,
                                                const struct reader_card *rc,
                                                enum ledger_card_tech tech,
                                                struct issuance_card *out);

/* issuance_empty_old on a Classic card (issuance.h). */
LEAL_MUST_CHECK leal_err issuance_classic_empty_old(struct issuance *is, struct reader *r,
                                                    const struct reader_card *rc,
                                                    enum ledger_card_tech tech, int64_t old_card_id,
                                                    struct issuance_card *out);
/* What issuance_empty_old needs before it writes: the card just read is the
 * old card, not judged, and marked lost in the ledger. */
LEAL_MUST_CHECK leal_err issuance_old_check(struct issuance *is, int64_t old_card_id,
                                            struct issuance_card *out);
/* The points a new card starts with (a replaced card's, or the welcome points,
 * whose entry is posted idempotently per card); shared by both card types. */
LEAL_MUST_CHECK leal_err issuance_opening_points(struct issuance *is,
                                                 const struct issuance_request *req,
                                                 int64_t card_id, uint32_t *points);
/* Card and ledger compared (UID, counter or seq, then purse if the card
 * carries one, and points), summed over the account's live cards: this one as
 * just read, the others as the desk last read them (not summed while one was
 * never read). Sets out->agrees, why, ncards_on_account and the account's
 * balances, and records what was read in the ledger. */
LEAL_MUST_CHECK leal_err issuance_compare(struct issuance *is, const struct ledger_card *lc,
                                          bool purse_on_card, struct issuance_card *out);
/* What a replaced card held of ASSET ("EUR" or "PTS"): the account's balance
 * less what its other live cards held when the desk last read them (all of it
 * on a one-card account). LEAL_E_CARD_SHARE_UNKNOWN if one was never read. */
LEAL_MUST_CHECK leal_err issuance_replaced_share(struct issuance *is,
                                                 const struct issuance_request *req,
                                                 int64_t card_id, const char *asset,
                                                 int64_t *share);
/* The card just read (out->card_id) in the ledger, copied to out->ledger; a
 * card the ledger does not know leaves lc->card_id 0 and out disagreeing. */
LEAL_MUST_CHECK leal_err issuance_ledger_card(struct issuance *is, struct issuance_card *out,
                                              struct ledger_card *lc);
/* Who the ledger records as doing it: the operator, or "desk". */
const char *issuance_operator(const struct issuance *is);
/* The end of every issuance, in one ledger transaction: the new card ACTIVE
 * (with why and who), its counter and what the verification read found, and a
 * replaced card REPLACED, so a crash never leaves both cards live; then card
 * and ledger compared again (issuance_compare) into *verified. */
LEAL_MUST_CHECK leal_err issuance_activate(struct issuance *is, const struct issuance_request *req,
                                           int64_t card_id, struct issuance_card *verified);
bool issuance_is_classic(enum ledger_card_tech t);
/* A Classic top-up's entry (request id card:<id>:seq:<seq after>), posted
 * with the card's pending top-up removed in one transaction (LAYOUT.md 3.3). */
LEAL_MUST_CHECK leal_err issuance_post_seq_topup(struct issuance *is, int64_t card_id,
                                                 int64_t account_id, uint32_t seq_after,
                                                 int64_t cents, bool *replayed);
/* What every top-up needs first: 1..LEDGER_PURSE_CAP_MAX cents (LEAL_E_RANGE)
 * onto an active card (LEAL_E_CARD_BLOCKED otherwise). */
LEAL_MUST_CHECK leal_err issuance_topup_allowed(const struct issuance_card *out, int64_t cents);
/* The desk's verdict on a card that lies about money: why into out->why, the
 * card blocked (ledger_card_verdict), out->verdict set; returns
 * LEAL_E_CARD_TAMPERED (or the ledger's error). */
LEAL_MUST_CHECK leal_err issuance_verdict(struct issuance *is, struct issuance_card *out,
                                          const char *why);
/* The verdicts both card types share, on a card the ledger knows (not
 * PENDING): taps (DESFire counter, Classic seq) behind the ledger's, or a
 * purse above what the ledger has for the card (its account's euros less its
 * other live cards' as last read, plus an unsettled top-up in flight). */
LEAL_MUST_CHECK leal_err issuance_judge(struct issuance *is, const struct ledger_card *lc,
                                        bool purse_on_card, struct issuance_card *out);
/* A sync the ledger started, settled from the card's seq `cur` (Classic
 * state seq, DESFire taps) and points: at seq after with points after, the
 * card took it: settled (out->synced); at seq before: dropped; otherwise
 * out->unsettled with why in unsettled_why. */
LEAL_MUST_CHECK leal_err issuance_settle_sync(struct issuance *is, const struct ledger_card *lc,
                                              uint32_t cur, struct issuance_card *out,
                                              char *unsettled_why, size_t why_len);
/* What a sync of the card just read would write: *p zeroed and points 0 when
 * there is nothing to bring; errors as issuance_sync says. p's seq fields are
 * the caller's. */
LEAL_MUST_CHECK leal_err issuance_sync_plan(struct issuance *is, struct issuance_card *out,
                                            struct ledger_pending_sync *p);
LEAL_MUST_CHECK leal_err issuance_classic_sync(struct issuance *is, struct reader *r,
                                               const struct reader_card *rc,
                                               enum ledger_card_tech tech,
                                               struct issuance_card *out);
/* A fresh random twelve-digit card id. */
LEAL_MUST_CHECK leal_err issuance_new_card_id(struct issuance *is, int64_t *id);

#endif
