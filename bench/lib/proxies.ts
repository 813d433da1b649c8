/**
 * The proxies under test, each with one worker and a keep-alive pool to the shared upstream,
 * pinned with taskset: no proxy (direct), attache (`--concurrency 1`, `2`, and the 10,000-route
 * and 1,000-cluster configs), nginx, HAProxy, node-http-proxy and @fastify/http-proxy, and the
 * floor of any proxy on Node's `net` sockets (a blind byte forwarder).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { attacheBootstrap, type AttacheConfigOptions } from './attache-config';
import { freePort, notable, runningFrom, spawnPinned, stopChild, tail, tempDir, type Running } from './upstream';

/** Repository root (dist/bench/lib → ../../..). */
export const ROOT = resolve(__dirname, '..', '..', '..');

/** Where attache is run from: ROOT, or the snapshot made by {@link snapshotAttache}. */
let attacheRoot = ROOT;

/**
 * Copies the built attache (dist/src, dist/workers, bin, package.json, the native addon) to a
 * temp dir and runs it from there, so that a rebuild of dist/ during the bench (others compiling
 * while it runs) cannot change the code under test half-way. node_modules is a symlink to the
 * repository's. @returns the snapshot directory.
 */
export function snapshotAttache(): string {
  attacheRoot = copyBuild(ROOT, 'snapshot');
  return attacheRoot;
}

/** Copies a built tree (dist/src, dist/workers, bin, package.json, this repository's addon) to a temp dir. */
function copyBuild(from: string, tag: string): string {
  const snap = tempDir(tag);
  for (const d of ['dist/src', 'dist/workers', 'bin']) cpSync(join(from, d), join(snap, d), { recursive: true });
  cpSync(join(from, 'package.json'), join(snap, 'package.json'));
  const addon = join(ROOT, 'native', 'attache.linux-x64.node');
  if (existsSync(addon)) cpSync(addon, join(snap, 'native', 'attache.linux-x64.node'));
  symlinkSync(join(ROOT, 'node_modules'), join(snap, 'node_modules'), 'dir');
  return snap;
}

/** Where the `--base` build runs from (null: no base). */
let baseRoot: string | null = null;

/**
 * Builds git revision `rev` of this repository for an A/B run (`--base REV`): its files from
 * `git archive`, compiled with this tree's TypeScript, run with this tree's node_modules and
 * native addon. @returns the snapshot directory. @throws when git or tsc fails.
 */
export function buildBase(rev: string): string {
  const src = tempDir('base-src');
  execFileSync('sh', ['-c', `git -C "$1" archive "$2" | tar -x -C "$3"`, 'sh', ROOT, rev, src], { stdio: ['ignore', 'ignore', 'pipe'] });
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'), 'dir');
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(src, 'tsconfig.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
  baseRoot = copyBuild(src, 'base');
  return baseRoot;
}

/** The `--base` build as a proxy: attache-c1's config and pinning, run from {@link buildBase}'s snapshot. */
export function baseProxy(rev: string): ProxyDef {
  const note = `git revision ${rev} (--base), built from git archive and run like attache-c1 (this tree's node_modules and native addon).`;
  return attache('attache-base', 1, '1', {}, undefined, note, () => baseRoot ?? attacheRoot);
}

/** One proxy configuration in the comparison. */
export interface ProxyDef {
  /** Short name used by `--only` and in the tables. */
  name: string;
  /** CPUs given to the proxy (taskset list). */
  cpus: string;
  /** Scenario names this proxy runs (undefined: all the common ones). */
  scenarios?: string[];
  /** A note printed under the table. */
  note?: string;
  /** attache only: the --concurrency it was asked for (checked against the workers it started). */
  workers?: number;
  /** Starts it in front of the upstream; `null` for direct (wrk goes to the upstream). */
  start(upstreamPort: number): Promise<Running | null>;
}

/** Waits for `re` (one capture group: the port) on a child's stream. @throws on exit/timeout. */
function portFrom(child: ChildProcess, stream: 'stdout' | 'stderr', re: RegExp, timeoutMs: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    let buf = '';
    const s = child[stream]!;
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      const m = re.exec(buf);
      if (m) {
        cleanup();
        resolvePort(Number(m[1]));
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`exited (code ${code}) before listening: ${buf.slice(-2000)}`));
    };
    const t = setTimeout(() => {
      cleanup();
      reject(new Error(`no port within ${timeoutMs} ms: ${buf.slice(-2000)}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(t);
      s.off('data', onData);
      child.off('exit', onExit);
    };
    s.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Spawns a process that announces its port on a stream, and waits until the port accepts. */
async function startAnnouncing(cpus: string, cmd: string, args: string[], stream: 'stdout' | 'stderr', re: RegExp, timeoutMs = 30_000): Promise<Running> {
  const child = spawnPinned(cpus, cmd, args);
  const other = stream === 'stdout' ? child.stderr : child.stdout;
  const errTail = tail(child.stderr);
  const events = notable(child.stderr);
  other?.resume();
  let port: number;
  try {
    port = await portFrom(child, stream, re, timeoutMs);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  if (stream === 'stdout') child.stdout?.resume();
  const r = await runningFrom(child, port, timeoutMs);
  return { ...r, stderrTail: errTail, notable: events };
}

/** Regex for attache's startup line: `... serving with N worker(s): listener_0:PORT ...`. */
export const ATTACHE_READY = /serving with \d+ worker\(s\): listener_0:(\d+)/;

/**
 * The number of workers attache says it started (its startup line), or undefined. Without
 * SO_REUSEPORT (no addon on Node 20) attache serves with one worker whatever --concurrency says.
 */
export function workersFrom(stderr: string): number | undefined {
  const m = /serving with (\d+) worker\(s\)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** Writes a bootstrap and returns the spawn arguments for `node bin/attache`. */
export function attacheArgs(cfg: AttacheConfigOptions, concurrency: number, root = attacheRoot): string[] {
  const dir = tempDir('attache');
  const path = join(dir, 'bootstrap.yaml');
  writeFileSync(path, attacheBootstrap(cfg));
  return [join(root, 'bin', 'attache'), '-c', path, '--concurrency', String(concurrency)];
}

/** attache with `concurrency` workers and the given config size, run from `root()` (default: the snapshot). */
export function attache(name: string, concurrency: number, cpus: string, extra: Omit<AttacheConfigOptions, 'upstreamPort'> = {}, scenarios?: string[], note?: string, root = (): string => attacheRoot): ProxyDef {
  return {
    name,
    cpus,
    scenarios,
    note,
    workers: concurrency,
    start: (up) => startAnnouncing(cpus, process.execPath, attacheArgs({ upstreamPort: up, ...extra }, concurrency, root()), 'stderr', ATTACHE_READY, 120_000),
  };
}

function nginxProxy(): ProxyDef {
  return {
    name: 'nginx',
    cpus: '1',
    async start(up) {
      const dir = tempDir('nginx');
      mkdirSync(join(dir, 'logs'));
      const port = await freePort();
      const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 16000; multi_accept on; }
http {
  access_log off;
  tcp_nodelay on;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  client_max_body_size 16m;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream backend {
    server 127.0.0.1:${up};
    keepalive 1024;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
    }
  }
}
`;
      writeFileSync(join(dir, 'nginx.conf'), conf);
      return runningFrom(spawnPinned('1', 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]), port);
    },
  };
}

function haproxy(): ProxyDef {
  return {
    name: 'haproxy',
    cpus: '1',
    async start(up) {
      const dir = tempDir('haproxy');
      const port = await freePort();
      const conf = `global
  nbthread 1
  maxconn 8000
defaults
  mode http
  option http-keep-alive
  timeout connect 1s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
  http-reuse always
frontend fe
  bind 127.0.0.1:${port} backlog 4096
  default_backend be
backend be
  server s1 127.0.0.1:${up} maxconn 8000
`;
      writeFileSync(join(dir, 'haproxy.cfg'), conf);
      return runningFrom(spawnPinned('1', 'haproxy', ['-f', join(dir, 'haproxy.cfg'), '-db']), port);
    },
  };
}

function nodePeer(name: string, script: string): ProxyDef {
  return {
    name,
    cpus: '1',
    start: (up) => startAnnouncing('1', process.execPath, [join(ROOT, 'dist', 'bench', 'peers', script), String(up)], 'stdout', /PORT (\d+)/),
  };
}

/** Scenario names of the attache-only config-size runs. */
export const CONFIG_SCENARIOS = ['small'];

/** Every proxy in run order (the order is rotated per round); `extra` (the --base build) goes last. */
export function allProxies(extra: ProxyDef[] = []): ProxyDef[] {
  return [
    { name: 'direct', cpus: '-', start: async () => null, note: 'no proxy: wrk straight to the upstream nginx (both on CPU 0), what the load generator and upstream do alone.' },
    attache('attache-c1', 1, '1'),
    attache('attache-c2', 2, '0,1', {}, undefined, '--concurrency 2 is pinned to CPUs 0,1, so it shares CPU 0 with wrk and the upstream.'),
    nginxProxy(),
    haproxy(),
    nodePeer('http-proxy', 'http-proxy-server.js'),
    nodePeer('fastify-proxy', 'fastify-proxy-server.js'),
    {
      ...nodePeer('node-net-floor', 'net-floor-server.js'),
      scenarios: ['small'],
      note: 'not a proxy: each connection forwarded byte for byte to its own upstream connection, no HTTP parsing (bench/peers/net-floor-server.ts). Its CPU-µs/req is what Node\'s net sockets cost before any HTTP work; attache minus it is the cost of being an HTTP proxy.',
    },
    attache('attache-10k-routes', 1, '1', { routes: 10_000 }, CONFIG_SCENARIOS, '10,000 prefix routes, the matching one (prefix "/") last.'),
    attache('attache-1k-clusters', 1, '1', { clusters: 1_000 }, CONFIG_SCENARIOS, '1,000 STATIC clusters; the route targets the last.'),
    ...extra,
  ];
}
