#!/bin/bash
# firmware_cuts.sh - power cuts at seeded random points of the Cortex-M3
# terminal's taps (issue 18: "QEMU killed at 200 random points during taps
# and journal appends"), 200 by a board that resets itself in one QEMU run
# and a few by QEMU stopped, each as one seed.
#
# Where a cut lands. The board runs under QEMU's -icount shift=0 (a CPU cycle
# at 25 MHz is 40 guest instructions) and its TIMER0 fires at the cut
# (board.h): tcut=N N cycles into the tap's transaction, the waits for the
# PN532's answers left out as COST counts them; acut=N N cycles after the
# tap's journal append began. So a cut lands anywhere: in the card exchange (a
# command sent and never answered, a frame half sent, the commit), the
# crypto, or a journal append (between two flash words: a word lands in the
# flash file whole or not at all). The count is the same from run to run
# within about 2% of a tap (how the PN532's answers come in pieces varies
# with the host), within a cycle or two for acut=.
#
# Two kinds of cut, the same points and the same checks:
# - self-reset (LEAL_FW_CUTS_N seeds, default 200): one QEMU run per card for
#   all of them. The till's line "CUT tcut=N" (or acut=N) arms the next tap;
#   at the cut the board prints "power: cut ..." and resets itself (SCB
#   SYSRESETREQ, which QEMU's mps2-an385 answers with a system reset): the
#   core starts from the vector table, the UARTs, timers, SysTick and NVIC
#   from their reset state, startup copies .data, zeroes .bss and paints the
#   stack, and the terminal opens its journal and package from the flash
#   file alone, which holds exactly the words that landed before the cut
#   (flash rules kept: program only erased bytes, erase by 2 KiB page). The
#   clock, seed and keys come again from the till as after a power-up. The
#   emulated PN532 is power-cycled with the board (leal-cardsim's SIGHUP: the
#   line flushed both ways, the PN532 as at power-on, the card out of the
#   field and loaded again from what it last saved, so what it had not
#   committed is gone), then the next tap.
#   What this does not model that a kill does: QEMU's process lives on, so
#   RAM is not lost physically (it keeps its bytes across the reset: the
#   firmware reinitialises all it reads, but a read of uninitialised RAM
#   would find the old bytes, not the noise of a real power-up); QEMU's
#   host-side state (its semihosting file handles, one more per boot, its
#   character devices, the icount clock) carries on; the card leaves the
#   field at the PN532's power cycle, just after the cut, not at it (nothing
#   talks to it in between); and each cut starts from the base again by the
#   test restoring the flash file and the card file and resetting the board
#   (RESET), not by a new QEMU. The exports are not imported into the ledger
#   one by one (all branch from the same base); the first cut of each card
#   and outcome is (LEAL_FW_IMPORTS, default 1 per card and outcome).
# - QEMU stopped (LEAL_FW_KILL_SEEDS, default "1 2 3"): the board run with
#   the semihosting argument tcut= or acut= stops QEMU at the cut (exit 5,
#   its last line "power: cut"): the process is gone with its RAM and the
#   card simulator is stopped, and a new QEMU and simulator restart from the
#   flash image and the card file. This is the path make bench runs 200 times
#   (tests/bench/firmware_cuts.sh: LEAL_FW_KILLS_N=200).
# Two boards, a DESFire EV1 card on terminal 1 and a Classic 1K (stored value
# on) on terminal 2, each start from a flash image and a ledger where an earn,
# a stamp (and on DESFire a bono session) were tapped and imported. First
# each operation - earn, pay, redeem, stamp, bono (DESFire), void - runs whole
# from there: COST gives its cycles C and APPEND its journal append's, and a
# balance after it what the card then holds. Then each cut: a seed picks the
# card, the operation and the point, by the seed modulo 3: tcut= in the tap
# before its append (the card exchange, the crypto), acut= within the append,
# or acut= after the append (the card's commit). It is printed ("cut SEED (...)"; LEAL_FW_CUT_SEEDS="S ..." replays
# those seeds by self-reset, LEAL_FW_KILL_SEEDS="S ..." by QEMU stopped). The
# board restarts from its flash (no FORMAT, no LOAD), taps a balance, and its
# export is checked:
# - it verifies (journal_decode.py), and the entries before the cut tap are
#   the base's exactly: nothing committed is lost;
# - after them: nothing of the cut tap (cut before its append began), or the
#   torn append as a RECOVERY entry (reason 439) of its sequence, or the tap's
#   entry whole (the one its whole run wrote), then at most one settle of it,
#   then the balance;
# - card and journal agree: the balance's card state is the base's when
#   nothing of the tap or a RECOVERY is there, or when the settle says the
#   card did not commit, and the whole run's after it otherwise;
# - QEMU stopped and the imported self-reset cuts: leal sync import takes the
#   export (exit 0) and card and ledger agree.
# It ends with a line "# self-reset cuts: N (...) in S s; QEMU stopped: N".
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

source tests/lib/pn532.sh
pn532_fixture fw-cuts "firmware cuts"
export FW_QEMU_OPTS="-icount shift=0"
source tests/lib/firmware.sh

terminal_program 2 --classic-stored-value-cap 50
terminal_catalogue
pn532_cards --bono --marta-topup desfire classic
pn532_keys
TERM_OF_desfire=1 TERM_OF_classic=2
pn532_bundles 2
fw_provision 1
fw_provision 2
# decode TERMINAL FILE: the export's entries (time out, epoch EPOCH), then the count of "export ok".
decode() {
    local dec
    dec=$(pn532_decode "$1" "$(hex "$2")")
    sed -E '/^export /d; /^refused: ack /d; s/ time [-+0-9]+ / /; s#^(seq [0-9]+ [a-zA-Z]+ .* ref )[0-9]+/#\1EPOCH/#' <<<"$dec"
    grep -c '^export ok$' <<<"$dec"
}

# --- the base of each card: a board with the package, an earn, a stamp (a bono) ----------
OPS_desfire="EARN 2350|PAY 300|REDEEM $REWARD|STAMP 1|BONO $BONO|VOID"
OPS_classic="EARN 2350|PAY 300|REDEEM $REWARD|STAMP 1|VOID"
for c in desfire classic; do
    t=$(eval echo "\$TERM_OF_$c")
    {
        fw_lines "$T/t$t.ltb" "$T/p$t.lpkg"
        echo "EARN 5000"
        echo "STAMP 1"
        [ $c = classic ] || echo "BONO $BONO"
        echo "EXPORT"
        echo "END"
    } >"$T/lines"
    FW_FLASH=$T/$c-base.img fw_run "$c base run" "$T/$c.json" "$T/lines"
    fw_export_of "$T/$c-base.ljx"
    check_eq "$c base run: its taps are done" "$([ $c = classic ] && echo 2 || echo 3)" \
        "$(grep -c '^ok done card ' <<<"$OUT")"
    run_capture "$LEAL" sync import "$T/$c-base.ljx"
    check_eq "$c base run: leal sync import takes its export" 0 "$RC"
    decode $t "$T/$c-base.ljx" >"$T/$c-base.dec"
    check_eq "$c base run: the export verifies" 1 "$(tail -1 "$T/$c-base.dec")"
    sed -i '$d' "$T/$c-base.dec"
done
cp -a "$XDG_DATA_HOME" "$T/data-base"


# tof CARD: its terminal.
tof() { eval echo "\$TERM_OF_$1"; }
# state: the card's state in an entry line: its counter (before->after), bono
# sessions, points/purse/tier after, stamps.
state() { sed -nE 's/.* (counter [^ ]+) .* (bono [^ ]+ after [^ ]+ stamps [^ ]+) .*/\1 \2/p'; }
# state_of LINE: state's, of one line, in STATE (bash's regex: no process for
# each of the cuts' checks; the same glibc regex as sed's).
STATE_RE='^.* (counter [^ ]+) .* (bono [^ ]+ after [^ ]+ stamps [^ ]+) .*$'
state_of() {
    STATE=
    if [[ $1 =~ $STATE_RE ]]; then STATE="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"; fi
}

# --- the sessions: one QEMU run per card --------------------------------------------------
mkdir -p "$T/x"
# The board's lines from reset to the till's first line.
FW_BOOT=$(sed '/^till: ready$/q' <<<"$FW_HEAD")
# session_open CARD: its session from the base image and card.
session_open() {
    cp "$T/$1-base.img" "$T/s.img"
    cp "$T/$1.json" "$T/s-card.json"
    fw_session_start "$T/s-card.json" "$T/s.img"
    trap '[ -z "${FW_PID:-}" ] || kill "$FW_PID" 2>/dev/null; pn532_cleanup' EXIT
    fw_until '^till: ready$'
    check_eq "$1 session: the board boots from the base image" "$FW_BOOT" "$(head -c -1 <<<"$SOUT")"
}
# fresh CARD: the base again: the flash file and the card file restored, the
# PN532 power-cycled (the card loaded again), the board reset (RESET).
fresh() {
    cp "$T/$1-base.img" "$T/s.img"
    cp "$T/$1.json" "$T/s-card.json"
    fw_pn532_cycle
    fw_send RESET
    if ! fw_until '^till: ready$'; then
        fail "$1: the board did not come back after RESET" "$SOUT"
        return 1
    fi
    fw_pn532_cycled
}
# lines TERMINAL LINE...: a restart's lines (fw_restart's, without a process).
declare -A PROV
lines() {
    local t=$1
    shift
    [ -n "${PROV[$t]:-}" ] || PROV[$t]=$(<"$T/prov$t")
    printf 'TIME %s\n%s\n' "$EPOCHSECONDS" "${PROV[$t]}"
    printf '%s\n' "$@"
}
# hex_of FILE: the "ok export" hex in SOUT into FILE (SOUT holds one at most:
# fw_until stops at it). Parameter expansions, not sed nor read: no process,
# no byte-at-a-time read of the export's line, at each of the cuts.
hex_of() {
    local s=$'\n'$SOUT
    if [[ $s == *$'\nok export '* ]]; then
        s=${s#*$'\nok export '}
        printf '%s\n' "${s%%$'\n'*}" >"$1"
    else
        : >"$1"
    fi
}
# count_of PREFIX: in COUNT, how many lines of SOUT start with PREFIX (grep -c '^PREFIX').
count_of() {
    local s=$'\n'$SOUT
    COUNT=0
    while [[ $s == *$'\n'"$1"* ]]; do
        s=${s#*$'\n'"$1"}
        COUNT=$((COUNT + 1))
    done
}

# --- each operation whole from the base: its cycles, its entry, the card after -----------
t0=$SECONDS
for c in desfire classic; do
    t=$(tof $c)
    session_open $c
    lines $t BALANCE EXPORT >&"${FWQ[1]}"
    fw_until '^(ok export |error )'
    check_eq "$c: a balance from the base is done" 1 "$(grep -c '^ok done card ' <<<"$SOUT")"
    hex_of "$T/x/t$t-$c-basebal.hex"
    IFS='|' read -ra ops <<<"$(eval echo "\$OPS_$c")"
    i=0
    for op in "${ops[@]}"; do
        i=$((i + 1))
        fresh $c || break
        lines $t "$op" COST APPEND BALANCE EXPORT >&"${FWQ[1]}"
        fw_until '^(ok export |error )'
        cost=$(sed -n 's/^ok cost \([0-9]*\) cycles$/\1/p' <<<"$SOUT")
        check_eq "$c $op whole: done, then the balance, and COST gives its cycles" "2 yes" \
            "$(grep -c '^ok done card ' <<<"$SOUT") $([ "${cost:-0}" -gt 1000 ] && echo yes)"
        read -r first last words < <(sed -n 's/^ok append first \([0-9]*\) last \([0-9]*\) words \([0-9]*\)$/\1 \2 \3/p' <<<"$SOUT")
        check_eq "$c $op whole: APPEND gives its journal append's cycles, within the tap" yes \
            "$([ "${words:-0}" -gt 0 ] && [ "$first" -le "$last" ] && [ "$last" -le "$cost" ] && echo yes)"
        echo "$c|$op|$cost|$first|$last|$i" >>"$T/costs"
        hex_of "$T/x/t$t-$c-whole$i.hex"
        echo "# $c $op: $cost cycles ($((cost * 40)) instructions); its append: $words flash words from cycle $first to $last"
    done
    fw_session_end "$c session"
done
echo "# the whole runs: $((SECONDS - t0)) s"

# pick SEED...: "SEED|CARD|OP|COST|ARG|N|I" for each seed (Python's random,
# seeded: replayable): an operation, then by the seed modulo 3 tcut=N in the
# tap before its journal append, acut=N within the append (to 20 cycles after
# its last word), or acut=N after the append (the card's commit and what
# follows, to 2000 cycles before the tap's end); I is the operation's whole run.
# Why acut= after the append: the same tap's count varies from run to run by
# up to 1% (4,500 of 545,000 cycles on Classic: the PN532's answers come in
# other pieces), so a tcut= near the end could land after this run's tap ended
# and cut nothing (CI, 5 Dec 2026); counted from the append, the commit's count
# varies by some 400 cycles.
pick() {
    $PY - "$T/costs" "$@" <<'PYEOF'
import random, sys
rows = [l.strip() for l in open(sys.argv[1]) if l.strip()]
for s in sys.argv[2:]:
    seed = int(s)
    r = random.Random(seed)
    card, op, cost, first, last, i = r.choice(rows).split("|")
    cost, first, last = int(cost), int(first), int(last)
    if seed % 3 == 1:
        arg, n = "tcut", r.randint(1, first)
    elif seed % 3 == 2:
        arg, n = "acut", r.randint(1, last - first + 20)
    else:
        arg, n = "acut", r.randint(last - first + 1, max(last - first + 1, cost - first - 2000))
    print(f"{seed}|{card}|{op}|{cost}|{arg}|{n}|{i}")
PYEOF
}
# what_of SEED CARD OP COST ARG N: the cut's name, in WHAT. (The helpers run
# at each cut set variables rather than print for a $(...): no process each.)
what_of() {
    if [ "$5" = tcut ]; then
        WHAT="cut $1 ($2 $3 at cycle $6 of $4)"
    else
        WHAT="cut $1 ($2 $3 at cycle $6 from its journal append's start)"
    fi
}
# want_of ARG N: the board's line at the cut, a regex, in WANT.
want_of() {
    if [ "$1" = tcut ]; then
        WANT="^power: cut [0-9]+ cycles into the tap \(tcut=$2\)$"
    else
        WANT="^power: cut [0-9]+ cycles into the tap, [0-9]+ into its journal append \(acut=$2\)$"
    fi
}
# check_re NAME REGEX LINE: check_match of one line, by bash's regex (the
# same glibc ERE as grep -E's) rather than a printf | grep.
check_re() {
    if [[ $3 =~ $2 ]]; then pass "$1"; else fail "$1" "expected to match: $2" "actual: $3"; fi
}
# boot_of: SOUT without its "ok reset" lines and its last newline, in BOOT
# (grep -v '^ok reset$' | head -c -1).
boot_of() {
    BOOT=$'\n'$SOUT
    while [[ $BOOT == *$'\nok reset\n'* ]]; do
        BOOT=${BOOT//$'\nok reset\n'/$'\n'}
    done
    BOOT=${BOOT#$'\n'}
    BOOT=${BOOT%$'\n'}
}

# --- the self-reset cuts: one QEMU run per card -------------------------------------------
SEEDS=${LEAL_FW_CUT_SEEDS:-$(seq 1 "${LEAL_FW_CUTS_N:-200}")}
# shellcheck disable=SC2086 # the seeds are words
pick $SEEDS >"$T/picks"
t0=$SECONDS
for c in desfire classic; do
    grep -q "^[0-9]*|$c|" "$T/picks" || continue
    t=$(tof $c)
    session_open $c
    while IFS='|' read -r seed _ op cost arg n _; do
        what_of "$seed" $c "$op" "$cost" $arg "$n"
        what=$WHAT
        echo "# $what (replay: LEAL_FW_CUT_SEEDS=$seed LEAL_FW_KILLS_N=0)"
        fresh $c || break
        lines $t "CUT $arg=$n" "$op" >&"${FWQ[1]}"
        fw_until '^(power: cut |ok (done|refused|in-doubt) |error )'
        last=${SOUT%$'\n'}
        last=${last##*$'\n'}
        want_of $arg "$n"
        check_re "$what: UART0 ends at the cut, the board resets itself" "$WANT" "$last"
        fw_pn532_cycle
        [[ $last == "power: cut "* ]] || fw_send RESET # no cut: a reset all the same
        if ! fw_until '^till: ready$'; then
            fail "$what: the board did not come back" "$SOUT"
            break
        fi
        fw_pn532_cycled || break
        boot_of
        check_eq "$what: the board restarts, its RAM as at power-up" "$FW_BOOT" "$BOOT"
        lines $t BALANCE EXPORT >&"${FWQ[1]}"
        fw_until '^(ok export |error )'
        count_of 'ok done card '
        check_eq "$what, restart: the balance's tap is done" 1 "$COUNT"
        [ "$COUNT" = 1 ] || grep -v '^ok export ' <<<"$SOUT" | sed 's/^/#     /'
        hex_of "$T/x/t$t-cut$seed.hex"
        cp "$T/s-card.json" "$T/x/card$seed.json"
    done < <(grep "^[0-9]*|$c|" "$T/picks")
    fw_session_end "$c session of cuts"
done
SELF_S=$((SECONDS - t0))

# --- every export decoded at once (journal_decode.py's functions, one Python) ------------
# Each .hex gives its .ljx (bytes) and its .dec: the entries (time out, epoch
# EPOCH, as decode prints them) and then the count of "export ok".
$PY - "$(sed -n 's/^key journal 1 //p' <<<"$KEYS")" "0x$(sed -n 's/^issuer_id //p' <<<"$KEYS")" \
    "$T/x" <<'PYEOF'
import os, re, sys
sys.path.insert(0, "tests/integration")
import journal_decode as jd
master, issuer, d = sys.argv[1:4]
for name in sorted(os.listdir(d)):
    if not name.endswith(".hex"):
        continue
    base = os.path.join(d, name[:-4])
    term = int(name[1:name.index("-")])
    key = jd.journal_key(bytes.fromhex(master), int(issuer, 0), 7, term)
    x = bytes.fromhex(open(base + ".hex").read().strip())
    open(base + ".ljx", "wb").write(x)
    try:
        _, lines = jd.export(key, x)
        lines = [l for l in lines if not l.startswith("export ")]
        ok = 1
    except jd.Refused as e:
        lines, ok = ["refused: %s" % e], 0
    out = [re.sub(r"^(seq [0-9]+ [a-zA-Z]+ .* ref )[0-9]+/", r"\1EPOCH/",
                  re.sub(r" time [-+0-9]+ ", " ", l)) for l in lines]
    open(base + ".dec", "w").write("".join(l + "\n" for l in out) + "%d\n" % ok)
PYEOF

# rest_of DEC NB: DEC's entries after the first NB as words: R (RECOVERY,
# reason 439), O:OP (an operation's entry), S (settle), B (balance);
# bad-seq for an entry out of sequence.
rest_of() {
    tail -n +$(($2 + 1)) "$1" | awk -v k=$(($2 + 1)) '
        $1 != "seq" || $2 != k + NR - 1 { print "bad-seq"; next }
        $3 == "RECOVERY" && / reason 439 / { printf "R "; next }
        $3 == "settle" { printf "S "; next }
        $3 == "balance" { printf "B "; next }
        { printf "O:%s ", $3 }'
}
# check_cut WHAT CARD DEC I: the checks of one cut's restarted export (DEC:
# decoded as above; I: its operation's whole run); sets FORM. What it compares
# with is read once (cut_refs, after the whole runs' checks) and the export
# in bash (mapfile, parameter expansions, bash's regex: no process at each
# cut); each check is the one tail, head, sed and awk made of the files.
FIELDS_RE='^[[:space:]]*([^[:space:]]*)[[:space:]]*([^[:space:]]*)[[:space:]]*([^[:space:]]*)'
ITEM_RE='^.* item ([0-9]*) .*$'
check_cut() {
    local what=$1 c=$2 dec=$3 i=$4 nb rest kind op want item last= got k base f0 f1 f2 settled ok
    local -a L
    mapfile -t L <"$dec"
    nb=${REF_NB[$c]} op=${REF_OP[$c,$i]} base=${REF_BASEBAL[$c]}
    [ ${#L[@]} -eq 0 ] || last=${L[-1]}
    check_eq "$what: the export verifies" 1 "$last"
    [ ${#L[@]} -eq 0 ] || unset 'L[-1]'
    printf -v got '%s\n' "${L[@]:0:nb}"
    while [[ $got == *$'\n' ]]; do got=${got%$'\n'}; done
    check_eq "$what: the entries before the cut tap are the base's, exact" "${REF_BASE[$c]}" "$got"
    # rest_of's words, as its awk gives them.
    rest=
    for ((k = nb; k < ${#L[@]}; k++)); do
        [[ ${L[k]} =~ $FIELDS_RE ]] # awk's $1, $2, $3
        f0=${BASH_REMATCH[1]} f1=${BASH_REMATCH[2]} f2=${BASH_REMATCH[3]}
        if [[ $f0 != seq || ! $f1 =~ ^[0-9]+$ ]] || ((10#$f1 != k + 1)); then
            rest+=$'bad-seq\n'
        elif [[ $f2 == RECOVERY && ${L[k]} == *" reason 439 "* ]]; then
            rest+="R "
        elif [[ $f2 == settle ]]; then
            rest+="S "
        elif [[ $f2 == balance ]]; then
            rest+="B "
        else
            rest+="O:$f2 "
        fi
    done
    while [[ $rest == *$'\n' ]]; do rest=${rest%$'\n'}; done
    kind=${op%% *}
    kind=${kind,,}
    item=
    if [[ ${L[nb + 1]:-} =~ $ITEM_RE ]]; then item=${BASH_REMATCH[1]}; fi
    settled="not done"
    [ "$item" != 1 ] || settled=done
    case "$rest" in
        "B ") FORM="nothing of the tap" ;;
        "R B ") FORM="the torn append a RECOVERY" ;;
        "O:$kind B ") FORM="the tap's entry whole, the card committed" ;;
        "O:$kind S B ") FORM="the tap's entry whole, settled at the restart: $settled" ;;
        *) FORM="unexpected: $rest" ;;
    esac
    ok=yes
    [[ $FORM != unexpected* ]] || ok=$FORM
    check_eq "$what: after them nothing of the tap, a RECOVERY (439) or the tap's entry (and its settle), then the balance" \
        yes "$ok"
    # A void whose commit never landed is settled "not done" by the restart's
    # tap like any operation (until 5 Dec 2026 it kept its entry with no
    # settle): an entry with no settle means the card committed.
    case "$FORM" in
        nothing* | "the torn"* | *"not done") want=$base ;;
        *) want=${REF_STATE[$c,$i]} ;;
    esac
    last=
    [ ${#L[@]} -eq 0 ] || last=${L[-1]}
    state_of "$last"
    if [[ $want == "$base" ]]; then
        check_eq "$what: card and journal agree: the balance reads the card as the base left it" "$want" "$STATE"
    else
        check_eq "$what: card and journal agree: the balance reads the card as the whole $op left it" "$want" "$STATE"
    fi
    if [[ $FORM == "the tap's entry"* ]]; then
        check_eq "$what: the tap's entry is the one its whole run wrote" "${REF_ENTRY[$c,$i]}" "${L[nb]:-}"
    fi
    echo "#   $FORM"
}
# ledger_agrees WHAT EXPORT CARD: the export imported into the base's ledger, card and ledger agree.
ledger_agrees() {
    rm -rf "$XDG_DATA_HOME" && cp -a "$T/data-base" "$XDG_DATA_HOME"
    run_capture "$LEAL" sync import "$2"
    check_eq "$1: leal sync import takes the restarted board's export" 0 "$RC"
    run_capture "$LEAL" card read --reader "sim:$3" --json
    check_eq "$1: card and ledger agree" True "$(field '["agrees"]' <<<"$OUT")"
}

# The whole runs: the base's entries, then the balance; or the op's entry and the balance.
for c in desfire classic; do
    t=$(tof $c)
    nb=$(wc -l <"$T/$c-base.dec")
    bb=$T/x/t$t-$c-basebal.dec
    check_eq "$c: the base's balance verifies: the base's entries, then the balance" \
        "1|$(cat "$T/$c-base.dec")|B " "$(tail -1 "$bb")|$(head -n "$nb" "$bb")|$(sed '$d' "$bb" | rest_of /dev/stdin "$nb")"
    sed -i '$d' "$bb"
    IFS='|' read -ra ops <<<"$(eval echo "\$OPS_$c")"
    for i in $(seq ${#ops[@]}); do
        op=${ops[i - 1]} w=$T/x/t$t-$c-whole$i.dec
        kind=$(tr '[:upper:]' '[:lower:]' <<<"${op%% *}")
        check_eq "$c $op whole: its export verifies: the base's entries, the $kind, the balance" \
            "1|$(cat "$T/$c-base.dec")|O:$kind B " "$(tail -1 "$w")|$(head -n "$nb" "$w")|$(sed '$d' "$w" | rest_of /dev/stdin "$nb")"
        sed -i '$d' "$w"
        check_eq "$c $op whole: it changed what the card holds (the balance's state is not the base's)" \
            yes "$([ "$(tail -1 "$bb" | state)" != "$(tail -1 "$w" | state)" ] && echo yes)"
    done
done

# cut_refs: what check_cut compares each cut with, read once from the files
# checked above: REF_NB and REF_BASE (the base's entries: their count and
# text), REF_BASEBAL (the base's balance's card state), REF_OP, REF_ENTRY and
# REF_STATE by card and whole run I (its operation, its entry, its balance's
# card state).
declare -A REF_NB REF_BASE REF_BASEBAL REF_OP REF_ENTRY REF_STATE
for c in desfire classic; do
    t=$(tof $c)
    REF_NB[$c]=$(wc -l <"$T/$c-base.dec")
    REF_BASE[$c]=$(cat "$T/$c-base.dec")
    state_of "$(tail -1 "$T/x/t$t-$c-basebal.dec")"
    REF_BASEBAL[$c]=$STATE
    IFS='|' read -ra ops <<<"$(eval echo "\$OPS_$c")"
    for i in $(seq ${#ops[@]}); do
        w=$T/x/t$t-$c-whole$i.dec
        REF_OP[$c,$i]=${ops[i - 1]}
        REF_ENTRY[$c,$i]=$(sed -n "$((REF_NB[$c] + 1))p" "$w")
        state_of "$(tail -1 "$w")"
        REF_STATE[$c,$i]=$STATE
    done
done

# The self-reset cuts.
declare -A FORMS IMPORTED
SELF_N=0
while IFS='|' read -r seed c op cost arg n i; do
    what_of "$seed" $c "$op" "$cost" $arg "$n"
    what=$WHAT t=TERM_OF_$c
    t=${!t}
    check_cut "$what" $c "$T/x/t$t-cut$seed.dec" "$i"
    FORMS[$FORM]=$((${FORMS[$FORM]:-0} + 1))
    SELF_N=$((SELF_N + 1))
    if [ "${IMPORTED[$c $FORM]:-0}" -lt "${LEAL_FW_IMPORTS:-1}" ]; then
        IMPORTED[$c $FORM]=$((${IMPORTED[$c $FORM]:-0} + 1))
        ledger_agrees "$what" "$T/x/t$t-cut$seed.ljx" "$T/x/card$seed.json"
    fi
done <"$T/picks"
self_forms=$(for f in "${!FORMS[@]}"; do echo "$f: ${FORMS[$f]}"; done | sort | paste -sd ';' | sed 's/;/; /g')

# --- the cuts with QEMU stopped: a new QEMU and card simulator after each ----------------
KILLS=${LEAL_FW_KILL_SEEDS:-$(seq 1 "${LEAL_FW_KILLS_N:-3}")}
declare -A KFORMS
KILL_N=0
t0=$SECONDS
# shellcheck disable=SC2086 # the seeds are words
while IFS='|' read -r seed c op cost arg n i; do
    t=$(tof $c)
    what_of "$seed" $c "$op" "$cost" $arg "$n"
    what="$WHAT, QEMU stopped"
    echo "# $what (replay: LEAL_FW_KILL_SEEDS=$seed LEAL_FW_CUTS_N=0)"
    cp "$T/$c-base.img" "$T/cut.img"
    cp "$T/$c.json" "$T/card-cut.json"
    fw_restart $t "$op" "END" >"$T/lines"
    if [ "$arg" = tcut ]; then
        FW_FLASH=$T/cut.img FW_TCUT=$n fw_run "$what" "$T/card-cut.json" "$T/lines"
    else
        FW_FLASH=$T/cut.img FW_ACUT=$n fw_run "$what" "$T/card-cut.json" "$T/lines"
    fi
    want_of $arg "$n"
    check_match "$what: UART0 ends at the cut" "$WANT" "$(tail -1 <<<"$OUT")"
    fw_restart $t "BALANCE" "EXPORT" "END" >"$T/lines"
    FW_FLASH=$T/cut.img fw_run "$what, restart" "$T/card-cut.json" "$T/lines"
    fw_export_of "$T/cut.ljx"
    check_eq "$what, restart: the balance's tap is done" 1 "$(grep -c '^ok done card ' <<<"$OUT")"
    decode $t "$T/cut.ljx" >"$T/cut.dec"
    check_cut "$what" $c "$T/cut.dec" "$i"
    KFORMS[$FORM]=$((${KFORMS[$FORM]:-0} + 1))
    KILL_N=$((KILL_N + 1))
    ledger_agrees "$what" "$T/cut.ljx" "$T/card-cut.json"
done < <([ -z "$KILLS" ] || pick $KILLS)
kill_forms=$(for f in "${!KFORMS[@]}"; do echo "$f: ${KFORMS[$f]}"; done | sort | paste -sd ';' | sed 's/;/; /g')
echo "# self-reset cuts: $SELF_N ($self_forms) in $SELF_S s; QEMU stopped: $KILL_N ($kill_forms) in $((SECONDS - t0)) s"
finish
