#!/bin/bash
# firmware_qemu.sh - the bare-metal Cortex-M3 port (firmware/port/cortex-m/,
# built by `make firmware` into build/firmware/, which `make test` does) boots
# in QEMU's mps2-an385 board: its greeting and the portable crypto provider's
# self-test on UART0 (FIPS-197 C.1 AES-128, FIPS 180-2 SHA-256("abc"),
# RFC 4493 example 1 CMAC), each line exact, then the till's line END ends
# the run through semihosting with exit 0. The link map shows the stated
# memory (256 KiB flash: 192 KiB for the code, 64 KiB for the journal and the
# package; 64 KiB RAM) and no heap: neither malloc, free nor _sbrk is linked.
set -u
cd "$(dirname "$0")/../.." || exit 1
source tests/lib/testlib.sh

ELF=build/firmware/leal-cm3.elf
MAP=build/firmware/leal-cm3.map
check_eq "the firmware is built (make firmware)" "yes yes" \
    "$([ -f "$ELF" ] && echo yes) $([ -f "$MAP" ] && echo yes)"

check_eq "the link map: FLASH 192 KiB at 0, STORAGE 64 KiB above it, RAM 64 KiB at 0x20000000" \
    "FLASH 0x00000000 0x00030000 xr|STORAGE 0x00030000 0x00010000 r|RAM 0x20000000 0x00010000 xrw" \
    "$(awk '$1=="FLASH"||$1=="STORAGE"||$1=="RAM"{print $1, $2, $3, $4}' "$MAP" | paste -sd'|')"
check_eq "no heap: malloc, calloc, realloc, free and _sbrk absent from the link map" "0" \
    "$(grep -cwE 'malloc|calloc|realloc|free|_sbrk|sbrk' "$MAP")"
check_eq "the vector table is at address 0 (flash)" "0x00000000" \
    "$(arm-none-eabi-nm "$ELF" | awk '$3=="cm_vectors"{print "0x" $1}')"

run_capture timeout 60 qemu-system-arm -M mps2-an385 -nographic -monitor none \
    -semihosting-config enable=on,target=native -kernel "$ELF" <<<"END"
check_eq "QEMU ran the firmware to its end: exit 0" 0 "$RC"
check_eq "UART0: the greeting, the crypto self-test and the till's END, exact" \
    "leal terminal core on Cortex-M3 (mps2-an385), 256 KiB flash, 64 KiB RAM, no heap
self-test aes128 69c4e0d86a7b0430d8cdb78070b4c55a ok
self-test sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad ok
self-test cmac bb1d6929e95937287fa37d129b756746 ok
self-test passed
till: ready
ok end" "$(tr -d '\r' <<<"$OUT")"
finish
