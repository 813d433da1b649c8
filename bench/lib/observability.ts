/**
 * Observability costs (issue 4), run by `npm run bench -- --only observability`:
 *  1. Admin latency under saturation: attache --concurrency 2 (CPUs 0,1) driven by wrk (64
 *     connections) while this process asks the admin, one request at a time, 10 ms apart, for at least 6 s, for
 *     `/ready` (main thread only), `/stats?format=json` (a histogram round trip to every worker)
 *     and `/stats/prometheus`; p50/p99/max per endpoint. Target: p99 < 50 ms.
 *  2. Access-log cost: the same attache --concurrency 1 config with and without a file access log
 *     (Envoy's default format, default 10 s flush interval), interleaved per round; requests/s and
 *     CPU-µs per request (the fair measure on 2 cores). Target: at most 10% throughput loss.
 * Results go to `<out>/observability.{json,md}` and one line each into the main report's notes.
 */
import * as http from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attacheBootstrap } from './attache-config';
import { treeCpuMicros } from './procstat';
import { ROOT } from './proxies';
import { spawnPinned, stopChild, tail, tempDir, waitForPort } from './upstream';
import { runWrk } from './wrk';

/** Latency summary of one admin endpoint under load, ms. */
export interface AdminLatency {
  path: string;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

/** One with/without access-log pair, medians over rounds. */
export interface AccessLogCost {
  rpsOff: number;
  rpsOn: number;
  cpuUsPerReqOff: number;
  cpuUsPerReqOn: number;
  /** 1 - rpsOn / rpsOff, in %. */
  throughputCostPct: number;
  /** (cpuOn - cpuOff) / cpuOff, in %. */
  cpuCostPct: number;
  /** Lines in the log file after the last "on" run (every request of that run, warm-up included). */
  linesLastRun: number;
  requestsLastRun: number;
}

/** Everything this module measures. */
export interface ObservabilityResult {
  wrkRpsDuringAdminProbe: number;
  admin: AdminLatency[];
  accessLog: AccessLogCost;
}

interface Attache {
  pid: number;
  port: number;
  adminPort: number;
  stop(): Promise<void>;
}

const READY = /serving with \d+ worker\(s\): listener_0:(\d+); admin on port (\d+)/;

async function startAttache(cpus: string, concurrency: number, yaml: string): Promise<Attache> {
  const dir = tempDir('attache-obs');
  const cfg = join(dir, 'bootstrap.yaml');
  writeFileSync(cfg, yaml);
  const child = spawnPinned(cpus, process.execPath, [join(ROOT, 'bin', 'attache'), '-c', cfg, '--concurrency', String(concurrency)]);
  const errTail = tail(child.stderr);
  child.stdout?.resume();
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`attache not ready: ${errTail()}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const r = READY.exec(buf);
      if (r) {
        clearTimeout(t);
        resolve(r);
      }
    });
    child.once('exit', () => reject(new Error(`attache exited: ${errTail()}`)));
  });
  const port = Number(m[1]);
  await waitForPort(port, 10_000, child);
  return { pid: child.pid!, port, adminPort: Number(m[2]), stop: () => stopChild(child) };
}

function withAccessLog(yaml: string, path: string): string {
  const out = yaml.replace(
    /^(\s+)stat_prefix: ingress_http\n/m,
    (_m, ind: string) => `${ind}stat_prefix: ingress_http\n${ind}access_log:\n${ind}- name: envoy.access_loggers.file\n${ind}  typed_config:\n` +
      `${ind}    "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n${ind}    path: ${path}\n`,
  );
  if (out === yaml) throw new Error('bench config: no stat_prefix line to attach the access log to');
  return out;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function timedGet(port: number, path: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const r = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`status ${res.statusCode}`))));
    });
    r.on('error', reject);
    r.setTimeout(5000, () => r.destroy(new Error('timeout')));
  });
}

function pct(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function adminUnderLoad(upstreamPort: number, durationS: number, log: (s: string) => void): Promise<{ rps: number; admin: AdminLatency[] }> {
  const a = await startAttache('0,1', 2, attacheBootstrap({ upstreamPort }));
  try {
    await runWrk({ port: a.port, path: '/', connections: 64, durationS: 1 }); // warm-up
    const paths = ['/ready', '/stats?format=json', '/stats/prometheus'];
    const lat = new Map<string, number[]>(paths.map((p) => [p, []]));
    const errs = new Map<string, number>(paths.map((p) => [p, 0]));
    let stop = false;
    const prober = (async () => {
      await new Promise((r) => setTimeout(r, 300)); // let wrk ramp up
      for (let i = 0; !stop; i++) {
        const p = paths[i % paths.length];
        try {
          lat.get(p)!.push(await timedGet(a.adminPort, p));
        } catch {
          errs.set(p, errs.get(p)! + 1);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const w = await runWrk({ port: a.port, path: '/', connections: 64, durationS, cpus: '0' });
    stop = true;
    await prober;
    const admin = paths.map((p) => {
      const s = lat.get(p)!.sort((x, y) => x - y);
      return { path: p, samples: s.length, p50: pct(s, 0.5), p99: pct(s, 0.99), max: s[s.length - 1] ?? NaN, errors: errs.get(p)! };
    });
    for (const x of admin) log(`admin ${x.path} under ${(w.rps / 1000).toFixed(1)} k req/s: p50 ${x.p50.toFixed(2)} ms, p99 ${x.p99.toFixed(2)} ms, max ${x.max.toFixed(2)} ms (${x.samples} samples, ${x.errors} errors)`);
    return { rps: w.rps, admin };
  } finally {
    await a.stop();
  }
}

async function accessLogCost(upstreamPort: number, durationS: number, warmupS: number, rounds: number, log: (s: string) => void): Promise<AccessLogCost> {
  const base = attacheBootstrap({ upstreamPort });
  const off: Array<{ rps: number; cpu: number }> = [];
  const on: Array<{ rps: number; cpu: number }> = [];
  let linesLastRun = 0;
  let requestsLastRun = 0;
  for (let round = 1; round <= rounds; round++) {
    for (const withLog of round % 2 ? [false, true] : [true, false]) {
      const file = join(tempDir('access-log'), 'access.log');
      const a = await startAttache('1', 1, withLog ? withAccessLog(base, file) : base);
      let requests = 0;
      try {
        if (warmupS > 0) requests += (await runWrk({ port: a.port, path: '/', connections: 64, durationS: warmupS })).requests;
        const c0 = treeCpuMicros(a.pid);
        const w = await runWrk({ port: a.port, path: '/', connections: 64, durationS });
        const cpu = (treeCpuMicros(a.pid) - c0) / Math.max(1, w.requests);
        requests += w.requests;
        (withLog ? on : off).push({ rps: w.rps, cpu });
        log(`access log ${withLog ? 'ON ' : 'OFF'} round ${round}: ${(w.rps / 1000).toFixed(1)} k req/s, ${cpu.toFixed(1)} CPU-µs/req`);
      } finally {
        await a.stop(); // SIGTERM: the worker drains and flushes its access log
      }
      if (withLog) {
        linesLastRun = existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0;
        requestsLastRun = requests;
      }
    }
  }
  const rpsOff = median(off.map((x) => x.rps));
  const rpsOn = median(on.map((x) => x.rps));
  const cpuOff = median(off.map((x) => x.cpu));
  const cpuOn = median(on.map((x) => x.cpu));
  return {
    rpsOff, rpsOn, cpuUsPerReqOff: cpuOff, cpuUsPerReqOn: cpuOn,
    throughputCostPct: 100 * (1 - rpsOn / rpsOff),
    cpuCostPct: 100 * (cpuOn / cpuOff - 1),
    linesLastRun, requestsLastRun,
  };
}

/** Runs both measurements and writes `<out>/observability.{json,md}`. @returns the note lines for the main report. */
export async function runObservabilityBench(upstreamPort: number, o: { durationS: number; warmupS: number; rounds: number; out: string; log: (s: string) => void }): Promise<string[]> {
  const adm = await adminUnderLoad(upstreamPort, Math.max(6, o.durationS), o.log);
  const al = await accessLogCost(upstreamPort, o.durationS, o.warmupS, o.rounds, o.log);
  const res: ObservabilityResult = { wrkRpsDuringAdminProbe: adm.rps, admin: adm.admin, accessLog: al };
  const worst = Math.max(...adm.admin.map((x) => x.p99));
  const md = [
    '# Observability costs',
    '',
    `Admin while attache --concurrency 2 serves ${(adm.rps / 1000).toFixed(1)} k req/s (wrk, 64 connections, all on 2 CPUs); target p99 < 50 ms: ${worst < 50 ? 'PASS' : 'FAIL'}`,
    '',
    '| endpoint | samples | p50 ms | p99 ms | max ms | errors |',
    '|---|---|---|---|---|---|',
    ...adm.admin.map((x) => `| ${x.path} | ${x.samples} | ${x.p50.toFixed(2)} | ${x.p99.toFixed(2)} | ${x.max.toFixed(2)} | ${x.errors} |`),
    '',
    `File access log (default format), attache --concurrency 1, median of ${o.rounds} round(s); target ≤ 10% throughput: ${al.throughputCostPct <= 10 ? 'PASS' : 'FAIL'}`,
    '',
    '| access log | req/s | CPU-µs/req |',
    '|---|---|---|',
    `| off | ${al.rpsOff.toFixed(0)} | ${al.cpuUsPerReqOff.toFixed(1)} |`,
    `| on | ${al.rpsOn.toFixed(0)} | ${al.cpuUsPerReqOn.toFixed(1)} |`,
    `| cost | ${al.throughputCostPct.toFixed(1)} % | ${al.cpuCostPct.toFixed(1)} % |`,
    '',
    `Lines written in the last "on" run: ${al.linesLastRun} for ${al.requestsLastRun} requests counted by wrk (wrk does not count responses in flight when it stops).`,
    '',
  ].join('\n');
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, 'observability.json'), JSON.stringify(res, null, 1));
  writeFileSync(join(o.out, 'observability.md'), md);
  return [
    `observability: admin p99 under load ${adm.admin.map((x) => `${x.path} ${x.p99.toFixed(1)} ms`).join(', ')} (target < 50 ms)`,
    `observability: file access log costs ${al.throughputCostPct.toFixed(1)} % req/s, ${al.cpuCostPct.toFixed(1)} % CPU-µs/req (target ≤ 10 %); see observability.md`,
  ];
}
