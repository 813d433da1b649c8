import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { startAdminServer } from '../../../src/admin/server';
import type { AdminContext } from '../../../src/admin/context';
import { StatsStore } from '../../../src/stats/store';
import { StatsAggregator } from '../../../src/stats/aggregator';
import { httpConnManagerStats } from '../../../src/stats/common-stats';

function context(calls: string[], reopenErrors: string[] = []): AdminContext {
  const store = new StatsStore();
  const agg = new StatsAggregator();
  agg.attachLocal(store, 'w0');
  const hs = httpConnManagerStats(store, 'ingress_http');
  for (const v of [0.2, 3, 3, 7, 40, 2000]) hs.downstream_rq_time.record(v);
  return {
    stats: () => agg.snapshot(),
    clusters: () => [],
    listeners: () => [],
    configDump: () => [],
    serverInfo: () => ({ version: 'x', state: 'LIVE', startTimeMs: Date.now(), commandLineOptions: {} }),
    logLevels: () => ({ level: 'info', components: {} }),
    setLogLevel: () => {},
    quit: () => {},
    drainListeners: () => {},
    healthcheckFail: () => calls.push('fail'),
    healthcheckOk: () => calls.push('ok'),
    resetCounters: () => {},
    reopenLogs: async () => {
      calls.push('reopen');
      return reopenErrors;
    },
  };
}

function req(target: { port?: number; socketPath?: string }, p: string, opts: { method?: string; accept?: string } = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', ...target, path: p, method: opts.method ?? 'GET', headers: opts.accept ? { accept: opts.accept } : {}, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    r.on('error', reject);
    r.end();
  });
}

test('GET / is the live dashboard for browsers and the text help for curl', async () => {
  const admin = await startAdminServer(context([]), { address: '127.0.0.1', port: 0 });
  try {
    const browser = await req({ port: admin.port }, '/', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    assert.equal(browser.status, 200);
    assert.match(browser.type, /^text\/html/);
    assert.match(browser.body, /<title>attache admin<\/title>/);
    assert.match(browser.body, /fetch\('\/stats\?format=json'/);
    assert.match(browser.body, /setInterval\(tick, 1000\)/);
    const curl = await req({ port: admin.port }, '/', { accept: '*/*' });
    assert.match(curl.type, /^text\/plain/);
    assert.match(curl.body, /^admin commands are:\n/);
    assert.match(curl.body, /  \/reopen_logs: reopen access logs\n/);
    const help = await req({ port: admin.port }, '/help', { accept: 'text/html' });
    assert.match(help.type, /^text\/plain/);
  } finally {
    await admin.close();
  }
});

test('POST /reopen_logs calls the context (405 on GET, 500 with the failures)', async () => {
  const calls: string[] = [];
  const admin = await startAdminServer(context(calls), { address: '127.0.0.1', port: 0 });
  const failing = await startAdminServer(context(calls, ['worker_0: cannot reopen /x: EACCES']), { address: '127.0.0.1', port: 0 });
  try {
    assert.equal((await req({ port: admin.port }, '/reopen_logs')).status, 405);
    assert.deepEqual(calls, []);
    const r = await req({ port: admin.port }, '/reopen_logs', { method: 'POST' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'OK\n');
    const f = await req({ port: failing.port }, '/reopen_logs', { method: 'POST' });
    assert.equal(f.status, 500);
    assert.equal(f.body, 'worker_0: cannot reopen /x: EACCES\n');
    assert.deepEqual(calls, ['reopen', 'reopen']);
  } finally {
    await admin.close();
    await failing.close();
  }
});

test('/stats?format=json&histogram_buckets=cumulative|disjoint gives bucket counts', async () => {
  const admin = await startAdminServer(context([]), { address: '127.0.0.1', port: 0 });
  try {
    const j = JSON.parse((await req({ port: admin.port }, '/stats?format=json&filter=downstream_rq_time&histogram_buckets=cumulative')).body);
    const h = j.stats.at(-1).histograms;
    assert.equal(h.length, 1);
    assert.equal(h[0].name, 'http.ingress_http.downstream_rq_time');
    const byBound = new Map(h[0].buckets.map((b: { upper_bound: number; cumulative: number }) => [b.upper_bound, b.cumulative]));
    assert.equal(byBound.get(0.5), 1);
    assert.equal(byBound.get(5), 3);
    assert.equal(byBound.get(10), 4);
    assert.equal(byBound.get(50), 5);
    assert.equal(byBound.get(2500), 6);
    const d = JSON.parse((await req({ port: admin.port }, '/stats?format=json&filter=downstream_rq_time&histogram_buckets=disjoint')).body);
    const disjoint = d.stats.at(-1).histograms[0].buckets.map((b: { cumulative: number }) => b.cumulative);
    assert.equal(disjoint.reduce((a: number, b: number) => a + b, 0), 6);
  } finally {
    await admin.close();
  }
});

test('admin on a Unix socket path (admin.address.pipe), stale socket replaced, removed on close', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-pipe-'));
  const sock = path.join(dir, 'admin.sock');
  const calls: string[] = [];
  const first = await startAdminServer(context(calls), { path: sock });
  assert.equal((await req({ socketPath: sock }, '/healthcheck/fail', { method: 'POST' })).status, 200);
  await first.close();
  // A socket file left behind by a crashed process must not block the next start.
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.ok(fs.statSync(sock).isSocket());
  const admin = await startAdminServer(context(calls), { path: sock, mode: 0o600 });
  try {
    assert.equal(fs.statSync(sock).mode & 0o777, 0o600);
    const r = await req({ socketPath: sock }, '/ready');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'LIVE\n');
    assert.deepEqual(calls, ['fail']);
  } finally {
    await admin.close();
  }
  assert.equal(fs.existsSync(sock), false);
  fs.writeFileSync(sock, 'not a socket');
  await assert.rejects(startAdminServer(context(calls), { path: sock }), /exists and is not a socket/);
  fs.rmSync(dir, { recursive: true });
});
