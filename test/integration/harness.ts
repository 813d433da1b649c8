/**
 * Integration test harness: real upstream servers on 127.0.0.1, attache started as a real child
 * process (`bin/attache`), raw-socket clients. No mocks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../..');
export const BIN = path.join(ROOT, 'bin/attache');
export const SEED_DIR = path.join(ROOT, 'test/fixtures/config');

/** A request as an upstream saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

/** A real HTTP upstream that records what it received and answers with its name. */
export interface Upstream {
  name: string;
  port: number;
  server: http.Server;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * Starts an HTTP upstream on 127.0.0.1:0. Default handler: 200 with body `name`, plus the
 * header `x-upstream: name`.
 */
export async function startUpstream(name: string, handler?: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body });
      if (handler) return handler(req, res, body);
      res.setHeader('x-upstream', name);
      res.end(name);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    name,
    port,
    server,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A running attache process. */
export interface Proxy {
  proc: ChildProcess;
  /** Listener ports by listener name. */
  ports: Record<string, number>;
  /** The first listener's port. */
  port: number;
  adminPort: number;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Writes a temp config file and returns its path. */
export function writeConfig(yaml: string, name = 'attache-test.yaml'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-'));
  const p = path.join(dir, name);
  fs.writeFileSync(p, yaml);
  return p;
}

/**
 * Starts `bin/attache` and waits for its "serving" line.
 * @throws if it exits or does not become ready within 20 s.
 */
export async function startProxy(args: string[], env: Record<string, string> = {}): Promise<Proxy> {
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(proc, 'exit');
  const ready = new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`attache not ready in 20s:\n${out}`)), 20_000);
    const check = () => {
      const m = /serving with \d+ worker\(s\): ([^\n]*)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', check);
    proc.stderr!.on('data', check);
    void exited.then(() => {
      clearTimeout(t);
      reject(new Error(`attache exited before ready:\n${out}`));
    });
  });
  const line = await ready;
  const ports: Record<string, number> = {};
  for (const m of line.matchAll(/([\w.-]+):(\d+)/g)) ports[m[1]] = Number(m[2]);
  const adminPort = Number(/admin on port (\d+)/.exec(line)?.[1] ?? 0);
  return {
    proc,
    ports,
    port: Object.values(ports)[0],
    adminPort,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill(signal);
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** Runs `bin/attache` to completion (validate mode, bad configs). */
export async function runAttache(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = await once(proc, 'exit');
  return { code: code as number | null, stdout, stderr };
}

/** A parsed HTTP/1.1 response read from a raw socket. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  raw: Buffer;
}

/**
 * Sends raw bytes on a new connection and reads until the server closes or `count` responses
 * (Content-Length or chunked framed) have been read.
 */
export async function rawRequest(port: number, data: string | Buffer | Array<string | Buffer>, opts: { count?: number; timeoutMs?: number } = {}): Promise<{ responses: RawResponse[]; raw: Buffer; closed: boolean }> {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  const parts = Array.isArray(data) ? data : [data];
  for (const p of parts) {
    sock.write(p);
    if (parts.length > 1) await new Promise((r) => setTimeout(r, 5));
  }
  const want = opts.count ?? 1;
  let buf = Buffer.alloc(0);
  let closed = false;
  const responses: RawResponse[] = [];
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => done(), opts.timeoutMs ?? 5000);
    const done = () => {
      clearTimeout(t);
      resolve();
    };
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const parsed = parseResponses(buf);
      if (parsed.length >= want) {
        responses.splice(0, responses.length, ...parsed);
        if (!opts.count) done();
        else if (parsed.length >= want) done();
      }
    });
    sock.on('close', () => {
      closed = true;
      done();
    });
    sock.on('error', () => {});
  });
  if (responses.length === 0) responses.push(...parseResponses(buf));
  // Give a close a moment to arrive.
  if (!closed) {
    await new Promise((r) => setTimeout(r, 50));
    closed = sock.destroyed || sock.readableEnded;
  }
  sock.destroy();
  return { responses, raw: buf, closed };
}

/** Parses as many complete responses as `buf` holds. */
export function parseResponses(buf: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let off = 0;
  while (off < buf.length) {
    const end = buf.indexOf('\r\n\r\n', off);
    if (end === -1) break;
    const head = buf.subarray(off, end).toString('latin1');
    const [statusLine, ...lines] = head.split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).trim().toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    let p = end + 4;
    let body: Buffer;
    if (status === 100 || status === 101) {
      out.push({ status, headers, body: Buffer.alloc(0), raw: buf.subarray(off, p) });
      off = p;
      if (status === 101) break;
      continue;
    }
    if (headers['transfer-encoding'] === 'chunked') {
      const chunks: Buffer[] = [];
      let complete = false;
      while (true) {
        const le = buf.indexOf('\r\n', p);
        if (le === -1) break;
        const size = parseInt(buf.subarray(p, le).toString('latin1'), 16);
        if (size === 0) {
          const te = buf.indexOf('\r\n\r\n', le);
          if (te === -1) break;
          p = te + 4;
          complete = true;
          break;
        }
        if (le + 2 + size + 2 > buf.length) break;
        chunks.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      if (!complete) break;
      body = Buffer.concat(chunks);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (p + n > buf.length) break;
      body = buf.subarray(p, p + n);
      p += n;
    } else {
      body = buf.subarray(p);
      p = buf.length;
    }
    out.push({ status, headers, body, raw: buf.subarray(off, p) });
    off = p;
  }
  return out;
}

/** GET through a keep-alive agent-less request (node:http), returning status, headers, body. */
export function httpGet(port: number, pathName: string, headers: Record<string, string> = {}, method = 'GET', body?: Buffer | string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathName, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The seed config with its hosts pointed at 127.0.0.1 upstreams and the listener on port 0. */
export function seedStaticFixed(upstreamPorts: number[], opts: { listenerPort?: number; adminPort?: number } = {}): string {
  let y = fs.readFileSync(path.join(SEED_DIR, 'seed-static-fixed.yaml'), 'utf8');
  y = y.replace(/10\.244\.2\.107, port_value: 8080/, `127.0.0.1, port_value: ${upstreamPorts[0]}`);
  y = y.replace(/10\.244\.2\.115, port_value: 8080/, `127.0.0.1, port_value: ${upstreamPorts[1]}`);
  y = y.replace(/port_value: 10000/, `port_value: ${opts.listenerPort ?? 0}`);
  y = y.replace(/address: 0\.0\.0\.0, port_value: 9901/, `address: 127.0.0.1, port_value: ${opts.adminPort ?? 0}`);
  y = y.replace(/access_log_path: \/tmp\/admin_access.log/, 'access_log_path: /dev/null');
  return y;
}

/** Polls `fn` until it returns truthy or `ms` pass. */
export async function waitFor<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Options for {@link v3Config}. */
export interface V3ConfigOptions {
  /** cluster name → upstream ports on 127.0.0.1 (or raw cluster YAML fields via `clusterExtra`). */
  clusters: Record<string, number[]>;
  clusterExtra?: Record<string, string>;
  /** YAML for the `routes:` list of the one virtual host (indented by the caller is not needed). */
  routes?: string;
  /** Extra virtual hosts YAML (list items). */
  extraVirtualHosts?: string;
  /** Extra HCM fields (YAML mapping lines). */
  hcmExtra?: string;
  httpFilters?: string;
  adminPort?: number;
  /** More clusters as raw YAML list items (any type: STRICT_DNS, EDS, ...). */
  rawClusters?: string;
}

/** A v3 bootstrap with one listener on port 0, one HCM, the given routes and STATIC clusters. */
export function v3Config(o: V3ConfigOptions): string {
  const indent = (s: string, n: number) => s.trim().split('\n').map((l) => ' '.repeat(n) + l).join('\n');
  const routes = o.routes ?? `- match: { prefix: "/" }\n  route: { cluster: ${Object.keys(o.clusters)[0]} }`;
  const clusters = Object.entries(o.clusters)
    .map(([name, ports]) => {
      const eps = ports.map((p) => `        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } }`).join('\n');
      return `  - name: ${name}
    connect_timeout: 0.25s
    type: STATIC
    lb_policy: ROUND_ROBIN
${o.clusterExtra?.[name] ? indent(o.clusterExtra[name], 4) + '\n' : ''}    load_assignment:
      cluster_name: ${name}
      endpoints:
${eps ? `      - lb_endpoints:\n${eps}` : '      - lb_endpoints: []'}`;
    })
    .join('\n');
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${o.adminPort ?? 0} } }
static_resources:
  listeners:
  - name: listener_0
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
${o.hcmExtra ? indent(o.hcmExtra, 10) + '\n' : ''}          route_config:
            name: local_route
            virtual_hosts:
            - name: local_service
              domains: ["*"]
              routes:
${indent(routes, 14)}
${o.extraVirtualHosts ? indent(o.extraVirtualHosts, 12) + '\n' : ''}          http_filters:
${indent(o.httpFilters ?? '- name: envoy.filters.http.router\n  typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }', 10)}
  clusters:
${clusters}${o.rawClusters ? `\n${indent(o.rawClusters, 2)}` : ''}
`;
}

/** Starts `n` upstreams named U0..U(n-1); each is registered with `cleanup` to be closed. */
export async function startUpstreams(n: number, cleanup: Array<() => Promise<unknown>>): Promise<Upstream[]> {
  const out: Upstream[] = [];
  for (let i = 0; i < n; i++) {
    const u = await startUpstream(`U${i}`);
    cleanup.push(() => u.close());
    out.push(u);
  }
  return out;
}

/** How many times each value occurs (which upstream answered how often). */
export function countBy(values: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const b of values) c[b] = (c[b] ?? 0) + 1;
  return c;
}
