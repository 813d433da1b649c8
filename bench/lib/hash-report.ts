/**
 * The hashing part of `npm run bench`: XXH64 (Envoy's hash for ring hash, Maglev and route hash
 * policies) through each implementation attache can use (the Rust addon, xxhash-wasm, BigInt
 * TypeScript), their speeds side by side, and whether they agree on 100,000 keys. The full
 * micro-benchmark, every API shape, is bench/micro/hash.ts.
 */
import { randomBytes } from 'node:crypto';
import { runHashBench } from '../micro/hash';
import { getHasher, hashImplementation, native, type HashImplementation, type Hasher } from '../../src/native';

/** What the bench reports about hashing. */
export interface HashReport {
  /** The implementation attache uses on this machine. */
  inUse: HashImplementation;
  /** Why the addon is absent, or null when it loaded. */
  nativeAbsent: string | null;
  /** Million calls per second (median of rounds), by implementation and API shape. */
  speeds: Array<{ implementation: HashImplementation; shape: string; mPerSec: number }>;
  /** Keys compared between every pair of available implementations. */
  keysCompared: number;
  /** Implementations compared with the first available one; empty when only one is available. */
  compared: HashImplementation[];
  /** Keys (as hex of their bytes) on which an implementation disagreed; empty when all agree. */
  disagreements: string[];
}

const SHAPES = ['hashKey(Buffer) -> u32', 'xxhash64(Buffer) -> bigint'];

/**
 * Measures the speeds (200,000 calls × 3 rounds per shape, ~2 s) and compares every available
 * implementation's XXH64 on `keys` keys of 0-63 random bytes plus as many decimal strings.
 */
export async function runHashReport(keys = 100_000): Promise<HashReport> {
  const { results } = await runHashBench(200_000, 3);
  const speeds: HashReport['speeds'] = [];
  for (const r of results) {
    const sp = r.name.indexOf(' ');
    const shape = r.name.slice(sp + 1);
    if (SHAPES.includes(shape)) speeds.push({ implementation: r.name.slice(0, sp) as HashImplementation, shape, mPerSec: r.medianPerSec / 1e6 });
  }
  const hashers: Hasher[] = [];
  for (const n of ['native', 'wasm', 'js'] as HashImplementation[]) {
    try {
      hashers.push(getHasher(n));
    } catch {
      /* unavailable here: listed by the speeds table as absent */
    }
  }
  const disagreements: string[] = [];
  const [ref, ...others] = hashers;
  for (let i = 0; i < keys && others.length > 0; i++) {
    // Alternate random bytes (every length 0-63, XXH64's block and tail paths) and strings.
    const key: Buffer | string = i & 1 ? String(i * 2654435761) : randomBytes(i % 64);
    const want = ref.xxhash64(key);
    for (const h of others) {
      if (h.xxhash64(key) !== want && disagreements.length < 10) {
        disagreements.push(`${h.name}: ${Buffer.from(key).toString('hex')}`);
      }
    }
  }
  return {
    inUse: hashImplementation(),
    nativeAbsent: native.available ? null : native.reason ?? 'not built',
    speeds,
    keysCompared: others.length > 0 ? keys : 0,
    compared: hashers.map((h) => h.name),
    disagreements,
  };
}

/** Markdown lines for the report. */
export function renderHashReport(h: HashReport): string[] {
  const L: string[] = ['## Hashing (xxHash64)', ''];
  L.push(`attache uses the **${h.inUse}** implementation here${h.nativeAbsent ? ` (addon absent: ${h.nativeAbsent})` : ''}. Million calls per second, 12-byte keys, median of 3 rounds (full micro-benchmark: bench/micro/hash.ts):`, '');
  const impls = [...new Set(h.speeds.map((s) => s.implementation))];
  L.push(`| call | ${impls.join(' | ')} |`);
  L.push(`|---|${impls.map(() => '---:').join('|')}|`);
  for (const shape of SHAPES) {
    L.push(`| ${shape} | ${impls.map((i) => h.speeds.find((s) => s.implementation === i && s.shape === shape)?.mPerSec.toFixed(2) ?? '–').join(' | ')} |`);
  }
  L.push('');
  if (h.keysCompared === 0) L.push('Agreement: only one implementation available, nothing to compare.', '');
  else L.push(`Agreement: ${h.compared.join(', ')} on ${h.keysCompared.toLocaleString('en-US')} keys: ${h.disagreements.length === 0 ? 'identical' : `**${h.disagreements.length} disagreement(s)**: ${h.disagreements.join('; ')}`}.`, '');
  return L;
}
