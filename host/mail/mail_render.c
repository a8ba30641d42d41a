/*
 * mail_render.c - templates with {{variables}} (see mail_render.h).
 */
#include "mail_render.h"

#include <stdlib.h>
#include <string.h>

#include "host/strbuf.h"

static void rb_value(struct strbuf *b, const char *v, bool html)
{
    for (; v && *v; v++) {
        const char *e = NULL;
        if (html)
            e = *v == '&'    ? "&amp;"
                : *v == '<'  ? "&lt;"
                : *v == '>'  ? "&gt;"
                : *v == '"'  ? "&quot;"
                : *v == '\'' ? "&#39;"
                             : NULL;
        if (e)
            strbuf_add(b, e, strlen(e));
        else
            strbuf_add(b, v, 1);
    }
}

leal_err mail_render(const char *tmpl, const struct mail_var *vars, size_t n, bool html, char **out,
                     size_t *where)
{
    struct strbuf b = {0};
    const char *p = tmpl;
    *out = NULL;
    strbuf_add(&b, "", 0);
    while (*p) {
        const char *open = strstr(p, "{{");
        if (!open) {
            strbuf_add(&b, p, strlen(p));
            break;
        }
        strbuf_add(&b, p, (size_t)(open - p));
        const char *name = open + 2, *close = strstr(name, "}}");
        size_t i = n;
        if (close)
            for (i = 0; i < n; i++)
                if (strlen(vars[i].name) == (size_t)(close - name) &&
                    memcmp(vars[i].name, name, (size_t)(close - name)) == 0)
                    break;
        if (i == n) {
            strbuf_free(&b);
            if (where)
                *where = (size_t)(open - tmpl);
            return LEAL_E_MESSAGE_TEMPLATE;
        }
        rb_value(&b, vars[i].value, html);
        p = close + 2;
    }
    if (strbuf_err(&b) != LEAL_OK) {
        leal_err err = strbuf_err(&b);
        strbuf_free(&b);
        return err;
    }
    *out = b.p;
    return LEAL_OK;
}
