/*
 * mail_render.c - templates with {{variables}} (see mail_render.h).
 */
#include "mail_render.h"

#include <stdlib.h>
#include <string.h>

struct rbuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void rb_put(struct rbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void rb_value(struct rbuf *b, const char *v, bool html)
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
            rb_put(b, e, strlen(e));
        else
            rb_put(b, v, 1);
    }
}

leal_err mail_render(const char *tmpl, const struct mail_var *vars, size_t n, bool html, char **out,
                     size_t *where)
{
    struct rbuf b = {0};
    const char *p = tmpl;
    *out = NULL;
    rb_put(&b, "", 0);
    while (*p) {
        const char *open = strstr(p, "{{");
        if (!open) {
            rb_put(&b, p, strlen(p));
            break;
        }
        rb_put(&b, p, (size_t)(open - p));
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
