#!/bin/sh
# link_portable.sh - the portable crypto provider links without the C library:
# keys/portable/, keys/ (not keys/hosted) and keys/base/ compiled with
# -ffreestanding -nostdinc (the compiler's own headers only), then linked with
# tests/lib/freestanding/link_portable.c by -nostdlib -static: a call to
# malloc, printf or any other C library function is an undefined symbol and
# fails the link. Also refuses an object that names one of them at all, and
# compiles the same sources for a 32-bit Cortex-M3 (clang, thumbv7m-none-eabi,
# -Wconversion -Werror): no 128-bit integer, no 64-bit-only assumption.
# FS_O2=DIR (make check-freestanding): the objects link_terminal.sh compiled
# with these same flags are taken from DIR (by the same names) instead of
# compiled again; FS_O2_KEEP=DIR: link_terminal.sh leaves its objects there.
CC=${CC:-cc}
inc=$($CC -print-file-name=include)
flags="-std=c11 -ffreestanding -nostdinc -isystem $inc -I. -Wall -Wextra -Werror -fno-stack-protector -O2"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0
for f in keys/portable/*.c keys/*.c keys/base/*.c tests/lib/freestanding/link_portable.c tests/lib/freestanding/mem.c; do
    o=$(echo "$f" | tr / _).o
    [ -n "${FS_O2:-}" ] && [ -f "$FS_O2/$o" ] && cp "$FS_O2/$o" "$tmp/$o" && continue
    # shellcheck disable=SC2086
    $CC $flags -c "$f" -o "$tmp/$o" || { echo "link_portable: $f does not compile freestanding"; status=1; }
done
[ $status -eq 0 ] || exit 1
ar rcs "$tmp/keys.a" "$tmp"/keys_*.o || exit 1
if ! $CC -nostdlib -static -Wl,-e,portable_link_start -o "$tmp/link" \
    "$tmp/tests_lib_freestanding_link_portable.c.o" "$tmp/tests_lib_freestanding_mem.c.o" "$tmp/keys.a" -lgcc; then
    echo "link_portable: the portable provider does not link without the C library"
    exit 1
fi
# What the program took from keys/: every object pulled in, none of them
# naming an allocator or stdio function.
if nm -u "$tmp"/keys_portable_*.o | grep -E '\b(malloc|calloc|realloc|free|printf|fprintf|puts|fopen|fwrite|abort|exit)\b'; then
    echo "link_portable: keys/portable/ calls the C library"
    exit 1
fi
m3="--target=thumbv7m-none-eabi -mcpu=cortex-m3 -std=c11 -ffreestanding -O2 -I. -Wall -Wextra -Wconversion -Werror"
for f in keys/portable/*.c keys/*.c keys/base/*.c; do
    # shellcheck disable=SC2086
    clang $m3 -c "$f" -o "$tmp/m3.o" || { echo "link_portable: $f does not compile for a Cortex-M3"; status=1; }
done
exit $status
