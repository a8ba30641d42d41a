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

/* Copies OpenSSL's pending error text into buf (and clears the queue). */
void crypto_openssl_last_error(char *buf, size_t cap);

#endif
