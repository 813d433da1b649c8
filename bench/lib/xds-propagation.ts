/**
 * xDS propagation (issue 5), run by `npm run bench -- --only xds`:
 *
 * The control plane (src/xds/xds-server, in a worker thread of the bench process) serves over one ADS stream 1,000 EDS clusters
 * `c0`..`c999` with 10 endpoints each (10,000 endpoints), one RDS route configuration with a route
 * `prefix: /cN/` → `cN` per cluster, and one LDS listener on 127.0.0.1. The endpoints are the 20
 * ports of a private nginx: ten answer `blue`, ten answer `green`. Every cluster starts on blue.
 * For attache --concurrency 1 (CPU 1) and 2 (CPUs 0,1) it measures:
 *  - startup: spawn → "serving" line, → first 200 through the LDS listener, → every one of the
 *    1,000 routes answered 200 (all clusters warm), and RSS after a short idle;
 *  - EDS propagation: push one cluster's new assignment (all 10 endpoints moved to green: the whole
 *    SotW set of 1,000 assignments is sent, as a SotW server does) and poll that cluster over
 *    POLLERS keep-alive connections as fast as they answer; time from just before the push to the
 *    first response with the green body, and to the moment every poller has seen it;
 *  - RDS propagation: the same for a route switched to a cluster already on green (a whole new
 *    snapshot for the workers, since routes changed); requests on kept-alive connections;
 *  - RSS after the changes.
 * Results go to `<out>/xds.{json,md}`; the returned lines go into the main report's notes.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TYPE_URLS } from '../../src/config/resource';
import { XdsServer } from '../../src/xds/xds-server';
import { treeRssKiB } from './procstat';
import { freePort, runningFrom, spawnPinned, stopChild, tail, tempDir, type Running } from './upstream';

const CLUSTERS = 1000;
const ENDPOINTS = 10;
const POLLERS = 4;
const CHANGE_TIMEOUT_MS = 10_000;

/** Latency summary of one kind of change, ms. */
export interface PropagationStats {
  changes: number;
  timeouts: number;
  /** Push → first response showing the change. */
  firstP50: number;
  firstP99: number;
  firstMax: number;
  /** Push → every poller (keep-alive connection) has seen it. */
  allP50: number;
  allP99: number;
  /** Mean responses with the old body per change, over all pollers. */
  staleResponsesMean: number;
  /** The control plane's synchronous push (diff, serialise, write to the stream), p50 ms; included above. */
  pushP50: number;
  /** Responses other than 200 while polling, all changes (expect 0). */
  failedResponses: number;
}

/** One attache run. */
export interface XdsRun {
  concurrency: number;
  cpus: string;
  /** Spawn → "serving" line (initial xDS fetch done, workers up), ms. */
  readyMs: number;
  /** Spawn → first 200 through the LDS listener, ms. */
  firstOkMs: number;
  /** Spawn → the end of a sequential sweep requesting each of the 1,000 routes once, ms. */
  allWarmMs: number;
  /** Routes that answered 200 in that sweep (expect 1,000: the initial fetch warms every cluster before serving). */
  warmOk: number;
  /** RSS of the process after start + 1 s idle, KiB. */
  idleRssKiB: number;
  /** RSS after every change, KiB. */
  endRssKiB: number;
  eds: PropagationStats;
  rds: PropagationStats;
}

/** Everything this module measures. */
export interface XdsResult {
  clusters: number;
  endpointsPerCluster: number;
  pollers: number;
  runs: XdsRun[];
}

function pct(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** `n` distinct ports on 127.0.0.1 that were free a moment ago (all held open together while chosen). */
async function distinctPorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** A private nginx on 2 × ENDPOINTS ports: the first half answers "blue\n", the second "green\n". */
async function startColourUpstream(): Promise<Running & { blue: number[]; green: number[] }> {
  const dir = tempDir('xds-upstream');
  mkdirSync(join(dir, 'logs'));
  const ports = await distinctPorts(2 * ENDPOINTS);
  const blue = ports.slice(0, ENDPOINTS);
  const green = ports.slice(ENDPOINTS);
  const server = (ports: number[], body: string): string =>
    `  server {\n${ports.map((p) => `    listen 127.0.0.1:${p} backlog=4096;\n`).join('')}    location / { return 200 "${body}\\n"; }\n  }\n`;
  const conf = `worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/plain;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${server(blue, 'blue')}${server(green, 'green')}}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const r = await runningFrom(spawnPinned('0', 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]), blue[0]);
  return { ...r, blue, green };
}

const ADS = { ads: {}, resource_api_version: 'V3' };

function cla(name: string, ports: readonly number[]): Record<string, unknown> {
  return {
    cluster_name: name,
    endpoints: [{ lb_endpoints: ports.map((p) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } })) }],
  };
}

function routes(target: (i: number) => string): Record<string, unknown> {
  const list: unknown[] = [];
  for (let i = 0; i < CLUSTERS; i++) list.push({ match: { prefix: `/c${i}/` }, route: { cluster: target(i) } });
  return { name: 'bench_routes', virtual_hosts: [{ name: 'all', domains: ['*'], routes: list }] };
}

function bootstrap(xdsPort: number): string {
  return `node: { id: bench-node, cluster: bench }
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{ envoy_grpc: { cluster_name: xds_cluster } }]
  lds_config: { ads: {}, resource_api_version: V3 }
  cds_config: { ads: {}, resource_api_version: V3 }
static_resources:
  clusters:
  - name: xds_cluster
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: xds_cluster
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${xdsPort} } } } }] }]
`;
}

/** GET over `agent`; resolves with the status and body (status 0 on a socket error). */
function get(port: number, path: string, agent: http.Agent | false): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.setTimeout(5000, () => req.destroy());
  });
}

/**
 * Runs `push()`, then polls `path` on every agent until each has seen `want`.
 * @returns ms to the first and to the last poller seeing it (NaN on timeout), and stale responses
 */
async function measureChange(port: number, agents: http.Agent[], path: string, want: string, push: () => Promise<number>): Promise<Sample> {
  let first = NaN;
  let stale = 0;
  let failed = 0;
  const t0 = performance.now();
  const pushed = push();
  const deadline = t0 + CHANGE_TIMEOUT_MS;
  const seen = await Promise.all(agents.map(async (agent) => {
    for (;;) {
      const r = await get(port, path, agent);
      const t = performance.now();
      if (r.status === 200 && r.body === want) {
        if (Number.isNaN(first)) first = t - t0;
        return t - t0;
      }
      stale++;
      if (r.status !== 200) failed++;
      if (t > deadline) return NaN;
    }
  }));
  return { first, all: seen.some(Number.isNaN) ? NaN : Math.max(...seen), stale, failed, pushMs: await pushed };
}

/** One change: ms to first / all pollers seeing it, stale responses, ms the control plane's push call took. */
interface Sample {
  first: number;
  all: number;
  stale: number;
  /** Responses other than 200 while polling. */
  failed: number;
  pushMs: number;
}

function summarise(xs: Sample[]): PropagationStats {
  const ok = xs.filter((x) => !Number.isNaN(x.first));
  const first = ok.map((x) => x.first).sort((a, b) => a - b);
  const all = xs.filter((x) => !Number.isNaN(x.all)).map((x) => x.all).sort((a, b) => a - b);
  return {
    changes: xs.length,
    timeouts: xs.length - ok.length,
    firstP50: pct(first, 0.5),
    firstP99: pct(first, 0.99),
    firstMax: first[first.length - 1] ?? NaN,
    allP50: pct(all, 0.5),
    allP99: pct(all, 0.99),
    staleResponsesMean: xs.reduce((n, x) => n + x.stale, 0) / Math.max(1, xs.length),
    pushP50: pct(xs.map((x) => x.pushMs).sort((a, b) => a - b), 0.5),
    failedResponses: xs.reduce((n, x) => n + x.failed, 0),
  };
}

async function runOne(bin: string, concurrency: number, cpus: string, changes: number, log: (s: string) => void): Promise<XdsRun> {
  const up = await startColourUpstream();
  const cp = new ControlPlane();
  const agents = Array.from({ length: POLLERS }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  let child: ReturnType<typeof spawnPinned> | null = null;
  try {
    const port = await freePort();
    const xdsPort = await cp.start(up.blue, up.green, port);
    const cfg = join(tempDir('xds-attache'), 'bootstrap.yaml');
    writeFileSync(cfg, bootstrap(xdsPort));

    // Startup.
    const t0 = performance.now();
    child = spawnPinned(cpus, process.execPath, [bin, '-c', cfg, '--concurrency', String(concurrency)]);
    child.stdout?.resume();
    const errTail = tail(child.stderr);
    const c = child;
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      const t = setTimeout(() => reject(new Error(`attache not ready in 60 s: ${errTail()}`)), 60_000);
      c.stderr!.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        if (/serving with \d+ worker\(s\)/.test(buf)) {
          clearTimeout(t);
          resolve();
        }
      });
      c.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`attache exited (${code}): ${errTail()}`));
      });
    });
    const readyMs = performance.now() - t0;
    while ((await get(port, `/c${CLUSTERS - 1}/`, false)).status !== 200) {
      if (performance.now() - t0 > 60_000) throw new Error(`no 200 within 60 s: ${errTail()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const firstOkMs = performance.now() - t0;
    let warmOk = 0;
    for (let i = 0; i < CLUSTERS; i++) if ((await get(port, `/c${i}/`, agents[0])).status === 200) warmOk++;
    const allWarmMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1000));
    const idleRssKiB = treeRssKiB(child.pid!);
    log(`xds c${concurrency}: serving after ${readyMs.toFixed(0)} ms, first 200 after ${firstOkMs.toFixed(0)} ms, ${warmOk}/${CLUSTERS} routes OK after ${allWarmMs.toFixed(0)} ms, RSS ${(idleRssKiB / 1024).toFixed(1)} MiB`);

    // EDS: move cluster k (every 20th from 0) to green. Warm the pollers' connections first.
    const edsSamples: Sample[] = [];
    const moved: number[] = [];
    for (let i = 0; i < changes; i++) {
      const k = (i * 20) % CLUSTERS;
      await Promise.all(agents.map((a) => get(port, `/c${k}/`, a)));
      edsSamples.push(await measureChange(port, agents, `/c${k}/`, 'green\n', () => cp.call({ op: 'move', k })));
      moved.push(k);
      await new Promise((r) => setTimeout(r, 20)); // let the ACK go out
    }
    const eds = summarise(edsSamples);
    log(`xds c${concurrency}: EDS change → first request seeing it p50 ${eds.firstP50.toFixed(1)} ms, p99 ${eds.firstP99.toFixed(1)} ms; all ${POLLERS} connections p50 ${eds.allP50.toFixed(1)} ms (${eds.timeouts} timeouts)`);

    // RDS: route /cK/ (a cluster still on blue) switched to a cluster already on green.
    const rdsSamples: Sample[] = [];
    for (let i = 0; i < changes; i++) {
      const k = (i * 20 + 10) % CLUSTERS;
      await Promise.all(agents.map((a) => get(port, `/c${k}/`, a)));
      rdsSamples.push(await measureChange(port, agents, `/c${k}/`, 'green\n', () => cp.call({ op: 'route', k, target: moved[i % moved.length] })));
      await new Promise((r) => setTimeout(r, 20));
    }
    const rds = summarise(rdsSamples);
    log(`xds c${concurrency}: RDS change → first request seeing it p50 ${rds.firstP50.toFixed(1)} ms, p99 ${rds.firstP99.toFixed(1)} ms; all ${POLLERS} connections p50 ${rds.allP50.toFixed(1)} ms (${rds.timeouts} timeouts)`);
    const endRssKiB = treeRssKiB(child.pid!);
    return { concurrency, cpus, readyMs, firstOkMs, allWarmMs, warmOk, idleRssKiB, endRssKiB, eds, rds };
  } finally {
    for (const a of agents) a.destroy();
    if (child) await stopChild(child);
    await cp.close();
    await up.stop();
  }
}

// --- The control plane, in a worker thread of the bench process: its serialisation and HTTP/2
// writes do not wait behind the pollers' event loop (nor the reverse). ---

type CpRequest = { op: 'start'; blue: number[]; green: number[]; listenerPort: number } | { op: 'move'; k: number } | { op: 'route'; k: number; target: number } | { op: 'close' };

/** Main-thread handle of the control-plane thread; `call` resolves with the reply's number. */
class ControlPlane {
  private readonly worker = new Worker(__filename, { workerData: { role: 'xds-bench-control-plane' } });
  private readonly waiting: Array<{ resolve: (n: number) => void; reject: (e: Error) => void }> = [];

  constructor() {
    this.worker.on('message', (n: number) => this.waiting.shift()?.resolve(n));
    this.worker.on('error', (e) => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
  }

  call(req: CpRequest): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(req);
    });
  }

  /** Serves the initial resources. @returns the xDS port */
  start(blue: number[], green: number[], listenerPort: number): Promise<number> {
    return this.call({ op: 'start', blue, green, listenerPort });
  }

  async close(): Promise<void> {
    await this.call({ op: 'close' }).catch(() => undefined);
    await this.worker.terminate();
  }
}

/** The worker side: owns the XdsServer and the resources; each change replies with its push ms. */
function controlPlaneThread(): void {
  const server = new XdsServer();
  const clas: unknown[] = [];
  const routeTarget: string[] = [];
  let green: number[] = [];
  parentPort!.on('message', (req: CpRequest) => {
    void (async () => {
      const t0 = performance.now();
      if (req.op === 'start') {
        green = req.green;
        const clusters: unknown[] = [];
        for (let i = 0; i < CLUSTERS; i++) {
          clusters.push({ name: `c${i}`, type: 'EDS', connect_timeout: '1s', lb_policy: 'ROUND_ROBIN', eds_cluster_config: { eds_config: ADS } });
          clas.push(cla(`c${i}`, req.blue));
          routeTarget.push(`c${i}`);
        }
        server.setResources(TYPE_URLS.cluster, clusters);
        server.setResources(TYPE_URLS.endpoint, clas);
        server.setResources(TYPE_URLS.route, [routes((i) => routeTarget[i])]);
        server.setResources(TYPE_URLS.listener, [listenerResource(req.listenerPort)]);
        parentPort!.postMessage(await server.listen(0));
        return;
      }
      if (req.op === 'move') {
        clas[req.k] = cla(`c${req.k}`, green);
        server.setResources(TYPE_URLS.endpoint, clas);
      } else if (req.op === 'route') {
        routeTarget[req.k] = `c${req.target}`;
        server.setResources(TYPE_URLS.route, [routes((i) => routeTarget[i])]);
      } else {
        await server.close();
      }
      parentPort!.postMessage(performance.now() - t0);
    })();
  });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'xds-bench-control-plane') controlPlaneThread();

function listenerResource(port: number): Record<string, unknown> {
  return {
    name: 'xds_listener',
    address: { socket_address: { address: '127.0.0.1', port_value: port } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: 'xds_bench',
      rds: { route_config_name: 'bench_routes', config_source: ADS },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
    } }] }],
  };
}

const f1 = (x: number): string => (Number.isNaN(x) ? 'n/a' : x.toFixed(1));

/**
 * Runs the scenario for --concurrency 1 and 2 and writes `<out>/xds.{json,md}`.
 * @param bin path of `bin/attache` to run (the bench's snapshot)
 * @returns the note lines for the main report
 */
export async function runXdsBench(bin: string, o: { quick: boolean; out: string; log: (s: string) => void }): Promise<string[]> {
  // Each change takes a cluster still on blue (every 20th): at most CLUSTERS / 20 = 50 per kind.
  const changes = Math.min(o.quick ? 10 : 50, CLUSTERS / 20);
  const runs: XdsRun[] = [];
  for (const [concurrency, cpus] of [[1, '1'], [2, '0,1']] as const) runs.push(await runOne(bin, concurrency, cpus, changes, o.log));
  const res: XdsResult = { clusters: CLUSTERS, endpointsPerCluster: ENDPOINTS, pollers: POLLERS, runs };
  const md = [
    '# xDS propagation',
    '',
    `Control plane: src/xds/xds-server in a worker thread of the bench process (CPU 0), one ADS stream; ${CLUSTERS} EDS clusters × ${ENDPOINTS} endpoints ` +
      `(${CLUSTERS * ENDPOINTS} endpoints, 20 ports of one nginx), one RDS route configuration with ${CLUSTERS} prefix routes, one LDS listener. ` +
      `${changes} changes of each kind per run; ${POLLERS} keep-alive connections poll the changed route as fast as they are answered.`,
    'EDS change: one cluster\'s 10 endpoints moved to upstreams with a different body (the SotW response carries all 1,000 assignments). ' +
      'RDS change: one route switched to another cluster (workers get a whole new snapshot). Time runs from just before the control plane serialises the push.',
    '',
    'Startup: attache prints "serving" only once the initial xDS fetch is done (CDS, LDS, and the EDS of all 1,000 clusters and the RDS they use); ' +
      'then one request per route, sequentially, checks that every cluster answers.',
    '',
    '| attache | spawn → serving ms | → first 200 ms | → sweep of 1,000 routes done ms (200s) | idle RSS MiB | RSS after changes MiB |',
    '|---|---|---|---|---|---|',
    ...runs.map((r) => `| --concurrency ${r.concurrency} (CPUs ${r.cpus}) | ${r.readyMs.toFixed(0)} | ${r.firstOkMs.toFixed(0)} | ${r.allWarmMs.toFixed(0)} (${r.warmOk} OK) | ${(r.idleRssKiB / 1024).toFixed(1)} | ${(r.endRssKiB / 1024).toFixed(1)} |`),
    '',
    '| attache | change | first seen p50 ms | p99 ms | max ms | all connections p50 ms | p99 ms | control plane push p50 ms (included) | stale responses / change | non-200 | timeouts |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...runs.flatMap((r) => (['eds', 'rds'] as const).map((k) => {
      const s = r[k];
      return `| --concurrency ${r.concurrency} | ${k.toUpperCase()} | ${f1(s.firstP50)} | ${f1(s.firstP99)} | ${f1(s.firstMax)} | ${f1(s.allP50)} | ${f1(s.allP99)} | ${f1(s.pushP50)} | ${s.staleResponsesMean.toFixed(1)} | ${s.failedResponses} | ${s.timeouts}/${s.changes} |`;
    })),
    '',
  ].join('\n');
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, 'xds.json'), JSON.stringify(res, null, 1));
  writeFileSync(join(o.out, 'xds.md'), md);
  return runs.map((r) =>
    `xds (1,000 EDS clusters, 10,000 endpoints, ADS) attache --concurrency ${r.concurrency}: push → first request seeing an EDS change p50 ${f1(r.eds.firstP50)} ms / p99 ${f1(r.eds.firstP99)} ms, ` +
      `an RDS change p50 ${f1(r.rds.firstP50)} ms / p99 ${f1(r.rds.firstP99)} ms; all clusters warm after ${r.allWarmMs.toFixed(0)} ms, idle RSS ${(r.idleRssKiB / 1024).toFixed(0)} MiB; see xds.md`);
}
