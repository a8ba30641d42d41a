/*
 * web_static.h - the back office's pages (host/web/static/: HTML, CSS and
 * plain JavaScript, no build step), embedded in the program by the
 * assembler's .incbin so that what runs is what was built: no folder to
 * install or get out of step. Hosted.
 */
#ifndef LEAL_WEB_STATIC_H
#define LEAL_WEB_STATIC_H

#include <stddef.h>

struct web_static_file {
    const char *path; /* "/", "/app.js", ... */
    const char *type; /* its Content-Type */
    const unsigned char *data;
    size_t len;
};

/* The page at path, or NULL. */
const struct web_static_file *web_static_find(const char *path);

#endif
