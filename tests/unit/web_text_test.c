/*
 * web_text_test.c - texts the web layer builds at run time in the request's
 * language (web_textf, host/web/web_api.h): every format in web_es.c's
 * table has the same conversions, in the same order, in both languages (a
 * Spanish format taking other arguments would print garbage or crash), and
 * exact Spanish and English texts for the catalogue's refusals and a date.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/web/web_api.h"
#include "host/web/web_es.h"

/* The conversions of fmt ("%s %zu %u"), "%%" left out, into out. */
static void conversions(const char *fmt, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *p = fmt; *p; p++) {
        if (*p != '%')
            continue;
        if (p[1] == '%') {
            p++;
            continue;
        }
        const char *q = p + 1;
        while (*q && strchr("0123456789.-+ #lhzjt", *q))
            q++;
        n += (size_t)snprintf(out + n, cap - n, "%.*s ", (int)(q - p + 1), p);
        assert_true(n < cap);
        p = q;
    }
}

static void formats_agree_in_both_languages(void **state)
{
    const char *en, *es;
    char a[128], b[128];
    size_t n = web_es_details(&en, &es, 0), formats = 0;
    (void)state;
    assert_true(n > 60);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(web_es_details(&en, &es, i), n);
        conversions(en, a, sizeof a);
        conversions(es, b, sizeof b);
        if (strcmp(a, b) != 0)
            fail_msg("\"%s\" and \"%s\" take different arguments: %s/ %s", en, es, a, b);
        formats += a[0] != '\0';
    }
    assert_int_equal(web_es_details(&en, &es, n), 0);
    /* The two fixed formats and the catalogue's 19 refusals. */
    assert_int_equal(formats, 21);
}

static void textf_follows_the_language(void **state)
{
    struct web_req r;
    char out[160];
    (void)state;
    memset(&r, 0, sizeof r);
    r.lang = "es";
    web_textf(&r, out, sizeof out, "tier %u already starts at %u euros", 1u, 20u);
    assert_string_equal(out, "el nivel 1 ya empieza en 20 euros");
    web_textf(&r, out, sizeof out, "reward %u asks for tier %u; remove it or the tier stays", 3u,
              1u);
    assert_string_equal(out, "el premio 3 pide el nivel 1; quítelo o el nivel se queda");
    web_textf(&r, out, sizeof out, "?%s= takes a date, YYYY-MM-DD", "from");
    assert_string_equal(out, "?from= lleva una fecha, AAAA-MM-DD");
    web_textf(&r, out, sizeof out, "\"%s\" must be text of at most %zu bytes", "name", (size_t)63);
    assert_string_equal(out, "\"name\" debe ser un texto de 63 bytes como mucho");
    /* A format the table lacks stays English; a short buffer cuts. */
    web_textf(&r, out, sizeof out, "no table has %d", 7);
    assert_string_equal(out, "no table has 7");
    web_textf(&r, out, 9, "there is no bono %u", 12u);
    assert_string_equal(out, "no hay n");
    r.lang = "en";
    web_textf(&r, out, sizeof out, "tier %u already starts at %u euros", 1u, 20u);
    assert_string_equal(out, "tier 1 already starts at 20 euros");
    r.lang = NULL;
    web_textf(&r, out, sizeof out, "there is no bono %u", 12u);
    assert_string_equal(out, "there is no bono 12");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats_agree_in_both_languages),
        cmocka_unit_test(textf_follows_the_language),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
