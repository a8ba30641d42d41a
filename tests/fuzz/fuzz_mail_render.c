/* fuzz_mail_render.c - host/mail's template renderer on any bytes: the input
 * up to its first NUL is the template, the rest the value of every variable.
 * Never a crash or a read outside the input; on LEAL_OK the HTML form holds
 * no '<' the template did not (a value can add no markup) and a template
 * without "{{" comes back unchanged; on an error the offset points at "{{". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/mail/mail_render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_lt(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '<';
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 2);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    in[size + 1] = '\0';
    const char *tmpl = in, *value = in + strlen(in) + 1;
    if (value > in + size)
        value = in + size; /* no NUL: the empty string */
    const struct mail_var vars[] = {{"name", value},  {"points", value},  {"tier", NULL},
                                    {"store", value}, {"program", value}, {"unsubscribe", value}};
    for (int html = 0; html < 2; html++) {
        char *out = NULL;
        size_t where = (size_t)-1;
        leal_err err = mail_render(tmpl, vars, 6, html == 1, &out, &where);
        if (err == LEAL_OK) {
            if (html && count_lt(out) > count_lt(tmpl))
                abort();
            if (!strstr(tmpl, "{{") && strcmp(out, tmpl) != 0)
                abort();
            free(out);
        } else if (err == LEAL_E_MESSAGE_TEMPLATE) {
            if (out || where >= strlen(tmpl) || strncmp(tmpl + where, "{{", 2) != 0)
                abort();
        } else if (err != LEAL_E_NO_MEMORY) {
            abort();
        }
    }
    free(in);
    return 0;
}
