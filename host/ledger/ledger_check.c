/*
 * ledger_check.c - checks of names, text and time zones that need no database (see ledger.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "firmware/core/rules.h"
#include "host/text.h"
#include "ledger.h"
#include "store.h"

/* ---- Validation helpers ---- */

/* Text a person typed: at most LEDGER_TEXT-1 bytes of valid UTF-8 without
 * control characters or bidirectional controls (host/text.h). */
leal_err ledger_text_ok(struct ledger *l, const char *what, const char *s)
{
    char why[64];
    if (s == NULL)
        return LEAL_OK;
    if (strlen(s) >= LEDGER_TEXT) {
        store_set_msg(l, "%s is longer than %d bytes", what, LEDGER_TEXT - 1);
        return LEAL_E_TEXT;
    }
    if (text_check(s, why, sizeof why) != LEAL_OK) {
        store_set_msg(l, "%s: %s", what, why);
        return LEAL_E_TEXT;
    }
    return LEAL_OK;
}

int ledger_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

/* "BONO:" and a bono kind id, 1..4294967295 in decimal without leading zeros
 * (sessions of that kind: host/ledger/ledger_bono.h). */
static leal_err bono_asset_ok(const char *id)
{
    size_t n = 0;
    uint64_t v = 0;
    if (id[0] < '1' || id[0] > '9')
        return LEAL_E_ASSET;
    for (; id[n]; n++) {
        if (id[n] < '0' || id[n] > '9' || n >= 10)
            return LEAL_E_ASSET;
        v = v * 10 + (uint64_t)(id[n] - '0');
    }
    return v <= UINT32_MAX ? LEAL_OK : LEAL_E_ASSET;
}

leal_err ledger_asset_check(const char *asset)
{
    size_t n;
    if (asset == NULL)
        return LEAL_E_ASSET;
    if (strcmp(asset, "EUR") == 0 || strcmp(asset, "PTS") == 0 || strcmp(asset, "CASHBACK") == 0)
        return LEAL_OK;
    if (strncmp(asset, "BONO:", 5) == 0)
        return bono_asset_ok(asset + 5);
    /* Points held for a phone's offline redeems (ledger_qr.h): PTS-HOLD:<its
     * virtual card id>, 1..19 decimal digits, no leading zero. */
    if (strncmp(asset, "PTS-HOLD:", 9) == 0) {
        for (n = 9; asset[n]; n++)
            if (asset[n] < '0' || asset[n] > '9')
                return LEAL_E_ASSET;
        return n > 9 && n <= 9 + 19 && asset[9] != '0' ? LEAL_OK : LEAL_E_ASSET;
    }
    if (strncmp(asset, "STAMP:", 6) != 0)
        return LEAL_E_ASSET;
    for (n = 6; asset[n]; n++) {
        char c = asset[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return LEAL_E_ASSET;
    }
    return n > 6 && n <= 6 + 32 ? LEAL_OK : LEAL_E_ASSET;
}

leal_err ledger_timezone_check(const char *tz)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    unsigned char magic[4];
    struct stat sb;
    size_t n = tz ? strlen(tz) : 0;
    FILE *f;
    int fd, ok;
    if (n == 0 || n > 64 || tz[0] == '/')
        return LEAL_E_TIMEZONE;
    /* Names as the tz database spells them: no "." or ".." component, so a
     * name never leaves the zoneinfo folder. */
    for (size_t i = 0; i < n; i++) {
        char c = tz[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '+' || c == '/' || c == '.'))
            return LEAL_E_TIMEZONE;
        if (c == '.' && (i == 0 || tz[i - 1] == '/'))
            return LEAL_E_TIMEZONE;
    }
    snprintf(path, sizeof path, "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", tz);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return LEAL_E_TIMEZONE;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (f = fdopen(fd, "rb")) == NULL) {
        close(fd);
        return LEAL_E_TIMEZONE;
    }
    ok = fread(magic, 1, sizeof magic, f) == sizeof magic && memcmp(magic, "TZif", 4) == 0;
    fclose(f);
    return ok ? LEAL_OK : LEAL_E_TIMEZONE;
}

static const char *const system_namespaces[] = {LEDGER_SYSTEM_NAMESPACES};

bool ledger_request_id_reserved(const char *request_id)
{
    for (size_t i = 0; request_id && i < sizeof system_namespaces / sizeof system_namespaces[0];
         i++)
        if (strncmp(request_id, system_namespaces[i], strlen(system_namespaces[i])) == 0)
            return true;
    return false;
}

int64_t ledger_now(void)
{
    return (int64_t)time(NULL);
}

leal_err ledger_points_for_spend(int64_t spend_cents, int64_t points_per_euro_milli,
                                 int64_t *points)
{
    /* One rounding rule for the host and the terminals: the rules engine's. */
    return rules_points_for_spend(spend_cents, points_per_euro_milli, points);
}
