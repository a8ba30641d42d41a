#!/bin/bash
# qr_codes.sh - a customer's static QR code end to end (cardlayout/qr/QR.md):
# `leal qr issue` records a virtual card and draws the code as PNG, SVG, PDF
# and in the terminal; zbarimg (Debian's zbar-tools, an independent reader)
# reads the PNG, the SVG (rasterised by rsvg-convert), the PDF (by poppler's
# pdftoppm) and the terminal drawing (turned
# into a picture by a few lines of Python) to the exact text leal printed; a
# separate Python reading of QR.md decodes the text to the fields leal
# reported; `leal qr verify` accepts it and refuses it altered; `leal qr
# decode` reads the PNG; a blocked code is on the next terminal package's
# hot list; bad input is refused with one line.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
clear_of_midnight 60 # the codes' issued day, reckoned once

program_fixture qr "qr test passphrase"
ACCT=$("$LEAL" customer add --program 7 --name Ana --json | field account)

run_capture "$LEAL" qr issue --account "$ACCT" -o "$T/code.png" --valid-days 30 --json
check_eq "qr issue -o code.png exits 0" 0 "$RC"
TEXT=$(printf '%s' "$OUT" | field text)
VC=$(printf '%s' "$OUT" | field virtual_card)
TODAY=$(($(date -u +%s) / 86400))
check_match "the text: LQ: and 138 Base45 characters" '^LQ:[0-9A-Z $%*+./:-]{138}$' "$TEXT"
check_eq "issue --json: account, program, kind, key version, days, QR version 6 (41 modules)" \
    "$ACCT 7 static 1 $TODAY $((TODAY + 30)) 6 41 $T/code.png" \
    "$(printf '%s' "$OUT" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["account"], d["program"], d["kind"], d["key_version"], d["issued_day"], d["expires_day"], d["qr_version"], d["modules"], d["file"])')"
check_eq "the ledger: an active virtual-qr card on the account, qr key 1, format 1" \
    "$ACCT|virtual-qr|active|1|1" \
    "$(q "select account_id, tech, status, keyset_version, layout_version from card where card_id = $VC")"
check_eq "PNG: 8-bit grey, (41 + 8) x 8 pixels a side" "392x392" \
    "$($PY -c 'import struct,sys; d=open(sys.argv[1],"rb").read(); w,h,b,c=struct.unpack(">IIBB",d[16:26]); print(f"{w}x{h}" if (b,c)==(8,0) else "bad")' "$T/code.png")"

run_capture zbarimg --raw -q "$T/code.png"
check_eq "zbarimg reads leal's PNG to the exact text" "$TEXT" "$OUT"
run_capture "$LEAL" qr decode "$T/code.png"
check_eq "leal qr decode reads the PNG to the exact text" "0 $TEXT" "$RC $OUT"
# A JPEG, as a phone's camera saves it (python3-pil, quality 70, in colour), and a cut one.
$PY -c 'import sys
from PIL import Image
Image.open(sys.argv[1]).convert("RGB").save(sys.argv[2], format="JPEG", quality=70)' \
    "$T/code.png" "$T/code.jpg"
run_capture "$LEAL" qr decode "$T/code.jpg"
check_eq "leal qr decode reads a JPEG of it (libjpeg) to the exact text" "0 $TEXT" "$RC $OUT"
head -c 300 "$T/code.jpg" >"$T/cut.jpg"
run_capture "$LEAL" qr decode "$T/cut.jpg"
check_eq "a JPEG cut inside its header: exit 2, one line" "2 1" "$RC $(printf '%s\n' "$ERR" | wc -l)"
head -c $(($(stat -c %s "$T/code.jpg") / 2)) "$T/code.jpg" >"$T/half.jpg"
run_capture "$LEAL" qr decode "$T/half.jpg"
check_eq "a JPEG cut in half (the rest grey): exit 1, no code found" "1 1" \
    "$RC $(printf '%s\n' "$ERR" | grep -c 'no QR code found')"

run_capture "$LEAL" qr issue --account "$ACCT" -o "$T/code.svg" --json
check_eq "qr issue -o code.svg exits 0" 0 "$RC"
SVG_TEXT=$(printf '%s' "$OUT" | field text)
check_match "the SVG is an svg document with one path" '^<svg .*viewBox="0 0 49 49"' \
    "$(grep '<svg' "$T/code.svg")"
rsvg-convert --width 490 --height 490 --background-color white -o "$T/svg.png" "$T/code.svg"
run_capture zbarimg --raw -q "$T/svg.png"
check_eq "zbarimg reads leal's SVG (rasterised by rsvg-convert) to the exact text" "$SVG_TEXT" "$OUT"
check_nomatch "a second code is another virtual card (another text)" "^$TEXT\$" "$SVG_TEXT"

run_capture "$LEAL" qr issue --account "$ACCT" -o "$T/code.pdf" --json
check_eq "qr issue -o code.pdf exits 0" 0 "$RC"
PDF_TEXT=$(printf '%s' "$OUT" | field text)
check_eq "the PDF: one page, 49 x 4 points a side" "Pages: 1|Page size: 196 x 196 pts" \
    "$(pdfinfo "$T/code.pdf" 2>/dev/null | grep -E '^(Pages|Page size):' | sed 's/  */ /g' | paste -sd'|')"
pdftoppm -r 144 -gray -png -singlefile "$T/code.pdf" "$T/pdf"
run_capture zbarimg --raw -q "$T/pdf.png"
check_eq "zbarimg reads leal's PDF (rasterised by pdftoppm) to the exact text" "$PDF_TEXT" "$OUT"

# The terminal drawing: each character two modules (upper, lower half), light
# modules drawn; turned back into a picture, 6 pixels a module.
run_capture "$LEAL" qr issue --account "$ACCT" --terminal
check_eq "qr issue --terminal exits 0" 0 "$RC"
TERM_TEXT=$(printf '%s\n' "$OUT" | grep '^LQ:')
printf '%s\n' "$OUT" | grep $'\x1b' | $PY -c '
import sys
rows = []
for line in sys.stdin.read().split("\n"):
    if not line.startswith("\x1b[40;97m"):
        continue
    cells = line[len("\x1b[40;97m"):line.index("\x1b[0m")]
    top = [c in "\u2580\u2588" for c in cells]
    bottom = [c in "\u2584\u2588" for c in cells]
    rows += [top, bottom]
s = 6
w = len(rows[0]) * s
out = open(sys.argv[1], "wb")
out.write(b"P5 %d %d 255\n" % (w, len(rows) * s))
for r in rows:
    line = bytes(255 if light else 0 for light in r for _ in range(s))
    out.write(line * s)
' "$T/term.pgm"
run_capture zbarimg --raw -q "$T/term.pgm"
check_eq "zbarimg reads the terminal drawing to the exact text" "$TERM_TEXT" "$OUT"

# A separate reading of QR.md: Base45 and the 92-byte static layout.
check_eq "Python's reading of the text: version 1, kind 1, key 1, flags 0, program, account, card, days, 64-byte signature" \
    "1 1 1 0 7 $ACCT $VC $TODAY $((TODAY + 30)) 64" \
    "$($PY -c '
import struct, sys
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
t = sys.argv[1]
assert t.startswith("LQ:")
t = t[3:]
b = bytearray()
for i in range(0, len(t), 3):
    g = [A.index(c) for c in t[i:i + 3]]
    v = sum(d * 45 ** k for k, d in enumerate(g))
    b += v.to_bytes(2 if len(g) == 3 else 1, "big")
f = struct.unpack(">BBBBIQQHH", b[:28])
print(*f, len(b) - 28)' "$TEXT")"

run_capture "$LEAL" qr verify "$TEXT" --json
check_eq "leal qr verify accepts the code" \
    "0 {\"verified\":true,\"kind\":\"static\",\"program\":7,\"account\":$ACCT,\"virtual_card\":$VC,\"key_version\":1,\"issued_day\":$TODAY,\"expires_day\":$((TODAY + 30))}" \
    "$RC $OUT"
# The last character of the account's group changed: another valid Base45 text.
ALTERED=$(printf '%s' "$TEXT" | $PY -c 'import sys; t=sys.stdin.read(); i=3+15; print(t[:i] + ("1" if t[i] != "1" else "2") + t[i+1:], end="")')
run_capture "$LEAL" qr verify "$ALTERED"
check_eq "an altered code is refused: exit 1, its signature" \
    "1 leal: QR code refused: QR code refused: its signature does not verify (altered or forged)" \
    "$RC $ERR"
run_capture "$LEAL" qr verify "${TEXT:0:100}"
check_eq "a cut code is refused: exit 1, malformed or truncated" 1 "$RC"
check_match "its reason" "cut short|not a leal QR code" "$ERR"

"$LEAL" card block "$VC" --reason "phone lost" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p.lpkg" >/dev/null
check_eq "the blocked code's virtual card is on the terminal package's hot list" "1" \
    "$($PY -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
r, h = struct.unpack(">II", d[36:44])
hot = [struct.unpack(">QB", d[60 + r + 9 * i:69 + r + 9 * i]) for i in range(h)]
print(sum(1 for c, why in hot if c == int(sys.argv[2]) and why == 1))' "$T/p.lpkg" "$VC")"

run_capture "$LEAL" qr issue --account "$ACCT" -o "$T/code.jpg"
check_eq "-o code.jpg: exit 2, one line" "2 1" "$RC $(printf '%s\n' "$ERR" | wc -l)"
check_match "it names what to do" "name a .png, .svg or .pdf file" "$ERR"
run_capture "$LEAL" qr issue --account "$ACCT"
check_eq "neither -o nor --terminal: exit 2" 2 "$RC"
run_capture "$LEAL" qr issue --account 999 -o "$T/x.png"
check_eq "an unknown account: exit 2, no file written" "2 no" "$RC $([ -e "$T/x.png" ] && echo yes || echo no)"
run_capture "$LEAL" qr issue --account 1 -o "$T/x.png"
check_eq "a program account: exit 2, no file written" "2 no" "$RC $([ -e "$T/x.png" ] && echo yes || echo no)"
run_capture "$LEAL" qr issue --account "$ACCT" -o "$T/x.png" --valid-days 0
check_eq "--valid-days 0: exit 2" 2 "$RC"
check_eq "the refused issues recorded no card: 4 virtual cards" 4 \
    "$(q "select count(*) from card where tech = 'virtual-qr'")"
printf 'not a picture' >"$T/bad.png"
run_capture "$LEAL" qr decode "$T/bad.png"
check_eq "decode of a file that is no PNG or JPEG: exit 2, saying so" \
    "2 leal: $T/bad.png: not a PNG or JPEG picture leal can read; save the screenshot or photo as PNG or JPEG" \
    "$RC $ERR"
rsvg-convert --width 100 --height 100 --background-color white -o "$T/blank.png" \
    <(printf '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
run_capture "$LEAL" qr decode "$T/blank.png"
check_eq "decode of a picture without a code: exit 1, one line" "1 1" "$RC $(printf '%s\n' "$ERR" | wc -l)"
check_match "it says no code was found" "no QR code found" "$ERR"

finish
