"""report_check.py - reads a `leal report` CSV, XLSX or SVG back with
independent readers (Python's csv, openpyxl, xml.etree) and compares every
figure with the same report's --json (tests/integration/report_formats.sh).

  report_check.py csv JSON CSV PART [es]
  report_check.py xlsx JSON XLSX
  report_check.py svg JSON SVG PART X Y [Y...]

Prints "ok", or what differed (one line each) and exits 1."""
import csv
import datetime
import decimal
import json
import sys
import xml.etree.ElementTree as ET

EUR_COLS = {"purse_loaded", "purse_spent", "value", "expired_value"}
DAY_COLS = {"day"}
MONTH_COLS = {"month", "cohort"}
problems = []


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f, parse_float=decimal.Decimal)


def kind(col):
    if col in EUR_COLS:
        return "eur"
    if col in DAY_COLS:
        return "day"
    if col in MONTH_COLS:
        return "month"
    return "other"


def as_text(col, v, es):
    if v is None:
        return ""
    if kind(col) == "eur":
        s = "%.2f" % v
        return s.replace(".", ",") if es else s
    return str(v)


def check_csv(report, path, part, es):
    rows = report["parts"][part]
    with open(path, newline="", encoding="utf-8") as f:
        raw = f.read()
    if rows and "\r\n" not in raw or raw.replace("\r\n", "").count("\n"):
        problems.append("CSV lines do not end in CRLF")
    got = list(csv.reader(raw.splitlines(True), delimiter=";" if es else ",", strict=True))
    cols = list(rows[0].keys()) if rows else got[0]
    if got[0] != cols:
        problems.append("CSV header %r, JSON %r" % (got[0], cols))
    if len(got) != len(rows) + 1:
        problems.append("CSV has %d rows, JSON %d" % (len(got) - 1, len(rows)))
    for i, row in enumerate(rows):
        want = [as_text(c, row[c], es) for c in cols]
        if got[i + 1] != want:
            problems.append("CSV row %d %r, JSON %r" % (i + 1, got[i + 1], want))


def check_cell(sheet, c, col, v):
    where = "%s!%s" % (sheet, c.coordinate)
    k = kind(col)
    if v is None:
        if c.value is not None:
            problems.append("%s: %r for no figure" % (where, c.value))
    elif k == "eur":
        if c.data_type != "n" or round(decimal.Decimal(repr(c.value)) * 100) != round(v * 100):
            problems.append("%s: %r (%s), want %s" % (where, c.value, c.data_type, v))
        if "\u20ac" not in c.number_format or "0.00" not in c.number_format:
            problems.append("%s: euro format %r" % (where, c.number_format))
    elif k in ("day", "month"):
        want = datetime.date.fromisoformat(v if k == "day" else v + "-01")
        fmt = "yyyy-mm-dd" if k == "day" else "yyyy-mm"
        if not c.is_date or c.value.date() != want or c.number_format != fmt:
            problems.append("%s: %r %r, want the date %s" % (where, c.value, c.number_format, want))
    elif v == "":
        if c.value is not None:  # an empty text is a blank cell in a workbook
            problems.append("%s: %r, want a blank" % (where, c.value))
    elif isinstance(v, str):
        if c.data_type != "s" or c.value != v:
            problems.append("%s: %r, want the text %r" % (where, c.value, v))
    elif c.data_type != "n" or not isinstance(c.value, int) or c.value != v:
        problems.append("%s: %r (%s), want the number %r" % (where, c.value, c.data_type, v))


def check_xlsx(report, path):
    import openpyxl

    wb = openpyxl.load_workbook(path)
    parts = report["parts"]
    if wb.sheetnames != list(parts):
        problems.append("sheets %r, parts %r" % (wb.sheetnames, list(parts)))
    for name in wb.sheetnames:
        ws, rows = wb[name], parts.get(name, [])
        if ws.freeze_panes != "A2":
            problems.append("%s: frozen at %r, not below the header" % (name, ws.freeze_panes))
        head = [c.value for c in ws[1]]
        if rows and head != list(rows[0]):
            problems.append("%s: header %r" % (name, head))
        if not all(c.font.b for c in ws[1]):
            problems.append("%s: header not bold" % name)
        if ws.max_row != len(rows) + 1:
            problems.append("%s: %d rows, JSON %d" % (name, ws.max_row - 1, len(rows)))
        for i, row in enumerate(rows):
            for j, col in enumerate(head):
                check_cell(name, ws.cell(row=i + 2, column=j + 1), col, row[col])


def check_svg(report, path, part, x, ys):
    ns = "{http://www.w3.org/2000/svg}"
    root = ET.parse(path).getroot()
    if root.tag != ns + "svg":
        problems.append("root element %s" % root.tag)
    labels, sums = [], {}
    for row in report["parts"][part]:
        label = str(row[x])
        if label not in sums:
            labels.append(label)
            sums[label] = [decimal.Decimal(0)] * len(ys)
        for k, y in enumerate(ys):
            sums[label][k] += decimal.Decimal(row[y] or 0)
    series = [g for g in root.iter(ns + "g") if g.get("data-series") is not None]
    if [g.get("data-series") for g in series] != ys:
        problems.append("series %r, want %r" % ([g.get("data-series") for g in series], ys))
    for k, g in enumerate(series[: len(ys)]):
        points = [e for e in g if e.get("data-label") is not None]
        got = [(e.get("data-label"), decimal.Decimal(e.get("data-value"))) for e in points]
        want = [(lb, sums[lb][k]) for lb in labels]
        if got != want:
            problems.append("series %s: %r, want %r" % (ys[k], got[:5], want[:5]))
    if root.find(ns + "title") is None or not root.find(ns + "title").text:
        problems.append("no title")


def main():
    mode, report = sys.argv[1], load(sys.argv[2])
    if mode == "csv":
        check_csv(report, sys.argv[3], sys.argv[4], len(sys.argv) > 5 and sys.argv[5] == "es")
    elif mode == "xlsx":
        check_xlsx(report, sys.argv[3])
    else:
        check_svg(report, sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
    for p in problems[:20]:
        print(p)
    print("ok" if not problems else "%d problems" % len(problems))
    sys.exit(1 if problems else 0)


main()
