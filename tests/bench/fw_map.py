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
BSS" for the pieces in SUBS (each also counted in its part).

Linked with -flto (the build's since 6 Dec) the input sections are the link's
own partitions' (/tmp/cc*.ltrans0.ltrans.o), which say nothing of a source:
then each byte of code is the source file's its line-table row names (code
inlined from another part counts where it came from), and a section without
rows (a constant table, a function's strings .rodata.FUNC.str1.1, a static)
is the file's its symbol's code or debug information names; what neither
names is printed as "unattributed" (firmware_size.sh counts it in the core)."""
import bisect
import os
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



def count(obj, kind, size):
    """Counts size bytes of kind to the part (and piece) obj belongs to."""
    part = next((p for p in PARTS[:4] if "/obj/" + p in obj), "libc+libgcc")
    sizes[part][kind] += size
    for sub in SUBS:
        if "/obj/" + sub in obj:
            subs[sub][kind] += size


def source_obj(path):
    """The build's object name of a source path (the board's error table is keys/base/err.o)."""
    path = path.removeprefix("./")
    if path.endswith("err_board.c"):
        return "/obj/keys/base/err.o"
    return "/obj/" + path.rsplit(".", 1)[0] + ".o" if path.startswith(tuple(PARTS[:4])) else path


def line_table():
    """[(start, end, source object)] of every line-table row of the image, sorted."""
    out = subprocess.run(["arm-none-eabi-objdump", "--dwarf=decodedline", ELF],
                         capture_output=True, text=True).stdout
    rows, current, last = [], None, None
    for ln in out.splitlines():
        f = ln.split()
        if len(f) == 1 and ln.endswith(":"):
            current = source_obj(ln[:-1])
        elif len(f) >= 3 and f[2].startswith("0x") and current is not None:
            addr = int(f[2], 16)
            if last is not None and addr > last[0]:
                rows.append((last[0], addr, last[1]))
            last = None if f[1] == "-" else (addr, current)
    return sorted(rows)


def variables():
    """{address: source object} of each static the debug information places
    (a variable whose location is DW_OP_addr; its source is the compile unit
    of the declaration it refers to, -flto's early debug information)."""
    out = subprocess.run(["arm-none-eabi-objdump", "--dwarf=info", ELF], capture_output=True,
                         text=True).stdout
    die_re = re.compile(r"^ <(\d+)><([0-9a-f]+)>: Abbrev Number: \d+ \((\w+)\)")
    unit, tag, origin, placed, places = {}, None, None, None, []
    cu = None
    for ln in out.splitlines():
        m = die_re.match(ln)
        if m:
            if tag == "DW_TAG_variable" and placed is not None:
                places.append((placed, origin or die))
            die, tag, origin, placed = int(m.group(2), 16), m.group(3), None, None
            unit[die] = cu
            continue
        if "DW_AT_name" in ln and tag == "DW_TAG_compile_unit":
            cu = ln.rsplit(": ", 1)[-1].strip()
            unit[die] = cu
        elif "DW_AT_abstract_origin" in ln or "DW_AT_specification" in ln:
            origin = int(ln.rsplit("<0x", 1)[-1].rstrip(">"), 16)
        elif "DW_AT_location" in ln and ln.rstrip().endswith(")") and "(DW_OP_addr: " in ln \
                and ";" not in ln:
            placed = int(ln.rsplit("DW_OP_addr: ", 1)[-1].rstrip(")"), 16)
    if tag == "DW_TAG_variable" and placed is not None:
        places.append((placed, origin or die))
    return {a: source_obj(unit[o]) for a, o in places
            if unit.get(o) and unit[o] != "<artificial>"}


lto = []  # input sections of -flto's partitions: (name, address, size, kind)
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
        if ".ltrans" in obj:
            lto.append((name, int(m.group(2), 16), size, kind))
            continue
        count(obj, kind, size)

unattributed = [0, 0, 0]
if lto:
    rows = line_table()
    starts = [r[0] for r in rows]
    placed = variables()
    syms = {}  # name -> (address, source object or None)
    nml = subprocess.run(["arm-none-eabi-nm", "-l", "--defined-only", ELF], capture_output=True,
                         text=True).stdout
    for ln in nml.splitlines():
        f = ln.split("\t")[0].split()
        if len(f) == 3:
            src = source_obj(ln.split("\t")[1].rsplit(":", 1)[0]) if "\t" in ln else None
            syms.setdefault(f[2], (int(f[0], 16), src))

    def at(addr):
        """The source object of the line-table row holding addr, or None."""
        i = bisect.bisect_right(starts, addr) - 1
        return rows[i][2] if i >= 0 and rows[i][0] <= addr < rows[i][1] else None

    for name, addr, size, kind in lto:
        covered = 0
        if kind == 0 and name.startswith(".text"):
            i = max(bisect.bisect_right(starts, addr) - 1, 0)
            while i < len(rows) and rows[i][0] < addr + size:
                lo, hi = max(rows[i][0], addr), min(rows[i][1], addr + size)
                if hi > lo:
                    count(rows[i][2], kind, hi - lo)
                    covered += hi - lo
                i += 1
        rest = size - covered
        if rest == 0:
            continue
        # .text.F's bytes past its rows, .rodata.F.str1.1, .bss.V: F's or V's source
        sym = re.sub(r"^\.(text|rodata|data|bss)\.|\.str1\.\d+$", "", name)
        owner = syms.get(sym)
        src = owner and (owner[1] or placed.get(owner[0]) or at(owner[0] & ~1))
        if src:
            count(src, kind, rest)
        else:
            unattributed[kind] += rest
            if os.environ.get("FW_MAP_DEBUG"):
                print("unattributed", name, rest, file=sys.stderr)

for p in PARTS:
    t, d, b = sizes[p]
    print(f"{p.rstrip('/')} {t} {d} {b}")
if lto:
    print("unattributed %d %d %d" % tuple(unattributed))
for p in SUBS:
    t, d, b = subs[p]
    print(f"sub {p.rstrip('/')} {t} {d} {b}")

nm = subprocess.run(["arm-none-eabi-nm", "--size-sort", "-S", ELF], capture_output=True, text=True)
big = [ln.split() for ln in nm.stdout.splitlines() if len(ln.split()) == 4 and ln.split()[2] in "bBdD"]
big = sorted(big, key=lambda x: -int(x[1], 16))[:8]
print("ram " + " ".join(f"{x[3]}={int(x[1], 16)}" for x in big))
