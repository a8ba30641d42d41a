#!/bin/bash
# terminal_net.sh - terminals syncing over HTTPS (issue 20): a real `leal
# serve --terminals` with TLS on 127.0.0.1, the real leal-terminal (libcurl,
# the server's key pinned). A terminal's journal goes in once with exact
# balances and its newest package comes back; a wrong pin, a terminal whose
# journal key is not this keystore's and a replayed request (sent by an
# independent Python client of the protocol) are each refused with their one
# line; an upload cut by a proxy at every 1 KiB of the connection and then
# retried is taken exactly once. The same cases and expectations on
# PostgreSQL with LEAL_TEST_BACKEND=pg (web_pg.sh): the server's ledger is
# that database (LEAL_DB), every row checked there.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/backend.sh

T=$(mktemp -d /tmp/leal-net-XXXXXX)
SERVE_PID= PROXY_PID=
cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
    [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null
    wait 2>/dev/null
    backend_db_stop
    rm -rf "$T"
}
export XDG_DATA_HOME=$T/data LEAL_PASSPHRASE="net sync test passphrase"
export LEAL_BUNDLE_PASSPHRASE="bundle pass phrase"
DB=$XDG_DATA_HOME/leal/ledger.db
LT="$LEAL_BUILD/bin/leal-terminal"
field() { $PY -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
entries() { q "select count(*) from entry where terminal_id = 1"; }

# The keystore is a file on both backends (made before LEAL_DB names the
# database); q and bal read the backend's ledger (tests/lib/backend.sh).
"$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
backend_db terminal_net || {
    finish
    exit
}
trap cleanup EXIT
[ "$BK" = sqlite ] || export LEAL_DB=$DB
"$LEAL" program create --code sol --name "Café Sol" --id 7 --points-per-euro 1 >/dev/null
"$LEAL" store add --program 7 --code centro --name Centro --tz Europe/Madrid >/dev/null
"$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
ACCT=$("$LEAL" customer add --program 7 --name Ana --json | field account)
TEXT=$("$LEAL" qr issue --account "$ACCT" -o "$T/code.png" --json | field text)
mkdir -p "$T/pkgs"
"$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 -o "$T/t1.ltb" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/p1.lpkg" >/dev/null
"$LT" init --bundle "$T/t1.ltb" --data "$T/d1" >/dev/null
"$LT" load "$T/p1.lpkg" --data "$T/d1" >/dev/null
"$LEAL" terminal package --terminal 1 -o "$T/pkgs/terminal-1.lpkg" >/dev/null

# The server's key and another one.
for c in server other; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
        -days 2 -keyout "$T/$c.key" -out "$T/$c.pem" 2>/dev/null
done
spki_pin() {
    echo "sha256//$(openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | base64)"
}
run_capture "$LEAL" serve --listen 127.0.0.1:0 --terminals "$T/pkgs"
check_eq "--terminals without TLS: refused, exit 2, one line" "2|1" "$RC|$(wc -l <<<"$ERR")"
"$LEAL" serve --listen 127.0.0.1:0 --tls-cert "$T/server.pem" --tls-key "$T/server.key" \
    --terminals "$T/pkgs" >"$T/serve.out" 2>"$T/serve.err" &
SERVE_PID=$!
for _ in $(seq 300); do grep -q '^terminal pin' "$T/serve.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$T/serve.out")
PORT=${URL##*:}
PIN=$(sed -n 's/^terminal pin //p' "$T/serve.out")
check_match "leal serve --terminals listens on HTTPS" '^https://127\.0\.0\.1:[0-9]+$' "$URL"
check_eq "the pin it prints is the SHA-256 of the certificate's public key (as openssl computes it)" \
    "$(spki_pin "$T/server.pem")" "$PIN"

# Taps: 24 earns by the static QR code, 1 to 24 euros (300 points).
for i in $(seq 24); do
    "$LT" tap --qr "$TEXT" --earn "$i" --data "$T/d1" >/dev/null || echo "tap $i failed"
done

run_capture "$LT" sync --server "$URL" --pin "$(spki_pin "$T/other.pem")" --data "$T/d1"
check_eq "a server whose key is not the pinned one: refused, exit 1, one line" \
    "1||leal-terminal: sync with $URL: the server's certificate is not the one pinned for this terminal; check --server, or pin the server's new key (leal serve prints it)" \
    "$RC|$OUT|$ERR"
check_eq "... nothing reached the ledger" 0 "$(entries)"

# A terminal 1 made from another keystore's bundle: its journal key is not ours.
OTHER=$T/other-data
LEAL_DB= XDG_DATA_HOME=$OTHER "$LEAL" keys init --issuer "Café Sol" --program 7 >/dev/null
LEAL_DB= XDG_DATA_HOME=$OTHER "$LEAL" program create --code sol --name "Café Sol" --id 7 >/dev/null
LEAL_DB= XDG_DATA_HOME=$OTHER "$LEAL" store add --program 7 --code centro --name Centro --tz UTC >/dev/null
LEAL_DB= XDG_DATA_HOME=$OTHER "$LEAL" terminal add --store 1 --name "caja 1" >/dev/null
LEAL_DB= XDG_DATA_HOME=$OTHER "$LEAL" keys export-terminal --terminal 1 --program 7 --expires 2027-06-01 \
    -o "$T/x1.ltb" >/dev/null
"$LT" init --bundle "$T/x1.ltb" --data "$T/x1" >/dev/null
run_capture "$LT" sync --server "$URL" --pin "$PIN" --data "$T/x1"
check_eq "a terminal whose journal key is not this keystore's: refused, exit 1, one line" \
    "1|leal-terminal: sync with $URL: the server refused the upload: LEAL_E_NET_AUTH: the terminal's request does not verify with its journal key: the terminal is not registered, or its bundle is not this ledger's" \
    "$RC|$ERR"
check_eq "... nothing reached the ledger" 0 "$(entries)"

# Cuts: a proxy closes the connection once the terminal has sent k KiB, for
# k = 1, 2, ... until a sync gets through whole. Each cut sync fails with one
# line; the ledger has either nothing of the export or all of it, never a part
# and never twice.
echo 0 >"$T/limit"
$PY tests/integration/net_cut_proxy.py "$PORT" "$T/limit" "$T/proxy.port" 2>"$T/proxy.err" &
PROXY_PID=$!
for _ in $(seq 100); do [ -s "$T/proxy.port" ] && break; sleep 0.1; done
PURL=https://127.0.0.1:$(cat "$T/proxy.port")
CUTS= SEEN=
for k in $(seq 1 64); do
    echo $((k * 1024)) >"$T/limit"
    run_capture "$LT" sync --server "$PURL" --pin "$PIN" --data "$T/d1"
    SEEN="$SEEN $k:$RC:$(entries)"
    [ "$RC" = 0 ] && break
    CUTS="$CUTS $k"
    [ "$(wc -l <<<"$ERR")" = 1 ] || SEEN="$SEEN(lines:$(wc -l <<<"$ERR"))"
done
echo "# cut at KiB: $SEEN"
check_match "several syncs were cut (at least 4 boundaries) before one got through" \
    '^ [0-9]+ [0-9]+ [0-9]+ [0-9]+' "$CUTS"
check_nomatch "after every cut the ledger held none or all 24 earns, each cut one line" \
    ':[0-9]+:([1-9]|1[0-9]|2[0-3]|2[5-9]|[3-9][0-9])\b|lines' "$SEEN"
check_match "the last sync through the proxy succeeded with all 24" ':0:24$' "$SEEN"
echo 0 >"$T/limit"
run_capture "$LT" sync --server "$URL" --pin "$PIN" --data "$T/d1"
EPOCH=$(q "select epoch from terminal where id = 1")
check_eq "synced again directly: only the ack's own journal entry to upload, the package kept" \
    "0|journal: uploaded 1 entries (epoch $EPOCH, sequences 26 to 26); the host acknowledged them
package: version 2 is the newest, kept|" "$RC|$OUT|$ERR"
check_eq "the ledger: the 24 earns of terminal 1 (sequences 2 to 25), each once" "24|24|2|25" \
    "$(entries)|$(q "select count(distinct terminal_seq) from entry where terminal_id = 1")|$(q "select min(terminal_seq) from entry where terminal_id = 1")|$(q "select max(terminal_seq) from entry where terminal_id = 1")"
check_eq "the account: 1 + 2 + ... + 24 = 300 points, exactly" 300 "$(bal "$ACCT" PTS)"
run_capture "$LT" status --json --data "$T/d1"
check_match "the terminal: package version 2 (downloaded), acked up to sequence 26" \
    '"package":\{"version":2,.*"last_ack":\{"at":[0-9]+,"epoch":[0-9]+,"seq":26\}' "$OUT"

# Three more taps, synced straight: the exact balance.
for i in 10 20 30; do "$LT" tap --qr "$TEXT" --earn "$i" --data "$T/d1" >/dev/null; done
"$LEAL" terminal package --terminal 1 -o "$T/pkgs/terminal-1.lpkg" >/dev/null
run_capture "$LT" sync --server "$URL" --pin "$PIN" --data "$T/d1"
check_eq "leal-terminal sync: uploaded, acked, the new package loaded" \
    "0|journal: uploaded 4 entries (epoch $EPOCH, sequences 27 to 30); the host acknowledged them
package: version 3 loaded: 0 hot-listed cards, 0 floors|" "$RC|$OUT|$ERR"
check_eq "the account: 360 points" 360 "$(bal "$ACCT" PTS)"

# A replay, by an independent client of the protocol (Python): a fresh
# upload is taken, the very same request again is refused.
"$LT" tap --qr "$TEXT" --earn 5 --data "$T/d1" >/dev/null
"$LT" journal export -o "$T/e1" --data "$T/d1" >/dev/null
KEYS=$(PASS=$LEAL_PASSPHRASE $PY tests/integration/keystore_decode.py "$XDG_DATA_HOME/leal/keystore")
JK=$(cd tests/integration && $PY -c "import sys, journal_decode as j; print(j.journal_key(bytes.fromhex(sys.argv[1]), int(sys.argv[2], 16), 7, 1).hex())" \
    "$(sed -n 's/^key journal 1 //p' <<<"$KEYS")" "$(sed -n 's/^issuer_id //p' <<<"$KEYS")")
# Between its challenge and its upload, 1,500 more challenges are asked for
# terminal 1 (anyone may ask): the server keeps none, so none pushes the
# terminal's out. A nonce the server did not give is refused.
run_capture $PY tests/integration/net_client.py "$PORT" "$JK" 1 1 "$T/e1" 1500
check_eq "1,500 more challenges for the same terminal are each answered" "flood 1500" "$(head -1 <<<"$OUT")"
check_eq "a nonce with one bit changed (its MAC right for it): refused as unknown (409), one line" \
    "409 LEAL_E_NET_REPLAY: the request's challenge was used already or has expired: a replayed or late request; sync again" \
    "$(sed -n 2p <<<"$OUT")"
check_match "the Python client's upload with its first challenge is taken (200, a 56-byte ack)" '^200 [0-9a-f]{112}$' "$(sed -n 3p <<<"$OUT")"
check_eq "the same request again: refused as a replay (409), one line" \
    "409 LEAL_E_NET_REPLAY: the request's challenge was used already or has expired: a replayed or late request; sync again" \
    "$(sed -n 4p <<<"$OUT")"
check_eq "the account: 365 points, the entry once" "365|28" "$(bal "$ACCT" PTS)|$(entries)"
run_capture "$LEAL" ledger verify
check_eq "ledger verify: exit 0" 0 "$RC"

# The pins in the bundle (no --pin, no server.pin): terminal 2's names the
# next key (other.pem's) and the current one, as during a rollover, and syncs;
# a bundle pinned to the other key alone is refused before it sends a byte.
"$LEAL" terminal add --store 1 --name "caja 2" >/dev/null
"$LEAL" terminal package --terminal 2 -o "$T/pkgs/terminal-2.lpkg" >/dev/null
"$LEAL" keys export-terminal --terminal 2 --program 7 --expires 2027-06-01 -o "$T/t2.ltb" \
    --server-pin "$(spki_pin "$T/other.pem")" --server-pin "$PIN" >/dev/null
"$LEAL" keys export-terminal --terminal 2 --program 7 --expires 2027-06-01 -o "$T/t2-other.ltb" \
    --server-pin "$(spki_pin "$T/other.pem")" >/dev/null
"$LT" init --bundle "$T/t2.ltb" --data "$T/d2" >/dev/null
"$LT" init --bundle "$T/t2-other.ltb" --data "$T/d2-other" >/dev/null
for d in d2 d2-other; do
    "$LT" load "$T/pkgs/terminal-2.lpkg" --data "$T/$d" >/dev/null
    "$LT" tap --qr "$TEXT" --earn 7 --data "$T/$d" >/dev/null
done
run_capture "$LT" sync --server "$URL" --data "$T/d2-other"
check_eq "a bundle pinned to another key only: refused, exit 1, one line" \
    "1||leal-terminal: sync with $URL: the server's certificate is not the one pinned for this terminal; check --server, or pin the server's new key (leal serve prints it)" \
    "$RC|$OUT|$ERR"
run_capture "$LT" sync --server "$URL" --data "$T/d2"
check_eq "a bundle pinned to the next key and the current one: synced with its pins" \
    "0|journal: uploaded 2 entries (epoch $(q "select epoch from terminal where id = 2"), sequences 1 to 2); the host acknowledged them
package: version 1 is the newest, kept|" "$RC|$OUT|$ERR"
check_eq "the account: 372 points, the 7 of terminal 2 once" "372|1" \
    "$(bal "$ACCT" PTS)|$(q "select count(*) from entry where terminal_id = 2")"

kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
check_eq "SIGTERM stops the server" "0|stopped (signal 15)" "$?|$(tail -1 "$T/serve.out")"
SERVE_PID=
check_eq "nothing on the server's stderr" "" "$(cat "$T/serve.err")"
finish
