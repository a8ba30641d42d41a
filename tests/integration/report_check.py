"""report_check.py - reads a `leal report` CSV, XLSX or SVG back with
independent readers (Python's csv, openpyxl, xml.etree) and compares every
figure with the same report's --json (tests/integration/report_formats.sh).

  report_check.py csv JSON CSV PART [es]
  report_check.py xlsx JSON XLSX
  report_check.py svg JSON SVG PART X Y [Y...]
  report_check.py ledger JSON DB
  report_check.py batch FILE

batch: each line of FILE is OUT, a tab, then one of the calls above's
arguments joined by tabs: each check run in turn in this one Python, what a
call of its own prints written to OUT (an exception: its line there).

ledger: every part of the report computed again from the ledger file DB by an independent computation of its own
(below) and compared row by row, figure by figure.

Prints "ok", or what differed (one line each) and exits 1."""
import collections
import csv
import datetime
import decimal
import json
import sys
import xml.etree.ElementTree as ET

EUR_COLS = {"purse_loaded", "purse_spent", "value", "expired_value", "amount_with_rule", "amount",
            "amount_before", "balance"}
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



# ---- An independent computation of a report from the ledger file ----------
#
# Each report's figures from the customers' side of the books (their accounts'
# lines, a void counting against the kind of the entry it reverses) or the
# rows the figures come from, summed here in Python: not the report's SQL,
# not its summaries (report_day, report_visit, report_held, report_redeem).

DAY = 86400


def day_str(day):
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=day)).isoformat()


def month_str(at):
    return day_str(at // DAY)[:7]


def eur(cents):
    return None if cents is None else decimal.Decimal(cents) / 100


class Ledger:
    def __init__(self, path, report):
        import sqlite3

        self.db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        self.program = report["program"]
        self.store = report["store"]
        self.first, self.last = report["from"], report["to"]
        self.start = (datetime.date.fromisoformat(report["from"]) - datetime.date(1970, 1, 1)).days * DAY
        self.end = ((datetime.date.fromisoformat(report["to"]) - datetime.date(1970, 1, 1)).days + 1) * DAY
        self.codes = dict(self.db.execute("SELECT id, code FROM store WHERE program_id = ?", (self.program,)))
        self.store_id = self.store  # the store's id, or null: every store
        if self.store is not None:
            self.store = self.codes[self.store_id]
        pv = report.get("point_value")
        self.pv = None if pv is None else int(round(decimal.Decimal(pv) * 100))

    def one(self, sql, *args):
        return self.db.execute(sql, args).fetchone()[0]

    def entries(self, start, end, store=True):
        """The program's entries of [start, end) (at the report's store): id,
        at, store code, kind it counts as, sign, card, reference, reason."""
        rows = self.db.execute(
            "SELECT e.id, e.at, e.store_id, e.kind, e.reverses, e.card_id, e.reference, e.reason "
            "FROM entry e WHERE e.program_id = ? AND e.at >= ? AND e.at < ?", (self.program, start, end)).fetchall()
        orig = {}
        out = []
        for eid, at, sid, kind, rev, card, ref, reason in rows:
            if store and self.store_id is not None and sid != self.store_id:
                continue
            sign = 1
            if kind in ("void", "refund") and rev:
                o = orig.get(rev) or self.db.execute(
                    "SELECT kind, card_id, reference, reason FROM entry WHERE id = ?", (rev,)).fetchone()
                orig[rev] = o
                if kind == "void":
                    kind, card, sign = o[0], card or o[1], -1
                ref, reason = o[2], o[3]
            out.append((eid, at, self.codes.get(sid, ""), kind, sign, card, ref, reason))
        return out

    def lines(self, entry_ids):
        """Per entry: (account kind, account name, customer, asset, amount)."""
        by = collections.defaultdict(list)
        ids = list(entry_ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for eid, kind, name, cust, asset, amount in self.db.execute(
                    "SELECT l.entry_id, a.kind, a.name, a.customer_id, l.asset, l.amount FROM line l JOIN account a "
                    "ON a.id = l.account_id WHERE l.entry_id IN (%s)" % ",".join("?" * len(chunk)), chunk):
                by[eid].append((kind, name, cust, asset, amount))
        return by

    def activity(self):
        tech = dict(self.db.execute("SELECT card_id, tech FROM card"))
        ents = self.entries(self.start, self.end)
        lines = self.lines(e[0] for e in ents)
        rows = collections.OrderedDict()
        cols = ["sales_card", "sales_qr", "sales_no_card", "points_issued", "points_redeemed",
                "points_expired", "points_adjusted", "purse_loaded", "purse_spent"]
        for eid, at, code, kind, sign, card, _, _ in ents:
            r = rows.setdefault((day_str(at // DAY), code), dict.fromkeys(cols, 0))
            if kind in ("earn", "spend"):
                t = tech.get(card)
                r["sales_no_card" if t is None else "sales_qr" if t == "virtual-qr" else "sales_card"] += sign
            for akind, _, _, asset, amount in lines[eid]:
                if akind == "program":
                    continue
                if asset == "PTS":
                    col = {"earn": "points_issued", "refund": "points_issued", "redeem": "points_redeemed",
                           "expire": "points_expired", "adjust": "points_adjusted"}.get(kind)
                    if col:
                        r[col] += amount if col in ("points_issued", "points_adjusted") else -amount
                elif asset == "EUR":
                    if kind in ("topup", "gift_sale"):
                        r["purse_loaded"] += amount
                    elif kind in ("spend", "refund"):
                        r["purse_spent"] -= amount
        out = []
        for (day, code), r in sorted(rows.items()):
            row = {"day": day, "store": code}
            row.update({c: eur(v) if c.startswith("purse") else v for c, v in r.items()})
            out.append(row)
        refused = collections.Counter()
        for at, code, kind in self.db.execute(
                "SELECT f.at, s.code, f.kind FROM sync_finding f JOIN terminal t ON t.id = f.terminal_id JOIN store s "
                "ON s.id = t.store_id WHERE s.program_id = ?", (self.program,)):
            if self.start <= at < self.end and (self.store is None or code == self.store):
                refused[(day_str(at // DAY), code, kind)] += 1
        return {"activity": out,
                "refused": [{"day": d, "store": s, "reason": k, "taps": n} for (d, s, k), n in sorted(refused.items())]}

    def liabilities(self):
        held = collections.defaultdict(int)
        for acct, asset, amount in self.db.execute(
                "SELECT l.account_id, l.asset, l.amount FROM line l JOIN entry e ON e.id = l.entry_id JOIN account a "
                "ON a.id = l.account_id WHERE e.program_id = ?1 AND a.program_id = ?1 AND a.kind <> 'program' AND "
                "e.at < ?2", (self.program, self.end)):
            held[(asset, acct)] += amount
        per = collections.defaultdict(lambda: [0, 0])
        for (asset, _), b in held.items():
            per[asset][0] += b != 0
            per[asset][1] += b
        out = []
        for asset in sorted(per):
            n, units = per[asset]
            if n == 0 and units == 0:
                continue
            value = eur(units) if asset == "EUR" else eur(units * self.pv) if asset == "PTS" and self.pv else None
            out.append({"asset": asset, "holders": n, "units": units, "value": value})
        return {"liabilities": out}

    def redemptions(self):
        ents = self.entries(self.start, self.end)
        lines = self.lines(e[0] for e in ents)
        per = collections.defaultdict(lambda: [0, 0])
        for eid, _, _, kind, sign, _, ref, reason in ents:
            assets = collections.Counter()
            for akind, name, _, asset, amount in lines[eid]:
                if akind == "program" and name in ("points_redeemed", "stamps_redeemed"):
                    assets[asset] += amount
            for asset, units in assets.items():
                k = (ref if ref else reason, asset)
                per[k][0] += -1 if kind == "refund" or sign < 0 else 1
                per[k][1] += units
        return {"redemptions": [{"reward": r, "asset": a, "redemptions": n, "units": u}
                                for (r, a), (n, u) in sorted(per.items())]}

    def breakage(self):
        ents = self.entries(self.start, self.end)
        lines = self.lines(e[0] for e in ents)
        per = collections.OrderedDict()
        for eid, at, _, kind, _, _, _, _ in ents:
            for akind, name, _, asset, amount in lines[eid]:
                if akind != "program" or asset != "PTS" or name not in ("points_issued", "points_redeemed",
                                                                          "points_expired"):
                    continue
                m = per.setdefault(month_str(at), [0, 0, 0])
                m[("points_issued", "points_redeemed", "points_expired").index(name)] += \
                    -amount if name == "points_issued" else amount
        return {"breakage": [{"month": m, "points_issued": v[0], "points_redeemed": v[1], "points_expired": v[2],
                              "expired_value": eur(v[2] * self.pv) if self.pv else None}
                             for m, v in sorted(per.items())]}

    def active(self, start, end):
        """customer -> the months (YYYY-MM) of [start, end) they moved in."""
        ents = self.entries(start, end)
        raw = dict(self.db.execute("SELECT id, kind FROM entry WHERE program_id = ? AND at >= ? AND at < ?",
                                   (self.program, start, end)))
        lines = self.lines(e[0] for e in ents)
        act = collections.defaultdict(set)
        for eid, at, _, _, _, _, _, _ in ents:
            if raw[eid] == "expire":
                continue
            for akind, _, cust, _, _ in lines[eid]:
                if akind == "customer":
                    act[cust].add(month_str(at))
        return act

    def customers(self):
        created = dict(self.db.execute("SELECT id, created_at FROM customer WHERE program_id = ?", (self.program,)))
        now = self.active(self.start, self.end)
        before = self.active(0, self.start)
        tiers = collections.Counter()
        for c in now:
            t = self.db.execute(
                "SELECT s.tier_after FROM sale s JOIN account a ON a.id = s.account_id WHERE a.customer_id = ? AND "
                "s.at < ? ORDER BY s.at DESC, s.id DESC LIMIT 1", (c, self.end)).fetchone()
            tiers[t[0] if t else 0] += 1
        return {"customers": [{"customers": sum(1 for v in created.values() if v < self.end),
                               "new": sum(1 for v in created.values() if self.start <= v < self.end),
                               "active": len(now), "lapsed": sum(1 for c in before if c not in now)}],
                "tiers": [{"tier": t, "customers": n} for t, n in sorted(tiers.items())]}

    def retention(self):
        created = {c: at for c, at in self.db.execute("SELECT id, created_at FROM customer WHERE program_id = ?",
                                                      (self.program,)) if self.start <= at < self.end}
        size = collections.Counter(month_str(at) for at in created.values())
        per = collections.Counter()
        for c, months in self.active(self.start, self.end).items():
            if c in created:
                for m in months:
                    per[(month_str(created[c]), m)] += 1
        return {"retention": [{"cohort": co, "joined": size[co], "month": m, "active": n}
                              for (co, m), n in sorted(per.items())]}

    def campaigns(self):
        names = {}
        for item, name in self.db.execute("SELECT item, name FROM rule_set_name WHERE program_id = ? AND part = 3 "
                                          "ORDER BY version", (self.program,)):
            names[item] = name
        sales = self.db.execute("SELECT id, at, store_id, amount_cents FROM sale WHERE program_id = ?",
                                (self.program,)).fetchall()
        length = self.end - self.start
        win, bef, rule = [0, 0], [0, 0], collections.defaultdict(lambda: [0, set(), 0])
        for sid, at, store, amount in sales:
            if self.store_id is not None and store != self.store_id:
                continue
            if self.start - length <= at < self.start:
                bef[0] += 1
                bef[1] += amount
            if not self.start <= at < self.end:
                continue
            win[0] += 1
            win[1] += amount
            for rid, pts in self.db.execute("SELECT rule_id, points FROM sale_line WHERE sale_id = ? AND source = 4",
                                            (sid,)):
                rule[rid][0] += pts
                if sid not in rule[rid][1]:
                    rule[rid][1].add(sid)
                    rule[rid][2] += amount
        return {"campaigns": [{"rule": rid, "name": names.get(rid, ""), "points": v[0], "sales_with_rule": len(v[1]),
                               "amount_with_rule": eur(v[2]), "sales": win[0], "amount": eur(win[1]),
                               "sales_before": bef[0], "amount_before": eur(bef[1])}
                              for rid, v in sorted(rule.items())]}


    def settlement(self):
        """Each month of the window as settled, else as a preview (every entry
        up to the month's end no settled month took): per shop points earned and redeemed there,
        purse euros loaded and spent there, and its balance at the point
        value; then the entries without a shop; then the pool, minus the rest."""
        out = []
        # A settled month took the entries up to its last entry dated before
        # its end that no earlier settled month took, at its point value.
        settled = self.db.execute("SELECT period, end_at, upto_entry, point_value_cents FROM settlement WHERE "
                                  "program_id = ? ORDER BY period", (self.program,)).fetchall()
        taken = {}
        for period, end_at, upto, _ in settled:
            for (eid,) in self.db.execute("SELECT id FROM entry WHERE program_id = ? AND id <= ? AND at < ?",
                                          (self.program, upto, end_at)):
                taken.setdefault(eid, period)
        first = datetime.date.fromisoformat(self.first)
        last = datetime.date.fromisoformat(self.last)
        y, m = first.year, first.month
        while (y, m) <= (last.year, last.month):
            ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
            end = (datetime.date(ny, nm, 1) - datetime.date(1970, 1, 1)).days * DAY
            period = "%04d-%02d" % (y, m)
            pv = {p: v for p, _, _, v in settled}.get(period, self.pv)
            ents = [e for e in self.entries(0, end) if taken.get(e[0], period) == period]
            lines = self.lines(e[0] for e in ents)
            per = collections.defaultdict(lambda: [0, 0, 0, 0])
            for eid, _, code, kind, _, _, _, _ in ents:
                f = per[code]
                for akind, _, _, asset, amount in lines[eid]:
                    if akind == "program":
                        continue
                    if asset == "PTS" and kind in ("earn", "refund"):
                        f[0] += amount
                    elif asset == "PTS" and kind == "redeem":
                        f[1] -= amount
                    elif asset == "EUR" and kind in ("topup", "gift_sale"):
                        f[2] += amount
                    elif asset == "EUR" and kind in ("spend", "refund"):
                        f[3] -= amount
            rows = [("shop", self.codes[i], per[self.codes[i]]) for i in sorted(self.codes)]
            rows.append(("no-shop", "", per[""]))
            rows.append(("pool", "", [-sum(r[2][k] for r in rows) for k in range(4)]))
            for kind, code, f in rows:
                out.append({"month": period, "row": kind, "store": code, "points_collected": f[0],
                            "points_paid_out": f[1], "purse_loaded": eur(f[2]), "purse_spent": eur(f[3]),
                            "balance": eur(pv * (f[1] - f[0]) + f[3] - f[2])})
            y, m = ny, nm
        return {"settlement": out}

def check_ledger(report, path):
    want = getattr(Ledger(path, report), report["report"])()
    got = report["parts"]
    if list(got) != list(want):
        problems.append("parts %r, the ledger's %r" % (list(got), list(want)))
    for part, rows in want.items():
        have = got.get(part, [])
        if len(have) != len(rows):
            problems.append("%s: %d rows, the ledger's %d" % (part, len(have), len(rows)))
        for i, (g, w) in enumerate(zip(have, rows)):
            if g != w:
                problems.append("%s row %d: %r, the ledger's %r" % (part, i + 1, g, w))


def check(argv):
    mode, report = argv[0], load(argv[1])
    if mode == "csv":
        check_csv(report, argv[2], argv[3], len(argv) > 4 and argv[4] == "es")
    elif mode == "xlsx":
        check_xlsx(report, argv[2])
    elif mode == "ledger":
        check_ledger(report, argv[2])
    else:
        check_svg(report, argv[2], argv[3], argv[4], argv[5:])


def verdict():
    lines = [str(p) for p in problems[:20]]
    lines.append("ok" if not problems else "%d problems" % len(problems))
    return "".join(line + "\n" for line in lines)


def batch(path):
    global problems
    failed = False
    with open(path, encoding="utf-8") as f:
        calls = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    for out, *argv in calls:
        problems = []
        try:
            check(argv)
            text = verdict()
        except Exception as e:  # its own call would have died: not "ok"
            problems.append(e)
            text = "error: %s: %s\n" % (type(e).__name__, e)
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
        failed = failed or bool(problems)
    return failed


def main():
    if sys.argv[1] == "batch":
        sys.exit(1 if batch(sys.argv[2]) else 0)
    check(sys.argv[1:])
    sys.stdout.write(verdict())
    sys.exit(1 if problems else 0)


main()
