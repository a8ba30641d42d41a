/*
 * ledger_note.h - customer notes written in the back office (issue 16): a
 * note signed by a back-office user (their id and name), dated, and edited
 * or deleted later; the desk's notes (`leal customer note --by NAME`,
 * ledger.h's ledger_note_add) have no user. Who may edit or delete a note
 * (its author, a manager or an admin of its store) is the caller's rule
 * (host/web/web_care.c); this file checks the text (ledger_text_ok) and
 * that the note exists. `leal customer export` lists the notes and `leal
 * customer erase` removes them (host/privacy). Each write is one
 * transaction, or part of the caller's batch (the note and its audit line).
 * Errors: those of ledger.h, LEAL_E_UNKNOWN_ID (no such note or customer),
 * LEAL_E_REASON_REQUIRED (an empty text), LEAL_E_TEXT. Hosted; SQLite only.
 */
#ifndef LEAL_LEDGER_NOTE_H
#define LEAL_LEDGER_NOTE_H

#include <stdint.h>

#include "ledger.h"

/* A note on customer_id signed by user user_id (name author), dated now. */
LEAL_MUST_CHECK leal_err ledger_note_sign(struct ledger *l, int64_t customer_id, int64_t user_id,
                                          const char *author, const char *text, int64_t *id);
/* The note id and the customer it is about. */
LEAL_MUST_CHECK leal_err ledger_note_get(struct ledger *l, int64_t id, struct ledger_note *out,
                                         int64_t *customer_id);
/* A new text for note id (edited_at: now); its author and date stay. */
LEAL_MUST_CHECK leal_err ledger_note_edit(struct ledger *l, int64_t id, const char *text);
/* Deletes note id. */
LEAL_MUST_CHECK leal_err ledger_note_delete(struct ledger *l, int64_t id);

#endif
