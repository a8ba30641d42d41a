/*
 * web_static.c - the pages embedded (see web_static.h). The Makefile makes
 * this object depend on host/web/static/, so an edited page rebuilds it.
 */
#include "web_static.h"

#include <string.h>

#define EMBED(sym, file)                                                                           \
    __asm__(".pushsection .rodata\n.balign 16\n.globl " #sym "\n" #sym ":\n.incbin \"" file        \
            "\"\n.globl " #sym "_end\n" #sym "_end:\n.byte 0\n.popsection\n")

EMBED(web_static_index_html, "host/web/static/index.html");
EMBED(web_static_app_js, "host/web/static/app.js");
EMBED(web_static_app_css, "host/web/static/app.css");
EMBED(web_static_portal_html, "host/web/static/portal.html");
EMBED(web_static_portal_js, "host/web/static/portal.js");
EMBED(web_static_spend_html, "host/web/static/spend.html");
EMBED(web_static_spend_js, "host/web/static/spend.js");
EMBED(web_static_qr_js, "host/web/static/qr.js");
EMBED(web_static_sw_js, "host/web/static/sw.js");

extern const unsigned char web_static_index_html[], web_static_index_html_end[];
extern const unsigned char web_static_app_js[], web_static_app_js_end[];
extern const unsigned char web_static_app_css[], web_static_app_css_end[];
extern const unsigned char web_static_portal_html[], web_static_portal_html_end[];
extern const unsigned char web_static_portal_js[], web_static_portal_js_end[];
extern const unsigned char web_static_spend_html[], web_static_spend_html_end[];
extern const unsigned char web_static_spend_js[], web_static_spend_js_end[];
extern const unsigned char web_static_qr_js[], web_static_qr_js_end[];
extern const unsigned char web_static_sw_js[], web_static_sw_js_end[];

#define HTML "text/html; charset=utf-8"
#define JS "text/javascript; charset=utf-8"

const struct web_static_file *web_static_find(const char *path)
{
#define NFILES 9
    static struct web_static_file files[NFILES];
    /* The spending-code page has a folder of its own: its service worker's
     * scope (/portal/spend/) is that folder. */
    static const char *const paths[NFILES] = {"/",
                                              "/app.js",
                                              "/app.css",
                                              "/portal/",
                                              "/portal/portal.js",
                                              "/portal/spend/",
                                              "/portal/spend/spend.js",
                                              "/portal/spend/qr.js",
                                              "/portal/spend/sw.js"};
    static const char *const types[NFILES] = {
        HTML, JS, "text/css; charset=utf-8", HTML, JS, HTML, JS, JS, JS};
    const unsigned char *const start[NFILES] = {
        web_static_index_html,  web_static_app_js,    web_static_app_css,
        web_static_portal_html, web_static_portal_js, web_static_spend_html,
        web_static_spend_js,    web_static_qr_js,     web_static_sw_js};
    const unsigned char *const end[NFILES] = {
        web_static_index_html_end,  web_static_app_js_end,    web_static_app_css_end,
        web_static_portal_html_end, web_static_portal_js_end, web_static_spend_html_end,
        web_static_spend_js_end,    web_static_qr_js_end,     web_static_sw_js_end};
    for (int i = 0; i < NFILES; i++)
        if (strcmp(path, paths[i]) == 0) {
            files[i] =
                (struct web_static_file){paths[i], types[i], start[i], (size_t)(end[i] - start[i])};
            return &files[i];
        }
    return NULL;
}
