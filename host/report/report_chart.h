/*
 * report_chart.h - a report's chart (its struct report_chart_spec) as SVG
 * through host/svg: the rows of the chart's part summed by its x column (a
 * day of several stores is one point), one series per y column, euros in
 * euros. Hosted. Errors: LEAL_E_REPORT_EMPTY (no rows to draw), svg.h's.
 */
#ifndef LEAL_REPORT_CHART_H
#define LEAL_REPORT_CHART_H

#include <stddef.h>

#include "host/report/report.h"

/* The chart of r as an SVG document (malloc'd, *len bytes). */
LEAL_MUST_CHECK leal_err report_chart_svg(const struct report *r, char **out, size_t *len);

#endif
