/**
 * Side-by-side proxy bench (`npm run bench`): one shared upstream nginx, the same wrk load through
 * no proxy, attache (--concurrency 1 and 2, 10,000 routes, 1,000 clusters), nginx, HAProxy,
 * node-http-proxy and @fastify/http-proxy, interleaved per round; medians of the rounds go to
 * bench/results/latest.{md,json,svg}. Flags:
 *   --quick            1 round, 1 s runs, 1 s warm-up per proxy start only (smoke check)
 *   --only a,b         proxies (prefix match: "attache" = every attache-*), scenarios
 *                      (small, large, latency, upload, conns1000), "probes" and/or "observability"
 *                      (admin latency under load, access-log cost: bench/lib/observability.ts)
 *                      and/or "xds" (xDS propagation, 1,000 EDS clusters: bench/lib/xds-propagation.ts)
 *   --duration S       seconds per measured run (default 3)
 *   --warmup S         seconds of warm-up before each run (default 1; two such wrk runs before a
 *                      proxy start's first scenario, none for `direct`: see WARM_RUNS_FIRST)
 *   --rounds N         default 3
 *   --out DIR          default bench/results for a full run; bench/results/partial (not committed)
 *                      for --quick, --only, --base and changed settings, so that a smoke or partial
 *                      run never overwrites the committed full-run results
 *   --base REV         A/B: also run git revision REV of this repository as `attache-base` (built
 *                      from git archive), interleaved with the others; e.g.
 *                      `--base HEAD~3 --only attache-c1,attache-base,small --rounds 6`
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { probeStartPending, SETTLED_MS, type StartProbe } from './lib/attache-probes';
import { sampleRss, treeCpuMicros } from './lib/procstat';
import { allProxies, baseProxy, buildBase, ROOT, snapshotAttache, workersFrom, type ProxyDef } from './lib/proxies';
import { aggregate, writeReport, type BenchReport, type Sample, type ScenarioInfo } from './lib/report';
import { ensureTools, gitInfo, machineInfo, pinSelf } from './lib/setup';
import { removeTempDirs, startUpstream, type Running } from './lib/upstream';
import { runWrk } from './lib/wrk';
import { runObservabilityBench } from './lib/observability';
import { runXdsBench } from './lib/xds-propagation';
import { runHashReport, type HashReport } from './lib/hash-report';

/** A load shape. */
interface Scenario extends ScenarioInfo {
  path: string;
  connections: number;
  uploadBytes?: number;
  /**
   * false: no warm-up when the proxy already ran a scenario in this start (its JIT is warm from the
   * same path with the same connections, or one connection needs no set-up); keeps the whole bench
   * under 10 minutes.
   */
  warmup?: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'small', title: '13-byte body, 64 connections', path: '/', connections: 64 },
  { name: 'large', title: '16 KiB body, 64 connections', path: '/16k', connections: 64, warmup: false },
  { name: 'latency', title: '1 connection (latency)', path: '/', connections: 1, warmup: false },
  { name: 'upload', title: '1 MiB upload (POST), 16 connections', path: '/upload', connections: 16, uploadBytes: 1 << 20 },
  { name: 'conns1000', title: '13-byte body, 1,000 connections', path: '/', connections: 1000 },
];

/**
 * wrk runs of warm-up before the first scenario of each proxy start. Two, so that the proxy has
 * seen one whole client cycle (connect, load, disconnect with requests in flight) before the
 * measured run: the first disconnects take code paths never run before, a JIT (attache, the Node
 * peers) deoptimises the hot functions they touch, and re-optimises them during the next run's first
 * few hundred ms. After one 1 s warm-up that transient was in attache's measured run (13 B, 64
 * connections, bench rig: p99 4.3-4.6 ms, in-proxy time per request of several ms for ~0.3 s);
 * after two, p99 2.1-2.3 ms and no transient. nginx and HAProxy get the same warm-up.
 */
const WARM_RUNS_FIRST = 2;

const t0 = Date.now();
function progress(msg: string): void {
  const s = Math.round((Date.now() - t0) / 1000);
  process.stderr.write(`[bench ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s] ${msg}\n`);
}

function parseCli(argv: string[]): { quick: boolean; only: string[]; durationS: number; warmupS: number; rounds: number; out: string; base: string | undefined } {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
      base: { type: 'string' },
    },
  });
  const quick = values.quick === true;
  return {
    quick,
    only: (values.only ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    durationS: Number(values.duration ?? (quick ? 1 : 3)),
    warmupS: Number(values.warmup ?? (quick ? 0 : 1)),
    rounds: Number(values.rounds ?? (quick ? 1 : 3)),
    out: values.out ?? join(ROOT, 'bench', 'results', isFullRun(values) ? '' : 'partial'),
    base: values.base,
  };
}

/** A full run: no flag that changes what runs or how (only --out may be given). */
function isFullRun(v: Record<string, unknown>): boolean {
  return v.quick !== true && v.only === undefined && v.duration === undefined && v.warmup === undefined && v.rounds === undefined && v.base === undefined;
}

/** A user mistake on the command line: printed as one line, without a stack trace. */
class UsageError extends Error {}

/** Which proxies, scenarios and probes `--only` selects. */
function select(only: string[], extraProxies: ProxyDef[]): { proxies: ProxyDef[]; scenarios: Scenario[]; probes: boolean; observability: boolean; xds: boolean } {
  const observability = only.length === 0 || only.includes('observability');
  const xds = only.length === 0 || only.includes('xds');
  const extra = (n: string): boolean => n === 'observability' || n === 'xds';
  if (only.length > 0 && only.every(extra)) return { proxies: [], scenarios: [], probes: false, observability, xds };
  // `--only probes` (with or without the extras): the probes alone, no side-by-side runs.
  if (only.length > 0 && only.every((n) => n === 'probes' || extra(n))) return { proxies: [], scenarios: [], probes: true, observability, xds };
  only = only.filter((n) => !extra(n));
  const all = allProxies(extraProxies);
  const scenarioNames = new Set(SCENARIOS.map((s) => s.name));
  const pSel = only.filter((n) => !scenarioNames.has(n) && n !== 'probes');
  const sSel = only.filter((n) => scenarioNames.has(n));
  const unknown = pSel.filter((n) => !all.some((p) => p.name === n || p.name.startsWith(`${n}-`)));
  if (unknown.length > 0) {
    throw new UsageError(`--only: unknown name(s) ${unknown.join(', ')}; proxies: ${all.map((p) => p.name).join(', ')} ("attache" = all attache-*); scenarios: ${[...scenarioNames].join(', ')}; extras: probes, observability, xds`);
  }
  const proxies = pSel.length === 0 ? all : all.filter((p) => pSel.some((n) => p.name === n || p.name.startsWith(`${n}-`)));
  const scenarios = sSel.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => sSel.includes(s.name));
  if (runCount(proxies, scenarios) === 0) {
    const which = proxies.map((p) => `${p.name} runs ${p.scenarios ? p.scenarios.join(', ') : 'every scenario'}`).join('; ');
    throw new UsageError(`--only ${only.join(',')}: nothing to run (${which})`);
  }
  const probes = only.length === 0 || only.includes('probes') || (pSel.some((n) => n === 'attache' || n.startsWith('attache')) && sSel.length === 0);
  return { proxies, scenarios, probes, observability, xds };
}

/** Proxy × scenario runs in one round. */
function runCount(proxies: ProxyDef[], selected: Scenario[]): number {
  return proxies.reduce((n, p) => n + scenariosOf(p, selected).length, 0);
}

function scenariosOf(p: ProxyDef, selected: Scenario[]): Scenario[] {
  return p.scenarios ? selected.filter((s) => p.scenarios!.includes(s.name)) : selected;
}

const live = new Set<Running>();
/** Proxies whose attache started fewer workers than asked (no SO_REUSEPORT), with the reason. */
const workerNotes = new Map<string, string>();

async function main(): Promise<void> {
  const cli = parseCli(process.argv.slice(2));
  const extraProxies = cli.base !== undefined ? [baseProxy(cli.base)] : [];
  const { proxies, scenarios, probes, observability, xds } = select(cli.only, extraProxies);
  ensureTools(ROOT, progress);
  const machine = machineInfo(); // before pinning: nproc reports the affinity mask
  Object.assign(machine, gitInfo(ROOT));
  pinSelf('0');
  const snap = snapshotAttache();
  progress(`attache runs from a copy of its build in ${snap} (${machine.commit})`);
  if (cli.base !== undefined && proxies.some((p) => p.name === 'attache-base')) {
    progress(`building --base ${cli.base} (git archive + tsc) ...`);
    progress(`attache-base runs from ${buildBase(cli.base)}`);
  }
  progress(`machine: ${Object.entries(machine).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  const upstream = await startUpstream('0');
  live.add(upstream);
  progress(`upstream nginx on 127.0.0.1:${upstream.port} (pid ${upstream.pid}, CPU 0)`);

  const samples: Sample[] = [];
  const probeResults: StartProbe[] = [];
  const failures: string[] = [];
  const totalSteps = cli.rounds * runCount(proxies, scenarios);
  let step = 0;

  for (let round = 1; round <= cli.rounds; round++) {
    // Rotate the proxy order each round so that no proxy always runs first or last.
    const order = proxies.map((_, i) => proxies[(i + round - 1) % proxies.length]);
    for (const p of order) {
      const mine = scenariosOf(p, scenarios);
      if (mine.length === 0) continue;
      let proc: Running | null = null;
      const start = async (): Promise<boolean> => {
        try {
          proc = await p.start(upstream.port);
          if (proc) live.add(proc);
          return true;
        } catch (err) {
          failures.push(`round ${round} ${p.name}: start failed: ${(err as Error).message}`);
          progress(`${p.name}: start FAILED: ${(err as Error).message.slice(0, 300)}`);
          return false;
        }
      };
      if (!(await start())) {
        step += mine.length;
        continue;
      }
      const started = proc as Running | null;
      const workers = started !== null && p.workers !== undefined ? workersFrom(started.stderrTail()) : undefined;
      if (workers !== undefined && workers !== p.workers && !workerNotes.has(p.name)) {
        const why = started!.stderrTail().split('\n').find((l) => /SO_REUSEPORT/i.test(l));
        workerNotes.set(p.name, `${p.name} ran ${workers} worker(s), not ${p.workers}: its rows measure ${workers}${why ? ` (attache said: ${why.replace(/^.*?(SO_REUSEPORT)/i, '$1').slice(0, 200)})` : ''}`);
        progress(`WARNING: ${workerNotes.get(p.name)}`);
      }
      let first = true;
      for (const sc of mine) {
        step++;
        // --quick still warms the JIT once per start; full runs warm up before every scenario.
        // `direct` (no proxy) has nothing to warm.
        const r = proc as Running | null;
        const warmS = r === null ? 0 : cli.warmupS > 0 && (first || sc.warmup !== false) ? cli.warmupS : cli.quick && first ? 1 : 0;
        // The first scenario of a start warms up with two wrk runs (full runs): see WARM_RUNS_FIRST.
        const warmRuns = first && !cli.quick ? WARM_RUNS_FIRST : 1;
        first = false;
        const port = r ? r.port : upstream.port;
        try {
          for (let i = 0; i < warmRuns && warmS > 0; i++) await runWrk({ port, path: sc.path, connections: sc.connections, durationS: warmS, uploadBytes: sc.uploadBytes });
          const before = r?.notable?.().count ?? 0;
          const cpu0 = r ? treeCpuMicros(r.pid) : 0;
          const up0 = treeCpuMicros(upstream.pid);
          const rss = r ? sampleRss(r.pid) : null;
          const w = await runWrk({ port, path: sc.path, connections: sc.connections, durationS: cli.durationS, uploadBytes: sc.uploadBytes });
          const peak = rss ? rss.stop() : null;
          const cpu = r ? treeCpuMicros(r.pid) - cpu0 : 0;
          const upCpu = treeCpuMicros(upstream.pid) - up0;
          const ev = r?.notable?.();
          const crashLines = ev && ev.count > before ? ev.lines.slice(Math.min(before, ev.lines.length)) : [];
          const reqs = Math.max(1, w.requests);
          // wrk cannot see requests still in flight when it stops: no response at all on any
          // connection counts as one error per connection.
          const stalled = w.requests === 0 ? sc.connections : 0;
          const none = w.requests === 0;
          samples.push({
            proxy: p.name,
            scenario: sc.name,
            round,
            requests: w.requests,
            rps: w.rps,
            p50: none ? NaN : w.p50,
            p99: none ? NaN : w.p99,
            p999: none ? NaN : w.p999,
            percentiles: none ? [] : w.percentiles,
            cpuUsPerReq: r && !none ? cpu / reqs : null,
            upstreamCpuUsPerReq: upCpu / reqs,
            peakRssKiB: peak,
            socketErrors: w.socketErrors + stalled,
            statusErrors: w.statusErrors,
            errorKinds: { ...w.errorKinds, noResponse: stalled },
            crashLines,
          });
          const errs = w.socketErrors + w.statusErrors + stalled;
          progress(
            `[${step}/${totalSteps}] round ${round}/${cli.rounds} ${p.name} ${sc.name}: ${(w.rps / 1000).toFixed(1)} k req/s, ` +
              (none ? 'NO RESPONSE on any connection, ' : `${r ? `${(cpu / reqs).toFixed(1)} CPU-µs/req, ` : ''}p99 ${w.p99.toFixed(2)} ms, `) +
              `errors ${errs}` +
              (errs > 0 ? ` ${JSON.stringify({ ...w.errorKinds, noResponse: stalled })}` : '') +
              (crashLines.length > 0 ? `; stderr: ${crashLines[0]}` : ''),
          );
        } catch (err) {
          failures.push(`round ${round} ${p.name} ${sc.name}: ${(err as Error).message}`);
          progress(`[${step}/${totalSteps}] ${p.name} ${sc.name}: FAILED: ${(err as Error).message.slice(0, 300)}`);
        }
        if (r && !existsSync(`/proc/${r.pid}`)) {
          failures.push(`round ${round} ${p.name}: process exited during ${sc.name}; stderr: ${r.stderrTail().slice(-800)}`);
          live.delete(r);
          if (!(await start())) break;
        }
      }
      const r = proc as Running | null;
      if (r) {
        await r.stop();
        live.delete(r);
      }
    }
    if (probes) {
      const plan: Array<[number, string, number, number]> = [
        [1, '1', 1, 1],
        [2, '0,1', 1, 1],
        [4, '0,1', 1, 1],
        [1, '1', 10_000, 1_000],
      ];
      // Probes that read the settled RSS stay up, idle, while the next ones start: their 20 s
      // waits overlap (attache idle costs nothing the next probe's start-up would notice).
      const settling: Array<{ c: number; routes: number; clusters: number; pending: Promise<StartProbe> }> = [];
      for (const [c, cpus, routes, clusters] of plan) {
        // The 10,000-route startup probe and the settled idle RSS (SETTLED_MS after the request) run
        // in the first round only: they keep the whole run near 10 minutes.
        if (routes > 1 && round > 1) continue;
        const settledMs = round === 1 && routes === 1 && !cli.quick ? SETTLED_MS : 0;
        try {
          const p = await probeStartPending(upstream.port, c, cpus, routes, clusters, cli.quick ? 500 : 1500, 120_000, settledMs);
          const pending = p.settle();
          pending.catch(() => {}); // awaited (and reported) below; not an unhandled rejection meanwhile
          settling.push({ c, routes, clusters, pending });
        } catch (err) {
          failures.push(`round ${round} probe c${c} ${routes} routes: ${(err as Error).message}`);
          progress(`probe c${c} FAILED: ${(err as Error).message.slice(0, 300)}`);
        }
      }
      for (const { c, routes, clusters, pending } of settling) {
        try {
          const pr = await pending;
          probeResults.push(pr);
          const settled = pr.settledRssKiB !== undefined ? `, ${(pr.settledRssKiB / 1024).toFixed(1)} MiB after ${SETTLED_MS / 1000} s` : '';
          progress(`round ${round} probe attache --concurrency ${c}, ${routes} routes, ${clusters} clusters: RSS ${(pr.idleRssKiB / 1024).toFixed(1)} MiB 1.5 s after a request${settled}, first 200 after ${pr.firstOkMs.toFixed(0)} ms`);
        } catch (err) {
          failures.push(`round ${round} probe c${c} ${routes} routes: ${(err as Error).message}`);
          progress(`probe c${c} FAILED: ${(err as Error).message.slice(0, 300)}`);
        }
      }
    }
  }
  const obsNotes: string[] = [];
  if (observability) {
    try {
      obsNotes.push(...(await runObservabilityBench(upstream.port, { durationS: cli.durationS, warmupS: cli.warmupS, rounds: cli.rounds, out: cli.out, log: progress })));
    } catch (err) {
      failures.push(`observability: ${(err as Error).message}`);
    }
  }
  if (xds) {
    try {
      obsNotes.push(...(await runXdsBench(join(snap, 'bin', 'attache'), { quick: cli.quick, out: cli.out, log: progress })));
    } catch (err) {
      failures.push(`xds: ${(err as Error).message}`);
      progress(`xds FAILED: ${(err as Error).message.slice(0, 300)}`);
    }
  }
  await upstream.stop();
  live.delete(upstream);
  let hashing: HashReport | undefined;
  if (probes) {
    hashing = await runHashReport();
    progress(`hashing: ${hashing.speeds.map((s) => `${s.implementation} ${s.shape} ${s.mPerSec.toFixed(2)} M/s`).join(', ')}; ${hashing.compared.join('/')} agree on ${hashing.keysCompared} keys: ${hashing.disagreements.length === 0}`);
  }

  const notes = proxies.filter((p) => p.note).map((p) => `${p.name}: ${p.note}`);
  notes.push(...workerNotes.values());
  const short = probeResults.find((pr) => pr.workers !== undefined && pr.workers !== pr.concurrency);
  if (short) notes.push(`memory probes: attache --concurrency ${short.concurrency} started ${short.workers} worker(s) (no SO_REUSEPORT without the addon on this Node): the per-worker memory targets are not measured`);
  notes.push(...obsNotes);
  notes.push('attache ran from a copy of dist/ taken at the start, so rebuilds during the run did not change it; "commit" above is HEAD, and "+N files changed" counts uncommitted changes in the working tree.');
  if (scenarios.some((s) => s.name === 'upload')) notes.push('Upload: the upstream reads each 1 MiB body in full before answering; nginx proxies with proxy_request_buffering off.');
  const crashed = samples.filter((s) => s.crashLines.length > 0);
  for (const s of crashed) notes.push(`${s.proxy} ${s.scenario} round ${s.round} printed: ${s.crashLines.slice(0, 3).join(' | ')}`);
  const report: BenchReport = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine,
    startedAt: new Date(t0).toISOString(),
    elapsedS: (Date.now() - t0) / 1000,
    settings: { rounds: cli.rounds, durationS: cli.durationS, warmupS: cli.warmupS, quick: cli.quick },
    scenarios: [...SCENARIOS],
    notes,
    samples,
    rows: aggregate(samples, allProxies(extraProxies).map((p) => p.name)),
    probes: probeResults,
    hashing,
    failures,
  };
  const files = writeReport(cli.out, report);
  progress(`wrote ${files.join(', ')}`);
}

async function stopAll(): Promise<void> {
  await Promise.all([...live].map((r) => r.stop()));
  removeTempDirs();
}

process.once('SIGINT', () => {
  void stopAll().then(() => process.exit(130));
});

main().then(
  () => stopAll(),
  async (err: Error) => {
    process.stderr.write(`bench: ${err instanceof UsageError ? err.message : err.stack ?? err.message}\n`);
    await stopAll();
    process.exitCode = 1;
  },
);
