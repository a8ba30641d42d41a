/*
 * terminal_site.c - where leal-terminal stands for a tap, shared by a card's
 * tap (terminal_tap.c) and a QR code's (terminal_qr_tap.c), so the two can
 * never disagree: the store, the Classic purse cap and the clock zone come
 * from the loaded package's site (PACKAGE.md "Site", package format 2); the
 * till's TZ plays no part. And the "reason" member of a tap's --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/port/posix/terminal_cli.h"

int term_stand(const struct opts *o, const char *takes, struct posix_terminal **out,
               struct terminal_config *cfg)
{
    const struct package_site *site;
    struct posix_terminal *t;
    uint32_t store = 0;
    int rc;
    *out = NULL;
    memset(cfg, 0, sizeof *cfg);
    if (o->store) {
        char *end;
        unsigned long long v = strtoull(o->store, &end, 10);
        if (o->store[0] < '1' || o->store[0] > '9' || *end != '\0' || v > UINT32_MAX)
            return term_fail(EXIT_USAGE, "--store '%s': a whole number from 1 to %u", o->store,
                             (unsigned)UINT32_MAX);
        store = (uint32_t)v;
    }
    if ((rc = term_open(o, NULL, &t)) != EXIT_DONE)
        return rc;
    if (!t->package.loaded) {
        term_close(t);
        return term_fail(EXIT_FAILED,
                         "no package loaded: load one with 'leal-terminal load FILE' (the "
                         "terminal takes no %s without one)",
                         takes);
    }
    /* The package's store wins; --store only names one for a package that
     * names none, and a --store that contradicts the package is refused,
     * never silently dropped (the rules' store lines would then differ from
     * what the till was told). */
    site = &t->package.info.site;
    if (o->store && site->store_id != 0 && store != site->store_id) {
        uint32_t named = site->store_id;
        term_close(t);
        return term_fail(EXIT_USAGE,
                         "--store %u: the loaded package is for store %u; drop --store (the "
                         "package names the store) or load the package of store %u",
                         store, named, store);
    }
    cfg->store_id = site->store_id ? site->store_id : store;
    cfg->classic_purse_cap = site->classic_purse_cap_cents;
    *out = t;
    return EXIT_DONE;
}

void term_stand_setup(struct posix_terminal *t, const struct card_reader *reader,
                      struct terminal_port *port, struct terminal_setup *s)
{
    /* The clock in the site's zone (package_local_offset), whatever TZ says. */
    *port = (struct terminal_port){"posix",       &t->package,    reader,       t->journal_st,
                                   t->package_st, posix_site_now, posix_random, posix_show};
    s->port = port;
    s->cp = t->cp;
    s->sam = &t->sam;
    s->package = &t->package;
    s->journal = &t->journal;
    s->sum = &t->sum;
}

void term_json_reason(bool refused, uint16_t reason)
{
    printf("\"reason\":");
    if (!refused) {
        printf("null");
        return;
    }
    printf("{\"code\":%u,\"name\":\"%s\",\"message\":", reason, leal_errname((leal_err)reason));
    term_json_str(leal_strerror((leal_err)reason));
    printf("}");
}
