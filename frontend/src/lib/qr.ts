// A small QR code encoder (ISO/IEC 18004), written for the projector's join code so that no QR
// image is fetched from anywhere: byte mode only (UTF-8), versions 1–40, the four error
// correction levels, the mask chosen by the standard's penalty rules (or given). The algorithm
// follows the standard's description; the structure is the usual one (bit buffer → blocks with
// Reed–Solomon codewords → interleaving → function patterns → zig-zag placement → mask).

export type Ecc = 'L' | 'M' | 'Q' | 'H';

export interface QrCode {
  version: number;
  size: number;
  mask: number;
  ecc: Ecc;
  /** modules[y][x]: true is dark */
  modules: boolean[][];
}

const ECC_ORDER: Record<Ecc, number> = { L: 0, M: 1, Q: 2, H: 3 };
/** The two format bits of each level (L=01, M=00, Q=11, H=10). */
const ECC_BITS: Record<Ecc, number> = { L: 1, M: 0, Q: 3, H: 2 };

// Error correction codewords per block, and number of blocks, by level (L, M, Q, H) and version
// (index 0 unused).
// prettier-ignore
const ECC_PER_BLOCK = [
  [-1, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  [-1, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
  [-1, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  [-1, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
];
// prettier-ignore
const BLOCKS = [
  [-1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
  [-1, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
  [-1, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
  [-1, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
];

/** rawModules: the modules of a version left for data and error correction (with remainder bits). */
function rawModules(ver: number): number {
  let n = (16 * ver + 128) * ver + 64;
  if (ver >= 2) {
    const align = Math.floor(ver / 7) + 2;
    n -= (25 * align - 10) * align - 55;
    if (ver >= 7) n -= 36;
  }
  return n;
}

/** dataCodewords: the 8-bit data codewords a version and level hold. */
export function dataCodewords(ver: number, ecc: Ecc): number {
  const e = ECC_ORDER[ecc];
  return Math.floor(rawModules(ver) / 8) - ECC_PER_BLOCK[e][ver] * BLOCKS[e][ver];
}

// --- Reed–Solomon over GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D)

function gfMul(x: number, y: number): number {
  let z = 0;
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d);
    z ^= ((y >>> i) & 1) * x;
  }
  return z;
}

/** The generator polynomial of a degree (coefficients from the highest power down, leading 1 dropped). */
function rsDivisor(degree: number): number[] {
  const out = new Array<number>(degree - 1).fill(0);
  out.push(1);
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < out.length; j++) {
      out[j] = gfMul(out[j], root);
      if (j + 1 < out.length) out[j] ^= out[j + 1];
    }
    root = gfMul(root, 0x02);
  }
  return out;
}

/** rsRemainder: the error correction codewords of a block of data codewords. */
export function rsRemainder(data: readonly number[], degree: number): number[] {
  const div = rsDivisor(degree);
  const out = new Array<number>(degree).fill(0);
  for (const b of data) {
    const factor = b ^ (out.shift() as number);
    out.push(0);
    for (let i = 0; i < div.length; i++) out[i] ^= gfMul(div[i], factor);
  }
  return out;
}

// --- the codewords

function utf8(text: string): number[] {
  return Array.from(new TextEncoder().encode(text));
}

/** codewords: the data codewords (mode, count, bytes, terminator, padding) of a version. */
export function dataBytes(bytes: readonly number[], ver: number, ecc: Ecc): number[] {
  const bits: number[] = [];
  const put = (v: number, n: number) => {
    for (let i = n - 1; i >= 0; i--) bits.push((v >>> i) & 1);
  };
  put(0b0100, 4); // byte mode
  put(bytes.length, ver < 10 ? 8 : 16);
  for (const b of bytes) put(b, 8);
  const capacity = dataCodewords(ver, ecc) * 8;
  put(0, Math.min(4, capacity - bits.length));
  put(0, (8 - (bits.length % 8)) % 8);
  const out: number[] = [];
  for (let i = 0; i < bits.length; i += 8) {
    let b = 0;
    for (let j = 0; j < 8; j++) b = (b << 1) | bits[i + j];
    out.push(b);
  }
  for (let pad = 0xec; out.length < capacity / 8; pad ^= 0xec ^ 0x11) out.push(pad);
  return out;
}

/** interleave splits data into blocks, adds each block's error correction and interleaves them. */
function interleave(data: readonly number[], ver: number, ecc: Ecc): number[] {
  const e = ECC_ORDER[ecc];
  const blocks = BLOCKS[e][ver];
  const eccLen = ECC_PER_BLOCK[e][ver];
  const raw = Math.floor(rawModules(ver) / 8);
  const shortBlocks = blocks - (raw % blocks);
  const shortLen = Math.floor(raw / blocks);
  const all: number[][] = [];
  for (let i = 0, k = 0; i < blocks; i++) {
    const dat = data.slice(k, k + shortLen - eccLen + (i < shortBlocks ? 0 : 1));
    k += dat.length;
    const rs = rsRemainder(dat, eccLen);
    if (i < shortBlocks) dat.push(0); // a hole, skipped below
    all.push(dat.concat(rs));
  }
  const out: number[] = [];
  for (let i = 0; i < all[0].length; i++) {
    for (let j = 0; j < all.length; j++) {
      if (i !== shortLen - eccLen || j >= shortBlocks) out.push(all[j][i]);
    }
  }
  return out;
}

// --- the matrix

function alignmentPositions(ver: number): number[] {
  if (ver === 1) return [];
  const n = Math.floor(ver / 7) + 2;
  const step = Math.floor((ver * 8 + n * 3 + 5) / (n * 4 - 4)) * 2;
  const out = [6];
  for (let pos = ver * 4 + 17 - 7; out.length < n; pos -= step) out.splice(1, 0, pos);
  return out;
}

class Matrix {
  readonly size: number;
  readonly dark: boolean[][];
  readonly fixed: boolean[][];
  constructor(readonly ver: number) {
    this.size = ver * 4 + 17;
    this.dark = Array.from({ length: this.size }, () => new Array<boolean>(this.size).fill(false));
    this.fixed = Array.from({ length: this.size }, () => new Array<boolean>(this.size).fill(false));
  }
  set(x: number, y: number, dark: boolean): void {
    this.dark[y][x] = dark;
    this.fixed[y][x] = true;
  }
  finder(cx: number, cy: number): void {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        if (x < 0 || y < 0 || x >= this.size || y >= this.size) continue;
        const d = Math.max(Math.abs(dx), Math.abs(dy));
        this.set(x, y, d !== 2 && d !== 4);
      }
    }
  }
  alignment(cx: number, cy: number): void {
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) this.set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
    }
  }
  functionPatterns(): void {
    const s = this.size;
    for (let i = 0; i < s; i++) {
      this.set(6, i, i % 2 === 0);
      this.set(i, 6, i % 2 === 0);
    }
    this.finder(3, 3);
    this.finder(s - 4, 3);
    this.finder(3, s - 4);
    const pos = alignmentPositions(this.ver);
    const last = pos.length - 1;
    for (let i = 0; i <= last; i++) {
      for (let j = 0; j <= last; j++) {
        if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) continue;
        this.alignment(pos[i], pos[j]);
      }
    }
    this.format(ECC_BITS.M, 0); // reserve the format areas; drawn for real after masking
    this.version();
  }
  format(eccBits: number, mask: number): void {
    const data = (eccBits << 3) | mask;
    let rem = data;
    for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
    const bits = ((data << 10) | rem) ^ 0x5412;
    const bit = (i: number) => ((bits >>> i) & 1) !== 0;
    const s = this.size;
    for (let i = 0; i <= 5; i++) this.set(8, i, bit(i));
    this.set(8, 7, bit(6));
    this.set(8, 8, bit(7));
    this.set(7, 8, bit(8));
    for (let i = 9; i < 15; i++) this.set(14 - i, 8, bit(i));
    for (let i = 0; i < 8; i++) this.set(s - 1 - i, 8, bit(i));
    for (let i = 8; i < 15; i++) this.set(8, s - 15 + i, bit(i));
    this.set(8, s - 8, true); // the dark module
  }
  version(): void {
    if (this.ver < 7) return;
    let rem = this.ver;
    for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
    const bits = (this.ver << 12) | rem;
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >>> i) & 1) !== 0;
      const a = this.size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      this.set(a, b, dark);
      this.set(b, a, dark);
    }
  }
  codewords(data: readonly number[]): void {
    const s = this.size;
    let i = 0;
    for (let right = s - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      for (let vert = 0; vert < s; vert++) {
        for (let j = 0; j < 2; j++) {
          const x = right - j;
          const upward = ((right + 1) & 2) === 0;
          const y = upward ? s - 1 - vert : vert;
          if (!this.fixed[y][x] && i < data.length * 8) {
            this.dark[y][x] = ((data[i >>> 3] >>> (7 - (i & 7))) & 1) !== 0;
            i++;
          }
        }
      }
    }
  }
  mask(m: number): void {
    for (let y = 0; y < this.size; y++) {
      for (let x = 0; x < this.size; x++) {
        if (this.fixed[y][x]) continue;
        let flip: boolean;
        switch (m) {
          case 0: flip = (x + y) % 2 === 0; break; // prettier-ignore
          case 1: flip = y % 2 === 0; break; // prettier-ignore
          case 2: flip = x % 3 === 0; break; // prettier-ignore
          case 3: flip = (x + y) % 3 === 0; break; // prettier-ignore
          case 4: flip = (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0; break; // prettier-ignore
          case 5: flip = ((x * y) % 2) + ((x * y) % 3) === 0; break; // prettier-ignore
          case 6: flip = (((x * y) % 2) + ((x * y) % 3)) % 2 === 0; break; // prettier-ignore
          default: flip = (((x + y) % 2) + ((x * y) % 3)) % 2 === 0; // prettier-ignore
        }
        if (flip) this.dark[y][x] = !this.dark[y][x];
      }
    }
  }
}

/** penalty scores a masked matrix by the standard's four rules (lower is better). */
export function penalty(m: readonly boolean[][]): number {
  const s = m.length;
  let score = 0;
  const at = (x: number, y: number, vertical: boolean) => (vertical ? m[x][y] : m[y][x]);
  for (const vertical of [false, true]) {
    for (let y = 0; y < s; y++) {
      // N1: runs of five or more modules of one colour.
      let run = 1;
      for (let x = 1; x <= s; x++) {
        if (x < s && at(x, y, vertical) === at(x - 1, y, vertical)) {
          run++;
          continue;
        }
        if (run >= 5) score += 3 + (run - 5);
        run = 1;
      }
      // N3: 1:1:3:1:1 finder-like patterns with four light modules on one side.
      for (let x = 0; x + 11 <= s; x++) {
        const w = (i: number) => at(x + i, y, vertical);
        const core = w(0) && !w(1) && w(2) && w(3) && w(4) && !w(5) && w(6);
        const core2 = w(4) && !w(5) && w(6) && w(7) && w(8) && !w(9) && w(10);
        if (core && !w(7) && !w(8) && !w(9) && !w(10)) score += 40;
        if (core2 && !w(0) && !w(1) && !w(2) && !w(3)) score += 40;
      }
    }
  }
  // N2: 2×2 blocks of one colour.
  for (let y = 0; y + 1 < s; y++) {
    for (let x = 0; x + 1 < s; x++) {
      const c = m[y][x];
      if (c === m[y][x + 1] && c === m[y + 1][x] && c === m[y + 1][x + 1]) score += 3;
    }
  }
  // N4: the balance of dark and light modules.
  let dark = 0;
  for (const row of m) for (const c of row) if (c) dark++;
  const total = s * s;
  const k = Math.ceil(Math.abs(dark * 20 - total * 10) / total) - 1;
  score += k * 10;
  return score;
}

export interface QrOptions {
  ecc?: Ecc;
  /** a fixed mask (0–7); otherwise the one with the lowest penalty */
  mask?: number;
  minVersion?: number;
}

/** encodeQr encodes text (as UTF-8 bytes) in the smallest version that holds it. */
export function encodeQr(text: string, opts: QrOptions = {}): QrCode {
  const ecc = opts.ecc ?? 'M';
  const bytes = utf8(text);
  let ver = Math.max(1, opts.minVersion ?? 1);
  for (; ; ver++) {
    if (ver > 40) throw new RangeError('text too long for a QR code');
    const need = 4 + (ver < 10 ? 8 : 16) + bytes.length * 8;
    if (need <= dataCodewords(ver, ecc) * 8) break;
  }
  const codewords = interleave(dataBytes(bytes, ver, ecc), ver, ecc);
  const base = new Matrix(ver);
  base.functionPatterns();
  base.codewords(codewords);
  const masks = opts.mask !== undefined ? [opts.mask] : [0, 1, 2, 3, 4, 5, 6, 7];
  let best: Matrix | null = null;
  let bestMask = 0;
  let bestScore = Infinity;
  for (const mk of masks) {
    const m = new Matrix(ver);
    for (let y = 0; y < m.size; y++) {
      m.dark[y] = base.dark[y].slice();
      m.fixed[y] = base.fixed[y].slice();
    }
    m.mask(mk);
    m.format(ECC_BITS[ecc], mk);
    const p = masks.length === 1 ? 0 : penalty(m.dark);
    if (p < bestScore) {
      best = m;
      bestMask = mk;
      bestScore = p;
    }
  }
  return { version: ver, size: best!.size, mask: bestMask, ecc, modules: best!.dark };
}

/**
 * qrPath draws the dark modules as one SVG path (unit squares, a horizontal run at a time), offset
 * by a quiet zone of `margin` modules.
 */
export function qrPath(code: QrCode, margin = 4): string {
  const parts: string[] = [];
  code.modules.forEach((row, y) => {
    let x = 0;
    while (x < row.length) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < row.length && row[x]) x++;
      parts.push(`M${start + margin} ${y + margin}h${x - start}v1h-${x - start}z`);
    }
  });
  return parts.join('');
}
