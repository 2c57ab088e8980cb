// The QR encoder (src/lib/qr.ts) against known vectors: the Reed–Solomon example of ISO/IEC
// 18004 (Annex I: "01234567", version 1-M) and whole symbols made by an independent encoder
// (rsc.io/qr, the same version, level and mask), then the mask choice and the SVG path.
import { describe, expect, it } from 'vitest';
import { dataCodewords, encodeQr, penalty, qrPath, rsRemainder } from '../src/lib/qr';

const rows = (m: boolean[][]) => m.map((r) => r.map((d) => (d ? '1' : '0')).join(''));

// "https://insieme.example/join?code=7KX4PQ2MZA", byte mode, level M, mask 2: version 4 (33×33).
const JOIN_V4_M_MASK2 = [
  '111111100010110011111001001111111',
  '100000100110011111000010001000001',
  '101110101111110011100000001011101',
  '101110101001001010001110101011101',
  '101110101100100101100000101011101',
  '100000101011110110001110001000001',
  '111111101010101010101010101111111',
  '000000001000101100100110100000000',
  '101111100101011111001010101111100',
  '010101001011100000111101001101111',
  '000111110001100100101100000010100',
  '110111010101001010001110100011110',
  '111111100110000000110101110001010',
  '101011000111101110001110010001011',
  '011110100111011000010110111101110',
  '000101011101011010011111111000100',
  '101100100101101001110001110111001',
  '000001011110000011111001001101101',
  '111111100101001111001010000110110',
  '001011011101010101100001110111100',
  '111101101010011010001110000011010',
  '111000010011100101100000011101101',
  '101000111111011111001010001101010',
  '100000011101111100000100010111100',
  '100000101001100101000011111110111',
  '000000001111100010111101100010101',
  '111111100101010110100101101010110',
  '100000101010100010000111100011111',
  '101110101000101000110100111111011',
  '101110101000111111001110010010001',
  '101110101110100001110111001101000',
  '100000100011001010111110100011100',
  '111111101011011001011011101101110',
];

// "Insieme", level H, mask 5: version 1 (21×21).
const INSIEME_V1_H_MASK5 = [
  '111111101111101111111',
  '100000100010101000001',
  '101110101011101011101',
  '101110100000101011101',
  '101110101100101011101',
  '100000100100001000001',
  '111111101010101111111',
  '000000001101000000000',
  '000001100001001010101',
  '011110000001010011000',
  '110010101101110100010',
  '001101010000110101110',
  '110000111001110010010',
  '000000001000100010100',
  '111111100111110001010',
  '100000101110010111110',
  '101110100010010010010',
  '101110100110001010000',
  '101110100001001010111',
  '100000100111100101100',
  '111111100101111000010',
];

describe('QR encoder', () => {
  it('computes the error correction codewords of the standard\'s example', () => {
    const data = [0x10, 0x20, 0x0c, 0x56, 0x61, 0x80, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11];
    expect(rsRemainder(data, 10)).toEqual([0xa5, 0x24, 0xd4, 0xc1, 0xed, 0x36, 0xc7, 0x87, 0x2c, 0x55]);
  });

  it('knows the capacities', () => {
    expect(dataCodewords(1, 'L')).toBe(19);
    expect(dataCodewords(1, 'H')).toBe(9);
    expect(dataCodewords(4, 'M')).toBe(64);
    expect(dataCodewords(40, 'L')).toBe(2956);
  });

  it('draws a join link exactly as an independent encoder does', () => {
    const code = encodeQr('https://insieme.example/join?code=7KX4PQ2MZA', { ecc: 'M', mask: 2 });
    expect(code.version).toBe(4);
    expect(code.size).toBe(33);
    expect(rows(code.modules)).toEqual(JOIN_V4_M_MASK2);
  });

  it('draws a short text at level H exactly as an independent encoder does', () => {
    const code = encodeQr('Insieme', { ecc: 'H', mask: 5 });
    expect(code.version).toBe(1);
    expect(rows(code.modules)).toEqual(INSIEME_V1_H_MASK5);
  });

  it('chooses the mask with the lowest penalty', () => {
    const text = 'https://insieme.example/join?code=7KX4PQ2MZA';
    const auto = encodeQr(text, { ecc: 'M' });
    const scores = [0, 1, 2, 3, 4, 5, 6, 7].map((mask) => penalty(encodeQr(text, { ecc: 'M', mask }).modules));
    expect(penalty(auto.modules)).toBe(Math.min(...scores));
    expect(auto.mask).toBe(scores.indexOf(Math.min(...scores)));
  });

  it('grows the version with the text, encodes UTF-8, and refuses what does not fit', () => {
    expect(encodeQr('a'.repeat(14), { ecc: 'M' }).version).toBe(1);
    expect(encodeQr('a'.repeat(15), { ecc: 'M' }).version).toBe(2);
    expect(encodeQr('ü'.repeat(7), { ecc: 'M' }).version).toBe(1); // 14 bytes
    expect(encodeQr('ü'.repeat(8), { ecc: 'M' }).version).toBe(2);
    expect(() => encodeQr('a'.repeat(3000), { ecc: 'H' })).toThrow(RangeError);
  });

  it('draws the dark modules as one SVG path inside a quiet zone', () => {
    const code = encodeQr('Insieme', { ecc: 'H', mask: 5 });
    const d = qrPath(code, 4);
    expect(d.startsWith('M4 4h7v1h-7z')).toBe(true); // the top-left finder's first row
    const dark = code.modules.flat().filter(Boolean).length;
    const drawn = [...d.matchAll(/h(\d+)v1/g)].reduce((a, m) => a + Number(m[1]), 0);
    expect(drawn).toBe(dark);
  });
});
