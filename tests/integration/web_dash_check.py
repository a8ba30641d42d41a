#!/usr/bin/env python3
"""web_dash_check.py DIR - the web dashboard's answer (DIR/dash.json) against
`leal report ... --json` in DIR (act-PERIOD.json, cust-PERIOD[-STORE].json,
liab.json): every figure, per store and in total, today and this month, added
up here independently of the server. Prints "ok" or what differs."""
import json, sys
t = sys.argv[1]
d = json.load(open(t + "/dash.json"))
keys = ["sales_card", "sales_qr", "sales_no_card", "points_issued", "points_redeemed", "purse_loaded", "purse_spent"]
bad = []
for per in ["today", "month"]:
    rows = json.load(open("%s/act-%s.json" % (t, per)))["parts"]["activity"]
    want = {}
    for r in rows:
        w = want.setdefault(r["store"], dict.fromkeys(keys, 0))
        for k in keys:
            w[k] += round(r[k] * 100) if k.startswith("purse") else r[k]
    total = {k: sum(w[k] for w in want.values()) for k in keys}
    c = json.load(open("%s/cust-%s.json" % (t, per)))["parts"]["customers"][0]
    total.update(active=c["active"], new=c["new"], customers=c["customers"])
    got = {s["store"]: {k: s[k] for k in keys} for s in d[per]["stores"]}
    act = {s["store"]: s.get("active") for s in d[per]["stores"]}
    for s in [s for s in want if s]:
        a = json.load(open("%s/cust-%s-%s.json" % (t, per, s)))["parts"]["customers"][0]["active"]
        if act.get(s) != a:
            bad.append("%s %s active %s != %s" % (per, s, act.get(s), a))
    if got != want:
        bad.append("%s stores %s != %s" % (per, got, want))
    if d[per]["total"] != total:
        bad.append("%s total %s != %s" % (per, d[per]["total"], total))
for r in json.load(open(t + "/liab.json"))["parts"]["liabilities"]:
    units = r["units"]  # an integer column: cents for EUR
    if d["liability"][r["asset"]]["units"] != units:
        bad.append("liability %s %s != %s" % (r["asset"], d["liability"][r["asset"]], units))
print(" ".join(bad) or "ok")
