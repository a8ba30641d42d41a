#!/bin/bash
# web_terminals.sh - the terminals page's package validity (issue 16): `leal
# serve --packages DIR` reads each terminal's package where `leal terminal
# package -o DIR/terminal-ID.lpkg` wrote it (the ledger keeps no validity) and
# the API and the page (Debian's headless chromium, tests/web/terminals.js)
# show its version and valid-until, a package expiring within a day and an
# expired one each said so, a file older than the ledger's newest package, a
# missing, a damaged and another terminal's file; without --packages the
# page says the validity is unknown. The dates are checked against `leal
# package show --json` (which reads the whole file and checks the signature).
# Screenshots go to build/screenshots/terminals/.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
source tests/lib/web.sh
program_fixture web-terminals "web terminals passphrase" 7
trap web_cleanup EXIT # the servers web_start starts, and T
SHOTS=build/screenshots/terminals
mkdir -p "$SHOTS" "$T/pkgs"
P=$T/pkgs
pkg() { "$LEAL" terminal package --terminal "$1" -o "$2" "${@:3}" >/dev/null || exit 1; }
show() { "$LEAL" package show "$1" --json | field "$2"; }

pkg 1 "$P/terminal-1.lpkg"                  # 7 days (the default): valid
pkg 2 "$P/terminal-2.lpkg" --valid-days 1   # expires within a day
pkg 3 "$T/t3.lpkg"                          # moved back below: expired
pkg 4 "$P/terminal-4.lpkg"                  # version 1 in DIR ...
pkg 4 "$T/t4-v2.lpkg"                       # ... version 2 built, not put there
pkg 6 "$T/t6.lpkg"                          # cut short below: damaged
cp "$P/terminal-1.lpkg" "$P/terminal-7.lpkg" # terminal 1's under terminal 7's name
# Terminal 5 has no file. The server reads the header without the signature
# (it holds no key), so an expired package is a real one with its dates moved
# 8 days back (issued and valid-until, big-endian at offsets 20 and 28); `leal
# package show` then says its signature is bad, the page its dates.
$PY - "$T/t3.lpkg" "$P/terminal-3.lpkg" <<'PYEOF' || exit 1
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
issued, until = struct.unpack_from(">QQ", b, 20)
struct.pack_into(">QQ", b, 20, issued - 8 * 86400, until - 8 * 86400)
open(sys.argv[2], "wb").write(b)
PYEOF
head -c 100 "$T/t6.lpkg" >"$P/terminal-6.lpkg"
check_eq "the moved package's signature no longer verifies (leal package show)" "bad" \
    "$(show "$P/terminal-3.lpkg" signature)"
check_eq "the ledger's newest package per terminal: 1 1 1 2 0 1 0" "1 1 1 2 0 1 0" \
    "$(q "select group_concat(package_version, ' ') from (select package_version from terminal order by id)")"

printf 'admin password 1\n' >"$T/pw"
"$LEAL" user add ana --role admin --password-file "$T/pw" >/dev/null || exit 1
web_start serve --db "$DB" --packages "$P"
curl -s -o /dev/null -c "$T/jar" -H 'Content-Type: application/json' \
    --data-binary '{"name":"ana","password":"admin password 1"}' "$URL/api/session"
curl -s -b "$T/jar" "$URL/api/terminals?program=7" >"$T/terminals.json"
NOW=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["now"])' "$T/terminals.json")
check_eq "the server's clock in the answer is now" "ok" \
    "$($PY -c 'import sys,time; print("ok" if abs(int(sys.argv[1]) - time.time()) < 600 else sys.argv[1])' "$NOW")"
# Each terminal: id, the ledger's version, the file's (version, state) or its fault.
check_eq "each terminal's file as the API reads it from DIR" \
    "True|1 1 found 1 valid|2 1 found 1 expiring|3 1 found 1 expired|4 2 found 1 valid|5 0 missing|6 1 damaged|7 0 other 7 1" \
    "$($PY -c 'import json,sys
d = json.load(open(sys.argv[1])); out = [str(d["packages_known"])]
for t in d["terminals"]:
    f = t["package_file"]; x = [t["id"], t["package_version"], f["file"]]
    x += [f["version"], f["state"]] if f["file"] == "found" else [f["program"], f["terminal"]] if f["file"] == "other" else []
    out.append(" ".join(map(str, x)))
print("|".join(out))' "$T/terminals.json")"
check_eq "issued and valid-until are the files' own (leal package show --json): terminals 1, 2, 3, 4" \
    "$(for n in 1 2 3 4; do echo "$(show "$P/terminal-$n.lpkg" issued_at) $(show "$P/terminal-$n.lpkg" valid_until_at)"; done | tr '\n' '|')" \
    "$($PY -c 'import json,sys
for t in json.load(open(sys.argv[1]))["terminals"][:4]: print(t["package_file"]["issued_at"], t["package_file"]["valid_until_at"])' "$T/terminals.json" | tr '\n' '|')"
check_eq "seven days, one day; the expired one ended a day before now (give or take the run)" "604800 86400 ok" \
    "$($PY -c 'import json,sys
f = [t["package_file"] for t in json.load(open(sys.argv[1]))["terminals"]]
ago = int(sys.argv[2]) - f[2]["valid_until_at"]
print(f[0]["valid_until_at"] - f[0]["issued_at"], f[1]["valid_until_at"] - f[1]["issued_at"], "ok" if 86400 <= ago < 86400 + 600 else ago)' "$T/terminals.json" "$NOW")"

# The page: the validity column in the store's time (Madrid), each state said.
timeout 120 node tests/web/terminals.js "$URL" "$SHOTS" ana "admin password 1" >"$T/page.out" 2>"$T/page.err"
check_eq "tests/web/terminals.js ran" "0" "$?"
until_text() { # N: terminal N's valid-until in Madrid time, as the page writes it
    $PY -c 'import json,sys,datetime,zoneinfo
t = json.load(open(sys.argv[1]))["terminals"][int(sys.argv[2]) - 1]
d = datetime.datetime.fromtimestamp(t["package_file"]["valid_until_at"], zoneinfo.ZoneInfo("Europe/Madrid"))
print(d.strftime("%Y-%m-%d %H:%M %Z"))' "$T/terminals.json" "$1"
}
EXPECT="1|valid|$(until_text 1)
2|expiring|$(until_text 2) (expires within a day)
3|expired|$(until_text 3) (expired)
4|valid|$(until_text 4); the file is version 1, the newest built is 2
5|missing|no file in the packages directory
6|damaged|damaged file: build a new package
7|other|the file is terminal 1's of program 7"
check_eq "the page's validity column: state and words per terminal" "$EXPECT" \
    "$(sed -n 's/^ROW //p' "$T/page.out")"
check_eq "expired and expiring cells are marked (class)" "2 expiring|3 expired" \
    "$(sed -n 's/^MARKED //p' "$T/page.out")"

# Without --packages the page says the validity is not known.
web_start serve2 --db "$DB"
curl -s -o /dev/null -c "$T/jar2" -H 'Content-Type: application/json' \
    --data-binary '{"name":"ana","password":"admin password 1"}' "$URL/api/session"
check_eq "without --packages: packages_known false, no file read" "False [None, None, None, None, None, None, None]" \
    "$(curl -s -b "$T/jar2" "$URL/api/terminals?program=7" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["packages_known"], [t["package_file"] for t in d["terminals"]])')"
timeout 120 node tests/web/terminals.js "$URL" "" ana "admin password 1" >"$T/page2.out" 2>"$T/page2.err"
check_eq "and the page says so on every row" \
    "$(for n in 1 2 3 4 5 6 7; do echo "$n|unknown|unknown (leal serve --packages DIR)"; done)" \
    "$(sed -n 's/^ROW //p' "$T/page2.out")"
run_capture "$LEAL" serve --packages "$(printf 'd%.0s' $(seq 4000))"
check_match "a --packages path over 3999 bytes is refused (exit 2)" "^2\|leal: --packages 'd{40}\.\.\.': a directory's path is at most 3999 bytes" "$RC|$ERR"
finish
