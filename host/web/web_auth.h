/*
 * web_auth.h - the back office's secrets: password hashes, session tokens
 * and CSRF tokens. Passwords are hashed with Argon2id (libargon2, RFC 9106)
 * at t = 2 passes over m = 19 MiB with 1 lane, a 16-byte random salt and a
 * 32-byte tag, kept as the PHC string ("$argon2id$v=19$m=19456,t=2,p=1$...");
 * a stored hash of other parameters still verifies. A password has 10 to 128
 * bytes. A session token and a CSRF token are 32 random bytes (getrandom) as
 * 64 lower-case hex digits; only the token's SHA-256 is kept. Tokens are
 * compared in constant time. Hosted; nothing here prints.
 * Errors: LEAL_E_WEB_PASSWORD, LEAL_E_WEB_SESSION (a malformed token),
 * LEAL_E_RANDOM, LEAL_E_CRYPTO, LEAL_E_NO_SPACE.
 */
#ifndef LEAL_WEB_AUTH_H
#define LEAL_WEB_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys/base/err.h"

#define WEB_AUTH_T_COST 2
#define WEB_AUTH_M_COST_KIB 19456
#define WEB_AUTH_LANES 1
#define WEB_AUTH_SALT 16
#define WEB_AUTH_TAG 32
#define WEB_AUTH_PASSWORD_MIN 10
#define WEB_AUTH_PASSWORD_MAX 128
#define WEB_AUTH_PIN_MIN 4
#define WEB_AUTH_PIN_MAX 8
#define WEB_AUTH_HASH_MAX 160
#define WEB_AUTH_TOKEN_BYTES 32
#define WEB_AUTH_TOKEN_HEX (2 * WEB_AUTH_TOKEN_BYTES + 1)

/* The PHC string of password under a fresh salt into out. */
LEAL_MUST_CHECK leal_err web_auth_hash(const char *password, char *out, size_t cap);
/* Whether pin is a card PIN: WEB_AUTH_PIN_MIN to WEB_AUTH_PIN_MAX digits. */
bool web_auth_pin_ok(const char *pin);
/* The PHC string of a card PIN (the password's parameters) into out;
 * LEAL_E_PORTAL_PIN_FORMAT unless web_auth_pin_ok. */
LEAL_MUST_CHECK leal_err web_auth_pin_hash(const char *pin, char *out, size_t cap);
/* Whether password matches the PHC string encoded (false for a malformed one). */
bool web_auth_verify(const char *password, const char *encoded);
/* Spends the time of one verification (a sign-in for a user that does not
 * exist takes as long as a wrong password). */
void web_auth_waste(const char *password);
/* A fresh random token as hex. */
LEAL_MUST_CHECK leal_err web_auth_token(char out[WEB_AUTH_TOKEN_HEX]);
/* The SHA-256 of a token; LEAL_E_WEB_SESSION unless token is 64 lower-case hex digits. */
LEAL_MUST_CHECK leal_err web_auth_token_hash(const char *token, uint8_t hash[32]);
/* Whether given (may be NULL) is the session's CSRF token, in constant time. */
bool web_auth_csrf_ok(const char *given, const char *expected);

#endif
