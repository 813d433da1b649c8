/**
 * Counters a user reads off /stats after a known exchange, against a raw upstream whose bytes are
 * counted: downstream and upstream rx/tx bytes, who closed the connection, connection lengths,
 * routed requests; circuit breakers (max_requests → 503 UO with x-envoy-overloaded,
 * max_connections → upstream_cx_overflow while requests wait); cluster_not_found_response_code.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { httpGet, rawRequest, startProxy, v3Config, writeConfig, type Proxy } from './harness';

let upstream: net.Server;
let upBytesIn = 0;
let upBytesOut = 0;
let proxy: Proxy;
const BODY = 'counted-body';

before(async () => {
  // Answers each request head after `delay` ms (from the path `/slow/<ms>`), counting bytes both ways.
  upstream = net.createServer((sock) => {
    let buf = '';
    sock.on('data', (d: Buffer) => {
      upBytesIn += d.length;
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        const path = buf.slice(0, buf.indexOf('\r\n')).split(' ')[1];
        buf = buf.slice(end + 4);
        const m = /\/slow\/(\d+)/.exec(path);
        const answer = `HTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`;
        setTimeout(() => {
          upBytesOut += answer.length;
          sock.write(answer);
        }, m ? Number(m[1]) : 0);
      }
    });
    sock.on('error', () => {});
  }).listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const port = (upstream.address() as net.AddressInfo).port;
  const routes = `
- match: { prefix: "/one-at-a-time" }
  route: { cluster: cbr }
- match: { prefix: "/one-connection" }
  route: { cluster: cbc }
- match: { prefix: "/by-header" }
  route: { cluster_header: x-cluster, cluster_not_found_response_code: INTERNAL_SERVER_ERROR }
- match: { prefix: "/" }
  route: { cluster: up }`;
  const yaml = v3Config({
    clusters: { up: [port], cbr: [port], cbc: [port] },
    routes,
    clusterExtra: {
      cbr: 'circuit_breakers: { thresholds: [{ max_requests: 1 }] }',
      cbc: 'circuit_breakers: { thresholds: [{ max_connections: 1, max_pending_requests: 10 }] }',
    },
  });
  proxy = await startProxy(['-c', writeConfig(yaml, 'stats-counters.yaml'), '--concurrency', '1']);
});

after(async () => {
  await proxy.stop();
  upstream.close();
});

async function stats(filter: string): Promise<Record<string, number>> {
  const body = (await httpGet(proxy.adminPort, `/stats?filter=${encodeURIComponent(filter)}`)).body;
  const out: Record<string, number> = {};
  for (const m of body.matchAll(/^(\S+): (\d+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

test('bytes both ways, who closed, connection lengths and routed requests are counted exactly', async () => {
  const before = await stats('^(http\\.ingress_http\\.(downstream_cx_(rx|tx)_bytes_total|downstream_cx_destroy_(local|remote)|rq_total)|cluster\\.up\\.upstream_cx_(rx|tx)_bytes_total)$');
  const inBefore = upBytesIn;
  const outBefore = upBytesOut;
  // Client 1: two requests, then it closes (remote close).
  const sent1 = 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n';
  const r1 = await rawRequest(proxy.port, sent1, { count: 2 });
  assert.deepEqual(r1.responses.map((r) => r.body.toString()), [BODY, BODY]);
  // Client 2: asks the proxy to close (local close).
  const sent2 = 'GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const r2 = await rawRequest(proxy.port, sent2);
  assert.equal(r2.closed, true);
  await new Promise((r) => setTimeout(r, 100));
  const after = await stats('^(http\\.ingress_http\\.(downstream_cx_(rx|tx)_bytes_total|downstream_cx_destroy_(local|remote)|rq_total)|cluster\\.up\\.upstream_cx_(rx|tx)_bytes_total)$');
  const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
  assert.equal(d('http.ingress_http.downstream_cx_rx_bytes_total'), sent1.length + sent2.length);
  assert.equal(d('http.ingress_http.downstream_cx_tx_bytes_total'), r1.raw.length + r2.raw.length);
  assert.equal(d('cluster.up.upstream_cx_tx_bytes_total'), upBytesIn - inBefore);
  assert.equal(d('cluster.up.upstream_cx_rx_bytes_total'), upBytesOut - outBefore);
  assert.equal(d('http.ingress_http.downstream_cx_destroy_remote'), 1);
  assert.equal(d('http.ingress_http.downstream_cx_destroy_local'), 1);
  assert.equal(d('http.ingress_http.rq_total'), 3);
  const hist = (await httpGet(proxy.adminPort, '/stats?filter=' + encodeURIComponent('^http\\.ingress_http\\.downstream_cx_length_ms$'))).body;
  assert.doesNotMatch(hist, /No recorded values/);
});

test('circuit breaker max_requests: the request over the limit gets 503 UO with x-envoy-overloaded: true', async () => {
  const [a, b] = await Promise.all([httpGet(proxy.port, '/one-at-a-time/slow/300'), new Promise((r) => setTimeout(r, 50)).then(() => httpGet(proxy.port, '/one-at-a-time/slow/0'))]);
  assert.equal(a.status, 200);
  assert.equal(b.status, 503);
  assert.equal(b.headers['x-envoy-overloaded'], 'true');
  const s = await stats('^cluster\\.cbr\\.upstream_rq_pending_overflow$');
  assert.equal(s['cluster.cbr.upstream_rq_pending_overflow'], 1);
});

test('circuit breaker max_connections: a second request waits for the one connection (upstream_cx_overflow) and succeeds', async () => {
  const rs = await Promise.all([httpGet(proxy.port, '/one-connection/slow/200'), httpGet(proxy.port, '/one-connection/slow/0')]);
  assert.deepEqual(rs.map((r) => r.status), [200, 200]);
  const s = await stats('^cluster\\.cbc\\.upstream_(cx_overflow|cx_total)$');
  assert.equal(s['cluster.cbc.upstream_cx_total'], 1);
  assert.ok(s['cluster.cbc.upstream_cx_overflow'] >= 1);
});

test('a 100 Continue the proxy sends counts in downstream_rq_1xx (Envoy counts the 1xx and the final response)', async () => {
  const before = await stats('^http\\.ingress_http\\.downstream_rq_(1xx|2xx)$');
  const r = await rawRequest(proxy.port, 'POST /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok', { count: 2 });
  assert.deepEqual(r.responses.map((x) => x.status), [100, 200]);
  const after = await stats('^http\\.ingress_http\\.downstream_rq_(1xx|2xx)$');
  assert.equal(after['http.ingress_http.downstream_rq_1xx'] - (before['http.ingress_http.downstream_rq_1xx'] ?? 0), 1);
  assert.equal(after['http.ingress_http.downstream_rq_2xx'] - (before['http.ingress_http.downstream_rq_2xx'] ?? 0), 1);
});

test('cluster_not_found_response_code: INTERNAL_SERVER_ERROR answers 500 for a cluster_header naming no cluster', async () => {
  assert.equal((await httpGet(proxy.port, '/by-header', { 'x-cluster': 'nope' })).status, 500);
  assert.equal((await httpGet(proxy.port, '/by-header', { 'x-cluster': 'up' })).status, 200);
});
