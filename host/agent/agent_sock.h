/*
 * agent_sock.h - where the desk agent listens and who may talk to it
 * (host/agent). The socket is agent.sock in a folder of its own:
 * $XDG_RUNTIME_DIR/leal/ when XDG_RUNTIME_DIR is set, else the data folder's
 * leal/agent/ ($XDG_DATA_HOME or ~/.local/share). The folder must be a real
 * folder (not a symbolic link) owned by this user with no access for group or
 * others (0700; made so when missing), the socket mode 0600. Both ends check
 * the other's uid with SO_PEERCRED on every connection: the agent answers only
 * its own user, and a client takes keys only from an agent of its own user.
 * Reads and writes are whole messages with a time limit, so a stalled peer
 * cannot hold the other. Hosted (Linux).
 * Errors: LEAL_E_NOT_FOUND (no agent listens), LEAL_E_PERMISSION (unsafe
 * folder, another user at the other end), LEAL_E_TOO_LARGE (path too long for
 * a socket), LEAL_E_EXISTS (an agent already listens), LEAL_E_IO, LEAL_E_PROTOCOL
 * (the peer closed mid-message or timed out).
 */
#ifndef LEAL_AGENT_SOCK_H
#define LEAL_AGENT_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "keys/base/err.h"

/* Fits sockaddr_un's sun_path (108 bytes with the NUL). */
#define AGENT_SOCK_PATH_MAX 108

/* The socket's path into out; with make_dir, creates its folder (0700) when
 * missing. The folder is checked either way (see above). */
LEAL_MUST_CHECK leal_err agent_sock_path(bool make_dir, char out[AGENT_SOCK_PATH_MAX]);

/* Binds and listens (mode 0600). A socket file nobody answers on is removed
 * first; one an agent answers on is LEAL_E_EXISTS. */
LEAL_MUST_CHECK leal_err agent_sock_listen(const char *path, int *fd);
/* Connects; the agent must run as this process's uid (LEAL_E_PERMISSION). */
LEAL_MUST_CHECK leal_err agent_sock_connect(const char *path, int *fd);
/* The peer of a connected socket runs as this process's uid; LEAL_E_PERMISSION if not. */
LEAL_MUST_CHECK leal_err agent_sock_peer_is_me(int fd);
/* Send and receive limits on fd, in milliseconds. */
LEAL_MUST_CHECK leal_err agent_sock_deadline(int fd, unsigned ms);
/* Exactly n bytes (within the deadline). */
LEAL_MUST_CHECK leal_err agent_sock_write(int fd, const uint8_t *p, size_t n);
LEAL_MUST_CHECK leal_err agent_sock_read(int fd, uint8_t *p, size_t n);

#endif
