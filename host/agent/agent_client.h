/*
 * agent_client.h - a card command's side of the desk agent
 * (agent_server.h): the keys of the program in use from a running agent of
 * this user, its status, stopping it. Keys arrive into the caller's keyset
 * (secmem.h memory, wiped by the caller with keyset_clear); the message that
 * carried them is wiped here. Hosted (Linux).
 * Errors: LEAL_E_NOT_FOUND (no agent runs, or it holds another keystore),
 * LEAL_E_UNKNOWN_PROGRAM (it holds another program), LEAL_E_STATE (the
 * keystore changed since the agent read it; it has ended), LEAL_E_PERMISSION
 * (the agent's folder is unsafe or another user answers: never used),
 * LEAL_E_PROTOCOL, LEAL_E_IO, and the decoders' errors (agent_proto.h).
 */
#ifndef LEAL_AGENT_CLIENT_H
#define LEAL_AGENT_CLIENT_H

#include <stdint.h>

#include "agent_proto.h"
#include "keys/base/err.h"
#include "keys/keyset.h"

/* The program's keys (program_id 0: the agent's program) of the keystore at
 * keystore_path (canonical) into ks; *program the program they are for. */
LEAL_MUST_CHECK leal_err agent_client_keys(const char *keystore_path, uint32_t program_id,
                                           struct keyset *ks, uint32_t *program);
LEAL_MUST_CHECK leal_err agent_client_status(struct agent_status *st);
/* Returns once the agent has wiped its keys and ended (its socket gone, at
 * most 5 s later). */
LEAL_MUST_CHECK leal_err agent_client_stop(void);

#endif
