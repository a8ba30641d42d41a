#!/usr/bin/python3
"""check_layers.py - issue 11's "dependency arrows only point down; no
file-level circle", checked on the tree and on its objects.

  check_layers.py includes ROOT      every #include "..." in keys/, cardlayout/,
                                     firmware/ and host/ points to the same layer
                                     or a lower one (keys/base < keys <
                                     cardlayout < firmware/core < host;
                                     keys/hosted sits beside keys/, under host/)
  check_layers.py calls OBJDIR       no two object files (product code, not
                                     tests/) call each other, directly or round
                                     a longer circle, by the global symbols
                                     `nm` shows

Prints one line per violation ("upward include: A -> B", "call circle: A ->
B -> A") and exits 1 if there is any, 0 otherwise, 2 on misuse.
"""
import collections
import os
import re
import subprocess
import sys

RANK = {"keys/base": 0, "keys": 1, "keys/hosted": 1, "cardlayout": 2, "firmware/core": 3, "host": 4}


def layer(path):
    for prefix in ("keys/base", "keys/hosted", "keys", "cardlayout", "firmware/core", "host"):
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return None


def upward_includes(root):
    bad = []
    for top in ("keys", "cardlayout", "firmware", "host"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                with open(os.path.join(root, path), encoding="utf-8") as f:
                    text = f.read()
                for target in re.findall(r'#include "([^"]+)"', text):
                    if not os.path.exists(os.path.join(root, target)):
                        target = os.path.normpath(os.path.join(os.path.dirname(path), target))
                    a, b = layer(path), layer(target)
                    if a is None or b is None:
                        continue
                    # keys/hosted and keys share a rank, but keys/ (freestanding)
                    # may not reach into keys/hosted.
                    if RANK[b] > RANK[a] or (a == "keys" and b == "keys/hosted"):
                        bad.append(f"upward include: {path} -> {target}")
    return bad


def nm(args, objdir, objs):
    """(object, symbol) for each line `nm ARGS` prints on objs (relative to objdir), in
    their order: one nm for all of them (a process per object cost most of this check)."""
    pairs = []
    for i in range(0, len(objs), 200):
        out = subprocess.run(["nm", "-A", *args, "--", *objs[i : i + 200]], cwd=objdir,
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            obj, _, rest = line.partition(":")
            if rest.split():
                pairs.append((obj, rest.split()[-1]))
    return pairs


def call_circles(objdir):
    objs = []
    for dirpath, _, files in os.walk(objdir):
        rel = os.path.relpath(dirpath, objdir)
        if rel == "tests" or rel.startswith("tests" + os.sep):
            continue
        objs += [os.path.relpath(os.path.join(dirpath, f), objdir) for f in files if f.endswith(".o")]
    defined = {}
    for o, sym in nm(["--defined-only", "-g"], objdir, objs):
        defined[sym] = o
    deps = collections.defaultdict(set)
    for o, sym in nm(["-u"], objdir, objs):
        if defined.get(sym, o) != o:
            deps[o].add(defined[sym])
    circles, state = [], {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(deps.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for o in sorted(objs):
        if o not in state:
            visit(o, [])
    return [f"call circle: {' -> '.join(c)}" for c in circles], len(objs)


def main(argv):
    if len(argv) != 3 or argv[1] not in ("includes", "calls") or not os.path.isdir(argv[2]):
        print("usage: check_layers.py includes ROOT | calls OBJDIR", file=sys.stderr)
        return 2
    if argv[1] == "includes":
        bad = upward_includes(argv[2])
    else:
        bad, count = call_circles(argv[2])
        if count == 0:
            print(f"check_layers: no object files under {argv[2]}; build first", file=sys.stderr)
            return 2
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
