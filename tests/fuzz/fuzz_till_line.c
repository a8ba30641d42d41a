/* fuzz_till_line.c - till_line_request on any line (the word up to the first
 * space, the arguments after it, as the board splits a till's line): never
 * crash, and every accepted tap is one of the tap operations with its
 * amounts, categories and items in range. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "firmware/core/till_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char line[12 + TILL_LINE_ARGS_MAX];
    struct terminal_request r;
    char *sp;
    if (size >= sizeof line || memchr(data, 0, size) != NULL)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    sp = strchr(line, ' ');
    if (sp != NULL)
        *sp = '\0';
    if (till_line_request(line, sp ? sp + 1 : "", &r) != LEAL_OK)
        return 0;
    if (r.op < TERMINAL_EARN || r.op > TERMINAL_BALANCE || r.n_items > RULES_MAX_ITEMS ||
        r.amount_cents < 0 || r.amount_cents > RULES_MAX_SALE_CENTS || r.pay_cents < 0 ||
        r.pay_cents > RULES_MAX_SALE_CENTS)
        __builtin_trap();
    if (r.op == TERMINAL_STAMP && r.item >= RULES_STAMP_CARDS)
        __builtin_trap();
    for (size_t i = 0; i < r.n_items; i++)
        if (r.items[i].category == 0 || r.items[i].quantity != 1 || r.items[i].amount_cents < 1 ||
            r.items[i].amount_cents > RULES_MAX_SALE_CENTS)
            __builtin_trap();
    return 0;
}
