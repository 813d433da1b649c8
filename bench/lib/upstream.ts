/**
 * Process helpers shared by the bench (free ports, spawning pinned to CPUs, waiting for a port)
 * and the one shared upstream: a private nginx (its own prefix dir and config, not the system
 * service) on 127.0.0.1 serving
 * - `/`        → `200 "hello world!\n"` (13 bytes),
 * - `/16k`     → a 16 KiB static file,
 * - `/upload`  → reads a request body up to 16 MiB in full, then answers `200 "ok\n"`,
 * with HTTP/1.1 keep-alive and no request limit per connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A started process under test (or the upstream). */
export interface Running {
  /** PID whose tree is measured (the exec'd binary, not a wrapper shell). */
  pid: number;
  /** Port on 127.0.0.1 where it accepts HTTP/1.1. */
  port: number;
  /** Stops the process tree and waits for its exit. */
  stop(): Promise<void>;
  /** Last lines of stderr, for error reports. */
  stderrTail(): string;
  /** stderr lines that look like crashes or errors since start (count, first 50). */
  notable?(): { count: number; lines: string[] };
}

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const made: string[] = [];

/** A fresh temp directory under the OS temp dir (removed by {@link removeTempDirs}). */
export function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `attache-bench-${tag}-`));
  made.push(d);
  return d;
}

/** Removes every directory {@link tempDir} made (call after the processes using them stopped). */
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/**
 * Spawns `cmd args` pinned to `cpus` (taskset list such as "1" or "0,1") with a raised fd limit;
 * `sh -c 'ulimit -n …; exec taskset …'` so that the returned child's pid is the binary itself.
 */
export function spawnPinned(cpus: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const line = `ulimit -n 20000 2>/dev/null; exec taskset -c ${cpus} ${[cmd, ...args].map(q).join(' ')}`;
  return spawn('sh', ['-c', line], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
}

/** Keeps the last `max` characters a stream produced. */
export function tail(stream: NodeJS.ReadableStream | null, max = 4000): () => string {
  let buf = '';
  stream?.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    if (buf.length > max * 2) buf = buf.slice(-max);
  });
  return () => buf.slice(-max);
}

/** Lines matching `re` that a stream produced (at most `max` kept, all counted). */
export function notable(stream: NodeJS.ReadableStream | null, re = /crash|fatal|\]\[error\]|uncaught|abort/i, max = 50): () => { count: number; lines: string[] } {
  const lines: string[] = [];
  let count = 0;
  let partial = '';
  stream?.on('data', (d: Buffer) => {
    const parts = (partial + d.toString('latin1')).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      if (!re.test(l)) continue;
      count++;
      if (lines.length < max) lines.push(l.slice(0, 400));
    }
  });
  return () => ({ count, lines: lines.slice() });
}

/** Waits until a TCP connect to 127.0.0.1:port succeeds. @throws after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`process exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends SIGTERM (SIGKILL after `graceMs`) and resolves on exit. */
export function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Wraps a spawned child that listens on `port` into a {@link Running}. */
export async function runningFrom(child: ChildProcess, port: number, timeoutMs = 10_000): Promise<Running> {
  const errTail = tail(child.stderr);
  child.stdout?.resume();
  try {
    await waitForPort(port, timeoutMs, child);
  } catch (err) {
    await stopChild(child);
    throw new Error(`${(err as Error).message}; stderr: ${errTail()}`);
  }
  return { pid: child.pid!, port, stop: () => stopChild(child), stderrTail: errTail };
}

/** 13-byte body served at `/`. */
export const SMALL_BODY = 'hello world!\n';
/** Size of the body served at `/16k`, bytes. */
export const LARGE_BODY_BYTES = 16 * 1024;

/** Starts the shared upstream nginx (one worker, pinned to `cpus`). */
export async function startUpstream(cpus = '0'): Promise<Running> {
  const dir = tempDir('upstream');
  mkdirSync(join(dir, 'logs'));
  mkdirSync(join(dir, 'html'));
  writeFileSync(join(dir, 'html', '16k.bin'), Buffer.alloc(LARGE_BODY_BYTES, 'a'));
  const port = await freePort();
  const conf = `
worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 16000; multi_accept on; }
http {
  access_log off;
  default_type text/plain;
  sendfile on;
  tcp_nodelay on;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream self { server 127.0.0.1:${port}; keepalive 64; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /16k { default_type application/octet-stream; alias ${dir}/html/16k.bin; }
    # Reads the whole body (buffered in memory) before answering, like an application would:
    # nginx's bare \`return\` answers before the body has arrived.
    location = /upload {
      client_max_body_size 16m;
      client_body_buffer_size 2m;
      proxy_pass http://self/uploaded;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location = /uploaded { return 200 "ok\\n"; }
    location / { return 200 "${SMALL_BODY.replace('\n', '\\n')}"; }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawnPinned(cpus, 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]);
  return runningFrom(child, port);
}
