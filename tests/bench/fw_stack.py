#!/usr/bin/python3
"""fw_stack.py - the worst main-stack depth of the Cortex-M3 image along its
call graph, from GCC's -fcallgraph-info=su files (build/firmware/obj/**/*.ci:
each function's frame and its direct calls).

Calls through a pointer (the crypto provider, the card reader, the storages,
the SAM, the port) have no target in those files; they are bounded by every
function whose address the image takes (a word of the linked image that an
R_ARM_ABS32 relocation made a function's address: the link keeps its
relocations, -Wl,--emit-relocs), not already on the path: an over-estimate,
never an under-one.

Linked with -flto (not the build's today: README) the frames are the link's
own: GCC writes the partition's .ci beside the image (leal-cm3.elf.ltrans0
.ltrans.ci; the compile's objects hold no code then, and an earlier build's
.ci under obj/ must be gone) with every function titled PARTITION:NAME; the
walk starts from cm_reset under either title.
A function with a dynamic frame is named (its size is then unbounded here).
picolibc's memcpy/memset/memcmp and libgcc's helpers carry no .ci: they are
counted as leaves (their frames are a few words).
Adds SysTick's handler and the 32-byte exception frame on top (it may
interrupt at any depth). Prints: WORST-BYTES and the path's first ten functions."""
import glob
import os
import re
import struct
import subprocess
import sys

OBJ = sys.argv[1] if len(sys.argv) > 1 else "build/firmware"
ELF = sys.argv[2] if len(sys.argv) > 2 else os.path.join(OBJ, "leal-cm3.elf")
ROOT, IRQ = "cm_reset", "cm_systick"

frames, edges, dynamic = {}, {}, []
node_re = re.compile(r'node: \{ title: "([^"]+)" label: "[^\\]*\\n[^\\]*\\n(\d+) bytes \(([a-z,]+)\)')
edge_re = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
for ci in glob.glob(os.path.join(OBJ, "**", "*.ci"), recursive=True):
    with open(ci) as f:
        for line in f:
            m = node_re.match(line)
            if m:
                frames[m.group(1)] = int(m.group(2))
                if m.group(3) != "static":
                    dynamic.append(m.group(1))
                continue
            m = edge_re.match(line)
            if m:
                edges.setdefault(m.group(1), set()).add(m.group(2))

objs = glob.glob(os.path.join(OBJ, "**", "*.o"), recursive=True)
lto = any(re.search(r"ltrans[^/]*\.ci$", ci) for ci in glob.glob(os.path.join(OBJ, "**", "*.ci"),
                                                              recursive=True))
missing = [o for o in objs if not os.path.exists(o[:-2] + ".ci")]
if missing and not lto:
    sys.exit(f"fw_stack: {len(missing)} objects have no .ci (built without -fcallgraph-info): "
             "run make firmware again")


def title_of(name):
    """The call graph's title of a function named name (public, or FILE:name)."""
    if name in frames:
        return name
    found = [t for t in frames if t.endswith(":" + name)]
    if len(found) != 1:
        sys.exit(f"fw_stack: {len(found)} functions named {name} in the call graph")
    return found[0]


# The functions whose address the linked image holds: each word an R_ARM_ABS32
# relocation of an allocated section wrote, when it is a function's address.
image = open(ELF, "rb").read()
phoff, = struct.unpack_from("<I", image, 0x1C)
phentsize, phnum = struct.unpack_from("<HH", image, 0x2A)
segments = []
for i in range(phnum):
    p_type, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<5I", image, phoff + i * phentsize)
    if p_type == 1:  # PT_LOAD
        segments.append((p_vaddr, p_offset, p_filesz))


def word_at(addr):
    for vaddr, offset, size in segments:
        if vaddr <= addr and addr + 4 <= vaddr + size:
            return struct.unpack_from("<I", image, offset + addr - vaddr)[0]
    return None


functions = {}  # address -> [(name, source file)]
nml = subprocess.run(["arm-none-eabi-nm", "-l", "--defined-only", ELF], capture_output=True,
                     text=True).stdout
for line in nml.splitlines():
    parts = line.split("\t")[0].split()
    if len(parts) == 3 and parts[1] in "tTW":
        src = line.split("\t")[1].rsplit(":", 1)[0] if "\t" in line else ""
        functions.setdefault(int(parts[0], 16), []).append((parts[2], src))
by_name = {}
for title in frames:
    by_name.setdefault(title.rsplit(":", 1)[-1], []).append(title)

relocs = subprocess.run(["arm-none-eabi-readelf", "-rW", ELF], capture_output=True, text=True).stdout
if "Relocation section" not in relocs:
    sys.exit("fw_stack: the image has no relocations (link it with -Wl,--emit-relocs)")
taken = set()
allocated = False
for line in relocs.splitlines():
    if line.startswith("Relocation section"):
        allocated = ".debug" not in line  # debug info names every function
        continue
    parts = line.split()
    if not allocated or len(parts) < 3 or parts[2] != "R_ARM_ABS32":
        continue
    value = word_at(int(parts[0], 16))
    if value is None or not value & 1:  # a Thumb function's address has bit 0 set
        continue
    for name, src in functions.get(value & ~1, ()):
        titles = by_name.get(name, [])
        mine = [t for t in titles if ":" in t and src.endswith("/" + t.rsplit(":", 1)[0])]
        taken.update(mine if len(mine) == 1 else titles)

memo = {}


def worst(f, path):
    """(bytes, path) of the deepest chain from f, not re-entering path."""
    if f in memo:
        return memo[f]
    best, best_path = 0, []
    callees = set(edges.get(f, ()))
    if "__indirect_call" in callees:
        callees.discard("__indirect_call")
        callees |= taken
    for c in sorted(callees):  # a fixed order: the memo depends on the path
        if c in path or c not in frames:
            continue
        b, p = worst(c, path | {c})
        if b > best:
            best, best_path = b, p
    memo[f] = (frames.get(f, 0) + best, [f] + best_path)
    return memo[f]


ROOT, IRQ = title_of(ROOT), title_of(IRQ)
total, chain = worst(ROOT, {ROOT})
irq = frames.get(IRQ, 0) + 32
short = [c.split(":")[-1] for c in chain]
shown = " > ".join(short[:10]) + (f" > ... ({len(short) - 10} more)" if len(short) > 10 else "")
print(f"{total + irq} {shown} (+ SysTick {irq}); {len(taken)} pointer targets")
if dynamic:
    print("dynamic frames: " + " ".join(sorted(dynamic)))
