/**
 * Aggregates the bench's samples into medians and writes bench/results/latest.{md,json,svg}:
 * a markdown table per scenario, the raw samples as JSON, and a hand-written SVG bar chart
 * (CPU-µs per request and requests/s per proxy, 13-byte and 16 KiB scenarios).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTLED_MS, type StartProbe } from './attache-probes';
import { renderHashReport, type HashReport } from './hash-report';

/** One measured wrk run through one proxy. */
export interface Sample {
  proxy: string;
  scenario: string;
  round: number;
  requests: number;
  rps: number;
  /** ms */
  p50: number;
  p99: number;
  p999: number;
  /** [percentile, ms] from wrk's latency histogram. */
  percentiles?: Array<[number, number]>;
  /** Proxy tree utime+stime during the run / requests, µs; null for direct. */
  cpuUsPerReq: number | null;
  /** Upstream nginx utime+stime / requests, µs. */
  upstreamCpuUsPerReq: number;
  /** Peak sampled VmRSS of the proxy tree during the run, KiB; null for direct. Latencies are NaN when no request completed. */
  peakRssKiB: number | null;
  socketErrors: number;
  statusErrors: number;
  errorKinds: Record<string, number>;
  /** Crash/error lines the proxy printed on stderr during the run. */
  crashLines: string[];
}

/** Medians over rounds for one proxy × scenario. */
export interface Row {
  proxy: string;
  scenario: string;
  rounds: number;
  rps: number;
  /** rps / nginx's median rps in the same scenario; null when nginx did not run. */
  ratioNginx: number | null;
  p50: number;
  p99: number;
  p999: number;
  /** Median over rounds of each [percentile, ms]. */
  percentiles: Array<[number, number]>;
  cpuUsPerReq: number | null;
  peakRssMiB: number | null;
  /** Sum over all rounds: socket errors + status ≥ 400 (+ one per connection when none answered). */
  errors: number;
}

/** A scenario's description, for headings. */
export interface ScenarioInfo {
  name: string;
  title: string;
}

/** Everything the report shows. */
export interface BenchReport {
  command: string;
  machine: Record<string, string>;
  startedAt: string;
  elapsedS: number;
  settings: { rounds: number; durationS: number; warmupS: number; quick: boolean };
  scenarios: ScenarioInfo[];
  notes: string[];
  samples: Sample[];
  rows: Row[];
  probes: StartProbe[];
  /** XXH64 speeds and agreement (full runs). */
  hashing?: HashReport;
  failures: string[];
}

/** Median of finite numbers (NaN when none). */
export function median(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Groups samples into {@link Row}s (medians; errors summed), ordered by `proxyOrder`. */
export function aggregate(samples: Sample[], proxyOrder: string[]): Row[] {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const k = `${s.scenario}\u0000${s.proxy}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(s);
  }
  const rows: Row[] = [];
  for (const g of groups.values()) {
    const cpu = g.map((s) => s.cpuUsPerReq).filter((x): x is number => x !== null);
    const rss = g.map((s) => s.peakRssKiB).filter((x): x is number => x !== null);
    rows.push({
      proxy: g[0].proxy,
      scenario: g[0].scenario,
      rounds: g.length,
      rps: median(g.map((s) => s.rps)),
      ratioNginx: null,
      p50: median(g.map((s) => s.p50)),
      p99: median(g.map((s) => s.p99)),
      p999: median(g.map((s) => s.p999)),
      percentiles: (g[0].percentiles ?? []).map(([p], i) => [p, median(g.map((s) => s.percentiles?.[i]?.[1] ?? NaN))] as [number, number]),
      cpuUsPerReq: cpu.length ? median(cpu) : null,
      peakRssMiB: rss.length ? median(rss) / 1024 : null,
      errors: g.reduce((a, s) => a + s.socketErrors + s.statusErrors, 0),
    });
  }
  for (const r of rows) {
    const ng = rows.find((x) => x.proxy === 'nginx' && x.scenario === r.scenario);
    r.ratioNginx = ng && ng.rps > 0 ? r.rps / ng.rps : null;
  }
  rows.sort((a, b) => proxyOrder.indexOf(a.proxy) - proxyOrder.indexOf(b.proxy));
  return rows;
}

function fmt(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x.toFixed(digits);
}

/**
 * A ratio against a target's limit, 2 decimals; 3 when 2 would print the limit itself for a ratio
 * on the other side of it (27.0 / 18.0 = 1.504 is "1.504×", not a "1.50×" that fails).
 */
function fmtRatio(r: number, limit: number): string {
  const two = fmt(r, 2);
  return Number(two) === limit && r !== limit ? fmt(r, 3) : two;
}

function fmtRps(x: number): string {
  if (!Number.isFinite(x)) return '–';
  return x >= 1000 ? `${(x / 1000).toFixed(1)} k` : x.toFixed(0);
}

function find(rows: Row[], proxy: string, scenario: string): Row | undefined {
  return rows.find((r) => r.proxy === proxy && r.scenario === scenario);
}

/** The issue-3 "done when" checks that this bench measures. */
export function targets(rep: BenchReport): Array<{ target: string; measured: string; pass: boolean | null }> {
  const out: Array<{ target: string; measured: string; pass: boolean | null }> = [];
  const rows = rep.rows;
  const cpuCheck = (scenario: string, label: string): void => {
    const a = find(rows, 'attache-c1', scenario);
    const n = find(rows, 'nginx', scenario);
    const ratio = a?.cpuUsPerReq != null && n?.cpuUsPerReq ? a.cpuUsPerReq / n.cpuUsPerReq : NaN;
    out.push({ target: `attache-c1 CPU-µs/req ≤ 1.5× nginx (${label})`, measured: `${fmt(a?.cpuUsPerReq)} vs ${fmt(n?.cpuUsPerReq)} = ${fmtRatio(ratio, 1.5)}×`, pass: Number.isFinite(ratio) ? ratio <= 1.5 : null });
  };
  cpuCheck('small', '13 B');
  cpuCheck('large', '16 KiB');
  const a = find(rows, 'attache-c1', 'small');
  const r10k = find(rows, 'attache-10k-routes', 'small');
  const rr = r10k?.cpuUsPerReq != null && a?.cpuUsPerReq ? r10k.cpuUsPerReq / a.cpuUsPerReq : NaN;
  out.push({ target: '10,000 routes ≤ 1.10× one route (CPU-µs/req)', measured: `${fmt(r10k?.cpuUsPerReq)} vs ${fmt(a?.cpuUsPerReq)} = ${fmtRatio(rr, 1.1)}×`, pass: Number.isFinite(rr) ? rr <= 1.1 : null });
  const peers = ['http-proxy', 'fastify-proxy'].map((p) => find(rows, p, 'small')?.rps ?? NaN).filter(Number.isFinite);
  const best = peers.length ? Math.max(...peers) : NaN;
  const pr = a ? a.rps / best : NaN;
  out.push({ target: 'attache-c1 req/s ≥ 4× best Node peer (13 B)', measured: `${fmtRps(a?.rps ?? NaN)} vs ${fmtRps(best)} = ${fmtRatio(pr, 4)}×`, pass: Number.isFinite(pr) ? pr >= 4 : null });
  const n = find(rows, 'nginx', 'small');
  const p99r = a && n ? a.p99 / n.p99 : NaN;
  out.push({ target: 'attache-c1 p99 ≤ 1.5× nginx p99 (13 B)', measured: `${fmt(a?.p99, 2)} ms vs ${fmt(n?.p99, 2)} ms = ${fmtRatio(p99r, 1.5)}×`, pass: Number.isFinite(p99r) ? p99r <= 1.5 : null });
  // Context for the three lines above (not a target): the same numbers for node-net-floor, a
  // blind byte forwarder on Node's net sockets, the best any proxy built on them could do here.
  const f = find(rows, 'node-net-floor', 'small');
  if (f && n && a) {
    const fc = f.cpuUsPerReq != null && n.cpuUsPerReq ? f.cpuUsPerReq / n.cpuUsPerReq : NaN;
    const http = a.cpuUsPerReq != null && f.cpuUsPerReq != null ? a.cpuUsPerReq - f.cpuUsPerReq : NaN;
    out.push({
      target: 'context, not a target: node-net-floor (no HTTP work) vs nginx (13 B)',
      measured: `CPU ${fmt(f.cpuUsPerReq)} µs/req = ${fmt(fc, 2)}× nginx; p99 ${fmt(f.p99, 2)} ms = ${fmt(f.p99 / n.p99, 2)}× nginx; ${fmtRps(f.rps)} req/s = ${fmt(f.rps / best, 2)}× best Node peer; attache's HTTP work = ${fmt(http)} µs/req`,
      pass: null,
    });
  }
  const attErr = rows.filter((r) => r.proxy.startsWith('attache')).reduce((s, r) => s + r.errors, 0);
  out.push({ target: 'attache: zero errors (all scenarios)', measured: `${attErr}`, pass: rows.some((r) => r.proxy.startsWith('attache')) ? attErr === 0 : null });
  // Idle RSS: the settled reading (SETTLED_MS without traffic) when measured, else the 1.5 s one.
  const settled = rep.probes.some((p) => p.settledRssKiB !== undefined);
  const idle = (c: number): number =>
    median(rep.probes.filter((p) => p.routes === 1 && p.clusters === 1 && p.concurrency === c && (!settled || p.settledRssKiB !== undefined)).map((p) => (settled ? p.settledRssKiB! : p.idleRssKiB) / 1024));
  const i1 = idle(1);
  const i2 = idle(2);
  const i4 = idle(4);
  // The targets are about settled idle RSS: a reading 1.5 s after a request (--quick) is shown, not judged.
  const when = settled ? ` (settled, ${SETTLED_MS / 1000} s idle)` : ' (1.5 s after a request, not settled: not judged)';
  // Without SO_REUSEPORT (no addon) attache runs one worker whatever --concurrency says.
  const short = rep.probes.find((p) => p.workers !== undefined && p.workers !== p.concurrency);
  const judge = (ok: boolean, x: number): boolean | null => (settled && !short && Number.isFinite(x) ? ok : null);
  const shortText = short ? `; not measured: --concurrency ${short.concurrency} started ${short.workers} worker(s) (no addon)` : '';
  out.push({ target: 'idle RSS at --concurrency 2 ≤ 80 MiB', measured: `${fmt(i2)} MiB${when}${shortText}`, pass: judge(i2 <= 80, i2) });
  const perWorker = Number.isFinite(i4) ? (i4 - i1) / 3 : i2 - i1;
  const hs = rep.hashing;
  if (hs) {
    const speed = (i: string): string => fmt(hs.speeds.find((s) => s.implementation === i && s.shape.startsWith('hashKey'))?.mPerSec, 2);
    out.push({
      target: 'native and fallback hashes agree on 100,000 keys; both speeds shown',
      measured: `${hs.compared.join(', ')}: ${hs.disagreements.length === 0 ? 'identical' : `${hs.disagreements.length} disagreement(s)`} on ${hs.keysCompared} keys; hashKey ${hs.compared.map((i) => `${i} ${speed(i)} M/s`).join(', ')}`,
      pass: hs.compared.includes('native') && hs.compared.length > 1 ? hs.keysCompared >= 100_000 && hs.disagreements.length === 0 : null,
    });
  }
  out.push({ target: 'each extra worker ≤ 15 MiB', measured: `${fmt(perWorker)} MiB${Number.isFinite(i4) ? ' ((c4 − c1) / 3)' : ''}${when}${shortText}`, pass: judge(perWorker <= 15, perWorker) });
  return out;
}

/** Renders the markdown report. */
export function renderMarkdown(rep: BenchReport): string {
  const L: string[] = [];
  L.push('# attache side-by-side bench', '');
  L.push('Charts: [latest.svg](latest.svg) (CPU-µs per request and requests/s) and [latest-latency.svg](latest-latency.svg) (latency by percentile, 13-byte scenario).', '');
  L.push(`Command: \`${rep.command}\``, '');
  L.push(`Machine: ${Object.entries(rep.machine).map(([k, v]) => `${k} ${v}`).join('; ')}`, '');
  L.push(`Run: ${rep.startedAt}, ${rep.elapsedS.toFixed(0)} s; ${rep.settings.rounds} round(s) interleaved, ${rep.settings.durationS} s per run ${rep.settings.warmupS > 0 ? `after a ${rep.settings.warmupS} s warm-up (two ${rep.settings.warmupS} s wrk runs before each proxy start's first scenario, so that its JIT has seen clients disconnect mid-request once; none for direct)` : 'with a 1 s warm-up per proxy start only'}; medians over rounds (errors summed).${rep.settings.quick ? ' **--quick: smoke check, not for comparison.**' : ''}`, '');
  L.push('Load: wrk -t1 and the upstream nginx pinned to CPU 0, each proxy pinned to CPU 1 with taskset, one worker (attache-c2: two workers on CPUs 0,1). CPU-µs/req = the proxy process tree\'s utime+stime during the run (/proc/PID/stat, all threads and children) divided by the requests completed: the proxy\'s own cost per request, independent of how the cores are shared. Peak RSS is sampled VmRSS during the run.', '');
  for (const sc of rep.scenarios) {
    const rows = rep.rows.filter((r) => r.scenario === sc.name);
    if (rows.length === 0) continue;
    L.push(`## ${sc.title}`, '');
    L.push('| proxy | req/s | × nginx | p50 ms | p99 ms | p99.9 ms | CPU-µs/req | peak RSS MiB | errors |');
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      L.push(`| ${r.proxy} | ${fmtRps(r.rps)} | ${fmt(r.ratioNginx, 2)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.p999, 2)} | ${fmt(r.cpuUsPerReq)} | ${fmt(r.peakRssMiB)} | ${r.errors} |`);
    }
    L.push('');
  }
  if (rep.probes.length > 0) {
    L.push('## attache memory and startup', '');
    L.push(`| --concurrency | routes | clusters | RSS MiB 1.5 s after a request | idle RSS MiB after ${SETTLED_MS / 1000} s | spawn → ready line ms | spawn → first 200 ms |`);
    L.push('|---:|---:|---:|---:|---:|---:|---:|');
    const keys = [...new Set(rep.probes.map((p) => `${p.concurrency}/${p.routes}/${p.clusters}`))];
    for (const k of keys) {
      const g = rep.probes.filter((p) => `${p.concurrency}/${p.routes}/${p.clusters}` === k);
      const st = g.filter((p) => p.settledRssKiB !== undefined).map((p) => p.settledRssKiB! / 1024);
      L.push(`| ${g[0].concurrency} | ${g[0].routes} | ${g[0].clusters} | ${fmt(median(g.map((p) => p.idleRssKiB / 1024)))} | ${st.length ? fmt(median(st)) : '–'} | ${fmt(median(g.map((p) => p.readyMs)), 0)} | ${fmt(median(g.map((p) => p.firstOkMs)), 0)} |`);
    }
    L.push('');
  }
  if (rep.hashing) L.push(...renderHashReport(rep.hashing));
  L.push('## Issue 3 targets (the project\'s performance issue: what `npm run bench` must show)', '');
  L.push('| target | measured | met |', '|---|---|---|');
  for (const t of targets(rep)) L.push(`| ${t.target} | ${t.measured} | ${t.pass === null ? 'n/a' : t.pass ? 'yes' : '**no**'} |`);
  L.push('');
  if (rep.notes.length > 0 || rep.failures.length > 0) {
    L.push('## Notes', '');
    for (const n of rep.notes) L.push(`- ${n}`);
    for (const f of rep.failures) L.push(`- FAILURE: ${f.replace(/\n/g, ' ').slice(0, 600)}`);
    L.push('');
  }
  return L.join('\n');
}

/** Renders a two-panel horizontal bar chart (CPU-µs/req, req/s) for the 13 B and 16 KiB runs. */
export function renderSvg(rep: BenchReport): string {
  const scen = ['small', 'large'].filter((s) => rep.rows.some((r) => r.scenario === s));
  const proxies = [...new Set(rep.rows.filter((r) => scen.includes(r.scenario)).map((r) => r.proxy))];
  const colors = ['#3b6fb6', '#e08a2c'];
  const barH = 12;
  const groupH = barH * scen.length + 8;
  const labelW = 150;
  const panelW = 330;
  const top = 50;
  const height = top + proxies.length * groupH + 30;
  const width = labelW + 2 * (panelW + 20) + 10;
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="10" y="16" font-size="13" font-weight="bold">attache bench: one worker per proxy (attache-c2: two), medians (${esc(rep.startedAt.slice(0, 10))})</text>`);
  scen.forEach((s, i) => {
    out.push(`<rect x="${10 + i * 120}" y="24" width="10" height="10" fill="${colors[i]}"/><text x="${24 + i * 120}" y="33">${s === 'small' ? '13 B @64 conns' : '16 KiB @64 conns'}</text>`);
  });
  const panels: Array<{ title: string; value: (r: Row) => number | null; fmtv: (v: number) => string }> = [
    { title: 'CPU-µs per request (lower is better)', value: (r) => r.cpuUsPerReq, fmtv: (v) => v.toFixed(1) },
    { title: 'requests/s (higher is better)', value: (r) => r.rps, fmtv: (v) => fmtRps(v) },
  ];
  panels.forEach((p, pi) => {
    const x0 = labelW + pi * (panelW + 20);
    const vals = rep.rows.filter((r) => scen.includes(r.scenario)).map(p.value).filter((v): v is number => v !== null && Number.isFinite(v));
    const max = Math.max(1e-9, ...vals);
    out.push(`<text x="${x0}" y="${top - 4}" font-weight="bold">${esc(p.title)}</text>`);
    proxies.forEach((name, gi) => {
      const y = top + gi * groupH;
      if (pi === 0) out.push(`<text x="${labelW - 6}" y="${y + groupH / 2}" text-anchor="end">${esc(name)}</text>`);
      scen.forEach((s, si) => {
        const r = rep.rows.find((x) => x.proxy === name && x.scenario === s);
        const v = r ? p.value(r) : null;
        if (v === null || !Number.isFinite(v)) return;
        const w = Math.max(1, ((panelW - 60) * v) / max);
        const yy = y + si * barH;
        out.push(`<rect x="${x0}" y="${yy}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${colors[si]}"/>`);
        out.push(`<text x="${(x0 + w + 3).toFixed(1)}" y="${yy + barH - 3}">${esc(p.fmtv(v))}</text>`);
      });
    });
  });
  out.push('</svg>');
  return out.join('\n');
}

/**
 * Latency by percentile for one scenario, one line per proxy (log-log: x in "nines",
 * y in ms), from wrk's latency histogram: the shape of each proxy's tail at a glance.
 */
export function renderLatencySvg(rep: BenchReport, scenario = 'small'): string {
  const rows = rep.rows.filter((r) => r.scenario === scenario && r.percentiles.length > 0);
  const W = 760;
  const H = 420;
  const L = 60;
  const T = 40;
  const R = 170;
  const B = 50;
  const pw = W - L - R;
  const ph = H - T - B;
  const nines = (p: number): number => -Math.log10(Math.max(1e-5, 1 - p / 100)); // 50 → 0.3, 99 → 2, 99.99 → 4
  const xmax = 5;
  const vals = rows.flatMap((r) => r.percentiles.filter(([p]) => p < 100).map(([, v]) => v)).filter((v) => Number.isFinite(v) && v > 0);
  const ymin = Math.max(0.01, Math.min(...vals, 1));
  const ymax = Math.max(...vals, 1);
  const ly = (v: number): number => T + ph - ((Math.log10(Math.max(v, ymin)) - Math.log10(ymin)) / (Math.log10(ymax) - Math.log10(ymin) || 1)) * ph;
  const lx = (p: number): number => L + (Math.min(nines(p), xmax) / xmax) * pw;
  const colors = ['#3b6fb6', '#e08a2c', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  const title = rep.scenarios.find((s) => s.name === scenario)?.title ?? scenario;
  out.push(`<text x="10" y="18" font-size="13" font-weight="bold">Latency by percentile: ${esc(title)} (wrk histogram, medians over rounds)</text>`);
  out.push(`<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const p of [50, 90, 99, 99.9, 99.99, 99.999]) {
    const x = lx(p);
    out.push(`<line x1="${x.toFixed(1)}" y1="${T}" x2="${x.toFixed(1)}" y2="${T + ph}" stroke="#eee"/><text x="${x.toFixed(1)}" y="${T + ph + 14}" text-anchor="middle">p${p}</text>`);
  }
  for (let e = Math.floor(Math.log10(ymin)); e <= Math.ceil(Math.log10(ymax)); e++) {
    const v = 10 ** e;
    if (v < ymin / 1.0001 || v > ymax * 1.0001) continue;
    const y = ly(v);
    out.push(`<line x1="${L}" y1="${y.toFixed(1)}" x2="${L + pw}" y2="${y.toFixed(1)}" stroke="#eee"/><text x="${L - 4}" y="${(y + 4).toFixed(1)}" text-anchor="end">${v >= 1 ? v : v.toFixed(2)} ms</text>`);
  }
  out.push(`<text x="${L + pw / 2}" y="${H - 12}" text-anchor="middle">percentile (log scale of 1/(1-p))</text>`);
  rows.forEach((r, i) => {
    const c = colors[i % colors.length];
    const pts = r.percentiles.filter(([p, v]) => p < 100 && Number.isFinite(v) && v > 0).map(([p, v]) => `${lx(p).toFixed(1)},${ly(v).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.join(' ')}"/>`);
    out.push(`<rect x="${L + pw + 12}" y="${T + i * 16}" width="10" height="10" fill="${c}"/><text x="${L + pw + 26}" y="${T + i * 16 + 9}">${esc(r.proxy)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Writes latest.md, latest.json and latest.svg into `dir`; returns their paths. */
export function writeReport(dir: string, rep: BenchReport): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'latest.md'), join(dir, 'latest.json'), join(dir, 'latest.svg'), join(dir, 'latest-latency.svg')];
  writeFileSync(files[0], renderMarkdown(rep));
  writeFileSync(files[1], JSON.stringify({ ...rep, targets: targets(rep) }, null, 2) + '\n');
  writeFileSync(files[2], renderSvg(rep));
  writeFileSync(files[3], renderLatencySvg(rep));
  return files;
}
