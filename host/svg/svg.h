/*
 * svg.h - charts as SVG documents (issue 17): a time series (a line per
 * series over labelled points) or grouped bars, with a title, a y axis with
 * round ticks, x labels (thinned to fit), a legend, and each value also as
 * data-series/data-label/data-value attributes so a reader (a test, the web
 * back office's script) can take the figures back. The same drawing serves
 * `leal report --svg` and the web dashboard (host/web). Text is XML-escaped;
 * the document is self-contained (no script, no external reference).
 * Memory: the document is a malloc'd NUL-terminated buffer the caller frees.
 * Hosted. Errors: LEAL_E_ARG (no points, no series, more than SVG_MAX_SERIES
 * or a value that is not finite or beyond 1e15), LEAL_E_NO_MEMORY.
 */
#ifndef LEAL_SVG_H
#define LEAL_SVG_H

#include <stdbool.h>
#include <stddef.h>

#include "keys/base/err.h"

#define SVG_MAX_SERIES 8

struct svg_series {
    const char *name;
    const double *values; /* npoints of them */
};

struct svg_chart {
    const char *title;
    const char *y_unit; /* shown beside the axis ("EUR", "points"); NULL: none */
    size_t npoints;
    const char *const *labels; /* npoints x labels */
    size_t nseries;
    const struct svg_series *series;
    bool bars;         /* grouped bars; else a line per series */
    int width, height; /* 0: 800 x 400 */
};

/* The chart as an SVG document in *out (*len bytes, NUL after them). */
LEAL_MUST_CHECK leal_err svg_chart_render(const struct svg_chart *c, char **out, size_t *len);

#endif
