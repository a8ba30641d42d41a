/*
 * ledger_openssl.c - ledger_open and its variants: ledger_open_with and the
 * OpenSSL provider for the entry hash (see ledger.h). The only file of
 * host/ledger that names a crypto provider.
 */
#include "keys/hosted/provider_openssl.h"
#include "ledger.h"

static leal_err open_openssl(const char *path, bool must_exist, struct ledger **out, char *why,
                             size_t cap)
{
    struct ledger_open_options o = {
        .crypto = crypto_openssl(), .must_exist = must_exist, .why = why, .why_cap = cap};
    return ledger_open_with(path, &o, out);
}

leal_err ledger_open(const char *path, struct ledger **out)
{
    return open_openssl(path, false, out, NULL, 0);
}

leal_err ledger_open_why(const char *path, struct ledger **out, char *why, size_t cap)
{
    return open_openssl(path, false, out, why, cap);
}

leal_err ledger_open_existing_why(const char *path, struct ledger **out, char *why, size_t cap)
{
    return open_openssl(path, true, out, why, cap);
}
