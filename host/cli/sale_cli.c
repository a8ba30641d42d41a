/* sale_cli.c - what `leal sale` and `leal rules simulate` share (sale_cli.h). */
#include "sale_cli.h"

#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/books/parse.h"
#include "ledger_cli.h"

int sale_cli_rules(struct ledger *l, int64_t program_id, struct rules_program *p, int64_t *version)
{
    struct ledger_program prog;
    leal_err err;
    memset(p, 0, sizeof *p);
    *version = 0;
    if ((err = ledger_program_get(l, program_id, &prog)) != LEAL_OK)
        return lcli_fail(l, err, "program");
    /* Until the program's rules are stored in the ledger: its base rate. */
    p->rate_milli = prog.points_per_euro_milli;
    if ((err = rules_program_check(p)) != LEAL_OK)
        return lcli_fail(l, err, "the program's rules");
    return 0;
}

static unsigned num(const char *s, size_t n, bool *ok)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            *ok = false;
        v = v * 10u + (unsigned)(s[i] - '0');
    }
    return v;
}

leal_err sale_cli_time(const char *s, int64_t *t)
{
    char date[11];
    int64_t day;
    unsigned h, m, sec;
    bool ok = true;
    size_t n = s ? strlen(s) : 0;
    *t = 0;
    if (n > 1 && s[0] == '@') {
        if (books_parse_id(s + 1, t) != LEAL_OK)
            return LEAL_E_DATE;
        return LEAL_OK;
    }
    if (n != 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return LEAL_E_DATE;
    memcpy(date, s, 10);
    date[10] = '\0';
    h = num(s + 11, 2, &ok);
    m = num(s + 14, 2, &ok);
    sec = num(s + 17, 2, &ok);
    if (!ok || h > 23 || m > 59 || sec > 59 || books_parse_date(date, &day) != LEAL_OK)
        return LEAL_E_DATE;
    *t = day + (int64_t)h * 3600 + (int64_t)m * 60 + sec;
    return LEAL_OK;
}

const char *sale_cli_source(uint8_t source)
{
    switch (source) {
    case RULES_LINE_BASE:
        return "base";
    case RULES_LINE_TIER:
        return "tier";
    case RULES_LINE_WELCOME:
        return "welcome";
    default:
        return "rule";
    }
}
