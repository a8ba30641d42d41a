// qr.js - a QR code encoder (ISO/IEC 18004, model 2) for the spending-code
// page, so the page draws its codes itself, offline: alphanumeric mode (the
// "LQ:" + Base45 text of cardlayout/qr/QR.md is all in its 45 characters),
// error correction level M, the smallest version that holds the text, the
// mask with the lowest penalty (rules 1, 2 and 4 of the standard's 7.8.3).
// The algorithm follows the standard as Project Nayuki's public QR code
// generator lays it out; written here, no download. Drawn as SVG.
'use strict';

const LealQR = (() => {
  // Per version 1..40 at level M: error-correction codewords per block, and blocks.
  const ECC_PER_BLOCK = [-1, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28];
  const BLOCKS = [-1, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49];
  const FORMAT_M = 0; // level M's two format bits
  const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

  const bit = (x, i) => ((x >>> i) & 1) !== 0;

  function rawModules(ver) {
    let n = (16 * ver + 128) * ver + 64;
    if (ver >= 2) {
      const align = Math.floor(ver / 7) + 2;
      n -= (25 * align - 10) * align - 55;
      if (ver >= 7) n -= 36;
    }
    return n;
  }
  const dataCodewords = (ver) => Math.floor(rawModules(ver) / 8) - ECC_PER_BLOCK[ver] * BLOCKS[ver];

  // Reed-Solomon over GF(256) with the polynomial 0x11D.
  function gfMul(x, y) {
    let z = 0;
    for (let i = 7; i >= 0; i--) {
      z = (z << 1) ^ ((z >>> 7) * 0x11d);
      z ^= ((y >>> i) & 1) * x;
    }
    return z;
  }
  function rsDivisor(degree) {
    const r = new Array(degree).fill(0);
    r[degree - 1] = 1;
    let root = 1;
    for (let i = 0; i < degree; i++) {
      for (let j = 0; j < degree; j++) {
        r[j] = gfMul(r[j], root);
        if (j + 1 < degree) r[j] ^= r[j + 1];
      }
      root = gfMul(root, 2);
    }
    return r;
  }
  function rsRemainder(data, div) {
    const r = div.map(() => 0);
    for (const b of data) {
      const f = b ^ r.shift();
      r.push(0);
      div.forEach((c, i) => { r[i] ^= gfMul(c, f); });
    }
    return r;
  }

  // The data codewords of text in alphanumeric mode, padded for version ver.
  function encodeData(text, ver) {
    const bits = [];
    const put = (v, n) => { for (let i = n - 1; i >= 0; i--) bits.push((v >>> i) & 1); };
    put(2, 4);
    put(text.length, ver <= 9 ? 9 : ver <= 26 ? 11 : 13);
    for (let i = 0; i + 1 < text.length; i += 2) put(ALNUM.indexOf(text[i]) * 45 + ALNUM.indexOf(text[i + 1]), 11);
    if (text.length % 2) put(ALNUM.indexOf(text[text.length - 1]), 6);
    const cap = dataCodewords(ver) * 8;
    if (bits.length > cap) return null;
    put(0, Math.min(4, cap - bits.length));
    put(0, (8 - (bits.length % 8)) % 8);
    const out = [];
    for (let i = 0; i < bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8).join(''), 2));
    for (let pad = 0xec; out.length < cap / 8; pad ^= 0xec ^ 0x11) out.push(pad);
    return out;
  }

  function interleave(data, ver) {
    const nblocks = BLOCKS[ver], ecc = ECC_PER_BLOCK[ver];
    const raw = Math.floor(rawModules(ver) / 8);
    const nshort = nblocks - (raw % nblocks), shortLen = Math.floor(raw / nblocks);
    const div = rsDivisor(ecc);
    const blocks = [];
    for (let i = 0, k = 0; i < nblocks; i++) {
      const dat = data.slice(k, k + shortLen - ecc + (i < nshort ? 0 : 1));
      k += dat.length;
      const e = rsRemainder(dat, div);
      if (i < nshort) dat.push(0);
      blocks.push(dat.concat(e));
    }
    const out = [];
    for (let i = 0; i < blocks[0].length; i++)
      blocks.forEach((b, j) => { if (i !== shortLen - ecc || j >= nshort) out.push(b[i]); });
    return out;
  }

  function alignPositions(ver, size) {
    if (ver === 1) return [];
    const n = Math.floor(ver / 7) + 2;
    const step = ver === 32 ? 26 : Math.ceil((ver * 4 + 4) / (n * 2 - 2)) * 2;
    const r = [6];
    for (let pos = size - 7; r.length < n; pos -= step) r.splice(1, 0, pos);
    return r;
  }

  function build(ver, codewords) {
    const size = ver * 4 + 17;
    const m = Array.from({ length: size }, () => new Array(size).fill(false));
    const fn = Array.from({ length: size }, () => new Array(size).fill(false));
    const set = (x, y, dark) => { m[y][x] = dark; fn[y][x] = true; };
    for (let i = 0; i < size; i++) { set(6, i, i % 2 === 0); set(i, 6, i % 2 === 0); }
    for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]])
      for (let dy = -4; dy <= 4; dy++)
        for (let dx = -4; dx <= 4; dx++) {
          const d = Math.max(Math.abs(dx), Math.abs(dy)), x = cx + dx, y = cy + dy;
          if (x >= 0 && x < size && y >= 0 && y < size) set(x, y, d !== 2 && d !== 4);
        }
    const al = alignPositions(ver, size);
    for (let i = 0; i < al.length; i++)
      for (let j = 0; j < al.length; j++) {
        if ((i === 0 && j === 0) || (i === 0 && j === al.length - 1) || (i === al.length - 1 && j === 0)) continue;
        for (let dy = -2; dy <= 2; dy++)
          for (let dx = -2; dx <= 2; dx++) set(al[i] + dx, al[j] + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
      }
    const format = (mask) => {
      const data = (FORMAT_M << 3) | mask;
      let rem = data;
      for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
      const b = ((data << 10) | rem) ^ 0x5412;
      for (let i = 0; i <= 5; i++) set(8, i, bit(b, i));
      set(8, 7, bit(b, 6)); set(8, 8, bit(b, 7)); set(7, 8, bit(b, 8));
      for (let i = 9; i < 15; i++) set(14 - i, 8, bit(b, i));
      for (let i = 0; i < 8; i++) set(size - 1 - i, 8, bit(b, i));
      for (let i = 8; i < 15; i++) set(8, size - 15 + i, bit(b, i));
      set(8, size - 8, true);
    };
    format(0);
    if (ver >= 7) {
      let rem = ver;
      for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
      const b = (ver << 12) | rem;
      for (let i = 0; i < 18; i++) {
        const a = size - 11 + (i % 3), c = Math.floor(i / 3);
        set(a, c, bit(b, i)); set(c, a, bit(b, i));
      }
    }
    let k = 0;
    for (let right = size - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      for (let v = 0; v < size; v++)
        for (let j = 0; j < 2; j++) {
          const x = right - j, up = ((right + 1) & 2) === 0, y = up ? size - 1 - v : v;
          if (!fn[y][x] && k < codewords.length * 8) {
            m[y][x] = bit(codewords[k >>> 3], 7 - (k & 7));
            k++;
          }
        }
    }
    return { size, m, fn, format };
  }

  const MASKS = [
    (x, y) => (x + y) % 2 === 0, (x, y) => y % 2 === 0, (x) => x % 3 === 0,
    (x, y) => (x + y) % 3 === 0, (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
    (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0, (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
    (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
  ];
  function applyMask(q, mask) {
    for (let y = 0; y < q.size; y++)
      for (let x = 0; x < q.size; x++) if (!q.fn[y][x] && MASKS[mask](x, y)) q.m[y][x] = !q.m[y][x];
  }
  function penalty(q) {
    const n = q.size, m = q.m;
    let p = 0, dark = 0;
    for (let a = 0; a < n; a++) {
      let rx = 1, ry = 1;
      for (let b = 1; b < n; b++) {
        if (m[a][b] === m[a][b - 1]) rx++; else { if (rx >= 5) p += rx - 2; rx = 1; }
        if (m[b][a] === m[b - 1][a]) ry++; else { if (ry >= 5) p += ry - 2; ry = 1; }
      }
      if (rx >= 5) p += rx - 2;
      if (ry >= 5) p += ry - 2;
    }
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        if (m[y][x]) dark++;
        if (x + 1 < n && y + 1 < n && m[y][x] === m[y][x + 1] && m[y][x] === m[y + 1][x] && m[y][x] === m[y + 1][x + 1]) p += 3;
      }
    const k = Math.ceil(Math.abs(dark * 20 - n * n * 10) / (n * n)) - 1;
    return p + Math.max(0, k) * 10;
  }

  // The modules (rows of booleans, true dark) of text's code.
  function encode(text) {
    if (![...text].every((c) => ALNUM.includes(c))) throw new Error('not alphanumeric');
    let ver = 1, data = null;
    for (; ver <= 40 && (data = encodeData(text, ver)) === null; ver++);
    if (data === null) throw new Error('too long for a QR code');
    const cw = interleave(data, ver);
    let best = null, bestP = Infinity;
    for (let mask = 0; mask < 8; mask++) {
      const q = build(ver, cw);
      applyMask(q, mask);
      q.format(mask);
      const p = penalty(q);
      if (p < bestP) { best = q; bestP = p; }
    }
    return { version: ver, modules: best.m };
  }

  // An <svg> of the code, scale pixels a module, with the 4-module quiet zone.
  function svg(text, scale) {
    const { modules } = encode(text);
    const n = modules.length, side = (n + 8) * scale;
    const NS = 'http://www.w3.org/2000/svg';
    const el = document.createElementNS(NS, 'svg');
    el.setAttribute('width', side); el.setAttribute('height', side);
    el.setAttribute('viewBox', `0 0 ${n + 8} ${n + 8}`);
    el.setAttribute('shape-rendering', 'crispEdges');
    const bg = document.createElementNS(NS, 'rect');
    bg.setAttribute('width', n + 8); bg.setAttribute('height', n + 8); bg.setAttribute('fill', '#fff');
    let d = '';
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (modules[y][x]) d += `M${x + 4} ${y + 4}h1v1h-1z`;
    const path = document.createElementNS(NS, 'path');
    path.setAttribute('d', d); path.setAttribute('fill', '#000');
    el.append(bg, path);
    return el;
  }

  return { encode, svg };
})();
