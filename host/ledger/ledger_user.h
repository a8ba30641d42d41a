/*
 * ledger_user.h - the back office's users, sessions and audit log, kept in
 * the ledger's file (schema 19). A user has a role (admin: everything;
 * manager and staff: only the programs of the stores they are given), a
 * password hash made by the caller (host/web/web_auth.h: Argon2id; this
 * file never sees a password) and may be disabled, which ends their
 * sessions. A session is kept by the SHA-256 of its token, never the token.
 * The audit log is append-only: who, when, what, and the object before and
 * after as the caller's JSON text. Writes run in one transaction each, or
 * inside the caller's batch (an edit and its audit line together).
 * Errors: those of ledger.h, LEAL_E_WEB_USER_EXISTS, LEAL_E_WEB_NO_USER,
 * LEAL_E_WEB_ROLE, LEAL_E_WEB_SESSION, LEAL_E_WEB_RESET_TOKEN. Hosted.
 */
#ifndef LEAL_LEDGER_USER_H
#define LEAL_LEDGER_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

#define LEDGER_USER_NAME 64
#define LEDGER_USER_HASH 160
#define LEDGER_USER_STORES 16
#define LEDGER_SESSION_HASH 32
#define LEDGER_SESSION_CSRF 65
#define LEDGER_USER_EMAIL 256

enum ledger_role {
    LEDGER_ROLE_ADMIN = 1,
    LEDGER_ROLE_MANAGER = 2,
    LEDGER_ROLE_STAFF = 3,
};

struct ledger_user {
    int64_t id;
    char name[LEDGER_USER_NAME];
    enum ledger_role role;
    bool disabled;
    int64_t created_at;
    char pass_hash[LEDGER_USER_HASH];
    int nstores;
    int64_t stores[LEDGER_USER_STORES]; /* manager and staff: at least one */
    /* The back office's language, "en" or "es". "" at ledger_user_add: "es"
     * when one of the user's stores is in a Spanish program (an admin: when
     * every program is), else "en". */
    char lang[3];
    /* Where a password reset link is mailed; "" : none (no reset by e-mail). */
    char email[LEDGER_USER_EMAIL];
};

/* "admin", "manager", "staff"; NULL for another value. */
const char *ledger_role_name(enum ledger_role r);
/* The role named s; LEAL_E_WEB_ROLE for another name. */
LEAL_MUST_CHECK leal_err ledger_role_parse(const char *s, enum ledger_role *r);

/* Adds u (name, role, pass_hash, stores). An admin has no stores; a manager
 * or staff member needs 1..LEDGER_USER_STORES existing stores (LEAL_E_WEB_ROLE
 * otherwise). A taken name is LEAL_E_WEB_USER_EXISTS. */
LEAL_MUST_CHECK leal_err ledger_user_add(struct ledger *l, const struct ledger_user *u,
                                         int64_t *id);
/* The user of that name or id; LEAL_E_WEB_NO_USER when there is none. */
LEAL_MUST_CHECK leal_err ledger_user_by_name(struct ledger *l, const char *name,
                                             struct ledger_user *out);
LEAL_MUST_CHECK leal_err ledger_user_get(struct ledger *l, int64_t id, struct ledger_user *out);
/* A new password hash; the user's sessions end. */
LEAL_MUST_CHECK leal_err ledger_user_set_password(struct ledger *l, int64_t id,
                                                  const char *pass_hash);
/* Gives user id the role and stores of `to` (to->role, to->nstores,
 * to->stores; the rest is ignored) under ledger_user_add's rules, in one
 * transaction that also ends the user's sessions (what they may do changed
 * under them) and writes the audit line "user.role" by actor_id/actor
 * (0: the command line) with the role and stores before and after as
 * {"role":"staff","stores":[1,2]}. */
LEAL_MUST_CHECK leal_err ledger_user_set_role(struct ledger *l, int64_t id,
                                              const struct ledger_user *to, int64_t actor_id,
                                              const char *actor);
/* Disables (or enables again) a user; disabling ends their sessions. */
LEAL_MUST_CHECK leal_err ledger_user_set_disabled(struct ledger *l, int64_t id, bool disabled);
/* LEAL_OK for "en" and "es", LEAL_E_WEB_LANG otherwise. */
LEAL_MUST_CHECK leal_err ledger_lang_ok(struct ledger *l, const char *lang);
/* The user's language ("en" or "es"; LEAL_E_WEB_LANG otherwise). */
LEAL_MUST_CHECK leal_err ledger_user_set_lang(struct ledger *l, int64_t id, const char *lang);
/* The same, chosen by the user on their own page: their sessions stay (each
 * request reads the language anew). */
LEAL_MUST_CHECK leal_err ledger_user_set_own_lang(struct ledger *l, int64_t id, const char *lang);
/* The user's e-mail address for password resets ("" : none; the caller
 * checks its form); their sessions stay. */
LEAL_MUST_CHECK leal_err ledger_user_set_email(struct ledger *l, int64_t id, const char *email);
typedef int (*ledger_user_cb)(void *ctx, const struct ledger_user *u);
/* Every user by id (pass_hash left empty). */
LEAL_MUST_CHECK leal_err ledger_user_each(struct ledger *l, ledger_user_cb cb, void *ctx);
/* Whether user_id may see program_id's customers: an admin always; a
 * manager or staff member when one of their stores is in that program. */
LEAL_MUST_CHECK leal_err ledger_user_sees_program(struct ledger *l, const struct ledger_user *u,
                                                  int64_t program_id, bool *yes);

/* The programs of u's stores, by id, at most cap (an admin: none, and
 * *all set: every program). */
LEAL_MUST_CHECK leal_err ledger_user_programs(struct ledger *l, const struct ledger_user *u,
                                              int64_t *programs, int cap, int *n, bool *all);

/* The one time zone of program_id's stores (program 0: of every store), for
 * times kept without a store (card status changes, the audit log); "" when
 * the stores have none or several zones (the page then shows UTC). */
#define LEDGER_ZONE 72
LEAL_MUST_CHECK leal_err ledger_program_zone(struct ledger *l, int64_t program_id,
                                             char tz[LEDGER_ZONE]);

/* A session of user_id until expires_at, kept by the token's SHA-256. */
LEAL_MUST_CHECK leal_err ledger_session_add(struct ledger *l,
                                            const uint8_t token_hash[LEDGER_SESSION_HASH],
                                            int64_t user_id, const char *csrf, int64_t expires_at);
/* The live session of token_hash at now, of a user not disabled: its user
 * and CSRF token; LEAL_E_WEB_SESSION otherwise. */
LEAL_MUST_CHECK leal_err ledger_session_find(struct ledger *l,
                                             const uint8_t token_hash[LEDGER_SESSION_HASH],
                                             int64_t now, struct ledger_user *user,
                                             char csrf[LEDGER_SESSION_CSRF]);
/* Ends the session (none is fine) and every session that has expired. */
LEAL_MUST_CHECK leal_err ledger_session_end(struct ledger *l,
                                            const uint8_t token_hash[LEDGER_SESSION_HASH],
                                            int64_t now);

/* Password resets by e-mail (host/web/web_reset.c): a link's token is kept
 * as its SHA-256 with its user and end; resets dead for a day are deleted
 * when a new one is added. */
LEAL_MUST_CHECK leal_err ledger_reset_add(struct ledger *l,
                                          const uint8_t token_hash[LEDGER_SESSION_HASH],
                                          int64_t user_id, int64_t now, int64_t expires_at);
/* The program whose mail settings carry u's reset link: that of u's first
 * store (lowest id); an admin's: the lowest-numbered program with mail
 * settings. 0: none. */
LEAL_MUST_CHECK leal_err ledger_user_mail_program(struct ledger *l, const struct ledger_user *u,
                                                  int64_t *program_id);
/* Uses the reset of token_hash at now: in one transaction the user's
 * password becomes pass_hash, this and every other unused reset of the user
 * are marked used, the user's sessions end and the audit line "user.reset"
 * is written (actor: the user). An unknown, used or expired reset, or one
 * of a disabled user, is LEAL_E_WEB_RESET_TOKEN and nothing is written.
 * *user_id: whose password it was. */
LEAL_MUST_CHECK leal_err ledger_reset_take(struct ledger *l,
                                           const uint8_t token_hash[LEDGER_SESSION_HASH],
                                           int64_t now, const char *pass_hash, int64_t *user_id);

/* One line of the audit log. user_id 0: the command line (actor names the
 * system user). before/after: JSON text or NULL (created, deleted). */
struct ledger_audit_line {
    int64_t user_id;
    const char *actor;
    const char *action; /* "customer.edit", "user.add", "session.sign-in"... */
    const char *object; /* "customer 7", "user 2" */
    const char *before;
    const char *after;
};
LEAL_MUST_CHECK leal_err ledger_audit_add(struct ledger *l, const struct ledger_audit_line *a);
/* The newest lines first (at most limit; 0: all); the pointers live only
 * during the call. */
typedef int (*ledger_audit_cb)(void *ctx, int64_t id, int64_t at,
                               const struct ledger_audit_line *a);
LEAL_MUST_CHECK leal_err ledger_audit_each(struct ledger *l, size_t limit, ledger_audit_cb cb,
                                           void *ctx);

#endif
