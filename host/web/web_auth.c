/*
 * web_auth.c - password hashes, session and CSRF tokens (see web_auth.h).
 */
#include "web_auth.h"

#include <argon2.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/random.h>

#include "keys/base/ct.h"
#include "keys/base/hex.h"

static leal_err random_bytes(uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r <= 0)
            return LEAL_E_RANDOM;
        got += (size_t)r;
    }
    return LEAL_OK;
}

static bool password_ok(const char *password)
{
    size_t n = password ? strlen(password) : 0;
    return n >= WEB_AUTH_PASSWORD_MIN && n <= WEB_AUTH_PASSWORD_MAX;
}

bool web_auth_pin_ok(const char *pin)
{
    size_t n = 0;
    while (pin && pin[n] >= '0' && pin[n] <= '9')
        n++;
    return pin && pin[n] == '\0' && n >= WEB_AUTH_PIN_MIN && n <= WEB_AUTH_PIN_MAX;
}

/* The PHC string of secret (checked by the caller) under a fresh salt. */
static leal_err hash_encoded(const char *secret, char *out, size_t cap)
{
    uint8_t salt[WEB_AUTH_SALT];
    leal_err err;
    int rc;
    if (cap < argon2_encodedlen(WEB_AUTH_T_COST, WEB_AUTH_M_COST_KIB, WEB_AUTH_LANES, WEB_AUTH_SALT,
                                WEB_AUTH_TAG, Argon2_id))
        return LEAL_E_NO_SPACE;
    if ((err = random_bytes(salt, sizeof salt)) != LEAL_OK)
        return err;
    rc = argon2id_hash_encoded(WEB_AUTH_T_COST, WEB_AUTH_M_COST_KIB, WEB_AUTH_LANES, secret,
                               strlen(secret), salt, sizeof salt, WEB_AUTH_TAG, out, cap);
    return rc == ARGON2_OK ? LEAL_OK : LEAL_E_CRYPTO;
}

leal_err web_auth_hash(const char *password, char *out, size_t cap)
{
    if (cap > 0)
        out[0] = '\0';
    if (!password_ok(password))
        return LEAL_E_WEB_PASSWORD;
    return hash_encoded(password, out, cap);
}

leal_err web_auth_pin_hash(const char *pin, char *out, size_t cap)
{
    if (cap > 0)
        out[0] = '\0';
    if (!web_auth_pin_ok(pin))
        return LEAL_E_PORTAL_PIN_FORMAT;
    return hash_encoded(pin, out, cap);
}

bool web_auth_verify(const char *password, const char *encoded)
{
    if (password == NULL || encoded == NULL || strncmp(encoded, "$argon2id$", 10) != 0 ||
        strlen(password) > WEB_AUTH_PASSWORD_MAX)
        return false;
    return argon2id_verify(encoded, password, strlen(password)) == ARGON2_OK;
}

void web_auth_waste(const char *password)
{
    /* A hash of the stated parameters for a password no one has. */
    static const char decoy[] = "$argon2id$v=19$m=19456,t=2,p=1$bGVhbC13ZWItZGVjb3khIQ$"
                                "7KiUj1HvHRS3dQmM+9RFW/PS9fZwlcWvhN1Q+Aayojw";
    (void)web_auth_verify(password ? password : "", decoy);
}

leal_err web_auth_token(char out[WEB_AUTH_TOKEN_HEX])
{
    uint8_t raw[WEB_AUTH_TOKEN_BYTES];
    leal_err err;
    out[0] = '\0';
    if ((err = random_bytes(raw, sizeof raw)) != LEAL_OK)
        return err;
    err = leal_hex_encode(raw, sizeof raw, false, out, WEB_AUTH_TOKEN_HEX);
    leal_wipe(raw, sizeof raw);
    return err;
}

leal_err web_auth_token_hash(const char *token, uint8_t hash[32])
{
    unsigned int n = 0;
    if (token == NULL || strlen(token) != 2 * WEB_AUTH_TOKEN_BYTES)
        return LEAL_E_WEB_SESSION;
    for (const char *p = token; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return LEAL_E_WEB_SESSION;
    if (EVP_Digest(token, 2 * WEB_AUTH_TOKEN_BYTES, hash, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return LEAL_E_CRYPTO;
    return LEAL_OK;
}

bool web_auth_csrf_ok(const char *given, const char *expected)
{
    if (given == NULL || expected == NULL || strlen(expected) != 2 * WEB_AUTH_TOKEN_BYTES ||
        strlen(given) != 2 * WEB_AUTH_TOKEN_BYTES)
        return false;
    return leal_ct_equal(given, expected, 2 * WEB_AUTH_TOKEN_BYTES);
}
