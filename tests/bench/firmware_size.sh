#!/bin/bash
# firmware_size.sh - flash and RAM of the Cortex-M3 port (make firmware,
# firmware/port/cortex-m/): the linked image's text/data/bss (bss includes the
# 8 KiB main stack the linker script reserves) and the worst stack frame of
# its functions (-fstack-usage, one frame, not a call chain). Then the code the
# terminal core would add, compiled for the same CPU (-mcpu=cortex-m3 -Os)
# but not linked: the sum over the objects of firmware/core/, cardlayout/ and
# keys/ (an upper bound: the linker's --gc-sections drops what a build does not
# call). Reports only; never fails on a figure.
set -u
cd "$(dirname "$0")/../.." || exit 1
ELF=build/firmware/leal-cm3.elf
if [ ! -f "$ELF" ]; then
    echo "firmware_size: $ELF missing; run make firmware" >&2
    exit 1
fi
echo "image (256 KiB flash, 64 KiB RAM; bss includes the 8192-byte stack):"
arm-none-eabi-size "$ELF" | sed 's/^/  /'
echo "worst single frame: $(cat build/firmware/obj/firmware/port/cortex-m/*.su build/firmware/obj/keys/*/*.su \
    build/firmware/obj/keys/*.su 2>/dev/null | sort -t$'\t' -k2 -n | tail -1 | tr '\t' ' ')"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for group in firmware/core cardlayout keys; do
    objs=()
    while read -r f; do
        o="$tmp/$(echo "$f" | tr / _).o"
        arm-none-eabi-gcc -std=c11 -mcpu=cortex-m3 -mthumb -Os -ffreestanding -I. -c "$f" -o "$o" ||
            { echo "firmware_size: $f does not compile for Cortex-M3" >&2; exit 1; }
        objs+=("$o")
    done < <(find "$group" -name '*.c' -not -path 'keys/hosted/*' | sort)
    arm-none-eabi-size -t "${objs[@]}" | tail -1 |
        awk -v g="$group" '{printf "  %-14s text %7d  data %5d  bss %6d (objects, Cortex-M3 -Os, not linked)\n", g, $1, $2, $3}'
done
