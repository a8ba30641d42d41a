#!/usr/bin/python3
"""fw_map.py - what each part of the Cortex-M3 image takes once linked, from
the linker's map (build/firmware/leal-cm3.map, after --gc-sections): text
(code and constants, in flash), data (initialised, in flash and RAM) and bss
(RAM; the stack is its own section and not counted here), per part, of the
output sections the image allocates (not .ARM.attributes, .comment or the
debug information, which the map lists too but which never reach the board):
firmware/core, cardlayout, keys, the port (firmware/port/), the C library.
Then the largest RAM objects of the image (the statics the port keeps for the
core). Prints one line per part: PART TEXT DATA BSS; then "sub PIECE TEXT DATA
BSS" for the pieces in SUBS (each also counted in its part)."""
import re
import subprocess
import sys

MAP = sys.argv[1] if len(sys.argv) > 1 else "build/firmware/leal-cm3.map"
ELF = sys.argv[2] if len(sys.argv) > 2 else "build/firmware/leal-cm3.elf"
PARTS = ["firmware/core/", "cardlayout/", "keys/", "firmware/port/", "libc+libgcc"]
# Pieces of those parts shown on their own (what "the core" holds or leaves
# out: firmware_size.sh): the portable crypto provider and the board's error
# names inside keys/, the package store the port links from firmware/port/posix.
SUBS = ["keys/portable/", "keys/base/err.o", "firmware/port/posix/"]
sizes = {p: [0, 0, 0] for p in PARTS}
subs = {p: [0, 0, 0] for p in SUBS}
hdr = subprocess.run(["arm-none-eabi-objdump", "-h", ELF], capture_output=True, text=True).stdout
hdr = hdr.splitlines()
allocated = {hdr[i].split()[1] for i in range(len(hdr) - 1)
             if re.match(r"^\s+\d+ ", hdr[i]) and "ALLOC" in hdr[i + 1]} - {".stack"}

line_re = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$")
started, pending, output = False, None, None
with open(MAP) as f:
    for raw in f:
        line = raw.rstrip("\n")
        if line.startswith("Linker script and memory map"):
            started = True
            continue
        if not started:
            continue
        if line.startswith("."):
            output = line.split()[0]  # an output section: its input sections follow
            continue
        m = line_re.match(line)
        if m is None:
            # a long section name alone on its line; its numbers follow
            pending = line.strip() if line.startswith(" .") and len(line.split()) == 1 else None
            continue
        name = m.group(1) or pending
        pending = None
        size, obj = int(m.group(3), 16), m.group(4)
        if name is None or size == 0 or not obj.endswith((".o", ".o)")) or output not in allocated:
            continue
        kind = 2 if name.startswith((".bss", "COMMON")) else 1 if name.startswith(".data") else 0
        part = next((p for p in PARTS[:4] if "/obj/" + p in obj), "libc+libgcc")
        sizes[part][kind] += size
        for sub in SUBS:
            if "/obj/" + sub in obj:
                subs[sub][kind] += size

for p in PARTS:
    t, d, b = sizes[p]
    print(f"{p.rstrip('/')} {t} {d} {b}")
for p in SUBS:
    t, d, b = subs[p]
    print(f"sub {p.rstrip('/')} {t} {d} {b}")

nm = subprocess.run(["arm-none-eabi-nm", "--size-sort", "-S", ELF], capture_output=True, text=True)
big = [ln.split() for ln in nm.stdout.splitlines() if len(ln.split()) == 4 and ln.split()[2] in "bBdD"]
big = sorted(big, key=lambda x: -int(x[1], 16))[:8]
print("ram " + " ".join(f"{x[3]}={int(x[1], 16)}" for x in big))
