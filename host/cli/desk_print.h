/*
 * desk_print.h - the desk card view (host/desk/desk_view.h) as the CLI prints
 * it in --json: one JSON object on one line on stdout (`leal card issue|read|
 * top-up|replace|sync --json` and each card of `leal desk --json`).
 */
#ifndef LEAL_DESK_PRINT_H
#define LEAL_DESK_PRINT_H

#include "host/desk/desk_view.h"

void desk_print_json(const struct desk_card_view *w);

#endif
