/**
 * Micro-benchmark: XXH64 calls per second on 12-byte keys, for each implementation (native addon,
 * xxhash-wasm, BigInt TypeScript) and each API shape: `xxhash64` (BigInt result), `xxhash64Into`
 * (two u32 into a reused Uint32Array), `hashKey` (low 32 bits), `xxhash64Mod` (Maglev's
 * `hash % 65537`); keys as Buffers and as strings. Implementations that are unavailable (addon not
 * built) are listed as skipped.
 * Run: `node dist/bench/micro/hash.js [--iterations N] [--rounds N]`.
 */

import { parseArgs } from 'node:util';
import { measure, type BenchResult } from './measure';
import { getHasher, hashImplementation, loadWasmHasher, native, ready, type HashImplementation, type Hasher } from '../../src/native';

export type { BenchResult };

/** 1024 distinct 12-byte keys (like "10.0.3.7:80\n"-sized host keys), as strings and Buffers. */
function makeKeys(): { strings: string[]; buffers: Buffer[] } {
  const strings = Array.from({ length: 1024 }, (_, i) => `key-${i.toString(16).padStart(7, '0')}`);
  return { strings, buffers: strings.map((s) => Buffer.from(s)) };
}

/** Runs every scenario for every available implementation. */
export async function runHashBench(iterations = 1_000_000, rounds = 5): Promise<{ results: BenchResult[]; skipped: string[] }> {
  await ready;
  await loadWasmHasher();
  const { strings, buffers } = makeKeys();
  const out = new Uint32Array(2);
  const results: BenchResult[] = [];
  const skipped: string[] = [];
  let sink = 0;
  for (const name of ['native', 'wasm', 'js'] as HashImplementation[]) {
    let h: Hasher;
    try {
      h = getHasher(name);
    } catch (err) {
      skipped.push(`${name}: ${(err as Error).message}`);
      continue;
    }
    // BigInt TypeScript is ~10x slower: fewer iterations keep the run short.
    const n = name === 'js' ? Math.max(1, iterations >> 3) : iterations;
    results.push(measure(`${name} xxhash64(Buffer) -> bigint`, n, rounds, () => {
      for (let i = 0; i < n; i++) sink ^= Number(h.xxhash64(buffers[i & 1023]) & 1n);
    }));
    results.push(measure(`${name} xxhash64Into(Buffer, out)`, n, rounds, () => {
      for (let i = 0; i < n; i++) {
        h.xxhash64Into(buffers[i & 1023], out);
        sink ^= out[0];
      }
    }));
    results.push(measure(`${name} hashKey(Buffer) -> u32`, n, rounds, () => {
      for (let i = 0; i < n; i++) sink ^= h.hashKey(buffers[i & 1023]);
    }));
    results.push(measure(`${name} hashKey(string) -> u32`, n, rounds, () => {
      for (let i = 0; i < n; i++) sink ^= h.hashKey(strings[i & 1023]);
    }));
    results.push(measure(`${name} xxhash64Mod(Buffer, 65537)`, n, rounds, () => {
      for (let i = 0; i < n; i++) sink ^= h.xxhash64Mod(buffers[i & 1023], 65537);
    }));
  }
  if (sink === 0.5) console.log(sink); // keep the loops observable
  return { results, skipped };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { iterations: { type: 'string' }, rounds: { type: 'string' } } });
  const iterations = values.iterations ? Number(values.iterations) : 1_000_000;
  const rounds = values.rounds ? Number(values.rounds) : 5;
  const { results, skipped } = await runHashBench(iterations, rounds);
  console.log(`XXH64, 12-byte keys, Node ${process.versions.node}; default implementation: ${hashImplementation()}`);
  console.log(`native addon: ${native.available ? native.path : `absent (${native.reason})`}`);
  const w = Math.max(...results.map((r) => r.name.length));
  for (const r of results) {
    console.log(`${r.name.padEnd(w)}  ${(r.bestPerSec / 1e6).toFixed(2).padStart(7)} M/s best  ${(r.medianPerSec / 1e6).toFixed(2).padStart(7)} M/s median`);
  }
  for (const s of skipped) console.log(`skipped ${s}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
