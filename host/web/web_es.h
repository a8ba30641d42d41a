/*
 * web_es.h - Spanish for the server's own words (issue 16): the messages of
 * the error codes the back office and the portal answer with, and the
 * fixed details their handlers add. An answer's message is in Spanish when
 * the request's language is (struct web_req's lang: the user's, else the
 * browser's Accept-Language). Data (names, a ledger's detail naming what it
 * refused) is never translated. Hosted; no allocation.
 */
#ifndef LEAL_WEB_ES_H
#define LEAL_WEB_ES_H

#include <stddef.h>

#include "keys/base/err.h"

/* err's message in Spanish, or NULL for a code the server does not answer with. */
const char *web_es_error(leal_err err);
/* The Spanish of one of the handlers' fixed details, or NULL. */
const char *web_es_detail(const char *en);
/* Entry i of the details' table (*en, *es) and how many there are; 0 past the end. */
size_t web_es_details(const char **en, const char **es, size_t i);
/* The language an Accept-Language header asks for among those the back
 * office speaks: "es" or "en" (the one with the higher q; the first on a
 * tie; "en" when it names neither or is NULL). */
const char *web_es_accept(const char *header);

#endif
