#!/bin/sh
# link_terminal.sh - the offline terminal's transactions link without the C
# library: firmware/core/ (terminal, SAM, journal, package, rules, port
# contract), cardlayout/ (both card types' operations and records),
# firmware/port/template/, keys/, keys/portable/ and keys/base/ compiled with
# -ffreestanding -nostdinc (the compiler's own headers only), then linked
# with tests/lib/freestanding/link_terminal.c by -nostdlib -static: a call to
# malloc, printf or any other C library function is an undefined symbol and
# fails the link. Linked, never run.
# FS_O2=DIR (make check-freestanding): the objects link_terminal.sh compiled
# with these same flags are taken from DIR (by the same names) instead of
# compiled again; FS_O2_KEEP=DIR: link_terminal.sh leaves its objects there.
CC=${CC:-cc}
inc=$($CC -print-file-name=include)
flags="-std=c11 -ffreestanding -nostdinc -isystem $inc -I. -Wall -Wextra -Werror -fno-stack-protector -O2"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0
for f in firmware/core/*.c $(find cardlayout -name '*.c') firmware/port/template/*.c \
    keys/portable/*.c keys/*.c keys/base/*.c tests/lib/freestanding/link_terminal.c \
    tests/lib/freestanding/mem.c; do
    # shellcheck disable=SC2086
    $CC $flags -c "$f" -o "$tmp/$(echo "$f" | tr / _).o" ||
        { echo "link_terminal: $f does not compile freestanding"; status=1; }
done
[ $status -eq 0 ] || exit 1
[ -z "${FS_O2_KEEP:-}" ] || cp "$tmp"/*.o "$FS_O2_KEEP"/ || exit 1
ar rcs "$tmp/core.a" "$tmp"/firmware_*.o "$tmp"/cardlayout_*.o "$tmp"/keys_*.o || exit 1
if ! $CC -nostdlib -static -Wl,-e,terminal_link_start -o "$tmp/link" \
    "$tmp/tests_lib_freestanding_link_terminal.c.o" "$tmp/tests_lib_freestanding_mem.c.o" \
    "$tmp/core.a" -lgcc; then
    echo "link_terminal: the terminal does not link without the C library"
    exit 1
fi
exit 0
