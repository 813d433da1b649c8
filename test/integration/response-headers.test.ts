/**
 * What the proxy itself puts on every response, and what its HTTP/1 codecs drop by default, as
 * Envoy: a `date` header on every response (local replies too; the upstream's is replaced, Envoy's
 * DateProvider), trailers dropped both ways unless `enable_trailers` is set on the HCM and the
 * cluster (Http1ProtocolOptions.enable_trailers, default false).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { rawRequest, startProxy, v3Config, writeConfig, type Proxy } from './harness';

let upstream: net.Server;
let proxy: Proxy;
/** Request bytes the upstream received, per connection, in order. */
const received: string[] = [];

before(async () => {
  // Answers every request (after its chunked body, if any) with a chunked response carrying a
  // trailer and an old date.
  upstream = net.createServer((sock) => {
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.includes('transfer-encoding: chunked') ? buf.indexOf('\r\n\r\n', buf.indexOf('\r\n0\r\n')) : buf.indexOf('\r\n\r\n');
      if (end === -1 || (buf.includes('transfer-encoding: chunked') && !buf.includes('\r\n0\r\n'))) return;
      received.push(buf);
      buf = '';
      sock.write('HTTP/1.1 200 OK\r\ndate: Mon, 01 Jan 2001 00:00:00 GMT\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-up-trailer: t\r\n\r\n');
    });
    sock.on('error', () => {});
  }).listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const port = (upstream.address() as net.AddressInfo).port;
  const routes = `
- match: { prefix: "/local" }
  direct_response: { status: 200, body: { inline_string: "local" } }
- match: { prefix: "/" }
  route: { cluster: raw }`;
  proxy = await startProxy(['-c', writeConfig(v3Config({ clusters: { raw: [port] }, routes }), 'headers.yaml'), '--concurrency', '1']);
});

after(async () => {
  await proxy.stop();
  upstream.close();
});

/** Asserts an IMF-fixdate within 5 s of now. */
function assertFreshDate(value: string | undefined): void {
  assert.match(value ?? '', /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/);
  assert.ok(Math.abs(Date.parse(value!) - Date.now()) < 5000, `date ${value} is not now`);
}

test('every response carries the proxy\'s date: local replies (direct_response, a 400) and proxied ones (the upstream\'s is replaced)', async () => {
  const local = await rawRequest(proxy.port, 'GET /local HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(local.responses[0].body.toString(), 'local');
  assertFreshDate(local.responses[0].headers.date);
  const proxied = await rawRequest(proxy.port, 'GET /x HTTP/1.1\r\nHost: x\r\n\r\n', { count: 1 });
  assertFreshDate(proxied.responses[0].headers.date);
  const raw = proxied.raw.toString('latin1');
  assert.equal(raw.match(/\r\ndate: /gi)?.length, 1, raw);
  const bad = await rawRequest(proxy.port, 'G@T / HTTP/1.1\r\n\r\n');
  assert.equal(bad.responses[0].status, 400);
  assertFreshDate(bad.responses[0].headers.date);
});

test('trailers are dropped both ways by default (enable_trailers false)', async () => {
  const r = await rawRequest(proxy.port, 'POST /t HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-down-trailer: d\r\n\r\n');
  assert.equal(r.responses[0].status, 200);
  assert.equal(r.responses[0].body.toString(), 'ok');
  assert.match(r.raw.toString('latin1'), /\r\n0\r\n\r\n$/);
  assert.doesNotMatch(r.raw.toString('latin1'), /x-up-trailer/);
  const up = received.at(-1)!;
  assert.match(up, /\r\n3\r\nabc\r\n0\r\n\r\n$/);
  assert.doesNotMatch(up, /x-down-trailer/);
});
