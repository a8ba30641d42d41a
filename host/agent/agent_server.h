/*
 * agent_server.h - the desk agent (`leal agent start`): unlocks the keystore
 * once and hands one program's card keys to the card commands of the same
 * user, so that a desk working all day pays scrypt once, not per card.
 *
 * What it holds: the program it was started for, only the roles card
 * commands use (AGENT_SERVER_ROLES: not the QR or journal keys), in secmem.h
 * memory (locked where the limit allows, out of core dumps; the process is
 * not dumpable nor ptrace-able by its user). It forgets them (wipes and ends)
 * after idle_seconds without a KEYS request, on STOP, on SIGTERM, SIGINT or
 * SIGHUP, and when the keystore file changed since it was read (a rotation:
 * the client then unlocks the new keystore itself).
 *
 * Protocol (agent_proto.h): a same-user client asks KEYS for a keystore path
 * and a program; the agent answers with that program's keys if they are the
 * ones it holds, and the client wipes them when its command ends.
 * Threat model. Kept out: other users (0700 folder, 0600 socket, SO_PEERCRED
 * uid checked on every connection, both ways, so a socket planted by another
 * user is never believed), core dumps and swap, keys outliving the session
 * (idle limit, stop, signals), a stalled client (time limits per message).
 * Not kept out: code running as the same user while the agent runs gets the
 * program's card keys without the passphrase (as with ssh-agent, the session
 * trusts its user; stop the agent before leaving the desk), and root. A
 * SAM-style agent that answers per-card diversified keys would narrow this to
 * the cards presented; it is the next step, not this one.
 * Keys never appear in a log, an error or an answer other than KEYS.
 * Hosted (Linux).
 * Errors: those of keyfile.h (loading), agent_sock.h (listening),
 * LEAL_E_NO_MEMORY.
 */
#ifndef LEAL_AGENT_SERVER_H
#define LEAL_AGENT_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"

/* Default idle limit: a quarter of an hour without a card command. */
#define AGENT_SERVER_IDLE_DEFAULT 900u
#define AGENT_SERVER_IDLE_MAX 86400u

struct agent_server;

struct agent_server_config {
    const char *keystore_path; /* canonical (realpath) */
    uint32_t program_id;       /* 0: the keystore's only program */
    unsigned idle_seconds;     /* 1..AGENT_SERVER_IDLE_MAX */
    const char *socket_path;   /* agent_sock_path */
};

/* Why agent_server_run returned. */
enum agent_server_end {
    AGENT_END_STOP = 1,
    AGENT_END_IDLE = 2,
    AGENT_END_SIGNAL = 3,
    AGENT_END_KEYSTORE_CHANGED = 4,
};

/* Unlocks the keystore (scrypt), keeps the program's card roles, listens.
 * LEAL_E_UNKNOWN_PROGRAM if the program is absent, LEAL_E_USAGE if none is
 * named and the keystore holds several. */
LEAL_MUST_CHECK leal_err agent_server_open(const struct agent_server_config *cfg, const char *pass,
                                           size_t pass_len, struct agent_server **out);
/* The program the agent holds (after open). */
uint32_t agent_server_program(const struct agent_server *s);
/* Serves until one of enum agent_server_end; the keys are wiped on return. */
LEAL_MUST_CHECK leal_err agent_server_run(struct agent_server *s, enum agent_server_end *end);
/* Wipes the keys, removes the socket, frees s; NULL allowed. */
void agent_server_close(struct agent_server *s);

#endif
