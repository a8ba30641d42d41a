/*
 * svg.c - charts as SVG (svg.h).
 */
#include "svg.h"

#include "host/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Series colours: distinguishable, also in grey print. */
static const char *const palette[SVG_MAX_SERIES] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                                    "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

static void put(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

/* s as XML character data or an attribute value. */
static void put_text(struct strbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            put(b, "&amp;");
            break;
        case '<':
            put(b, "&lt;");
            break;
        case '>':
            put(b, "&gt;");
            break;
        case '"':
            put(b, "&quot;");
            break;
        case '\'':
            put(b, "&apos;");
            break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
                put(b, "%c", *s);
            break;
        }
    }
}

/* Without libm (the programs link none): what the chart needs of it. */
static double abs_of(double v)
{
    return v < 0 ? -v : v;
}

static double min_of(double a, double b)
{
    return a < b ? a : b;
}

static double max_of(double a, double b)
{
    return a > b ? a : b;
}

static bool finite_in_range(double v)
{
    return v == v && v > -1e15 && v < 1e15; /* NaN and infinities fail */
}

/* v rounded down (up) to a whole multiple of step; |v / step| < 2^62. */
static double floor_to(double v, double step)
{
    double q = (double)(long long)(v / step);
    return (q > v / step ? q - 1 : q) * step;
}

static double ceil_to(double v, double step)
{
    double q = (double)(long long)(v / step);
    return (q < v / step ? q + 1 : q) * step;
}

/* A round step (1, 2 or 5 times a power of ten) giving about 5 ticks over span. */
static double nice_step(double span)
{
    double raw = span / 5.0, mag = 1.0;
    while (mag * 10.0 <= raw)
        mag *= 10.0;
    while (mag > raw)
        mag /= 10.0;
    double f = raw / mag;
    return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * mag;
}

/* The plot's geometry: margins, and the value range its y axis covers. */
struct frame {
    double left, top, w, h;
    double lo, hi, step;
};

static void frame_of(const struct svg_chart *c, double width, double height, struct frame *f)
{
    double lo = 0.0, hi = 0.0;
    for (size_t s = 0; s < c->nseries; s++)
        for (size_t i = 0; i < c->npoints; i++) {
            lo = min_of(lo, c->series[s].values[i]);
            hi = max_of(hi, c->series[s].values[i]);
        }
    if (hi - lo < 1e-9)
        hi = lo + 1.0;
    f->step = nice_step(hi - lo);
    f->lo = floor_to(lo, f->step);
    f->hi = ceil_to(hi, f->step);
    f->left = 70.0;
    f->top = 40.0;
    f->w = width - f->left - 20.0;
    f->h = height - f->top - 90.0;
}

static double y_of(const struct frame *f, double v)
{
    return f->top + f->h * (f->hi - v) / (f->hi - f->lo);
}

static void axes(struct strbuf *b, const struct svg_chart *c, const struct frame *f)
{
    put(b, "<g class=\"axis\" font-size=\"11\" fill=\"#333\">\n");
    for (double v = f->lo; v <= f->hi + f->step / 2; v += f->step) {
        double y = y_of(f, v);
        put(b,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.10g</text>\n",
            f->left, y, f->left + f->w, y, f->left - 6, y + 4, abs_of(v) < 1e-12 ? 0.0 : v);
    }
    if (c->y_unit) {
        put(b,
            "<text x=\"14\" y=\"%.1f\" transform=\"rotate(-90 14 %.1f)\" "
            "text-anchor=\"middle\">",
            f->top + f->h / 2, f->top + f->h / 2);
        put_text(b, c->y_unit);
        put(b, "</text>\n");
    }
    size_t every = c->npoints / 12 + 1;
    double slot = f->w / (double)c->npoints;
    for (size_t i = 0; i < c->npoints; i += every) {
        double x = f->left + slot * ((double)i + 0.5), y = f->top + f->h + 14;
        put(b,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" transform=\"rotate(-35 %.1f %.1f)\">",
            x, y, x, y);
        put_text(b, c->labels[i]);
        put(b, "</text>\n");
    }
    put(b, "</g>\n");
}

static void point_attrs(struct strbuf *b, const struct svg_chart *c, size_t s, size_t i)
{
    put(b, " data-label=\"");
    put_text(b, c->labels[i]);
    put(b, "\" data-value=\"%.15g\"><title>", c->series[s].values[i]);
    put_text(b, c->series[s].name);
    put(b, ", ");
    put_text(b, c->labels[i]);
    put(b, ": %.15g</title>", c->series[s].values[i]);
}

static void series(struct strbuf *b, const struct svg_chart *c, const struct frame *f, size_t s)
{
    double slot = f->w / (double)c->npoints, bw = slot * 0.8 / (double)c->nseries;
    put(b, "<g class=\"series\" data-series=\"");
    put_text(b, c->series[s].name);
    put(b, "\" fill=\"%s\" stroke=\"%s\">\n", palette[s], palette[s]);
    if (!c->bars) {
        put(b, "<polyline fill=\"none\" stroke-width=\"2\" points=\"");
        for (size_t i = 0; i < c->npoints; i++)
            put(b, "%s%.1f,%.1f", i ? " " : "", f->left + slot * ((double)i + 0.5),
                y_of(f, c->series[s].values[i]));
        put(b, "\"/>\n");
    }
    for (size_t i = 0; i < c->npoints; i++) {
        double v = c->series[s].values[i], y0 = y_of(f, 0.0), y = y_of(f, v);
        if (c->bars)
            put(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"",
                f->left + slot * ((double)i + 0.1) + bw * (double)s, min_of(y, y0), bw,
                abs_of(y0 - y));
        else
            put(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"", f->left + slot * ((double)i + 0.5),
                y);
        point_attrs(b, c, s, i);
        put(b, c->bars ? "</rect>\n" : "</circle>\n");
    }
    put(b, "</g>\n");
}

static void legend(struct strbuf *b, const struct svg_chart *c, double height)
{
    put(b, "<g class=\"legend\" font-size=\"12\">\n");
    for (size_t s = 0; s < c->nseries; s++) {
        double x = 70.0 + 170.0 * (double)s, y = height - 14;
        put(b,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
            "<text x=\"%.1f\" y=\"%.1f\">",
            x, y - 10, palette[s], x + 16, y);
        put_text(b, c->series[s].name);
        put(b, "</text>\n");
    }
    put(b, "</g>\n");
}

static bool chart_ok(const struct svg_chart *c)
{
    if (c->npoints == 0 || c->nseries == 0 || c->nseries > SVG_MAX_SERIES || c->labels == NULL)
        return false;
    for (size_t s = 0; s < c->nseries; s++)
        for (size_t i = 0; i < c->npoints; i++)
            if (!finite_in_range(c->series[s].values[i]))
                return false;
    return true;
}

leal_err svg_chart_render(const struct svg_chart *c, char **out, size_t *len)
{
    struct strbuf b = {0};
    struct frame f;
    double width = c->width > 0 ? c->width : 800, height = c->height > 0 ? c->height : 400;
    *out = NULL;
    *len = 0;
    if (!chart_ok(c))
        return LEAL_E_ARG;
    frame_of(c, width, height, &f);
    put(&b,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
        "viewBox=\"0 0 %.0f %.0f\" role=\"img\" font-family=\"sans-serif\">\n<title>",
        width, height, width, height);
    put_text(&b, c->title);
    put(&b,
        "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n"
        "<text x=\"%.1f\" y=\"24\" font-size=\"16\" text-anchor=\"middle\">",
        width / 2);
    put_text(&b, c->title);
    put(&b, "</text>\n");
    axes(&b, c, &f);
    for (size_t s = 0; s < c->nseries; s++)
        series(&b, c, &f, s);
    legend(&b, c, height);
    put(&b, "</svg>\n");
    if (strbuf_err(&b) != LEAL_OK) {
        leal_err err = strbuf_err(&b);
        strbuf_free(&b);
        return err;
    }
    *out = b.p;
    *len = b.len;
    return LEAL_OK;
}
