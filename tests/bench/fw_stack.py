#!/usr/bin/python3
"""fw_stack.py - the worst main-stack depth of the Cortex-M3 image along its
call graph, from GCC's -fcallgraph-info=su files (build/firmware/obj/**/*.ci:
each function's frame and its direct calls).

Calls through a pointer (the crypto provider, the card reader, the storages,
the SAM, the port) have no target in those files; they are bounded by every
function whose address the image takes (an R_ARM_ABS32 relocation to it in an
object), not already on the path: an over-estimate, never an under-one.
A function with a dynamic frame is named (its size is then unbounded here).
picolibc's memcpy/memset/memcmp and libgcc's helpers carry no .ci: they are
counted as leaves (their frames are a few words).
Adds SysTick's handler and the 32-byte exception frame on top (it may
interrupt at any depth). Prints: WORST-BYTES and the path's first ten functions."""
import glob
import os
import re
import subprocess
import sys

OBJ = sys.argv[1] if len(sys.argv) > 1 else "build/firmware/obj"
ROOT, IRQ = "cm_reset", "firmware/port/cortex-m/startup.c:cm_systick"

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
missing = [o for o in objs if not os.path.exists(o[:-2] + ".ci")]
if missing:
    sys.exit(f"fw_stack: {len(missing)} objects have no .ci (built without -fcallgraph-info): "
             "run make firmware again")
taken = set()
for o in objs:
    src = os.path.relpath(o, OBJ)[:-2] + ".c"
    out = subprocess.run(["arm-none-eabi-readelf", "-rW", o], capture_output=True, text=True).stdout
    code_or_data = False
    for line in out.splitlines():
        if line.startswith("Relocation section"):
            code_or_data = ".debug" not in line  # debug info names every function
            continue
        parts = line.split()
        if code_or_data and len(parts) >= 5 and parts[2] == "R_ARM_ABS32":
            sym = parts[4][6:] if parts[4].startswith(".text.") else parts[4]
            for title in (src + ":" + sym, sym):
                if title in frames:
                    taken.add(title)
                    break

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


total, chain = worst(ROOT, {ROOT})
irq = frames.get(IRQ, 0) + 32
short = [c.split(":")[-1] for c in chain]
shown = " > ".join(short[:10]) + (f" > ... ({len(short) - 10} more)" if len(short) > 10 else "")
print(f"{total + irq} {shown} (+ SysTick {irq}); {len(taken)} pointer targets")
if dynamic:
    print("dynamic frames: " + " ".join(sorted(dynamic)))
