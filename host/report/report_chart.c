/*
 * report_chart.c - a report's chart as SVG (report_chart.h).
 */
#include "report_chart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/report/report_out.h"
#include "host/svg/svg.h"

#define LABEL 64

/* The distinct x labels of part p (in row order) and the y columns summed per label. */
struct points {
    size_t n;
    char (*label)[LABEL];
    const char **labels;
    double *v; /* v[s * rows + i] */
};

static leal_err gather(const struct report_part *p, const struct report_chart_spec *cs,
                       struct points *pt)
{
    size_t rows = p->nrows ? p->nrows : 1;
    pt->label = calloc(rows, sizeof *pt->label);
    pt->labels = calloc(rows, sizeof *pt->labels);
    pt->v = calloc(rows * cs->ny, sizeof *pt->v);
    if (pt->label == NULL || pt->labels == NULL || pt->v == NULL)
        return LEAL_E_NO_MEMORY;
    for (size_t r = 0; r < p->nrows; r++) {
        char x[LABEL];
        size_t i = 0;
        report_cell_str(&p->col[cs->x], report_cell_at(p, r, cs->x), false, x, sizeof x);
        while (i < pt->n && strcmp(pt->label[i], x) != 0)
            i++;
        if (i == pt->n) {
            snprintf(pt->label[pt->n], LABEL, "%s", x);
            pt->labels[pt->n] = pt->label[pt->n];
            pt->n++;
        }
        for (size_t s = 0; s < cs->ny; s++) {
            const struct report_cell *c = report_cell_at(p, r, cs->y[s]);
            double d = c->null ? 0.0 : (double)c->i;
            pt->v[s * rows + i] += p->col[cs->y[s]].type == REPORT_EUR ? d / 100.0 : d;
        }
    }
    return LEAL_OK;
}

leal_err report_chart_svg(const struct report *r, char **out, size_t *len)
{
    const struct report_chart_spec *cs = &r->chart;
    const struct report_part *p = &r->part[cs->part];
    struct svg_series series[4];
    struct points pt = {0};
    char title[160], from[16], to[16];
    leal_err err;
    *out = NULL;
    *len = 0;
    if (cs->part >= r->nparts || cs->ny == 0 || cs->ny > 4)
        return LEAL_E_ARG;
    if (p->nrows == 0)
        return LEAL_E_REPORT_EMPTY;
    if ((err = gather(p, cs, &pt)) == LEAL_OK) {
        bool eur = false;
        for (size_t s = 0; s < cs->ny; s++) {
            series[s].name = p->col[cs->y[s]].name;
            series[s].values = &pt.v[s * p->nrows];
            eur = eur || p->col[cs->y[s]].type == REPORT_EUR;
        }
        report_day_str(r->from_day, from, sizeof from);
        report_day_str(r->to_day, to, sizeof to);
        snprintf(title, sizeof title, "%s (%s), %s to %s", r->name, p->name, from, to);
        struct svg_chart c = {.title = title,
                              .y_unit = eur ? "EUR" : NULL,
                              .npoints = pt.n,
                              .labels = pt.labels,
                              .nseries = cs->ny,
                              .series = series,
                              .bars = cs->bars};
        err = svg_chart_render(&c, out, len);
    }
    free(pt.label);
    free(pt.labels);
    free(pt.v);
    return err;
}
