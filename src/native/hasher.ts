/**
 * The three XXH64 implementations behind one interface: the Rust addon, xxhash-wasm, and BigInt
 * TypeScript. All give identical answers (test/unit/native/hash-agreement.test.ts); they differ in
 * speed only (bench/micro/hash.ts). Strings hash as their UTF-8 bytes (lone surrogates become
 * U+FFFD, as in `Buffer.from(s)`).
 */
import os from 'node:os';
import type { NativeAddon } from './addon';
import { xxh64Bytes } from './xxhash64-js';

/** Which implementation a {@link Hasher} uses. */
export type HashImplementation = 'native' | 'wasm' | 'js';
/** Bytes to hash: a string (hashed as UTF-8) or a Uint8Array/Buffer. */
export type HashInput = string | Uint8Array;
/** A seed: a non-negative safe integer, or a bigint taken mod 2^64. Envoy uses seed 0. */
export type HashSeed = number | bigint;

/** XXH64 with one implementation. Every method throws TypeError for bad data/seed/out. */
export interface Hasher {
  readonly name: HashImplementation;
  /** XXH64 as an unsigned bigint in [0, 2^64). Allocates a BigInt (~25% slower than the others). */
  xxhash64(data: HashInput, seed?: HashSeed): bigint;
  /** Writes XXH64 into `out[0]` (low 32 bits) and `out[1]` (high 32 bits). No allocation (native). */
  xxhash64Into(data: HashInput, out: Uint32Array, seed?: HashSeed): void;
  /** Exact `XXH64(data, seed) % modulus` for an integer modulus in [1, 2^32-1] (Maglev's table index). */
  xxhash64Mod(data: HashInput, modulus: number, seed?: HashSeed): number;
  /** Low 32 bits of XXH64(data, seed 0), unsigned. */
  hashKey(data: HashInput): number;
}

/** The API of xxhash-wasm 1.x that we use. */
export interface XxhashWasmApi {
  h64(input: string, seed?: bigint): bigint;
  h64Raw(input: Uint8Array, seed?: bigint): bigint;
}

function seedBig(seed: HashSeed): bigint {
  if (typeof seed === 'bigint') return BigInt.asUintN(64, seed);
  if (seed === 0) return 0n;
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new TypeError('seed must be a non-negative safe integer or a bigint');
  }
  return BigInt(seed);
}

function checkData(data: HashInput): void {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new TypeError('data must be a string or a Uint8Array/Buffer');
  }
}

function checkOut(out: Uint32Array): void {
  if (!(out instanceof Uint32Array) || out.length < 2) {
    throw new TypeError('out must be a Uint32Array of length >= 2');
  }
}

function checkModulus(m: number): void {
  if (!Number.isInteger(m) || m < 1 || m > 0xffffffff) {
    throw new RangeError('modulus must be an integer in [1, 2^32-1]');
  }
}

/**
 * Builds the Into/Mod/hashKey methods from a bigint-returning hash, through one shared scratch
 * BigUint64Array (no BigInt arithmetic on the hot path).
 */
function fromBigintHash(name: HashImplementation, h64: (data: HashInput, seed: bigint) => bigint): Hasher {
  const big = new BigUint64Array(1);
  const u32 = new Uint32Array(big.buffer);
  const LO = os.endianness() === 'LE' ? 0 : 1;
  const HI = 1 - LO;
  const TWO32 = 2 ** 32;
  return {
    name,
    xxhash64(data, seed = 0) {
      checkData(data);
      return h64(data, seedBig(seed));
    },
    xxhash64Into(data, out, seed = 0) {
      checkData(data);
      checkOut(out);
      big[0] = h64(data, seedBig(seed));
      out[0] = u32[LO];
      out[1] = u32[HI];
    },
    xxhash64Mod(data, modulus, seed = 0) {
      checkData(data);
      checkModulus(modulus);
      big[0] = h64(data, seedBig(seed));
      // (hi * 2^32 + lo) mod m, exact in doubles while every product stays below 2^53.
      if (modulus <= 0x3ffffff) return (((u32[HI] % modulus) * (TWO32 % modulus)) + u32[LO]) % modulus;
      return Number(big[0] % BigInt(modulus));
    },
    hashKey(data) {
      checkData(data);
      big[0] = h64(data, 0n);
      return u32[LO];
    },
  };
}

/** The pure TypeScript (BigInt) implementation. */
export function createJsHasher(): Hasher {
  return fromBigintHash('js', (data, seed) =>
    xxh64Bytes(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, seed),
  );
}

/** The xxhash-wasm implementation, from an initialised xxhash-wasm instance. */
export function createWasmHasher(api: XxhashWasmApi): Hasher {
  return fromBigintHash('wasm', (data, seed) =>
    typeof data === 'string' ? api.h64(data, seed) : api.h64Raw(data, seed),
  );
}

/** The Rust addon implementation (argument checks happen in Rust). */
export function createNativeHasher(addon: NativeAddon): Hasher {
  return {
    name: 'native',
    // An undefined seed is 0 in Rust and costs one N-API call less than a number.
    xxhash64: (data, seed) => addon.xxhash64(data, seed),
    xxhash64Into: (data, out, seed) => addon.xxhash64Into(data, seed, out),
    xxhash64Mod: (data, modulus, seed) => addon.xxhash64Mod(data, seed, modulus),
    hashKey: (data) => addon.xxhash64Lo32(data),
  };
}
