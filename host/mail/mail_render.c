/*
 * mail_render.c - templates with {{variables}} (see mail_render.h).
 */
#include "mail_render.h"

#include <stdlib.h>
#include <string.h>

#include "host/mail/mail_buf.h"

static void rb_value(struct mail_buf *b, const char *v, bool html)
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
            mail_buf_add(b, e, strlen(e));
        else
            mail_buf_add(b, v, 1);
    }
}

leal_err mail_render(const char *tmpl, const struct mail_var *vars, size_t n, bool html, char **out,
                     size_t *where)
{
    struct mail_buf b = {0};
    const char *p = tmpl;
    *out = NULL;
    mail_buf_add(&b, "", 0);
    while (*p) {
        const char *open = strstr(p, "{{");
        if (!open) {
            mail_buf_add(&b, p, strlen(p));
            break;
        }
        mail_buf_add(&b, p, (size_t)(open - p));
        const char *name = open + 2, *close = strstr(name, "}}");
        size_t i = n;
        if (close)
            for (i = 0; i < n; i++)
                if (strlen(vars[i].name) == (size_t)(close - name) &&
                    memcmp(vars[i].name, name, (size_t)(close - name)) == 0)
                    break;
        if (i == n) {
            free(b.p);
            if (where)
                *where = (size_t)(open - tmpl);
            return LEAL_E_MESSAGE_TEMPLATE;
        }
        rb_value(&b, vars[i].value, html);
        p = close + 2;
    }
    if (b.oom) {
        free(b.p);
        return LEAL_E_NO_MEMORY;
    }
    *out = b.p;
    return LEAL_OK;
}
