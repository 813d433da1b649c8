/**
 * Finds and loads the optional Rust addon (native/, built by scripts/build-native.js). Never
 * required: any failure is recorded as a reason and callers fall back to WebAssembly/TypeScript.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The raw functions exported by native/src/lib.rs. Prefer the wrappers in ./index. */
export interface NativeAddon {
  reusePortSocket(address: string, port: number, listen: boolean, backlog: number): number;
  localPort(fd: number): number;
  closeFd(fd: number): void;
  /** listen(2) again to set the backlog (optional: older builds of the addon lack it). */
  listenFd?(fd: number, backlog: number): void;
  /** accept4(2) one waiting connection, non-blocking: its fd, or -1 when none waits (optional: older builds lack it). */
  acceptFd?(fd: number): number;
  /** glibc malloc_trim(0); false when the libc has none (optional: older builds lack it). */
  mallocTrim?(): boolean;
  /** glibc mallopt(M_ARENA_MAX, n); false when the libc has none (optional: older builds lack it). */
  mallocArenaMax?(n: number): boolean;
  xxhash64(data: string | Uint8Array, seed?: number | bigint): bigint;
  xxhash64Into(data: string | Uint8Array, seed: number | bigint | undefined, out: Uint32Array): void;
  xxhash64Lo32(data: string | Uint8Array, seed?: number | bigint): number;
  xxhash64Mod(data: string | Uint8Array, seed: number | bigint | undefined, modulus: number): number;
}

/** Whether the addon was loaded, why not, and from where. */
export interface NativeStatus {
  available: boolean;
  /** Why the addon is not available (absent when it is). */
  reason?: string;
  /** Absolute path of the loaded (or last tried) .node file. */
  path?: string;
}

const REQUIRED: readonly (keyof NativeAddon)[] = [
  'reusePortSocket',
  'localPort',
  'closeFd',
  'xxhash64',
  'xxhash64Into',
  'xxhash64Lo32',
  'xxhash64Mod',
];

/** File name scripts/build-native.js gives the addon: `attache.<platform>-<arch>.node`. */
export const ADDON_FILE = `attache.${process.platform}-${process.arch}.node`;

/**
 * Where to look: `$ATTACHE_NATIVE_ADDON` if set, else `native/<ADDON_FILE>` in this file's
 * directory or one of its ancestors (src/native → repo root; dist/src/native → repo root).
 */
function findAddon(): string | undefined {
  const explicit = process.env.ATTACHE_NATIVE_ADDON;
  if (explicit) return path.resolve(explicit);
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'native', ADDON_FILE);
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/**
 * Loads the addon. `ATTACHE_NATIVE=0` disables it (to test the fallbacks).
 * @returns the addon, or undefined with the reason in `status`. Never throws.
 */
export function loadAddon(): { addon: NativeAddon | undefined; status: NativeStatus } {
  if (process.env.ATTACHE_NATIVE === '0') {
    return { addon: undefined, status: { available: false, reason: 'disabled by ATTACHE_NATIVE=0' } };
  }
  const file = findAddon();
  if (file === undefined) {
    return {
      addon: undefined,
      status: { available: false, reason: `native/${ADDON_FILE} not found (run npm run build:native)` },
    };
  }
  let mod: Partial<NativeAddon>;
  try {
    mod = require(file) as Partial<NativeAddon>;
  } catch (err) {
    return { addon: undefined, status: { available: false, path: file, reason: `load failed: ${(err as Error).message}` } };
  }
  const missing = REQUIRED.filter((k) => typeof mod[k] !== 'function');
  if (missing.length > 0) {
    return {
      addon: undefined,
      status: { available: false, path: file, reason: `stale addon, missing ${missing.join(', ')} (run npm run build:native)` },
    };
  }
  return { addon: mod as NativeAddon, status: { available: true, path: file } };
}
