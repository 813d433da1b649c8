/**
 * Optional native fast paths with fallbacks (never required):
 *
 * - SO_REUSEPORT sockets, one per worker thread (Envoy `enable_reuse_port`,
 *   config.listener.v3.Listener): `reusePortSocket()` from the Rust addon (native/), handed to
 *   `new net.Server().listen({ fd })` inside the worker. Undefined when the addon is absent; then
 *   see {@link reusePortSupport}.
 * - XXH64, Envoy's hash for ring hash, Maglev and route hash policies (source/common/common/hash.h
 *   `HashUtil::xxHash64`, seed 0): the addon when present, else xxhash-wasm (async init, see
 *   {@link ready}), else BigInt TypeScript. All give identical answers.
 *
 * Environment: `ATTACHE_HASH=native|wasm|js` forces the hash implementation (throws at import if
 * `native` is forced without the addon; `wasm` applies once {@link ready} resolves);
 * `ATTACHE_NATIVE=0` ignores the addon; `ATTACHE_NATIVE_ADDON=<path>` loads the addon from a path.
 */
import { AttacheError } from '../common/errors';
import { loadAddon, type NativeStatus } from './addon';
import {
  createJsHasher,
  createNativeHasher,
  createWasmHasher,
  type HashImplementation,
  type HashInput,
  type HashSeed,
  type Hasher,
} from './hasher';
import { detectNodeReusePort, type ReusePortSupport } from './reuseport';

export type { NativeStatus } from './addon';
export type { HashImplementation, HashInput, HashSeed, Hasher } from './hasher';
export type { ReusePortSupport } from './reuseport';
export { detectNodeReusePort } from './reuseport';

const loaded = loadAddon();
const addon = loaded.addon;

/** Whether the Rust addon loaded: `{ available, reason? (why not), path? (.node file) }`. */
export const native: Readonly<NativeStatus> = Object.freeze(loaded.status);

// ---------------------------------------------------------------------------------------------
// SO_REUSEPORT sockets

/**
 * Creates a TCP socket with SO_REUSEADDR + SO_REUSEPORT (IPV6_V6ONLY off for `::`), non-blocking
 * and close-on-exec, binds it to `address:port` and, if `listen`, listens with `backlog`.
 * Use from a worker: `new net.Server(handler).listen({ fd })`. Close it with the server, or with
 * {@link closeFd} if it never reaches one.
 * @param address IPv4 or IPv6 literal (`"127.0.0.1"`, `"::"`, `"[::1]"`).
 * @param port 0-65535; 0 picks a free port (read it back with {@link localPort}).
 * @param listen false = bound only: reserves the port for the group and accepts no connections.
 * @param backlog listen(2) backlog; default 511 like Node.
 * @returns the file descriptor.
 * @throws Error with `code` = errno name and message like `bind 127.0.0.1:80: EADDRINUSE`;
 *   TypeError/RangeError for bad arguments.
 * Undefined when the addon is absent.
 */
export const reusePortSocket: ((address: string, port: number, listen?: boolean, backlog?: number) => number) | undefined =
  addon ? (address, port, listen = true, backlog = 511) => addon.reusePortSocket(address, port, listen, backlog) : undefined;

/** The local port of a bound socket fd (getsockname). @throws Error (`code` EBADF...). Undefined without the addon. */
export const localPort: ((fd: number) => number) | undefined = addon ? (fd) => addon.localPort(fd) : undefined;

/** close(2) on an fd no net.Server owns. @throws Error (`code` EBADF...). Undefined without the addon. */
export const closeFd: ((fd: number) => void) | undefined = addon ? (fd) => addon.closeFd(fd) : undefined;

/**
 * Sets the accept-queue length of a listening socket (listen(2) again). Node's
 * `server.listen({ fd })` re-listens with its default backlog of 511 and ignores the option.
 * @throws Error with `code` = errno name; undefined when the addon is absent.
 */
export const listenFd: ((fd: number, backlog: number) => void) | undefined =
  addon && typeof addon.listenFd === 'function' ? (fd, backlog) => addon.listenFd!(fd, backlog) : undefined;

/**
 * Returns free malloc memory of every arena to the kernel (glibc `malloc_trim(0)`).
 * @returns false when the libc has no malloc_trim. Undefined without the addon.
 */
export const mallocTrim: (() => boolean) | undefined =
  addon && typeof addon.mallocTrim === 'function' ? () => addon.mallocTrim!() : undefined;

/**
 * Caps glibc's malloc arenas at `n` for threads created from now on (`mallopt(M_ARENA_MAX, n)`,
 * what the MALLOC_ARENA_MAX environment variable sets at process start).
 * @returns false when the libc has no mallopt. Undefined without the addon.
 */
export const mallocArenaMax: ((n: number) => boolean) | undefined =
  addon && typeof addon.mallocArenaMax === 'function' ? (n) => addon.mallocArenaMax!(n) : undefined;

/**
 * accept4(2) of one waiting connection on a listening socket (non-blocking, close-on-exec).
 * @returns the new fd, or -1 when no connection waits. @throws Error with `code` (EMFILE, ...).
 * Undefined without the addon.
 */
export const acceptFd: ((fd: number) => number) | undefined =
  addon && typeof addon.acceptFd === 'function' ? (fd) => addon.acceptFd!(fd) : undefined;

/**
 * Reserves a port for a reuseport group: a bound, NOT listening socket (takes no connections).
 * Main calls it with port 0 to learn a free port, workers bind that port with
 * {@link reusePortSocket}, and main closes the reservation with {@link closeFd} when done.
 * @returns `{ fd, port }`, or undefined without the addon. @throws as {@link reusePortSocket}.
 */
export function reservePort(address = '127.0.0.1', port = 0): { fd: number; port: number } | undefined {
  if (!addon) return undefined;
  const fd = addon.reusePortSocket(address, port, false, 0);
  try {
    return { fd, port: addon.localPort(fd) };
  } catch (err) {
    addon.closeFd(fd);
    throw err;
  }
}

let reuseSupport: ReusePortSupport = addon ? 'native-addon' : 'none';

/**
 * How workers can each own a socket on one port: `'native-addon'` ({@link reusePortSocket}),
 * `'node-reuseport'` (`server.listen({ port, reusePort: true })` works: Node >= 22.12, detected by
 * trying two binds), or `'none'` (workers cannot share a port; e.g. Node 20 without the addon).
 * Exact once {@link ready} has resolved ('none' before that when the addon is absent).
 */
export function reusePortSupport(): ReusePortSupport {
  return reuseSupport;
}

// ---------------------------------------------------------------------------------------------
// XXH64

const jsHasher = createJsHasher();
const nativeHasher = addon ? createNativeHasher(addon) : undefined;
let wasmHasher: Hasher | undefined;
let wasmReason = 'xxhash-wasm is still initialising (await ready)';

const forced = parseForced(process.env.ATTACHE_HASH);
if (forced === 'native' && !nativeHasher) {
  throw new AttacheError(
    'ATTACHE_ERR_NATIVE_UNAVAILABLE',
    `ATTACHE_HASH=native but the native addon is not available: ${native.reason}`,
    { source: 'config' },
  );
}

let current: Hasher = forced === 'js' ? jsHasher : (nativeHasher ?? jsHasher);

function parseForced(v: string | undefined): HashImplementation | undefined {
  if (v === undefined || v === '' || v === 'auto') return undefined;
  if (v === 'native' || v === 'wasm' || v === 'js') return v;
  throw new AttacheError('ATTACHE_ERR_NATIVE_BAD_HASH_ENV', `ATTACHE_HASH must be native, wasm, js or auto, got "${v}"`, {
    source: 'config',
  });
}

let wasmLoading: Promise<Hasher | undefined> | undefined;

/**
 * Initialises the xxhash-wasm implementation (once). Only done at startup when it is the one in
 * use (no addon, or ATTACHE_HASH=wasm): it costs ~0.3 MiB per thread. Tests and benches that
 * compare implementations call it. @returns undefined when WebAssembly fails (see getHasher).
 */
export function loadWasmHasher(): Promise<Hasher | undefined> {
  return (wasmLoading ??= (async () => {
    try {
      const { default: xxhashWasm } = await import('xxhash-wasm');
      wasmHasher = createWasmHasher(await xxhashWasm());
    } catch (err) {
      wasmReason = `xxhash-wasm failed to initialise: ${(err as Error).message}`;
    }
    return wasmHasher;
  })());
}

async function init(): Promise<void> {
  const probe = addon ? undefined : detectNodeReusePort().then((ok) => {
    reuseSupport = ok ? 'node-reuseport' : 'none';
  });
  if (forced === 'wasm' || (forced === undefined && !nativeHasher)) {
    const h = await loadWasmHasher();
    if (h !== undefined) current = h;
    else if (forced === 'wasm') {
      throw new AttacheError('ATTACHE_ERR_NATIVE_UNAVAILABLE', `ATTACHE_HASH=wasm but ${wasmReason}`, { source: 'config' });
    }
  } else wasmReason = 'xxhash-wasm not loaded (the native addon is in use): call loadWasmHasher()';
  await probe;
}

/**
 * Resolves once xxhash-wasm is initialised (and, without the addon, Node's reusePort support is
 * detected). Workers await it before serving; until then hashes come from the JS implementation
 * (same answers, slower). Rejects only when `ATTACHE_HASH=wasm` and WebAssembly fails.
 */
export const ready: Promise<void> = init();
// Keep an unobserved rejection from crashing the process; awaiting `ready` still sees it.
ready.catch(() => undefined);

/** The implementation the module-level hash functions use now. */
export function hashImplementation(): HashImplementation {
  return current.name;
}

/**
 * One implementation by name, for tests and benches that compare them.
 * @throws AttacheError `ATTACHE_ERR_NATIVE_UNAVAILABLE` when it is not available (the addon is
 *   absent, or xxhash-wasm is not initialised yet / failed).
 */
export function getHasher(name: HashImplementation): Hasher {
  if (name === 'js') return jsHasher;
  const h = name === 'native' ? nativeHasher : wasmHasher;
  if (!h) {
    const why = name === 'native' ? native.reason : wasmReason;
    throw new AttacheError('ATTACHE_ERR_NATIVE_UNAVAILABLE', `hash implementation ${name} unavailable: ${why}`, { source: 'internal' });
  }
  return h;
}

/**
 * XXH64 of `data` (strings as UTF-8) as an unsigned bigint in [0, 2^64). Envoy's
 * `HashUtil::xxHash64` = `xxhash64(data)` (seed 0). @throws TypeError for bad data or seed.
 */
export function xxhash64(data: HashInput, seed?: HashSeed): bigint {
  return current.xxhash64(data, seed);
}

/**
 * XXH64 without a BigInt: writes the low 32 bits to `out[0]` and the high 32 bits to `out[1]`.
 * For 64-bit comparisons (ring hash lower_bound: compare out[1] then out[0]).
 * @throws TypeError for bad data, seed, or an `out` that is not a Uint32Array of length >= 2.
 */
export function xxhash64Into(data: HashInput, out: Uint32Array, seed?: HashSeed): void {
  current.xxhash64Into(data, out, seed);
}

/**
 * Exact `XXH64(data, seed) % modulus` as a number, e.g. Maglev's `table[hash % table_size]`.
 * @param modulus integer in [1, 2^32-1]. @throws RangeError for a bad modulus, TypeError for bad data/seed.
 */
export function xxhash64Mod(data: HashInput, modulus: number, seed?: HashSeed): number {
  return current.xxhash64Mod(data, modulus, seed);
}

/**
 * The fast load-balancer key: the low 32 bits of XXH64(data, seed 0), an unsigned integer in
 * [0, 2^32). Use it where any well-mixed 32-bit key will do; use {@link xxhash64Into} or
 * {@link xxhash64Mod} where Envoy's exact 64-bit value matters. @throws TypeError for bad data.
 */
export function hashKey(data: HashInput): number {
  return current.hashKey(data);
}
