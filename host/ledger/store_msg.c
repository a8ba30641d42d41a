/*
 * store_msg.c - store_set_msg (store.h), alone in its file: both backends
 * (store.c and store_pg.c) write their detail through it, and neither may
 * call the other back.
 */
#include <stdarg.h>
#include <stdio.h>

#include "store.h"

void store_set_msg(struct ledger *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->msg, sizeof l->msg, fmt, ap);
    va_end(ap);
}
