#!/bin/bash
# firmware_cuts.sh - power cuts at seeded random points of the Cortex-M3
# terminal's taps (issue 18: "QEMU killed at random points during taps and
# journal appends"). The board runs under QEMU's -icount shift=0 (a CPU cycle
# at 25 MHz is 40 guest instructions) and its TIMER0 stops it (board.h): the
# semihosting argument tcut=N N cycles into its first tap's transaction, the
# waits for the PN532's answers left out as COST counts them; acut=N N cycles
# after that tap's journal append began. So a cut lands anywhere: in the card
# exchange (a command sent and never answered, a frame half sent, the commit),
# the crypto, or a journal append (between two flash words). The count is the
# same from run to run within about 2% of a tap (how the PN532's answers come
# in pieces varies with the host), within a cycle or two for acut=.
# Two boards, a DESFire EV1 card on terminal 1 and a Classic 1K (stored value
# on) on terminal 2, each start from a flash image and a ledger where an earn,
# a stamp (and on DESFire a bono session) were tapped and imported. First
# each operation - earn, pay, redeem, stamp, bono (DESFire), void - runs whole
# from there: COST gives its cycles C and APPEND its journal append's. Then
# each cut: a seed picks the card, the operation and the point, by the seed
# modulo 3: tcut= anywhere in 1..C, acut= within the append, or tcut= after
# the append (the card's commit). It is printed ("cut SEED (...)";
# LEAL_FW_CUT_SEEDS="S ..." replays those seeds). The board is cut there (exit
# 5, its last line "power: cut"), restarted from the flash image (no FORMAT,
# no LOAD), taps a balance, and its export is checked:
# - it verifies (journal_decode.py: "export ok"), and the entries before the
#   cut tap are the base's exactly: nothing committed is lost;
# - after them: nothing of the cut tap (cut before its append began), or the
#   torn append as a RECOVERY entry (reason 439) of its sequence, or the tap's
#   entry whole, then at most one settle of it, then the balance;
# - leal sync import takes it (exit 0) and card and ledger agree.
# make test runs seeds 1 to 12 (LEAL_FW_CUTS_N, default 12; about 2 minutes);
# make bench runs 200 (tests/bench/firmware_cuts.sh, 7 to 9 s each).
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

# --- each operation whole from the base: its cycles -------------------------------------
for c in desfire classic; do
    t=$(eval echo "\$TERM_OF_$c")
    IFS='|' read -ra ops <<<"$(eval echo "\$OPS_$c")"
    for op in "${ops[@]}"; do
        cp "$T/$c-base.img" "$T/run.img"
        cp "$T/$c.json" "$T/card-run.json"
        fw_restart $t "$op" "COST" "APPEND" "END" >"$T/lines"
        FW_FLASH=$T/run.img fw_run "$c $op whole" "$T/card-run.json" "$T/lines"
        cost=$(sed -n 's/^ok cost \([0-9]*\) cycles$/\1/p' <<<"$OUT")
        check_eq "$c $op whole: done, and COST gives its cycles" yes \
            "$(grep -q '^ok done card ' <<<"$OUT" && [ "${cost:-0}" -gt 1000 ] && echo yes)"
        read -r first last words < <(sed -n 's/^ok append first \([0-9]*\) last \([0-9]*\) words \([0-9]*\)$/\1 \2 \3/p' <<<"$OUT")
        check_eq "$c $op whole: APPEND gives its journal append's cycles, within the tap" yes \
            "$([ "${words:-0}" -gt 0 ] && [ "$first" -le "$last" ] && [ "$last" -le "$cost" ] && echo yes)"
        echo "$c|$op|$cost|$first|$last" >>"$T/costs"
        echo "# $c $op: $cost cycles ($((cost * 40)) instructions); its append: $words flash words from cycle $first to $last"
    done
done

# --- the cuts ---------------------------------------------------------------------------
# pick SEED: "CARD|OP|COST|ARG|N" for that seed (Python's random, seeded:
# replayable): an operation, then by the seed's rest modulo 3 tcut=N anywhere
# in the tap, acut=N within its journal append (to 20 cycles after its last
# word), or tcut=N after the append (the card's commit and what follows).
pick() {
    $PY - "$1" "$T/costs" <<'EOF'
import random, sys
rows = [l.strip() for l in open(sys.argv[2]) if l.strip()]
r = random.Random(int(sys.argv[1]))
seed = int(sys.argv[1])
card, op, cost, first, last = r.choice(rows).split("|")
# tcut= stops short of the whole run's last 4000 cycles: the same tap may take
# about 2% less in another run (the PN532's answers come in other pieces).
end = int(cost) - 4000
if seed % 3 == 1:
    arg, n = "tcut", r.randint(1, end)
elif seed % 3 == 2:
    arg, n = "acut", r.randint(1, int(last) - int(first) + 20)
else:
    arg, n = "tcut", r.randint(int(last), max(int(last), end))
print(f"{card}|{op}|{cost}|{arg}|{n}")
EOF
}
SEEDS=${LEAL_FW_CUT_SEEDS:-$(seq 1 "${LEAL_FW_CUTS_N:-12}")}
forms=""
for seed in $SEEDS; do
    IFS='|' read -r c op cost arg n <<<"$(pick "$seed")"
    t=$(eval echo "\$TERM_OF_$c")
    if [ "$arg" = tcut ]; then
        what="cut $seed ($c $op at cycle $n of $cost)"
    else
        what="cut $seed ($c $op at cycle $n of its journal append)"
    fi
    echo "# $what (replay: LEAL_FW_CUT_SEEDS=$seed)"
    cp "$T/$c-base.img" "$T/cut.img"
    cp "$T/$c.json" "$T/card-cut.json"
    rm -rf "$XDG_DATA_HOME" && cp -a "$T/data-base" "$XDG_DATA_HOME"
    fw_restart $t "$op" "END" >"$T/lines"
    if [ "$arg" = tcut ]; then
        FW_FLASH=$T/cut.img FW_TCUT=$n fw_run "$what" "$T/card-cut.json" "$T/lines"
        want="^power: cut [0-9]+ cycles into the tap \(tcut=$n\)$"
    else
        FW_FLASH=$T/cut.img FW_ACUT=$n fw_run "$what" "$T/card-cut.json" "$T/lines"
        want="^power: cut [0-9]+ cycles into the tap, [0-9]+ into its journal append \(acut=$n\)$"
    fi
    check_eq "$what: UART0 ends at the cut" yes "$(tail -1 <<<"$OUT" | grep -qE "$want" && echo yes)"
    fw_restart $t "BALANCE" "EXPORT" "END" >"$T/lines"
    FW_FLASH=$T/cut.img fw_run "$what, restart" "$T/card-cut.json" "$T/lines"
    fw_export_of "$T/cut.ljx"
    check_eq "$what, restart: the balance's tap is done" 1 "$(grep -c '^ok done card ' <<<"$OUT")"
    decode $t "$T/cut.ljx" >"$T/cut.dec"
    check_eq "$what: the export verifies" 1 "$(tail -1 "$T/cut.dec")"
    sed -i '$d' "$T/cut.dec"
    nb=$(wc -l <"$T/$c-base.dec")
    check_eq "$what: the entries before the cut tap are the base's, exact" "$(cat "$T/$c-base.dec")" \
        "$(head -n "$nb" "$T/cut.dec")"
    # The rest, as words: R (RECOVERY, reason 439), O (the op's entry), S (settle), B (balance).
    k=$((nb + 1))
    rest=$(tail -n +$((nb + 1)) "$T/cut.dec" | awk -v k=$k '
        { if ($2 != "seq") {} }
        $1 != "seq" || $2 != k + NR - 1 { print "bad-seq"; next }
        $3 == "RECOVERY" && / reason 439 / { printf "R "; next }
        $3 == "settle" { printf "S "; next }
        $3 == "balance" { printf "B "; next }
        { printf "O:%s ", $3 }')
    kind=$(tr '[:upper:]' '[:lower:]' <<<"${op%% *}")
    case "$rest" in
        "B ") form="nothing of the tap" ;;
        "R B ") form="the torn append a RECOVERY" ;;
        "O:$kind B ") form="the tap's entry whole, the card committed" ;;
        "O:$kind S B ") form="the tap's entry whole, settled at the restart" ;;
        *) form="unexpected: $rest" ;;
    esac
    check_eq "$what: after them nothing of the tap, a RECOVERY (439) or the tap's entry (and its settle), then the balance" \
        yes "$([[ $form != unexpected* ]] && echo yes || echo "$form")"
    echo "#   $form"
    forms+="$form"$'\n'
    run_capture "$LEAL" sync import "$T/cut.ljx"
    check_eq "$what: leal sync import takes the restarted board's export" 0 "$RC"
    run_capture "$LEAL" card read --reader "sim:$T/card-cut.json" --json
    check_eq "$what: card and ledger agree" True "$(field '["agrees"]' <<<"$OUT")"
done
echo "# forms: $(sed '/^$/d' <<<"$forms" | sort | uniq -c | sed -E 's/^ *([0-9]+) (.*)/\2: \1/' | paste -sd ';' | sed 's/;/; /g')"
finish
