# package_decode.py FILE - a terminal package (firmware/core/PACKAGE.md,
# format 2) read independently of leal's C code, one line per item: the
# rules section (hex, and its head), hot list, floors, pending changes,
# names, site, caps and the signed message. package.sh and
# package_ledger.sh compare these lines with the ledger's own rows.
import hashlib, struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:4] == b"LPKG" and d[4] == 2
R, H, F, P, N = struct.unpack(">IIIII", d[36:56])
assert len(d) == 60 + R + 9 * H + 28 * F + 24 * P + N + 32 + 8 + 64
r = d[60:60 + R]
print("rules", r.hex())
if R:
    print("rules-head", r[0], struct.unpack(">I", r[1:5])[0], struct.unpack(">I", r[5:9])[0], *r[13:18])
o = 60 + R
for i in range(H):
    cid, why = struct.unpack(">QB", d[o:o + 9]); o += 9
    print("hot", cid, {1: "blocked", 2: "lost", 3: "replaced"}[why])
for i in range(F):
    cid, kind, flags, res, taps, seq = struct.unpack(">QBBHII", d[o:o + 20])
    print("floor", cid, {1: "desfire", 2: "classic"}[kind], flags, taps, seq, d[o + 20:o + 28].hex()); o += 28
for i in range(P):
    print("pending", *struct.unpack(">QIIiBBH", d[o:o + 24])); o += 24
end = o + N
while o < end:
    kind, item, n = struct.unpack(">BIB", d[o:o + 6])
    print("name", {1: "tier", 2: "stamp", 3: "reward", 4: "bono", 5: "store"}[kind], item, d[o + 6:o + 6 + n].decode()); o += 6 + n
store, cap, std, dst, has = struct.unpack(">IIhhB", d[o:o + 13])
print("site", store, cap, std, dst, has, *struct.unpack(">BBBxi", d[o + 16:o + 24]), *struct.unpack(">BBBxi", d[o + 24:o + 32])); o += 32
day, sync = struct.unpack(">II", d[o:o + 8])
print("caps", day, sync)
body = d[:-64]; h = bytes(32)
for i in range(0, len(body), 1024):
    h = hashlib.sha256(h + body[i:i + 1024]).digest()
print("msg", (b"leal-package" + bytes([2]) + struct.pack(">I", len(body)) + h).hex())
