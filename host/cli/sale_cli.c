/* sale_cli.c - what `leal sale` and `leal rules simulate` share (sale_cli.h). */
#include "sale_cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "firmware/core/rules_codec.h"
#include "host/books/parse.h"
#include "host/ledger/ledger_rules.h"
#include "ledger_cli.h"

int sale_cli_rules(struct ledger *l, int64_t program_id, struct rules_program *p, int64_t *version)
{
    uint32_t v = 0;
    leal_err err;
    *version = 0;
    if ((err = ledger_rules_load(l, program_id, p, &v)) != LEAL_OK)
        return lcli_fail(l, err, "program");
    *version = v;
    return 0;
}

int sale_cli_names(struct ledger *l, int64_t program_id, struct ledger_rules *out)
{
    leal_err err;
    if ((err = ledger_rules_get(l, program_id, 0, out)) != LEAL_OK)
        return lcli_fail(l, err, "program");
    return 0;
}

int sale_cli_rules_file(const char *path, struct rules_program *p, int64_t *version)
{
    uint8_t buf[RULES_CODEC_MAX_LEN + 1];
    struct rules_problem where;
    struct rules_set *set;
    size_t n;
    leal_err err;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return cli_fail(LEAL_E_NOT_FOUND, "--with %s", path);
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n > RULES_CODEC_MAX_LEN)
        return cli_fail(LEAL_E_TOO_LARGE, "--with %s: a rule set is at most %d bytes", path,
                        (int)RULES_CODEC_MAX_LEN);
    if ((set = calloc(1, sizeof *set)) == NULL)
        return cli_fail(LEAL_E_NO_MEMORY, "--with %s", path);
    err = rules_codec_decode(buf, n, set, &where);
    if (err == LEAL_OK) {
        *p = set->program;
        *version = set->version;
    }
    free(set);
    if (err == LEAL_E_RULES_PROGRAM)
        return cli_error(err, CLI_EXIT_USAGE,
                         "--with %s: the rule set is refused at part %u, index %u (RULES.md 1)",
                         path, (unsigned)where.part, (unsigned)where.index);
    if (err != LEAL_OK)
        return cli_error(err, CLI_EXIT_USAGE, "--with %s: not a rule set (RULES.md 7): %s", path,
                         leal_strerror(err));
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
