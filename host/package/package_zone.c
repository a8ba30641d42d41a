/* package_zone.c - a store's zone rules from the tz database (package_zone.h). */
#include "package_zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/file.h"
#include "host/ledger/ledger.h"

/* A bounded cursor over the TZ string. */
struct tz_cursor {
    const char *s;
    size_t n, i;
};

static int peek(const struct tz_cursor *c)
{
    return c->i < c->n ? (unsigned char)c->s[c->i] : -1;
}

static bool is_alpha(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bool is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* A zone abbreviation: 3 or more letters, or <...> of letters, digits, + and -. */
static bool parse_name(struct tz_cursor *c)
{
    size_t start = c->i;
    if (peek(c) == '<') {
        c->i++;
        while (is_alpha(peek(c)) || is_digit(peek(c)) || peek(c) == '+' || peek(c) == '-')
            c->i++;
        if (peek(c) != '>' || c->i - start - 1 < 3)
            return false;
        c->i++;
        return true;
    }
    while (is_alpha(peek(c)))
        c->i++;
    return c->i - start >= 3;
}

/* A number of at most digits digits, at most max. */
static bool parse_num(struct tz_cursor *c, int digits, long max, long *out)
{
    long v = 0;
    int k = 0;
    while (k < digits && is_digit(peek(c))) {
        v = v * 10 + (peek(c) - '0');
        c->i++;
        k++;
    }
    *out = v;
    return k > 0 && v <= max;
}

/* [+-]hh[:mm[:ss]] in seconds, hours at most max_hours. */
static bool parse_hms(struct tz_cursor *c, long max_hours, long *seconds)
{
    long h, m = 0, s = 0, sign = 1;
    if (peek(c) == '+' || peek(c) == '-') {
        sign = peek(c) == '-' ? -1 : 1;
        c->i++;
    }
    if (!parse_num(c, 3, max_hours, &h))
        return false;
    if (peek(c) == ':') {
        c->i++;
        if (!parse_num(c, 2, 59, &m))
            return false;
        if (peek(c) == ':') {
            c->i++;
            if (!parse_num(c, 2, 59, &s))
                return false;
        }
    }
    *seconds = sign * (h * 3600 + m * 60 + s);
    return true;
}

/* A POSIX offset (west of UTC positive) as minutes east of UTC. */
static bool parse_offset(struct tz_cursor *c, int16_t *minutes)
{
    long sec;
    if (!parse_hms(c, 24, &sec) || sec % 60 != 0 || sec / 60 < -1080 || sec / 60 > 1080)
        return false;
    *minutes = (int16_t)(-sec / 60);
    return true;
}

/* ",Mm.w.d[/time]" */
static bool parse_rule(struct tz_cursor *c, struct package_zone_rule *r)
{
    long m, w, d, t = 7200;
    if (peek(c) != ',')
        return false;
    c->i++;
    if (peek(c) != 'M')
        return false; /* Jn and n (Julian days): not taken */
    c->i++;
    if (!parse_num(c, 2, 12, &m) || m < 1 || peek(c) != '.')
        return false;
    c->i++;
    if (!parse_num(c, 1, 5, &w) || w < 1 || peek(c) != '.')
        return false;
    c->i++;
    if (!parse_num(c, 1, 6, &d))
        return false;
    if (peek(c) == '/') {
        c->i++;
        if (!parse_hms(c, 167, &t))
            return false;
    }
    r->month = (uint8_t)m;
    r->week = (uint8_t)w;
    r->weekday = (uint8_t)d;
    r->time_seconds = (int32_t)t;
    return true;
}

leal_err package_zone_parse(const char *s, size_t n, struct package_zone *out)
{
    struct tz_cursor c = {s, n, 0};
    struct package_zone z;
    if (s == NULL || out == NULL)
        return LEAL_E_ARG;
    memset(&z, 0, sizeof z);
    if (!parse_name(&c) || !parse_offset(&c, &z.std_minutes))
        return LEAL_E_ZONE_RULES;
    z.dst_minutes = z.std_minutes;
    if (c.i < c.n) {
        if (!parse_name(&c))
            return LEAL_E_ZONE_RULES;
        z.has_dst = true;
        z.dst_minutes = (int16_t)(z.std_minutes + 60); /* POSIX: one hour ahead unless given */
        if (peek(&c) != ',' && !parse_offset(&c, &z.dst_minutes))
            return LEAL_E_ZONE_RULES;
        if (!parse_rule(&c, &z.start) || !parse_rule(&c, &z.end))
            return LEAL_E_ZONE_RULES;
    }
    if (c.i != c.n || !package_zone_ok(&z))
        return LEAL_E_ZONE_RULES;
    *out = z;
    return LEAL_OK;
}

leal_err package_zone_from_tzif(const unsigned char *data, size_t n, struct package_zone *out)
{
    size_t end, start;
    if (data == NULL || out == NULL)
        return LEAL_E_ARG;
    /* RFC 8536: "TZif", a version ('2' or later), ..., then NL TZ-string NL. */
    if (n < 46 || memcmp(data, "TZif", 4) != 0 || data[4] < '2' || data[n - 1] != '\n')
        return LEAL_E_ZONE_RULES;
    end = n - 1;
    start = end;
    while (start > 0 && data[start - 1] != '\n' && end - start < 128)
        start--;
    if (start == 0 || data[start - 1] != '\n' || start == end)
        return LEAL_E_ZONE_RULES;
    return package_zone_parse((const char *)data + start, end - start, out);
}

leal_err package_zone_lookup(const char *name, struct package_zone *out)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    uint8_t *data = NULL;
    size_t n = 0;
    leal_err err;
    if (name == NULL || out == NULL)
        return LEAL_E_ARG;
    if (ledger_timezone_check(name) != LEAL_OK)
        return LEAL_E_TIMEZONE;
    snprintf(path, sizeof path, "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", name);
    if (file_read(path, 1u << 20, &data, &n) != LEAL_OK)
        return LEAL_E_TIMEZONE;
    err = package_zone_from_tzif(data, n, out);
    free(data);
    return err;
}
