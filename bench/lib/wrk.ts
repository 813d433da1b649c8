/**
 * Runs wrk (one thread, pinned to a CPU) with a Lua script whose `done()` prints one JSON line:
 * requests, duration, errors by kind and latency percentiles (µs) including p99.9, which
 * `wrk --latency` does not print. wrk counts a response with status > 399 as a `status` error.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './upstream';

/** One wrk run's result. */
export interface WrkResult {
  requests: number;
  /** Measured wall time, s. */
  durationS: number;
  /** requests / durationS. */
  rps: number;
  /** Latency percentiles, ms. */
  p50: number;
  p99: number;
  p999: number;
  /** The latency distribution: [percentile, ms] at {@link CHART_PERCENTILES}. */
  percentiles: Array<[number, number]>;
  /** Socket errors (connect + read + write + timeout). */
  socketErrors: number;
  /** Responses with status ≥ 400. */
  statusErrors: number;
  /** Body bytes + head bytes read, per second. */
  bytesPerSec: number;
  /** wrk's error counters by kind. */
  errorKinds: { connect: number; read: number; write: number; timeout: number; status: number };
}

/** Load shape. */
export interface WrkOptions {
  port: number;
  path: string;
  connections: number;
  durationS: number;
  /** POST this many bytes as the body of every request (0: GET). */
  uploadBytes?: number;
  /** CPU list for taskset. Default "0". */
  cpus?: string;
  /** wrk --timeout, s. Default 5. */
  timeoutS?: number;
}

/** Percentiles sampled from wrk's latency histogram for the latency chart. */
export const CHART_PERCENTILES = [10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100];
const PCTS = CHART_PERCENTILES.join(', ');

const DONE = `
done = function(summary, latency, requests)
  local e = summary.errors
  local pcts = {}
  for _, p in ipairs({${PCTS}}) do pcts[#pcts + 1] = string.format('[%s,%d]', p, latency:percentile(p)) end
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p99":%d,"p999":%d,"pcts":[%s]}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), table.concat(pcts, ',')))
end
`;

let scriptDir: string | undefined;
const scripts = new Map<number, string>();

/** A Lua script for a GET (0) or a POST of `uploadBytes` bytes, written once per size. */
function scriptFor(uploadBytes: number): string {
  let p = scripts.get(uploadBytes);
  if (p) return p;
  scriptDir ??= tempDir('wrk');
  p = join(scriptDir, `s${uploadBytes}.lua`);
  const head =
    uploadBytes > 0
      ? `wrk.method = "POST"\nwrk.body = string.rep("x", ${uploadBytes})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`
      : '';
  writeFileSync(p, head + DONE);
  scripts.set(uploadBytes, p);
  return p;
}

/** Parses the script's JSON line out of wrk's stdout. @throws when it is missing. */
export function parseWrkOutput(out: string): WrkResult {
  const line = /WRKJSON (\{.*\})/.exec(out);
  if (!line) throw new Error(`wrk printed no result: ${out.slice(-1500)}`);
  const j = JSON.parse(line[1]) as Record<string, number>;
  const durationS = j.duration_us / 1e6;
  return {
    requests: j.requests,
    durationS,
    rps: j.requests / durationS,
    p50: j.p50 / 1000,
    p99: j.p99 / 1000,
    p999: j.p999 / 1000,
    percentiles: ((j as unknown as { pcts?: Array<[number, number]> }).pcts ?? []).map(([p, us]) => [p, us / 1000] as [number, number]),
    socketErrors: j.connect + j.read + j.write + j.timeout,
    statusErrors: j.status,
    bytesPerSec: j.bytes / durationS,
    errorKinds: { connect: j.connect, read: j.read, write: j.write, timeout: j.timeout, status: j.status },
  };
}

/** Runs wrk -t1 against 127.0.0.1 and resolves with its result. @throws if wrk fails. */
export function runWrk(o: WrkOptions): Promise<WrkResult> {
  const url = `http://127.0.0.1:${o.port}${o.path}`;
  if (!url.startsWith('http://127.0.0.1:')) throw new Error('bench traffic goes to 127.0.0.1 only');
  const args = [
    '-c', o.cpus ?? '0', 'wrk', '-t1', `-c${o.connections}`, `-d${Math.max(1, Math.round(o.durationS))}s`,
    `--timeout`, `${o.timeoutS ?? 5}s`, '-s', scriptFor(o.uploadBytes ?? 0), url,
  ];
  return new Promise((resolveRun, reject) => {
    const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${err}${out}`.slice(-2000)));
      try {
        resolveRun(parseWrkOutput(out));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}
