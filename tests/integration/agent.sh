#!/bin/bash
# agent.sh - the desk agent (leal agent; host/agent): started once with the
# passphrase, it lets card commands through the real pcscd + vpcd + leal-cardsim
# work with no passphrase at all; its folder is 0700 and its socket 0600; it
# answers only its own user and a client believes only an agent of its own user
# (an agent run as nobody, reached by root through the folder and through a
# hard link); it serves no other keystore or program; it forgets its keys after
# the idle limit, on stop, on SIGTERM and when the keystore changes (the card
# commands then need the passphrase again); no key appears in any output.
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh
source tests/lib/pcscd.sh
pcscd_reexec "$@"

TMP=$(mktemp -d)
chmod 711 "$TMP" # nobody reaches its own folders below, nothing else
SIM_PID=
AGENT_PIDS=()
cleanup() {
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
    for p in "${AGENT_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    pcscd_stop
    [ -n "${LEAL_PCSCD_NS:-}" ] && umount /run/pcscd 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

LEAL=$PWD/$LEAL
CARDSIM=$PWD/$CARDSIM
export XDG_DATA_HOME=$TMP/data XDG_RUNTIME_DIR=$TMP/run
unset LEAL_PASSPHRASE
mkdir -m 700 "$TMP/run"
printf 'agent test passphrase\n' >"$TMP/pass"
chmod 600 "$TMP/pass"
PF=(--passphrase-file "$TMP/pass")
ALL_OUT=$TMP/all-output
# No terminal (no prompt can be answered) and no passphrase anywhere: a card
# command succeeds only with the agent's keys. Output kept for the key check.
notty() {
    setsid -w "$@" </dev/null >"$TMP/o" 2>"$TMP/e"
    RC=$?
    OUT=$(cat "$TMP/o") ERR=$(cat "$TMP/e")
    cat "$TMP/o" "$TMP/e" >>"$ALL_OUT"
}
json() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# "gone" once PID has exited (a zombie not yet reaped counts as gone), within 3 s.
alive() {
    local i st
    for i in $(seq 1 30); do
        st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)
        if [ -z "$st" ] || [ "$st" = Z ]; then echo gone; return; fi
        sleep 0.1
    done
    echo alive
}

"$LEAL" keys init --issuer Agent --program 1 "${PF[@]}" >/dev/null || exit 1
"$LEAL" keys init --issuer Other --program 1 --keystore "$TMP/other.ks" "${PF[@]}" >/dev/null || exit 1
"$LEAL" program create --code a --name Agent --id 1 >/dev/null || exit 1
"$LEAL" customer add --program 1 --name A >/dev/null || exit 1
"$LEAL" store add --program 1 --code s --name Shop --tz Europe/Madrid >/dev/null || exit 1
"$LEAL" terminal add --store 1 --name till >/dev/null || exit 1
KS=$(realpath "$XDG_DATA_HOME/leal/keystore")

notty "$LEAL" agent status
check_eq "status without an agent: exit 1, says so" "1:no agent runs" "$RC:$OUT"

notty "$LEAL" agent start "${PF[@]}" --json
check_eq "agent start: exit 0" "0" "$RC"
AGENT_PID=$(json 'd["pid"]' <<<"$OUT")
AGENT_PIDS+=("$AGENT_PID")
check_eq "agent start --json: program, idle default, socket, keystore" \
    "1 900 $TMP/run/leal/agent.sock $KS" \
    "$(json 'd["program"], d["idle_seconds"], d["socket"], d["keystore"]' <<<"$OUT" | tr -d '(),'"'")"
check_eq "the agent's folder is 0700 and its socket 0600, both the user's" \
    "700 root directory|600 root socket" \
    "$(stat -c '%a %U %F' "$TMP/run/leal")|$(stat -c '%a %U %F' "$TMP/run/leal/agent.sock")"
notty "$LEAL" agent status --json
check_eq "status --json: running, pid, program 1, 10 card roles (tmac with them), idle limit" \
    "True $AGENT_PID 1 10 900 $KS" \
    "$(json 'd["running"], d["pid"], d["program"], d["roles"], d["idle_seconds"], d["keystore"]' <<<"$OUT" | tr -d '(),'"'")"
notty "$LEAL" agent start "${PF[@]}"
check_eq "a second agent is refused" "1" "$RC"
check_match "... naming the running one" "an agent already runs \(pid $AGENT_PID, program 1\)" "$ERR"

# Card commands through the real pcscd, with no passphrase.
if ! pcscd_start "$TMP"; then
    fail "a pcscd with a vpcd reader" "no pcscd could be started or found"
    finish
    exit 1
fi
"$CARDSIM" new --type desfire-ev1 --uid 04112233445566 -o "$TMP/card.json" >/dev/null || exit 1
"$CARDSIM" serve --vpcd "$VPCD_PORT" "$TMP/card.json" 2>"$TMP/sim.log" &
SIM_PID=$!
if pcscd_wait present; then pass "card present in pcscd"; else fail "card present in pcscd" "$(pcscd_card_state)"; fi
R=(--reader "pcsc:$PCSC_READER" --allow-virtual)

notty "$LEAL" card issue --customer 1 "${R[@]}" --topup 20 --json
check_eq "card issue through pcscd with the agent, no passphrase: exit 0" "0" "$RC"
check_eq "... the card holds 20.00 EUR and agrees with the ledger" "2000 True" \
    "$(json 'd["purse_cents"], d["agrees"]' <<<"$OUT" | tr -d '(),')"
notty "$LEAL" card read "${R[@]}" --json
check_eq "card read with the agent: exit 0, 20.00 EUR, agrees" "0 2000 True" \
    "$RC $(json 'd["purse_cents"], d["agrees"]' <<<"$OUT" | tr -d '(),')"
notty "$LEAL" card top-up 5 "${R[@]}" --json
check_eq "card top-up 5 with the agent: exit 0, 25.00 EUR" "0 2500" \
    "$RC $(json 'd["purse_cents"]' <<<"$OUT")"
check_eq "the agent holds the ledger open: its WAL stays beside it between commands" "wal" \
    "$([ -e "$XDG_DATA_HOME/leal/ledger.db-wal" ] && echo wal || echo no-wal)"
notty "$LEAL" card read "${R[@]}" --program 1
check_eq "--program naming the agent's program: served" "0" "$RC"
# The terminal package takes only the package key, from the agent too.
notty "$LEAL" terminal package --terminal 1 -o "$TMP/t1.lpkg" --json
check_eq "terminal package with the agent, no passphrase: exit 0, version 1" "0 1" \
    "$RC $(json 'd["version"]' <<<"$OUT")"
notty "$LEAL" package show "$TMP/t1.lpkg" --json
check_eq "package show with the agent: the signature verifies" "0 verified" \
    "$RC $(json 'd["signature"]' <<<"$OUT")"

# What the agent does not serve: the command unlocks itself, and has no passphrase.
notty "$LEAL" card read "${R[@]}" --program 2
check_eq "another program: not from the agent (no passphrase: exit 2)" "2" "$RC"
check_match "... it asks for the passphrase" "no keystore passphrase" "$ERR"
notty "$LEAL" card read "${R[@]}" --keystore "$TMP/other.ks"
check_eq "another keystore: not from the agent (exit 2)" "2" "$RC"
check_match "... it asks for the passphrase" "no keystore passphrase" "$ERR"
"$LEAL" card read "${R[@]}" --keystore "$TMP/other.ks" "${PF[@]}" >/dev/null 2>&1
check_eq "... and with it, the other issuer's keys do not open the card" "1" "$?"

# An unsafe folder is not believed.
chmod 750 "$TMP/run/leal"
notty "$LEAL" agent status
check_eq "a group-readable agent folder: status refuses (exit 1)" "1" "$RC"
check_match "... saying it is not private" "not private" "$ERR"
notty "$LEAL" card read "${R[@]}"
check_eq "... and card read refuses to take keys through it (exit 1)" "1" "$RC"
chmod 700 "$TMP/run/leal"

# Another user's agent: nobody runs one; root reaches it through the folder
# (root passes file modes) and through a hard link in a folder of root's.
NB=$TMP/nobody
mkdir -p "$NB/run" "$NB/data/leal"
cp "$XDG_DATA_HOME/leal/keystore" "$NB/data/leal/keystore"
cp "$TMP/pass" "$NB/pass"
chown -R nobody:nogroup "$NB"
chmod 700 "$NB/run"
as_nobody() {
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
        env XDG_RUNTIME_DIR="$NB/run" XDG_DATA_HOME="$NB/data" HOME="$NB" "$@"
}
NOUT=$(as_nobody "$LEAL" agent start --passphrase-file "$NB/pass" --json </dev/null 2>&1)
check_eq "nobody starts an agent of its own" "1" "$(json 'd["program"]' <<<"$NOUT" 2>&1)"
NPID=$(json 'd["pid"]' <<<"$NOUT" 2>/dev/null)
[ -n "$NPID" ] && AGENT_PIDS+=("$NPID")
check_eq "nobody's own status is answered" "0" "$(as_nobody "$LEAL" agent status >/dev/null 2>&1; echo $?)"
ASK='import socket,sys
s=socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
d=b""
try:
    s.sendall(bytes.fromhex(sys.argv[2]))
    while True:
        c=s.recv(4096)
        if not c: break
        d+=c
except (ConnectionResetError, BrokenPipeError):
    pass
print(d[:5].hex() if d else "closed")'
check_eq "the agent answers its own user (STATUS: LA 01, status 0)" "4c41010000" \
    "$(as_nobody "$PY" -c "$ASK" "$NB/run/leal/agent.sock" 4c4101010000)"
check_eq "root's STATUS to nobody's agent: closed without a byte (SO_PEERCRED)" "closed" \
    "$("$PY" -c "$ASK" "$NB/run/leal/agent.sock" 4c4101010000)"
check_eq "root's KEYS to nobody's agent: closed without a byte" "closed" \
    "$("$PY" -c "$ASK" "$NB/run/leal/agent.sock" \
        "4c410102$(printf '%04x' $((6 + ${#KS})))00000000$(printf '%04x' ${#KS})$(printf '%s' "$NB/data/leal/keystore" | od -An -tx1 | tr -d ' \n')")"
XDG_RUNTIME_DIR=$NB/run notty "$LEAL" agent status
check_eq "root's client refuses nobody's folder (exit 1, not private)" "1" "$RC"
check_match "... saying why" "not private" "$ERR"
mkdir -m 700 -p "$TMP/linked/leal"
ln "$NB/run/leal/agent.sock" "$TMP/linked/leal/agent.sock"
XDG_RUNTIME_DIR=$TMP/linked notty "$LEAL" agent status
check_eq "nobody's socket in root's private folder: the client refuses its answer (exit 1)" \
    "1" "$RC"
XDG_RUNTIME_DIR=$TMP/linked XDG_DATA_HOME=$NB/data notty "$LEAL" card read "${R[@]}"
check_eq "... and card read takes no keys from it (exit 1)" "1" "$RC"
check_match "... saying the socket is not the user's" "not private to you" "$ERR"
as_nobody "$LEAL" agent stop >/dev/null 2>&1
check_eq "nobody stops its agent" "gone" "$(alive "$NPID")"

# Stop: keys wiped, process and socket gone, card commands need the passphrase again.
notty "$LEAL" agent stop
check_eq "agent stop: exit 0, says the keys are wiped" "0:agent stopped; its keys are wiped" \
    "$RC:$OUT"
check_eq "... the agent has ended and its socket is gone" "gone no-socket" \
    "$(alive "$AGENT_PID") $([ -e "$TMP/run/leal/agent.sock" ] && echo socket || echo no-socket)"
check_eq "... it closed the ledger last: no -wal or -shm beside it, the file whole" "0 ok" \
    "$(find "$XDG_DATA_HOME/leal" -name 'ledger.db-*' | wc -l) $(sqlite3 \
        "$XDG_DATA_HOME/leal/ledger.db" 'PRAGMA integrity_check')"
notty "$LEAL" card read "${R[@]}"
check_eq "after stop, card read has no keys without a passphrase (exit 2)" "2" "$RC"
notty "$LEAL" terminal package --terminal 1 -o "$TMP/t2.lpkg"
check_eq "after stop, terminal package has no key without a passphrase (exit 2, no file)" \
    "2 absent" "$RC $([ -e "$TMP/t2.lpkg" ] && echo present || echo absent)"
notty "$LEAL" agent stop
check_eq "stop without an agent: exit 1" "1:no agent runs" "$RC:$OUT"

# Idle limit.
notty "$LEAL" agent start "${PF[@]}" --idle 3 --json
IDLE_PID=$(json 'd["pid"]' <<<"$OUT")
AGENT_PIDS+=("$IDLE_PID")
notty "$LEAL" card read "${R[@]}"
check_eq "an agent with --idle 3 serves a read" "0" "$RC"
notty "$LEAL" agent status --json
check_match "... its status counts down from 3 s" "^[123]$" "$(json 'd["forgets_in"]' <<<"$OUT")"
sleep 4.5
check_eq "after 3 s without a card command it has ended (keys wiped)" "gone" "$(alive "$IDLE_PID")"
notty "$LEAL" agent status
check_eq "... status: no agent runs" "1:no agent runs" "$RC:$OUT"
notty "$LEAL" card read "${R[@]}"
check_eq "... card read needs the passphrase again (exit 2)" "2" "$RC"

# SIGTERM and a changed keystore.
notty "$LEAL" agent start "${PF[@]}" --json
TERM_PID=$(json 'd["pid"]' <<<"$OUT")
AGENT_PIDS+=("$TERM_PID")
kill -TERM "$TERM_PID"
check_eq "SIGTERM ends the agent and removes its socket" "gone no-socket" \
    "$(alive "$TERM_PID") $([ -e "$TMP/run/leal/agent.sock" ] && echo socket || echo no-socket)"
notty "$LEAL" agent start "${PF[@]}" --json
ROT_PID=$(json 'd["pid"]' <<<"$OUT")
AGENT_PIDS+=("$ROT_PID")
"$LEAL" keys rotate terminal "${PF[@]}" >/dev/null || fail "keys rotate" "exit $?"
notty "$LEAL" card read "${R[@]}"
check_eq "after a rotation the agent's keys are stale: card read needs the passphrase (exit 2)" \
    "2" "$RC"
check_eq "... and the agent has ended" "gone" "$(alive "$ROT_PID")"
"$LEAL" card read "${R[@]}" "${PF[@]}" >/dev/null 2>&1
check_eq "... with the passphrase the read works (card re-keyed to the new terminal key)" "0" "$?"

# No key in anything printed (the keystore decoded independently, keys/KEYS.md).
KEYS=$(PASS="agent test passphrase" "$PY" tests/integration/keystore_decode.py "$KS" |
    awk '$1 == "key" { print $4 }')
check_match "the keystore decodes to keys (for the check below)" "^[0-9a-f]{32}" "$KEYS"
LEAKED=0
while read -r k; do
    [ -n "$k" ] || continue
    lower=$(tr -d '\n' <"$ALL_OUT" | tr 'A-F' 'a-f' | tr -d ' :')
    if printf '%s' "$lower" | grep -q "$k"; then LEAKED=$((LEAKED + 1)); fi
done <<<"$KEYS"
check_eq "no key of the keystore (hex) in any output of the agent or the card commands" "0" "$LEAKED"

notty "$LEAL" agent --help
check_match "agent --help" "usage: leal agent start" "$OUT"
notty "$LEAL" agent start --idle 0
check_eq "--idle 0 is a usage error" "2" "$RC"
notty "$LEAL" agent status --idle 5
check_eq "status takes only --json" "2" "$RC"
finish
