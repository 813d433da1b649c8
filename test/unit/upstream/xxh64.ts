/**
 * A tiny reference XXH64 in BigInt for the LB tests (independent of src/native), checked against
 * the published test vectors in xxh64.test.ts.
 */

const M = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M;
const round = (acc: bigint, lane: bigint): bigint => (rotl((acc + lane * P2) & M, 31n) * P1) & M;
const merge = (acc: bigint, val: bigint): bigint => ((((acc ^ round(0n, val)) * P1) & M) + P4) & M;

/** XXH64 of the UTF-8 bytes of `data` with `seed`. */
export function xxh64(data: string | Uint8Array, seed: number | bigint = 0): bigint {
  const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  const s = BigInt(seed) & M;
  const len = b.length;
  let i = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (s + P1 + P2) & M;
    let v2 = (s + P2) & M;
    let v3 = s;
    let v4 = (s - P1) & M;
    while (i + 32 <= len) {
      v1 = round(v1, b.readBigUInt64LE(i));
      v2 = round(v2, b.readBigUInt64LE(i + 8));
      v3 = round(v3, b.readBigUInt64LE(i + 16));
      v4 = round(v4, b.readBigUInt64LE(i + 24));
      i += 32;
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M;
    h = merge(h, v1);
    h = merge(h, v2);
    h = merge(h, v3);
    h = merge(h, v4);
  } else {
    h = (s + P5) & M;
  }
  h = (h + BigInt(len)) & M;
  while (i + 8 <= len) {
    h ^= round(0n, b.readBigUInt64LE(i));
    h = ((rotl(h, 27n) * P1) & M) + P4;
    h &= M;
    i += 8;
  }
  if (i + 4 <= len) {
    h ^= (BigInt(b.readUInt32LE(i)) * P1) & M;
    h = ((rotl(h, 23n) * P2) & M) + P3;
    h &= M;
    i += 4;
  }
  while (i < len) {
    h ^= (BigInt(b[i]) * P5) & M;
    h = (rotl(h, 11n) * P1) & M;
    i++;
  }
  h ^= h >> 33n;
  h = (h * P2) & M;
  h ^= h >> 29n;
  h = (h * P3) & M;
  h ^= h >> 32n;
  return h;
}
