/**
 * Timeouts as Envoy applies them, against real sockets:
 * - stream_idle_timeout covers a request head that never completes (the stream exists from its
 *   first byte): 408 `stream timeout` and close, even when the head trickles in piece by piece;
 * - a request body that stops arriving: 408 and close; a complete request whose response never
 *   comes: 504 and the connection stays usable (Utility::maybeRequestTimeoutCode);
 * - the route `timeout` runs until the response is COMPLETE: a body that stalls after the head is
 *   cut off (reset, `upstream_rq_timeout`);
 * - the route's `idle_timeout` replaces stream_idle_timeout for its requests; a client's
 *   `x-envoy-upstream-rq-timeout-ms` replaces the route timeout;
 * - the HCM's `common_http_protocol_options.idle_timeout` closes connections with no request in
 *   flight (`downstream_cx_idle_timeout`), and not those that keep sending requests.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { httpGet, parseResponses, rawRequest, startProxy, startUpstream, v3Config, writeConfig, type Proxy, type Upstream } from './harness';

let up: Upstream;
let stall: Upstream;
let trickle: net.Server;
let proxy: Proxy;

before(async () => {
  up = await startUpstream('U', (req, res) => res.end(`U ${req.url}`));
  stall = await startUpstream('stall', () => {
    /* never answers */
  });
  // Sends a head and 4 of 10 body bytes, then nothing.
  trickle = net.createServer((sock) => {
    sock.once('data', () => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfour'));
    sock.on('error', () => {});
  });
  trickle.listen(0, '127.0.0.1');
  await once(trickle, 'listening');
  const tricklePort = (trickle.address() as net.AddressInfo).port;
  const routes = `
- match: { prefix: "/trickle" }
  route: { cluster: t, timeout: 0.4s }
- match: { prefix: "/route-idle" }
  route: { cluster: s, timeout: 0s, idle_timeout: 0.3s }
- match: { prefix: "/stall" }
  route: { cluster: s, timeout: 0s }
- match: { prefix: "/" }
  route: { cluster: u }`;
  const yaml = v3Config({
    clusters: { u: [up.port], s: [stall.port], t: [tricklePort] },
    routes,
    hcmExtra: 'stream_idle_timeout: 0.6s\ncommon_http_protocol_options: { idle_timeout: 0.8s }',
  });
  proxy = await startProxy(['-c', writeConfig(yaml, 'attache-timeouts.yaml'), '--concurrency', '1']);
});

after(async () => {
  await proxy.stop();
  await up.close();
  await stall.close();
  trickle.close();
});

/** A counter from admin /stats; a counter not created yet reads 0 unless `mustExist`. */
async function stat(name: string, mustExist = true): Promise<number> {
  const body = (await httpGet(proxy.adminPort, '/stats')).body;
  const m = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(body);
  assert.ok(m || !mustExist, `stat ${name} missing`);
  return m ? Number(m[1]) : 0;
}

/** Opens a connection; collects what the proxy sends and when it closes. */
async function connect(): Promise<{ sock: net.Socket; data: () => Buffer; closedAt: () => number | null }> {
  const sock = net.connect(proxy.port, '127.0.0.1');
  await once(sock, 'connect');
  let buf = Buffer.alloc(0);
  let closedAt: number | null = null;
  sock.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
  sock.on('close', () => (closedAt = Date.now()));
  sock.on('error', () => {});
  return { sock, data: () => buf, closedAt: () => closedAt };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a request head that trickles in (one header line every 150 ms, never finished) gets 408 "stream timeout" and the connection closes', async () => {
  const c = await connect();
  const start = Date.now();
  c.sock.write('GET / HTTP/1.1\r\nHost: x\r\n');
  // Keep sending pieces for 2 s: the idle timer must not restart with each piece.
  for (let i = 0; i < 13 && c.closedAt() === null; i++) {
    await sleep(150);
    if (!c.sock.destroyed) c.sock.write(`x-slow-${i}: y\r\n`);
  }
  await sleep(300);
  const [r] = parseResponses(c.data());
  assert.equal(r?.status, 408);
  assert.equal(r.body.toString(), 'stream timeout');
  assert.notEqual(c.closedAt(), null, 'the proxy closed the connection');
  assert.ok(c.closedAt()! - start < 1500, `closed after ${c.closedAt()! - start} ms (stream_idle_timeout is 0.6 s)`);
  c.sock.destroy();
});

test('a request body that stops arriving gets 408 and close', async () => {
  const r = await rawRequest(proxy.port, 'POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc', { timeoutMs: 3000 });
  assert.equal(r.responses[0]?.status, 408);
  assert.equal(r.closed, true);
});

test('a complete request whose upstream never answers gets 504 "stream timeout"; the connection stays usable', async () => {
  const r = await rawRequest(proxy.port, ['GET /stall HTTP/1.1\r\nHost: x\r\n\r\n'], { timeoutMs: 3000 });
  assert.equal(r.responses[0]?.status, 504);
  assert.equal(r.responses[0].body.toString(), 'stream timeout');
  assert.notEqual(r.responses[0].headers.connection, 'close');
  // Same connection, next request.
  const c = await connect();
  c.sock.write('GET /stall HTTP/1.1\r\nHost: x\r\n\r\n');
  await sleep(1000);
  c.sock.write('GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
  await sleep(300);
  const rs = parseResponses(c.data());
  assert.deepEqual(rs.map((x) => x.status), [504, 200]);
  assert.equal(rs[1].body.toString(), 'U /after');
  c.sock.destroy();
});

test('the route timeout runs until the response is complete: a body that stalls is cut off (reset, upstream_rq_timeout)', async () => {
  const before = await stat('cluster.t.upstream_rq_timeout', false);
  const start = Date.now();
  const r = await rawRequest(proxy.port, 'GET /trickle HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 3000 });
  assert.equal(r.closed, true);
  assert.ok(Date.now() - start < 2000, 'cut off by the 0.4 s route timeout, not by stream_idle_timeout or the test');
  assert.match(r.raw.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nfour$/);
  assert.equal(await stat('cluster.t.upstream_rq_timeout'), before + 1);
});

test('the route idle_timeout replaces stream_idle_timeout for its requests', async () => {
  const start = Date.now();
  const r = await rawRequest(proxy.port, 'GET /route-idle HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 3000 });
  const took = Date.now() - start;
  assert.equal(r.responses[0]?.status, 504);
  assert.ok(took < 550, `answered after ${took} ms: the route's 0.3 s, not the HCM's 0.6 s`);
});

test('HCM idle_timeout closes a connection with no request in flight, and not one that keeps sending requests', async () => {
  const before = await stat('http.ingress_http.downstream_cx_idle_timeout', false);
  const busy = await connect();
  const idle = await connect();
  idle.sock.write('GET /once HTTP/1.1\r\nHost: x\r\n\r\n');
  // The busy connection sends a request every 250 ms for 2 s (its idle periods are all < 0.8 s).
  for (let i = 0; i < 8; i++) {
    busy.sock.write(`GET /b${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await sleep(250);
  }
  assert.equal(parseResponses(idle.data())[0]?.status, 200);
  assert.notEqual(idle.closedAt(), null, 'the idle connection was closed');
  assert.equal(busy.closedAt(), null, 'the busy connection is still open');
  assert.equal(parseResponses(busy.data()).filter((x) => x.status === 200).length, 8);
  assert.equal(await stat('http.ingress_http.downstream_cx_idle_timeout'), before + 1);
  busy.sock.destroy();
});

test("an internal request's x-envoy-upstream-rq-timeout-ms replaces the route timeout and is not forwarded; the upstream is told the timeout in force", async () => {
  // Internal (Envoy): x-forwarded-for holds one internal address. An external request's is dropped.
  const start = Date.now();
  const r = await rawRequest(proxy.port, 'GET /stall/hdr HTTP/1.1\r\nHost: x\r\nx-forwarded-for: 10.0.0.7\r\nx-envoy-upstream-rq-timeout-ms: 200\r\n\r\n', { timeoutMs: 3000 });
  assert.equal(r.responses[0]?.status, 504);
  assert.equal(r.responses[0].body.toString(), 'upstream request timeout');
  assert.ok(Date.now() - start < 550, 'the 200 ms from the header, not stream_idle_timeout (0.6 s)');
  const seen = stall.seen.find((s) => s.url === '/stall/hdr')!;
  assert.equal(seen.headers['x-envoy-upstream-rq-timeout-ms'], undefined);
  assert.equal(seen.headers['x-envoy-expected-rq-timeout-ms'], '200');
  assert.equal(seen.headers['x-envoy-internal'], 'true');
  // No x-forwarded-for: external; the header is removed before the router sees it (stream idle 0.6 s answers).
  const ext = await rawRequest(proxy.port, 'GET /stall/ext HTTP/1.1\r\nHost: x\r\nx-envoy-upstream-rq-timeout-ms: 200\r\n\r\n', { timeoutMs: 3000 });
  assert.equal(ext.responses[0]?.body.toString(), 'stream timeout');
  const seenExt = stall.seen.find((s) => s.url === '/stall/ext')!;
  assert.equal(seenExt.headers['x-envoy-upstream-rq-timeout-ms'], undefined);
  assert.equal(seenExt.headers['x-envoy-internal'], undefined);
});
