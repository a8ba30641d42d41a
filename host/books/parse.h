/*
 * parse.h - what a person types for the books, read once for every front end
 * (the CLI's options, the import's fields, later a web form): ids and dates.
 * Amounts are host/ledger/amount.h. Pure functions; hosted only for timegm.
 */
#ifndef LEAL_BOOKS_PARSE_H
#define LEAL_BOOKS_PARSE_H

#include <stdint.h>

#include "keys/base/err.h"

/* A positive decimal id (digits only); LEAL_E_NUMBER otherwise. */
LEAL_MUST_CHECK leal_err books_parse_id(const char *s, int64_t *v);
/* YYYY-MM-DD, a real date from 1970 on, as unix seconds at 00:00 UTC;
 * LEAL_E_DATE otherwise. */
LEAL_MUST_CHECK leal_err books_parse_date(const char *s, int64_t *t);

#endif
