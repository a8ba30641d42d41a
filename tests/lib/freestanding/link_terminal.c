/*
 * link_terminal.c - linked, never run, by link_terminal.sh: a program that
 * opens an offline terminal (firmware/core/terminal.h) on the template
 * port, with the software SAM (firmware/core/sam.h) over an empty bundle,
 * the journal on the template port's storage and a package that is not
 * loaded, and taps a DESFire and a Classic card: everything a tap reaches
 * (the card operations of both types, the rules engine, the package
 * lookups, the journal) built freestanding with the portable provider and
 * linked with -nostdlib. Any use of the C library (malloc, stdio, ...) is an
 * undefined symbol here. The memory functions a C compiler may call by
 * itself come from mem.c, as a bare-metal port gives them.
 */
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/terminal.h"
#include "firmware/port/template/port_template.h"
#include "keys/portable/provider_portable.h"

void terminal_link_start(void);

static leal_err no_random(uint8_t *out, size_t n)
{
    (void)out, (void)n;
    return LEAL_E_RANDOM;
}

static const struct crypto_provider provider = CRYPTO_PORTABLE_PROVIDER(no_random);

volatile unsigned terminal_link_result;

void terminal_link_start(void)
{
    static struct journal j;
    static struct journal_report rep;
    static struct package_terminal pkg;
    static struct bundle b;
    static struct sam_soft soft;
    static struct sam sam;
    static struct terminal t;
    static struct journal_sum sum; /* the running summary links freestanding too */
    static struct terminal_result r;
    static const struct journal_config cfg = {7, 3, 2, {1, 2, 3}};
    const struct terminal_port *port = port_template();
    struct port_time now = {1780000000u, 60};
    struct terminal_request q = {TERMINAL_EARN, 2350, 0, 0, 0, {{0, 0, 0}}};
    struct terminal_card card = {TERMINAL_CARD_DESFIRE, {4, 1, 2, 3, 4, 5, 6}, 7};
    unsigned bad = journal_open(&j, port->journal, &provider, &cfg, &now, &rep) != LEAL_OK;
    bad |= sam_soft_open(&soft, &provider, &b, &sam) != LEAL_OK;
    bad |= terminal_open(&t, &(struct terminal_setup){
                                 port, &provider, &sam, {0, 0}, &pkg, &j, &sum}) != LEAL_OK;
    bad |= terminal_tap(&t, &card, &q, &r) != LEAL_OK;
    card.type = TERMINAL_CARD_CLASSIC;
    bad |= terminal_tap(&t, &card, &q, &r) != LEAL_OK;
    terminal_close(&t);
    sam_soft_close(&soft);
    journal_close(&j);
    terminal_link_result = bad;
    for (;;) {
    }
}
