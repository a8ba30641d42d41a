#!/bin/bash
# layers.sh - issue 11's "Done means": dependency arrows only point down
# (host -> firmware/core -> cardlayout -> keys -> keys/base, by #include) and
# no file-level circle (no two product object files call each other, directly
# or round a longer circle). Both checks are also shown to fail: on a copy of
# a header that includes upward, and on two objects that call each other.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh

T=$(mktemp -d /tmp/leal-layers-XXXXXX)
trap 'rm -rf "$T"' EXIT

run_capture "$PY" tests/lib/check_layers.py includes .
check_eq "no include points up a layer" "0 " "$RC $OUT"

run_capture "$PY" tests/lib/check_layers.py calls "$LEAL_BUILD/obj"
check_eq "no circle among the product objects of $LEAL_BUILD" "0 " "$RC $OUT"

# The include check can fail: a freestanding codec that reaches into host/.
mkdir -p "$T/tree/cardlayout/records" "$T/tree/host/ledger"
printf '#include "host/ledger/ledger.h"\n' >"$T/tree/cardlayout/records/up.h"
: >"$T/tree/host/ledger/ledger.h"
run_capture "$PY" tests/lib/check_layers.py includes "$T/tree"
check_eq "an upward include is named" \
    "1 upward include: cardlayout/records/up.h -> host/ledger/ledger.h" "$RC $OUT"

# The call check can fail: two objects that call each other.
mkdir -p "$T/obj/host"
printf 'int pong(int);\nint ping(int n) { return n ? pong(n - 1) : 0; }\n' >"$T/a.c"
printf 'int ping(int);\nint pong(int n) { return n ? ping(n - 1) : 1; }\n' >"$T/b.c"
cc -c -o "$T/obj/host/a.o" "$T/a.c" && cc -c -o "$T/obj/host/b.o" "$T/b.c"
run_capture "$PY" tests/lib/check_layers.py calls "$T/obj"
check_eq "a call circle is named" "1 call circle: host/a.o -> host/b.o -> host/a.o" "$RC $OUT"

run_capture "$PY" tests/lib/check_layers.py calls "$T/nothing-here"
check_eq "no object directory is a usage error" "2" "$RC"
finish
