/*
 * mail_render.h - a message template with variables ({{name}}, {{points}},
 * ...) rendered for one customer (issue 17). The template comes from the
 * program's staff and the values from the ledger; in the HTML form every
 * value is escaped (& < > " '), so no customer's name can add markup.
 * Hosted. Errors: LEAL_E_MESSAGE_TEMPLATE (a "{{" without "}}" or a name
 * not in vars), LEAL_E_NO_MEMORY.
 */
#ifndef LEAL_MAIL_RENDER_H
#define LEAL_MAIL_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "keys/base/err.h"

struct mail_var {
    const char *name;  /* without braces: "name" */
    const char *value; /* UTF-8; NULL renders as "" */
};

/* tmpl with each {{NAME}} (NAME as in vars, no spaces) replaced by its
 * value, HTML-escaped when html; malloc'd into *out. "{" and "}" alone are
 * copied as they are. On an error *out is NULL and, if where is not NULL,
 * *where is the byte offset of the bad "{{". */
LEAL_MUST_CHECK leal_err mail_render(const char *tmpl, const struct mail_var *vars, size_t n,
                                     bool html, char **out, size_t *where);

#endif
