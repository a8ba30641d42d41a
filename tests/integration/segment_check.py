#!/usr/bin/python3
"""segment_check.py - an independent reading for segment.sh (issue 17).

  expect DB FILTER_JSON  the ids of program 7's customers a segment's filter
                         should hold, worked out here in Python from the raw
                         rows (customers, personal data, accounts, entries,
                         lines, balances, sales, consent, tags), not by SQL
                         filtering, as "1 5 9"
  csv FILE               an export's CSV (RFC 4180) as "header|row|row..."
  xlsx FILE              an export's workbook through openpyxl, the same,
                         with each cell's Python type after a ':'
"""
import csv
import json
import sqlite3
import sys
import time

VISIT = {"earn", "redeem", "topup", "spend", "gift_sale"}
DAY = 86400


def expect(db, spec):
    f = json.loads(spec)
    now = int(time.time())
    c = sqlite3.connect(db)
    q = lambda sql: c.execute(sql).fetchall()
    custs = [r[0] for r in q("SELECT id FROM customer WHERE program_id = 7 AND erased_at IS NULL")]
    birth = dict(q("SELECT customer_id, birth_date FROM customer_pii"))
    acct = {}
    for a, cu in q("SELECT id, customer_id FROM account WHERE kind = 'customer'"):
        acct[a] = cu
    entry = {r[0]: r[1:] for r in q("SELECT id, kind, at, store_id, card_id, spend_cents, reverses FROM entry")}
    voided = {e[5] for e in entry.values() if e[0] == "void"}
    per = {cu: set() for cu in custs}
    for eid, a in q("SELECT entry_id, account_id FROM line"):
        if acct.get(a) in per:
            per[acct[a]].add(eid)
    points = {cu: 0 for cu in custs}
    for a, amt in q("SELECT account_id, amount FROM balance WHERE asset = 'PTS'"):
        if acct.get(a) in points:
            points[acct[a]] += amt
    tier = {cu: (0, 0, 0) for cu in custs}
    for sid, a, at, t, eid in q("SELECT id, account_id, at, tier_after, entry_id FROM sale"):
        cu = acct.get(a)
        if cu in tier and eid not in voided and (at, sid) > tier[cu][:2]:
            tier[cu] = (at, sid, t)
    consent = {}
    for cid, cu, ch, g in q("SELECT id, customer_id, channel, granted FROM consent ORDER BY id"):
        consent[(cu, ch)] = g
    tags = set(q("SELECT customer_id, tag FROM customer_tag"))
    out = []
    for cu in custs:
        visits = sorted((entry[e][1], e) for e in per[cu] if entry[e][0] in VISIT)
        last = visits[-1][0] if visits else None
        ok = True
        if "tier" in f:
            ok &= tier[cu][2] == f["tier"]
        if "store" in f:
            ok &= any(entry[e][0] in VISIT and entry[e][2] == f["store"] for e in per[cu])
        if "before" in f:
            ok &= last is not None and last < f["before"]
        if "after" in f:
            ok &= last is not None and last >= f["after"] + DAY
        if "spend_min" in f:
            lo = now - f["spend_window"] * DAY
            s = sum(entry[e][4] for e in per[cu] if entry[e][0] == "earn" and entry[e][3] is not None
                    and lo < entry[e][1] <= now and e not in voided)
            ok &= s >= f["spend_min"]
        if "above" in f:
            ok &= points[cu] > f["above"]
        if "below" in f:
            ok &= points[cu] < f["below"]
        if "month" in f:
            b = birth.get(cu, "")
            ok &= len(b) == 10 and int(b[5:7]) == f["month"]
        if "consent" in f:
            ok &= consent.get((cu, f["consent"])) == 1
        if "tag" in f:
            ok &= (cu, f["tag"]) in tags
        if ok:
            out.append(cu)
    print(" ".join(str(x) for x in sorted(out)))


def main():
    if sys.argv[1] == "expect":
        expect(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "csv":
        with open(sys.argv[2], newline="") as fh:
            rows = list(csv.reader(fh))
        print("|".join(",".join(r) for r in rows))
    else:
        import openpyxl
        wb = openpyxl.load_workbook(sys.argv[2])
        ws = wb.worksheets[0]
        rows = [[("" if v is None else "%s:%s" % (v.date() if hasattr(v, "date") else v,
                                                   type(v).__name__)) for v in r]
                for r in ws.iter_rows(values_only=True)]
        print("%s|%s|%s" % (ws.title, ws.freeze_panes, "|".join(",".join(r) for r in rows)))


main()
