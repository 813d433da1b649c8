/**
 * Pipelined requests after a local reply: kept-alive local replies (404, direct_response) let the
 * next request through in order; a connection that is closing (400, 426, Connection: close)
 * parses nothing more, so no pipelined request behind it ever reaches an upstream.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { httpGet, rawRequest, startProxy, startUpstream, v3Config, writeConfig, type Proxy, type Upstream } from './harness';

let up: Upstream;
let proxy: Proxy;
before(async () => {
  up = await startUpstream('U');
  const routes = `
- match: { prefix: "/api" }
  route: { cluster: u }
- match: { prefix: "/direct" }
  direct_response: { status: 200, body: { inline_string: "direct" } }`;
  proxy = await startProxy(['-c', writeConfig(v3Config({ clusters: { u: [up.port] }, routes })), '--concurrency', '1']);
});
after(async () => {
  await proxy.stop();
  await up.close();
});

test('404 (no route) keeps the connection: the pipelined request is served, in order', async () => {
  const before = up.seen.length;
  const r = await rawRequest(proxy.port, 'GET /nomatch HTTP/1.1\r\nHost: x\r\n\r\nGET /api/next HTTP/1.1\r\nHost: x\r\n\r\n', { count: 2 });
  assert.deepEqual(r.responses.map((x) => x.status), [404, 200]);
  assert.equal(r.responses[1].body.toString(), 'U');
  assert.equal(up.seen.length, before + 1);
  assert.equal(r.closed, false);
});

test('direct_response then a pipelined request: both answered on the kept-alive connection', async () => {
  const r = await rawRequest(proxy.port, 'GET /direct HTTP/1.1\r\nHost: x\r\n\r\nGET /direct HTTP/1.1\r\nHost: x\r\n\r\n', { count: 2 });
  assert.deepEqual(r.responses.map((x) => x.body.toString()), ['direct', 'direct']);
});

const closing: Array<[string, string, number]> = [
  ['Connection: close', 'GET /nomatch HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404],
  ['no Host (400)', 'GET /api/x HTTP/1.1\r\n\r\n', 400],
  ['HTTP/1.0 (426)', 'GET /api/x HTTP/1.0\r\nHost: x\r\n\r\n', 426],
  ['two Hosts (400)', 'GET /api/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
];
for (const [name, first, status] of closing) {
  test(`${name}: answered, closed, and the pipelined request never reaches the upstream`, async () => {
    const before = up.seen.length;
    const r = await rawRequest(proxy.port, `${first}POST /api/after HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`, { count: 2, timeoutMs: 1000 });
    assert.equal(r.responses[0].status, status);
    assert.equal(r.responses.length, 1);
    assert.equal(r.closed, true);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(up.seen.length, before, 'nothing forwarded');
  });
}

test('a client that pipelines and never reads: dispatching stops at the write buffer, memory stays bounded', async () => {
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${proxy.proc.pid}/status`, 'utf8'))![1]) * 1024;
  const base = rss();
  const before = up.seen.length;
  const sock = net.connect(proxy.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.pause(); // never read
  const req = 'GET /api/x HTTP/1.1\r\nHost: x\r\n\r\n';
  for (let i = 0; i < 20; i++) sock.write(req.repeat(1000));
  await new Promise((r) => setTimeout(r, 1500));
  const forwarded = up.seen.length - before;
  sock.destroy();
  assert.ok(forwarded < 20000, `all ${forwarded} pipelined requests were dispatched to a client that reads nothing`);
  assert.ok(rss() - base < 64 * 1024 * 1024, 'RSS grew by more than 64 MiB');
});

test('a client that pipelines requests answered locally and never reads: attache stops reading, then answers every one', async () => {
  const sock = net.connect(proxy.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.pause(); // reads nothing until the end
  const one = 'GET /direct HTTP/1.1\r\nHost: x\r\n\r\n';
  const block = Buffer.from(one.repeat(1000));
  const limit = 16 * 1024 * 1024;
  let sent = 0;
  let stalled = false;
  while (sent < limit) {
    sent += block.length;
    if (!sock.write(block)) {
      // attache stopped reading if no drain comes for half a second
      stalled = await new Promise<boolean>((res) => {
        const t = setTimeout(() => res(true), 500);
        sock.once('drain', () => {
          clearTimeout(t);
          res(false);
        });
      });
      if (stalled) break;
    }
  }
  assert.ok(stalled, `attache kept reading ${sent} bytes of requests whose answers the client never read`);
  const requests = sent / one.length;
  const expected = Buffer.byteLength('HTTP/1.1 200 OK\r\n') * requests;
  let statusLines = 0;
  let carry = '';
  const done = new Promise<void>((res, rej) => {
    sock.on('data', (d: Buffer) => {
      const text = carry + d.toString('latin1');
      const parts = text.split('HTTP/1.1 200 OK\r\n');
      statusLines += parts.length - 1;
      carry = parts[parts.length - 1].slice(-20);
      if (statusLines >= requests) res();
    });
    sock.on('error', rej);
    setTimeout(() => rej(new Error(`${statusLines} of ${requests} answers after 20 s`)), 20_000);
  });
  sock.resume();
  await done;
  sock.destroy();
  assert.equal(statusLines, requests, `${expected} bytes of status lines expected`);
});

test('a client that closes with a request in flight and another queued is noticed: nothing stays open', async () => {
  const stall = await startUpstream('stall', () => {
    /* never answers */
  });
  const p = await startProxy(['-c', writeConfig(v3Config({ clusters: { s: [stall.port] }, routes: '- match: { prefix: "/" }\n  route: { cluster: s, timeout: 0s }' })), '--concurrency', '1']);
  try {
    for (let i = 0; i < 5; i++) {
      const sock = net.connect(p.port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      sock.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => setTimeout(r, 50));
      sock.write('GET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => setTimeout(r, 50));
      sock.end();
    }
    const gauge = async (name: string) => {
      const s = await httpGet(p.adminPort, `/stats?filter=^${name.replace(/\./g, '\\.')}$`);
      return Number(/: (\d+)/.exec(s.body)?.[1]);
    };
    let cx = -1;
    for (let i = 0; i < 40 && cx !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      cx = await gauge('http.ingress_http.downstream_cx_active');
    }
    assert.equal(cx, 0, 'downstream connections left open');
    assert.equal(await gauge('http.ingress_http.downstream_rq_active'), 0);
    assert.equal(await gauge('cluster.s.upstream_cx_active'), 0);
  } finally {
    await p.stop();
    await stall.close();
  }
});
