/**
 * 1 GiB streamed through the proxy in each direction with a slow side, asserting the proxy's RSS
 * stays bounded: bodies are streamed with backpressure (watermarks both ways), never buffered.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { startProxy, startUpstream, v3Config, writeConfig, type Proxy } from './harness';

const GiB = 1024 * 1024 * 1024;
const CHUNK = Buffer.alloc(256 * 1024, 0x61);
/** RSS growth allowed over the idle baseline (bytes). */
const RSS_BUDGET = 160 * 1024 * 1024;

function rssOf(pid: number): number {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(s)![1]) * 1024;
}

function sampler(pid: number): { stop(): number } {
  let peak = rssOf(pid);
  const t = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid));
    } catch {
      /* exited */
    }
  }, 50);
  return {
    stop() {
      clearInterval(t);
      return peak;
    },
  };
}

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup) await c();
});

async function setup(handler: Parameters<typeof startUpstream>[1]): Promise<Proxy> {
  const up = await startUpstream('big', handler);
  cleanup.push(() => up.close());
  const proxy = await startProxy(['-c', writeConfig(v3Config({ clusters: { big: [up.port] }, routes: '- match: { prefix: "/" }\n  route: { cluster: big, timeout: 0s }' })), '--concurrency', '1']);
  cleanup.push(() => proxy.stop());
  return proxy;
}

test('1 GiB upload through a slow upstream: all bytes arrive, RSS stays bounded', async () => {
  let upstreamBytes = 0;
  // A streaming upstream (not the recording default) that reads slowly at first.
  const up = await startUpstream('sink');
  up.server.removeAllListeners('request');
  up.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.pause();
    setTimeout(() => req.resume(), 1000); // slow reader for the first second
    req.on('data', (d: Buffer) => (upstreamBytes += d.length));
    req.on('end', () => res.end(String(upstreamBytes)));
  });
  cleanup.push(() => up.close());
  const proxy2 = await startProxy(['-c', writeConfig(v3Config({ clusters: { sink: [up.port] }, routes: '- match: { prefix: "/" }\n  route: { cluster: sink, timeout: 0s }' })), '--concurrency', '1']);
  cleanup.push(() => proxy2.stop());
  const base = rssOf(proxy2.proc.pid!);
  const s = sampler(proxy2.proc.pid!);
  const body = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxy2.port, method: 'POST', path: '/upload', headers: { 'content-length': String(GiB) } }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < GiB) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  const peak = s.stop();
  assert.equal(body, String(GiB));
  assert.ok(peak - base < RSS_BUDGET, `RSS grew by ${((peak - base) / 1048576).toFixed(0)} MiB`);
});

test('1 GiB download to a slow client: all bytes arrive, RSS stays bounded', async () => {
  const proxy = await setup((_req, res) => {
    res.setHeader('content-length', String(GiB));
    let sent = 0;
    const pump = () => {
      while (sent < GiB) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  const base = rssOf(proxy.proc.pid!);
  const s = sampler(proxy.proc.pid!);
  const got = await new Promise<number>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: proxy.port, path: '/download' }, (res) => {
      let n = 0;
      res.pause();
      setTimeout(() => res.resume(), 1000); // slow reader for the first second
      res.on('data', (d: Buffer) => (n += d.length));
      res.on('end', () => resolve(n));
      res.on('error', reject);
    }).on('error', reject);
  });
  const peak = s.stop();
  assert.equal(got, GiB);
  assert.ok(peak - base < RSS_BUDGET, `RSS grew by ${((peak - base) / 1048576).toFixed(0)} MiB`);
});
