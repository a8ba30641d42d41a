/* till_line.c - the till's tap lines (till_line.h). */
#include "firmware/core/till_line.h"

#include "keys/base/bytes.h"

static bool word_is(const char *w, const char *name)
{
    while (*w && *w == *name)
        w++, name++;
    return *w == '\0' && *name == '\0';
}

leal_err till_line_number(const char **p, char sep, uint64_t lo, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t digits = 0;
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        if (digits >= 19)
            return LEAL_E_FORMAT;
        v = v * 10u + (uint64_t)(*s - '0');
    }
    if (digits == 0 || v < lo || v > max)
        return LEAL_E_FORMAT;
    if (sep == ' ' ? !(*s == '\0' || (*s == ' ' && s[1] != '\0')) : *s != sep)
        return LEAL_E_FORMAT;
    *p = *s == '\0' ? s : s + 1;
    *out = v;
    return LEAL_OK;
}

leal_err till_line_split(char *line, size_t len, const char **word, const char **args, bool *spaced)
{
    size_t n = 0, sp = 0;
    *word = *args = "";
    *spaced = false;
    for (size_t i = 0; i < len; i++) {
        if (line[i] == '\0')
            return LEAL_E_FORMAT;
        if (line[i] != '\r')
            line[n++] = line[i];
    }
    line[n] = '\0';
    while (sp < n && line[sp] != ' ')
        sp++;
    *word = line;
    if (sp < n) {
        line[sp] = '\0';
        *spaced = true;
        if (n - sp - 1 >= TILL_LINE_ARGS_MAX)
            return LEAL_E_TOO_LARGE;
        *args = line + sp + 1;
    }
    return LEAL_OK;
}

leal_err till_line_request(const char *w, const char *a, struct terminal_request *req)
{
    uint64_t v = 0, c = 0;
    bool sale;
    leal_err err = LEAL_OK;
    leal_memset(req, 0, sizeof *req);
    sale = word_is(w, "EARN") || word_is(w, "PAYEARN");
    if (word_is(w, "PAY") || word_is(w, "PAYEARN")) {
        req->op = sale ? TERMINAL_PAY_EARN : TERMINAL_PAY;
        if ((err = till_line_number(&a, ' ', 1, RULES_MAX_SALE_CENTS, &v)) != LEAL_OK)
            return err;
        req->pay_cents = (int64_t)v;
    }
    if (sale) {
        if (!req->op)
            req->op = TERMINAL_EARN;
        if ((err = till_line_number(&a, ' ', 1, RULES_MAX_SALE_CENTS, &v)) != LEAL_OK)
            return err;
        req->amount_cents = (int64_t)v;
        while (*a != '\0' && err == LEAL_OK) {
            struct rules_item *it = &req->items[req->n_items];
            if (req->n_items == RULES_MAX_ITEMS)
                return LEAL_E_TOO_LARGE;
            if ((err = till_line_number(&a, '=', 1, UINT16_MAX, &c)) == LEAL_OK &&
                (err = till_line_number(&a, ' ', 1, RULES_MAX_SALE_CENTS, &v)) == LEAL_OK) {
                it->category = (uint16_t)c;
                it->quantity = 1;
                it->amount_cents = (int64_t)v;
                req->n_items++;
            }
        }
    } else if (word_is(w, "REDEEM") || word_is(w, "BONO")) {
        req->op = w[0] == 'R' ? TERMINAL_REDEEM : TERMINAL_BONO;
        err = till_line_number(&a, ' ', 1, UINT32_MAX, &v);
        req->item = (uint32_t)v;
    } else if (word_is(w, "STAMP")) {
        req->op = TERMINAL_STAMP;
        err = till_line_number(&a, ' ', 1, RULES_STAMP_CARDS, &v);
        req->item = (uint32_t)v - 1u;
    } else if (word_is(w, "VOID") || word_is(w, "BALANCE")) {
        req->op = w[0] == 'V' ? TERMINAL_VOID : TERMINAL_BALANCE;
    }
    if (err == LEAL_OK && (req->op == 0 || *a != '\0'))
        err = req->op == 0 ? LEAL_E_USAGE : LEAL_E_FORMAT;
    return err;
}
