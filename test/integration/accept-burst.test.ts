/**
 * A burst of new connections is accepted in one socket event (libuv ≥ 1.45 accepts one per loop
 * iteration; attache drains the accept queue with the addon's accept4, as Envoy). Every
 * connection accepted that way is a full downstream connection: its remote address reaches the
 * header formatter, its request is proxied, keep-alive works.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { acceptFd } from '../../src/native';
import { parseResponses, startProxy, startUpstream, v3Config, writeConfig, type Proxy, type Upstream } from './harness';

let up: Upstream;
let proxy: Proxy;
/** Slow-reading upstream for the upload test: answers with the body's length and sha256. */
let sink: http.Server;
let sinkPort = 0;
const skip = acceptFd === undefined ? 'the native addon is not built (the batch accept needs it)' : false;

before(async () => {
  if (skip) return;
  up = await startUpstream('A', (req, res) => res.end(`from ${String(req.headers['x-client'])}`));
  const routes = `
- match: { prefix: "/" }
  route: { cluster: a }
  request_headers_to_add: [{ header: { key: x-client, value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" } }]`;
  sink = http.createServer((req, res) => {
    const h = createHash('sha256');
    let n = 0;
    req.pause();
    setTimeout(() => req.resume(), 300); // the proxy must hold the client back meanwhile
    req.on('data', (d: Buffer) => {
      n += d.length;
      h.update(d);
    });
    req.on('end', () => res.end(`${n} ${h.digest('hex')}`));
  });
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  sinkPort = (sink.address() as net.AddressInfo).port;
  const routesWithSink = `
- match: { prefix: "/upload" }
  route: { cluster: sink, timeout: 0s }${routes}`;
  proxy = await startProxy(['-c', writeConfig(v3Config({ clusters: { a: [up.port], sink: [sinkPort] }, routes: routesWithSink }), 'burst.yaml'), '--concurrency', '1', '--component-log-level', 'listener:debug']);
});

after(async () => {
  if (skip) return;
  await proxy.stop();
  await up.close();
  sink.closeAllConnections();
  sink.close();
});

/** Collects what arrives on `s` until `count` whole responses are in, then closes it: "status body" each. */
function responsesOn(s: net.Socket, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const rs = parseResponses(buf);
      if (rs.length === count) {
        s.destroy();
        resolve(rs.map((r) => `${r.status} ${r.body.toString()}`));
      }
    });
    s.on('error', reject);
  });
}

/** Opens `n` connections at once, then sends two requests on each (keep-alive). */
async function burst(n: number): Promise<string[]> {
  const socks = Array.from({ length: n }, () => net.connect(proxy.port, '127.0.0.1'));
  await Promise.all(socks.map((s) => once(s, 'connect')));
  return Promise.all(
    socks.map((s) => {
      const answered = responsesOn(s, 2);
      s.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
      return answered.then((rs) => rs.join('|'));
    }),
  );
}

test('a burst of 200 connections: every one served, several accepted in one socket event', { skip }, async () => {
  let batched = false;
  for (let round = 0; round < 5 && !batched; round++) {
    const bodies = await burst(200);
    assert.equal(bodies.length, 200);
    for (const b of bodies) assert.equal(b, '200 from 127.0.0.1|200 from 127.0.0.1');
    batched = /accepted \d+ connections in one socket event/.test(proxy.output());
  }
  assert.ok(batched, `no batch accept seen in 5 bursts:\n${proxy.output().slice(-2000)}`);
});

test('uploads on connections accepted in a burst: flow-controlled, every byte intact', { skip }, async () => {
  // Connections the listener accepts itself read through `onread` into one shared buffer
  // (common/socket-reads.ts): a byte kept without a copy would be overwritten by another
  // connection's read, and a pause that did not stop reading would buffer every body.
  const N = 30;
  const SIZE = 8 * 1024 * 1024;
  const rss = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${proxy.proc.pid}/status`, 'utf8'))![1]) * 1024;
  const before = rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
  const socks = Array.from({ length: N }, () => net.connect(proxy.port, '127.0.0.1'));
  await Promise.all(socks.map((s) => once(s, 'connect')));
  const answers = await Promise.all(
    socks.map(async (s, i) => {
      const body = Buffer.alloc(SIZE, i + 1);
      for (let k = 0; k < SIZE; k += 4096) body.writeUInt32BE(k ^ (i << 24), k); // not uniform
      const want = `200 ${SIZE} ${createHash('sha256').update(body).digest('hex')}`;
      const answered = responsesOn(s, 1);
      s.write(`POST /upload/${i} HTTP/1.1\r\nHost: x\r\nContent-Length: ${SIZE}\r\n\r\n`);
      s.write(body);
      return { got: (await answered)[0], want };
    }),
  );
  clearInterval(sampler);
  for (const a of answers) assert.equal(a.got, a.want);
  // 30 × 8 MiB = 240 MiB would sit in the proxy without flow control.
  assert.ok(peak - before < 100 * 1024 * 1024, `proxy RSS grew by ${((peak - before) / 1048576).toFixed(0)} MiB`);
});
