/* fuzz_till_line.c - any line through till_line_split (as leal-terminal
 * serve --stdio splits a till's line, the way the board does) and
 * till_line_request: never crash, the split's parts are text of the line
 * within their bounds, and every accepted tap is one of the tap operations
 * with its amounts, categories and items in range. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "firmware/core/till_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char line[512 + 1];
    struct terminal_request r;
    const char *w, *a;
    bool spaced;
    if (size >= sizeof line)
        return 0;
    memcpy(line, data, size);
    switch (till_line_split(line, size, &w, &a, &spaced)) {
    case LEAL_OK:
        break;
    case LEAL_E_TOO_LARGE:
        if (w != line || !spaced || *a != '\0' || strchr(w, ' ') != NULL)
            __builtin_trap();
        return 0;
    default:
        if (*w != '\0' || *a != '\0')
            __builtin_trap();
        return 0;
    }
    if (strlen(a) >= TILL_LINE_ARGS_MAX || strchr(w, ' ') != NULL || strchr(w, '\r') != NULL ||
        strchr(a, '\r') != NULL || w != line || strlen(w) > size ||
        (spaced ? a != w + strlen(w) + 1 : *a != '\0'))
        __builtin_trap();
    if (till_line_request(w, a, &r) != LEAL_OK)
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
