#!/usr/bin/env python3
"""mem_search.py PID HEX - whether the bytes HEX are in the memory of process
PID (its readable mappings up to 1 GiB each, through /proc/PID/mem; needs root or ptrace
rights). Prints "found" (exit 1) or "not found" (exit 0)."""
import re
import sys


def main():
    pid, needle = sys.argv[1], bytes.fromhex(sys.argv[2])
    found = False
    with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb", 0) as mem:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (r)", line)
            if not m or "[vvar]" in line or "[vsyscall]" in line:
                continue
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            if end - start > (1 << 30):
                continue  # a sanitizer's reserved shadow, not data
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            if needle in chunk:
                found = True
                break
    print("found" if found else "not found")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
