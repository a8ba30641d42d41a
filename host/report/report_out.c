/*
 * report_out.c - CSV, JSON and XLSX of a report (report_out.h).
 */
#include "report_out.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "host/file.h"

static void eur_str(int64_t cents, char sep, char *out, size_t cap)
{
    uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    snprintf(out, cap, "%s%" PRIu64 "%c%02u", cents < 0 ? "-" : "", a / 100, sep,
             (unsigned)(a % 100));
}

void report_cell_str(const struct report_col *col, const struct report_cell *c, bool es, char *out,
                     size_t cap)
{
    if (c->null) {
        snprintf(out, cap, "%s", "");
        return;
    }
    switch (col->type) {
    case REPORT_TEXT:
        snprintf(out, cap, "%s", c->s ? c->s : "");
        break;
    case REPORT_EUR:
        eur_str(c->i, es ? ',' : '.', out, cap);
        break;
    case REPORT_DATE:
        report_day_str(c->i, out, cap);
        break;
    case REPORT_MONTH:
        report_month_str(c->i, out, cap);
        break;
    default:
        snprintf(out, cap, "%" PRId64, c->i);
        break;
    }
}

/* ---- CSV ------------------------------------------------------------------- */

static void csv_field(FILE *f, const char *s, char sep, bool last)
{
    char specials[5] = {sep, '"', '\r', '\n', '\0'};
    if (strpbrk(s, specials) != NULL) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    if (last)
        fputs("\r\n", f);
    else
        fputc(sep, f);
}

leal_err report_write_csv(FILE *f, const struct report_part *p, bool es)
{
    char sep = es ? ';' : ',', buf[1024];
    for (size_t c = 0; c < p->ncols; c++)
        csv_field(f, p->col[c].name, sep, c + 1 == p->ncols);
    for (size_t r = 0; r < p->nrows; r++)
        for (size_t c = 0; c < p->ncols; c++) {
            report_cell_str(&p->col[c], report_cell_at(p, r, c), es, buf, sizeof buf);
            csv_field(f, buf, sep, c + 1 == p->ncols);
        }
    return ferror(f) ? LEAL_E_IO : LEAL_OK;
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_cell(FILE *f, const struct report_col *col, const struct report_cell *c)
{
    char buf[64];
    if (c->null) {
        fputs("null", f);
    } else if (col->type == REPORT_TEXT) {
        json_str(f, c->s ? c->s : "");
    } else if (col->type == REPORT_DATE || col->type == REPORT_MONTH) {
        report_cell_str(col, c, false, buf, sizeof buf);
        json_str(f, buf);
    } else {
        report_cell_str(col, c, false, buf, sizeof buf);
        fputs(buf, f);
    }
}

static void json_part(FILE *f, const struct report_part *p)
{
    json_str(f, p->name);
    fputs(":[", f);
    for (size_t r = 0; r < p->nrows; r++) {
        fputs(r ? ",{" : "{", f);
        for (size_t c = 0; c < p->ncols; c++) {
            if (c)
                fputc(',', f);
            json_str(f, p->col[c].name);
            fputc(':', f);
            json_cell(f, &p->col[c], report_cell_at(p, r, c));
        }
        fputc('}', f);
    }
    fputc(']', f);
}

leal_err report_write_json(FILE *f, const struct report *r)
{
    char from[16], to[16], pv[32];
    report_day_str(r->from_day, from, sizeof from);
    report_day_str(r->to_day, to, sizeof to);
    eur_str(r->point_value_cents, '.', pv, sizeof pv);
    fprintf(f, "{\"report\":");
    json_str(f, r->name);
    fprintf(f, ",\"program\":%" PRId64 ",\"store\":", r->program_id);
    if (r->store_id)
        fprintf(f, "%" PRId64, r->store_id);
    else
        fputs("null", f);
    fprintf(f, ",\"from\":\"%s\",\"to\":\"%s\",\"point_value\":%s,\"parts\":{", from, to,
            r->point_value_cents ? pv : "null");
    for (size_t i = 0; i < r->nparts; i++) {
        if (i)
            fputc(',', f);
        json_part(f, &r->part[i]);
    }
    fputs("}}\n", f);
    return ferror(f) ? LEAL_E_IO : LEAL_OK;
}

/* ---- XLSX ------------------------------------------------------------------ */

struct xlsx_formats {
    lxw_format *head, *eur, *date, *month;
};

static void xlsx_cell(lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, const struct report_col *rc,
                      const struct report_cell *c, const struct xlsx_formats *fm)
{
    lxw_datetime dt = {0};
    if (c->null) {
        worksheet_write_blank(ws, row, col, NULL);
        return;
    }
    switch (rc->type) {
    case REPORT_TEXT:
        worksheet_write_string(ws, row, col, c->s ? c->s : "", NULL);
        break;
    case REPORT_EUR:
        worksheet_write_number(ws, row, col, (double)c->i / 100.0, fm->eur);
        break;
    case REPORT_DATE:
    case REPORT_MONTH:
        report_civil(c->i, &dt.year, &dt.month, &dt.day);
        worksheet_write_datetime(ws, row, col, &dt, rc->type == REPORT_DATE ? fm->date : fm->month);
        break;
    default:
        worksheet_write_number(ws, row, col, (double)c->i, NULL);
        break;
    }
}

static void xlsx_sheet(lxw_workbook *wb, const struct report_part *p, const struct xlsx_formats *fm)
{
    lxw_worksheet *ws = workbook_add_worksheet(wb, p->name);
    if (ws == NULL)
        return; /* workbook_close reports the failure */
    for (size_t c = 0; c < p->ncols; c++) {
        lxw_col_t col = (lxw_col_t)c;
        worksheet_write_string(ws, 0, col, p->col[c].name, fm->head);
        worksheet_set_column(ws, col, col, p->col[c].type == REPORT_TEXT ? 24 : 16, NULL);
    }
    worksheet_freeze_panes(ws, 1, 0);
    for (size_t r = 0; r < p->nrows; r++)
        for (size_t c = 0; c < p->ncols; c++)
            xlsx_cell(ws, (lxw_row_t)(r + 1), (lxw_col_t)c, &p->col[c], report_cell_at(p, r, c),
                      fm);
}

static leal_err xlsx_file(const char *path, const struct report *r)
{
    lxw_workbook *wb = workbook_new(path);
    struct xlsx_formats fm;
    if (wb == NULL)
        return LEAL_E_IO;
    fm.head = workbook_add_format(wb);
    format_set_bold(fm.head);
    fm.eur = workbook_add_format(wb);
    format_set_num_format(fm.eur, "#,##0.00\\ \"\xe2\x82\xac\"");
    fm.date = workbook_add_format(wb);
    format_set_num_format(fm.date, "yyyy-mm-dd");
    fm.month = workbook_add_format(wb);
    format_set_num_format(fm.month, "yyyy-mm");
    for (size_t i = 0; i < r->nparts; i++)
        xlsx_sheet(wb, &r->part[i], &fm);
    return workbook_close(wb) == LXW_NO_ERROR ? LEAL_OK : LEAL_E_IO;
}

leal_err report_write_xlsx(const char *path, const struct report *r)
{
    char dir[4096], tmp[4200];
    leal_err err = file_private_dir(path, dir, sizeof dir);
    if (err != LEAL_OK)
        return err;
    snprintf(tmp, sizeof tmp, "%s/report.xlsx", dir);
    err = xlsx_file(tmp, r);
    if (err == LEAL_OK && chmod(tmp, 0600) != 0)
        err = LEAL_E_IO;
    if (err == LEAL_OK)
        err = file_sync(tmp);
    if (err == LEAL_OK)
        err = file_rename(tmp, path, true);
    unlink(tmp);
    rmdir(dir);
    return err;
}
