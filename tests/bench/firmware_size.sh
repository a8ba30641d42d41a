#!/bin/bash
# firmware_size.sh - flash, RAM, stack and instructions of the Cortex-M3
# terminal (make firmware, firmware/port/cortex-m/), linked: the terminal core
# (firmware/core, cardlayout, keys/portable through firmware/core/port.h) runs
# in it. Prints:
# - the image's text/data/bss (bss includes the main stack the linker script
#   reserves) and, from the link map (tests/bench/fw_map.py), what each part
#   takes once linked, against the issue's goals for the core without the hot
#   list (<= 32 KiB flash, <= 8 KiB RAM): "the core" read wide, firmware/core,
#   cardlayout and keys, so with the portable crypto provider and the board's
#   error names in it and without the package store the board takes from
#   the POSIX port or libgcc's 64-bit division: each of those printed too;
# - the worst stack along the call graph from -fstack-usage
#   (-fcallgraph-info=su, tests/bench/fw_stack.py: calls through pointers
#   bounded by every function whose address is taken, so an over-estimate),
#   and the depth the board measured (its painted stack) over a real run: in
#   an earn, and from reset through the bundle and the package's LOAD (the
#   package's Ed25519 check), which goes deeper; the RAM for the core is shown
#   with the earn's (the issue's yardstick: a tap) and with the deeper of the
#   two (what the board's stack must hold);
# - instructions per earn on a DESFire EV1 and a Classic 1K card: the board
#   in QEMU with -icount shift=0 (one guest instruction per virtual ns)
#   running tests/integration/firmware_earn.sh; the tap's SysTick cycles at
#   25 MHz, the waits for the PN532's answers aside, times 40; then that time
#   on a 64 MHz Cortex-M3 as a model (one instruction per cycle, no flash
#   wait states: a real part is slower by its CPI).
# Reports only; never fails on a figure.
set -u
cd "$(dirname "$0")/../.." || exit 1
ELF=build/firmware/leal-cm3.elf
MAP=build/firmware/leal-cm3.map
PY=/usr/bin/python3
if [ ! -f "$ELF" ]; then
    echo "firmware_size: $ELF missing; run make firmware" >&2
    exit 1
fi
read -r text data bss _ < <(arm-none-eabi-size "$ELF" | tail -1)
addr() { printf '%d' "0x$(arm-none-eabi-nm "$ELF" | awk -v n="$1" '$3==n{print $1}')"; }
stack=$(($(addr _stack_top) - $(addr _stack_bottom)))
echo "image (linked, Cortex-M3 -Os): text $text  data $data  bss $bss (the stack $stack of it)"
echo "  flash $((text + data)) of 196608 for code; RAM $((data + bss)) of 65536"
echo "linked, by part (the map's input sections; with -flto the line table's rows, before string merging):"
parts=$($PY tests/bench/fw_map.py "$MAP" "$ELF")
grep -v -E '^(ram|sub) ' <<<"$parts" | awk '{printf "  %-14s text %6d  data %5d  bss %6d\n", $1, $2, $3, $4}'
# -flto: bytes no line-table row, symbol or variable names (the vector table, anonymous
# constants and strings) are counted in the core, an over-estimate (tests/bench/fw_map.py).
core=$(grep -E '^(firmware/core|cardlayout|keys|unattributed) ' <<<"$parts" | awk '{t+=$2; d+=$3} END{print t+d}')
echo "  the core (firmware/core + cardlayout + keys, and what is unattributed): flash $core; goal <= 32768: $(
    [ "$core" -le 32768 ] && echo met || echo "missed by $((core - 32768))")"
piece() { awk -v n="$1" '$1=="sub" && $2==n{print $3+$4}' <<<"$parts"; }
echo "    in it: the portable crypto provider (keys/portable: AES, SHA-256, SHA-512, Ed25519)"
echo "    $(piece keys/portable), the board's error names (keys/base/err.c's subset) $(piece keys/base/err.o);"
echo "    not in it: the package store the board takes from the POSIX port (freestanding,"
div=0 # libgcc's 64-bit division: its objects' code in the map
while read -r hex; do div=$((div + hex)); done < <(awk '$1 == ".text" &&
    $4 ~ /libgcc\.a\(_(udivmoddi4|aeabi_ldivmod|aeabi_uldivmod)\.o\)$/ {print $3}' "$MAP")
echo "    firmware/port/posix/package_store.c) $(piece firmware/port/posix), libgcc's 64-bit division $div"
echo "  largest RAM objects: $(sed -n 's/^ram //p' <<<"$parts")"
sym() { printf '%d' "0x$(arm-none-eabi-nm -S "$ELF" | awk -v n="$1" '$4==n{print $2}')"; }
# The journal's open report is a local of the open (till.c open_storage): nothing keeps it.
# Statics of the core's own (the board's error names' buffer, keys/base/err.c's) too.
corebss=$(grep -E '^(firmware/core|cardlayout|keys) ' <<<"$parts" | awk '{b+=$3+$4} END{print b+0}')
objs=$(($(sym term) + $(sym package) + $(sym soft) + $(sym journal) + $(sym store) + $(sym board) + corebss))
echo "  RAM the core's objects take (terminal, package with its rules, software SAM, journal,"
echo "  package store, PN532 driver and port, the core's own statics $corebss): $objs"
echo "  not counted, the port's own (the till line's buffers, the SAM interface, the DRBG, the"
echo "  flash mirror's state): $((data + bss - stack - objs)) (.data + .bss less the stack and those objects)"
read -r bound path < <($PY tests/bench/fw_stack.py build/firmware | head -1)
echo "worst stack along the call graph (-fstack-usage, pointer calls over-estimated): $bound"
echo "  path: $path"

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
if FW_QEMU_OPTS="-icount shift=0" FW_BOARD_LOG=$LOG bash tests/integration/firmware_earn.sh \
    >"$LOG.out" 2>&1; then
    # Each run answers STACK after its LOAD (since reset), then after its earn (since the tap began).
    load=$(awk '$3=="stack"{if(++n[$1]==1 && $4>m)m=$4} END{print m+0}' "$LOG")
    used=$(awk '$3=="stack"{if(++n[$1]==2 && $4>m)m=$4} END{print m+0}' "$LOG")
    echo "stack the board used (painted, measured on the board): in an earn $used; from reset"
    echo "  through BUNDLE and LOAD (the package's signature checked) $load"
    echo "  RAM for the core: objects $objs + an earn's stack $used = $((objs + used)); goal <= 8192: $(
        [ $((objs + used)) -le 8192 ] && echo met || echo "missed by $((objs + used - 8192))")"
    deep=$((used > load ? used : load))
    echo "  with the deeper LOAD's stack: $objs + $deep = $((objs + deep)); goal <= 8192: $(
        [ $((objs + deep)) -le 8192 ] && echo met || echo "missed by $((objs + deep - 8192))")"
    echo "instructions per earn (QEMU -icount shift=0; time at 64 MHz, 1 instruction/cycle, a model):"
    awk '$3=="cost"{i=$4*40; printf "  %-8s %9d instructions  %6.1f ms\n", $1, i, i/64000}' "$LOG"
else
    echo "firmware_size: the board's earn run failed (tests/integration/firmware_earn.sh):" >&2
    tail -5 "$LOG.out" >&2
    rm -f "$LOG.out"
    exit 1
fi
rm -f "$LOG.out"
