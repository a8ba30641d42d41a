/*
 * provider_openssl.h - the crypto provider on OpenSSL 3 (EVP), for host/ and
 * the POSIX terminal; plus the host-only operations that never reach a
 * terminal: Ed25519 signing and key generation.
 * OpenSSL's own errors are drained into the log and become LEAL_E_CRYPTO
 * here, where they enter leal. Hosted.
 */
#ifndef LEAL_PROVIDER_OPENSSL_H
#define LEAL_PROVIDER_OPENSSL_H

#include <stddef.h>
#include <stdint.h>

#include "../crypto.h"

const struct crypto_provider *crypto_openssl(void);

/* Public key of the Ed25519 private key seed (RFC 8032 §5.1.5). */
LEAL_MUST_CHECK leal_err crypto_openssl_ed25519_public(const uint8_t seed[32],
                                                       uint8_t public_key[32]);
/* RFC 8032 Ed25519 signature of msg under seed. */
LEAL_MUST_CHECK leal_err crypto_openssl_ed25519_sign(const uint8_t seed[32], const uint8_t *msg,
                                                     size_t len, uint8_t sig[64]);

/* Where OpenSSL's error text goes. keys/ cannot call up into host/, so the
 * host installs its log here (host/log's log_set_sink installs log_foreign);
 * with none, the text is dropped. Set once, before other threads start. */
typedef leal_err (*crypto_openssl_reporter)(leal_err err, const char *lib, const char *what,
                                            const char *text);
void crypto_openssl_set_reporter(crypto_openssl_reporter report);
/* Where an OpenSSL call failed and became err: drains OpenSSL's error queue
 * (oldest, the cause, first) to the reporter with what failed; returns err. */
leal_err crypto_openssl_error(leal_err err, const char *what);

#endif
