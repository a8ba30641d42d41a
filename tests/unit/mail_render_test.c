/* mail_render_test.c - host/mail's template renderer: exact output for text
 * and HTML (values escaped, the template's own markup kept), and the errors
 * with the offset of the bad "{{". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/mail/mail_render.h"

static const struct mail_var vars[] = {
    {"name", "<b>Eva & \"co\"</b>"}, {"points", "120"}, {"tier", NULL}, {"store", "Sol 'C'"}};

static void test_render_text_and_html(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(mail_render("Hola {{name}}: {{points}} puntos{{tier}} en {{store}}. {x} }}",
                                 vars, 4, false, &out, NULL),
                     LEAL_OK);
    assert_string_equal(out, "Hola <b>Eva & \"co\"</b>: 120 puntos en Sol 'C'. {x} }}");
    free(out);
    assert_int_equal(mail_render("<p>{{name}} &amp; {{store}}</p>", vars, 4, true, &out, NULL),
                     LEAL_OK);
    assert_string_equal(out,
                        "<p>&lt;b&gt;Eva &amp; &quot;co&quot;&lt;/b&gt; &amp; Sol &#39;C&#39;</p>");
    free(out);
    assert_int_equal(mail_render("", vars, 4, true, &out, NULL), LEAL_OK);
    assert_string_equal(out, "");
    free(out);
}

static void test_render_errors_point_at_the_braces(void **state)
{
    (void)state;
    const struct {
        const char *tmpl;
        size_t where;
    } bad[] = {
        {"Hola {{nombre}}", 5}, {"ok {{name}} then {{name", 17}, {"{{ name }}", 0}, {"{{}}", 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = (char *)1;
        size_t where = 999;
        assert_int_equal(mail_render(bad[i].tmpl, vars, 4, false, &out, &where),
                         LEAL_E_MESSAGE_TEMPLATE);
        assert_null(out);
        assert_int_equal(where, bad[i].where);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_text_and_html),
        cmocka_unit_test(test_render_errors_point_at_the_braces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
