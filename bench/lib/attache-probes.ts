/**
 * attache-only probes that need no load generator: idle RSS per `--concurrency`, and the time from
 * spawn to the first successful proxied request with a large config (10,000 routes, 1,000 clusters).
 */
import * as http from 'node:http';
import { attacheArgs, ATTACHE_READY, workersFrom } from './proxies';
import { treeRssKiB } from './procstat';
import { spawnPinned, stopChild, tail } from './upstream';

/**
 * When the settled idle RSS is read, ms after the request. V8's memory reducer shrinks each
 * worker's heap ~8 s after its last GC, so the drop lands anywhere from 8 to ~15 s after the
 * request (measured at --concurrency 2: 83 MiB until 8 s, 70 MiB from 10 s in one start, still
 * 80 MiB at 12 s in two others); attache's idle malloc_trim runs 5-10 s after it. 20 s is past both.
 */
export const SETTLED_MS = 20_000;

/** One GET to 127.0.0.1:port/ with a fresh connection; resolves with the status (0 on error). */
export function getOnce(port: number, path = '/'): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
  });
}

/** Result of starting attache once. */
export interface StartProbe {
  concurrency: number;
  routes: number;
  clusters: number;
  /** Workers attache started (fewer than `concurrency` without SO_REUSEPORT: no addon). */
  workers?: number;
  /** Spawn → startup line on stderr, ms. */
  readyMs: number;
  /** Spawn → first 200 through the listener, ms. */
  firstOkMs: number;
  /** VmRSS of the process after `idleMs` with no traffic (one request served), KiB. */
  idleRssKiB: number;
  /**
   * VmRSS once idle has settled (`settledMs` after the request: V8's memory reducer and attache's
   * idle malloc_trim have run), KiB; absent when not measured.
   */
  settledRssKiB?: number;
}

/** A started probe: its startup figures now, the settled RSS later. */
export interface PendingProbe {
  /** Startup times and the RSS `idleMs` after the first 200. */
  readonly probe: StartProbe;
  /**
   * Waits until `settledMs` after the first 200 (no wait when 0 or already past), reads the RSS
   * again when `settledMs` > 0, and stops attache.
   */
  settle(): Promise<StartProbe>;
}

/**
 * Starts attache, waits for its startup line, polls `/` until a 200 arrives, idles `idleMs` and
 * reads RSS. attache keeps running (idle) until `settle()`, so several probes can settle at once.
 * @throws if it does not serve within `timeoutMs` (attache is stopped then).
 */
export async function probeStartPending(upstreamPort: number, concurrency: number, cpus: string, routes = 1, clusters = 1, idleMs = 1500, timeoutMs = 120_000, settledMs = 0): Promise<PendingProbe> {
  const args = attacheArgs({ upstreamPort, routes, clusters }, concurrency);
  const t0 = performance.now();
  const child = spawnPinned(cpus, process.execPath, args);
  child.stdout?.resume();
  const errTail = tail(child.stderr);
  let probe: StartProbe;
  let okAt: number;
  let workers: number | undefined;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let buf = '';
      const t = setTimeout(() => reject(new Error(`attache not ready in ${timeoutMs} ms: ${errTail()}`)), timeoutMs);
      child.stderr?.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        const m = ATTACHE_READY.exec(buf);
        if (m) {
          clearTimeout(t);
          workers = workersFrom(buf);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`attache exited (${code}): ${errTail()}`));
      });
    });
    const readyMs = performance.now() - t0;
    const deadline = Date.now() + timeoutMs;
    while ((await getOnce(port)) !== 200) {
      if (Date.now() > deadline) throw new Error(`no 200 within ${timeoutMs} ms: ${errTail()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    okAt = performance.now();
    const firstOkMs = okAt - t0;
    await new Promise((r) => setTimeout(r, idleMs));
    probe = { concurrency, routes, clusters, workers, readyMs, firstOkMs, idleRssKiB: treeRssKiB(child.pid!) };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    probe,
    async settle(): Promise<StartProbe> {
      try {
        if (settledMs <= idleMs) return probe;
        const left = okAt + settledMs - performance.now();
        if (left > 0) await new Promise((r) => setTimeout(r, left));
        return { ...probe, settledRssKiB: treeRssKiB(child.pid!) };
      } finally {
        await stopChild(child);
      }
    },
  };
}

/** {@link probeStartPending} then settle(): one probe from start to stop. */
export async function probeStart(upstreamPort: number, concurrency: number, cpus: string, routes = 1, clusters = 1, idleMs = 1500, timeoutMs = 120_000, settledMs = 0): Promise<StartProbe> {
  return (await probeStartPending(upstreamPort, concurrency, cpus, routes, clusters, idleMs, timeoutMs, settledMs)).settle();
}
