/*
 * report_out.h - a report (report.h) as a file a person or a program reads:
 * CSV after RFC 4180 (CRLF line ends, a header row, a field with the
 * separator, a quote or a line break quoted and its quotes doubled; ','
 * and decimal point, or with es ';' and decimal comma), JSON (one object:
 * the report, its window and every part as an array of objects; euros as
 * numbers with two decimals, dates as "YYYY-MM-DD", no figure as null), and
 * an Excel workbook (libxlsxwriter): one sheet per part, the header row
 * frozen, counts as numbers, euros as numbers with a currency format, days
 * and months as dates. Files are written whole or not at all (a temporary
 * file in a private folder beside the target, fsync, rename) with mode 0600.
 * Hosted. Errors: LEAL_E_IO, LEAL_E_NO_MEMORY, LEAL_E_NOT_FOUND, file.h's.
 */
#ifndef LEAL_REPORT_OUT_H
#define LEAL_REPORT_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "host/report/report.h"

/* A cell as text: euros "12.50" (es: "12,50"), dates, months; "" for no figure. */
void report_cell_str(const struct report_col *col, const struct report_cell *c, bool es, char *out,
                     size_t cap);

/* Part p as CSV to f. */
LEAL_MUST_CHECK leal_err report_write_csv(FILE *f, const struct report_part *p, bool es);
/* The whole report as JSON (one line) to f. */
LEAL_MUST_CHECK leal_err report_write_json(FILE *f, const struct report *r);
/* The whole report as an .xlsx workbook at path (replaced if there). */
LEAL_MUST_CHECK leal_err report_write_xlsx(const char *path, const struct report *r);

#endif
