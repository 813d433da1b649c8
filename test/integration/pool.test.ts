/**
 * Upstream connection pools against raw TCP upstreams that misbehave on purpose: keep-alive reuse,
 * `Connection: close` honoured, the stale keep-alive race (the upstream closes an idle connection
 * as it is reused) retried once on a fresh connection for idempotent methods, upstream resets mid-response, connect
 * timeout, and a slow upstream never mixing up another client's bytes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { httpGet, rawRequest, startProxy, v3Config, writeConfig, type Proxy } from './harness';
import { freePort } from './xds-helpers';

/** Where the request at the start of `buf` ends, and what of it `onRequest` gets; null: incomplete. */
type RequestReader = (buf: string) => { end: number; req: string } | null;

/** Reads heads only: the request is its head without the blank line. */
const headOnly: RequestReader = (buf) => {
  const end = buf.indexOf('\r\n\r\n');
  return end === -1 ? null : { end: end + 4, req: buf.slice(0, end) };
};

/**
 * Reads whole requests, chunked bodies included (for `transfer-encoding: chunked`, up to the last
 * chunk and trailers): the request is everything received for it.
 */
const withChunkedBody: RequestReader = (buf) => {
  const head = buf.indexOf('\r\n\r\n');
  if (head === -1) return null;
  let end = head + 4;
  if (/\r\ntransfer-encoding: chunked\r\n/i.test(buf.slice(0, head + 2))) {
    const last = /(?:^|\r\n)0\r\n((?:[^\r\n]+\r\n)*)\r\n/.exec(buf.slice(head + 4));
    if (last === null) return null;
    end = head + 4 + last.index + last[0].length;
  }
  return { end, req: buf.slice(0, end) };
};

/** A raw HTTP/1.1 upstream whose per-connection behaviour the test scripts. */
async function rawUpstream(onRequest: (sock: net.Socket, req: string, connIndex: number, reqIndex: number) => void, read: RequestReader = headOnly) {
  let conns = 0;
  const sockets: net.Socket[] = [];
  const server = net.createServer((sock) => {
    const idx = conns++;
    sockets.push(sock);
    let buf = '';
    let n = 0;
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let r: { end: number; req: string } | null;
      while ((r = read(buf)) !== null) {
        buf = buf.slice(r.end);
        onRequest(sock, r.req, idx, n++);
      }
    });
    sock.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => conns,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const procs: Array<{ stop(): Promise<unknown> }> = [];
const ups: Array<{ close(): void }> = [];
after(async () => {
  for (const p of procs) await p.stop();
  for (const u of ups) u.close();
});

async function proxyTo(port: number, extra = ''): Promise<Proxy> {
  const p = await startProxy(['-c', writeConfig(v3Config({ clusters: { up: [port] }, clusterExtra: extra ? { up: extra } : undefined })), '--concurrency', '1']);
  procs.push(p);
  return p;
}

test('keep-alive connections to the upstream are reused', async () => {
  const up = await rawUpstream((sock, req) => {
    const path = req.split(' ')[1];
    sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`);
  });
  ups.push(up);
  const p = await proxyTo(up.port);
  for (let i = 0; i < 5; i++) assert.equal((await httpGet(p.port, `/k${i}`)).body, `/k${i}`);
  assert.equal(up.connections(), 1);
});

test('Connection: close from the upstream is honoured: the next request opens a new connection', async () => {
  const up = await rawUpstream((sock) => {
    sock.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
  });
  ups.push(up);
  const p = await proxyTo(up.port);
  for (let i = 0; i < 3; i++) {
    const r = await httpGet(p.port, '/');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok');
  }
  assert.equal(up.connections(), 3);
});

test('stale keep-alive race: upstream closes the reused connection before answering → retried once, no error', async () => {
  // Each connection answers its first request, then closes without answering the second one,
  // exactly like an upstream whose keep-alive timeout fires as the proxy reuses the connection.
  const up = await rawUpstream((sock, req, _c, n) => {
    if (n === 0) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    else sock.destroy();
  });
  ups.push(up);
  const p = await proxyTo(up.port);
  for (let i = 0; i < 4; i++) {
    const r = await httpGet(p.port, '/');
    assert.equal(r.status, 200, `request ${i}: ${r.body}`);
    assert.equal(r.body, 'ok');
  }
});

test('a request with a body is not replayed: the stale-connection failure surfaces as 503 UC', async () => {
  const up = await rawUpstream((sock, _req, _c, n) => {
    if (n === 0) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    else sock.destroy();
  });
  ups.push(up);
  const p = await proxyTo(up.port);
  assert.equal((await httpGet(p.port, '/')).status, 200);
  const r = await httpGet(p.port, '/', { 'content-type': 'text/plain' }, 'POST', 'payload');
  assert.equal(r.status, 503);
  assert.match(r.body, /upstream connect error or disconnect\/reset before headers/);
});

test('a POST without a body is not replayed either (not idempotent): one copy reaches the upstream, the client gets 503 UC', async () => {
  const posts: string[] = [];
  const up = await rawUpstream((sock, req, _c, n) => {
    if (req.startsWith('POST')) posts.push(req);
    if (n === 0) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    else sock.destroy();
  });
  ups.push(up);
  const p = await proxyTo(up.port);
  assert.equal((await httpGet(p.port, '/')).status, 200);
  const r = await rawRequest(p.port, 'POST /charge HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
  assert.equal(r.responses[0]?.status, 503);
  assert.equal(posts.length, 1);
  // A DELETE (idempotent) in the same situation is retried and succeeds.
  assert.equal((await httpGet(p.port, '/warm')).status, 200);
  const d = await rawRequest(p.port, 'DELETE /item HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(d.responses[0]?.status, 200);
});

test('a connect_timeout longer than Node timers allow (30 days) is not a 1 ms timeout', async () => {
  const up = await rawUpstream((sock) => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  ups.push(up);
  const yaml = v3Config({
    clusters: {},
    routes: '- match: { prefix: "/" }\n  route: { cluster: long }',
    rawClusters: `- name: long
  connect_timeout: 2592000s
  type: STATIC
  load_assignment: { cluster_name: long, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${up.port} } } } }] }] }`,
  });
  const p = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1']);
  procs.push(p);
  for (let i = 0; i < 3; i++) assert.equal((await rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).responses[0]?.status, 200);
  assert.doesNotMatch(p.output(), /TimeoutOverflowWarning/);
});

test('stats of broken upstream exchanges, as Envoy names them: protocol error (local close), remote close mid-response', async () => {
  const up = await rawUpstream((sock, req) => {
    if (req.startsWith('GET /garbage')) sock.write('HTTP/1.1 abc nonsense\r\n\r\n');
    else {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
      setTimeout(() => sock.destroy(), 20);
    }
  });
  ups.push(up);
  const p = await proxyTo(up.port);
  assert.equal((await rawRequest(p.port, 'GET /garbage HTTP/1.1\r\nHost: x\r\n\r\n')).responses[0]?.status, 502);
  await rawRequest(p.port, 'GET /cut HTTP/1.1\r\nHost: x\r\n\r\n');
  const stats = (await httpGet(p.adminPort, '/stats?filter=^cluster\\.up\\.upstream_(cx_protocol_error|cx_destroy_.*with_active_rq|rq_tx_reset|rq_pending_failure_eject)$')).body;
  assert.equal(stats, [
    'cluster.up.upstream_cx_destroy_local_with_active_rq: 1',
    'cluster.up.upstream_cx_destroy_remote_with_active_rq: 1',
    'cluster.up.upstream_cx_destroy_with_active_rq: 2',
    'cluster.up.upstream_cx_protocol_error: 1',
    'cluster.up.upstream_rq_pending_failure_eject: 1',
    // A protocol error is neither a local nor a remote reset in Envoy's pool stats.
    'cluster.up.upstream_rq_tx_reset: 0',
    '',
  ].join('\n'));
  // The downstream side counts each response when its head goes out (Envoy's chargeStats), even
  // when the upstream cuts its body afterwards.
  const ds = (await httpGet(p.adminPort, '/stats?filter=^http\\.ingress_http\\.downstream_rq_(2xx|5xx|completed)$')).body;
  assert.equal(ds, 'http.ingress_http.downstream_rq_2xx: 1\nhttp.ingress_http.downstream_rq_5xx: 1\nhttp.ingress_http.downstream_rq_completed: 2\n');
});

test('upstream reset after the response started: the downstream connection is closed, not answered twice', async () => {
  const up = await rawUpstream((sock) => {
    sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
    setTimeout(() => sock.destroy(), 20);
  });
  ups.push(up);
  const p = await proxyTo(up.port);
  const r = await rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(r.closed, true);
  assert.match(r.raw.toString(), /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal((r.raw.toString().match(/HTTP\/1\.1/g) ?? []).length, 1);
});

test('a slow upstream response never delays or mixes another client\'s bytes', async () => {
  const up = await rawUpstream((sock, req) => {
    const path = req.split(' ')[1];
    const body = `body-of-${path}`;
    const send = () => sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    if (path === '/slow') setTimeout(send, 400);
    else send();
  });
  ups.push(up);
  const p = await proxyTo(up.port);
  const slow = httpGet(p.port, '/slow');
  const fast = await Promise.all([1, 2, 3, 4, 5].map((i) => httpGet(p.port, `/fast${i}`)));
  fast.forEach((r, i) => assert.equal(r.body, `body-of-/fast${i + 1}`));
  assert.equal((await slow).body, 'body-of-/slow');
});

test('connect_timeout: an upstream that never accepts → 503 UF within the timeout', async () => {
  // A listening socket with a full backlog does not complete handshakes; simpler and portable:
  // a blackhole TEST-NET address is not allowed here, so use a server that accepts and then stalls
  // the response past the route timeout instead, and check the UF path on a closed port.
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  s.close();
  const p = await proxyTo(port);
  const r = await httpGet(p.port, '/');
  assert.equal(r.status, 503);
  assert.match(r.body, /reset reason: connection failure/);
});

test('interim 1xx (103 Early Hints, 100 Continue) before the final response: each client gets its own response', async () => {
  const up = await rawUpstream((sock, req) => {
    const path = req.split(' ')[1];
    sock.write('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n');
    setTimeout(() => sock.write(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`), 10);
  });
  ups.push(up);
  const p = await proxyTo(up.port, 'circuit_breakers: { thresholds: [{ max_connections: 1 }] }');
  const rs = await Promise.all(['/client-A', '/client-B', '/client-C'].map((x) => httpGet(p.port, x)));
  assert.deepEqual(rs.map((r) => [r.status, r.body]), [[200, '/client-A'], [200, '/client-B'], [200, '/client-C']]);
});

test('bytes after a complete upstream response never reach another request: the connection is closed', async () => {
  const up = await rawUpstream((sock, req) => {
    const path = req.split(' ')[1];
    sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nSMUGGLED`);
  });
  ups.push(up);
  const p = await proxyTo(up.port, 'circuit_breakers: { thresholds: [{ max_connections: 1 }] }');
  const rs = await Promise.all(['/a', '/b', '/c'].map((x) => httpGet(p.port, x)));
  assert.deepEqual(rs.map((r) => r.body), ['/a', '/b', '/c']);
  assert.equal(up.connections(), 3, 'each tainted connection was closed, not reused');
});

test('a 101 to a request that asked for no upgrade is an upstream protocol error: 502', async () => {
  const up = await rawUpstream((sock) => {
    sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nraw tunnel bytes');
  });
  ups.push(up);
  const p = await proxyTo(up.port);
  const r = await httpGet(p.port, '/');
  assert.equal(r.status, 502);
  assert.match(r.body, /protocol error/);
});

for (const [name, resp] of [
  ['a status line below 100', 'HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok'],
  ['a 204 that claims a body', 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello'],
] as const) {
  test(`${name} is an upstream protocol error: 502`, async () => {
    const up = await rawUpstream((sock) => sock.write(resp));
    ups.push(up);
    const p = await proxyTo(up.port);
    const r = await httpGet(p.port, '/');
    assert.equal(r.status, 502);
  });
}

test('stale keep-alive race with a chunked request without body bytes: the retried copy ends with its last chunk and trailers', async () => {
  const seen: string[] = [];
  const up = await rawUpstream((sock, req, _c, n) => {
    if (n === 0 && req.startsWith('GET /warm')) {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      return;
    }
    if (n > 0) {
      sock.destroy(); // the keep-alive connection closes as attache reuses it
      return;
    }
    seen.push(req);
    sock.write('HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\ndeleted');
  }, withChunkedBody);
  ups.push(up);
  const p = await startProxy(['-c', writeConfig(v3Config({
    clusters: { up: [up.port] },
    hcmExtra: 'http_protocol_options: { enable_trailers: true }',
    clusterExtra: { up: 'http_protocol_options: { enable_trailers: true }' },
  })), '--concurrency', '1']);
  procs.push(p);
  for (const [req, trailer] of [
    ['DELETE /item HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', ''],
    ['PUT /item HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nx-checksum: 42\r\n\r\n', 'x-checksum: 42\r\n'],
  ]) {
    assert.equal((await httpGet(p.port, '/warm')).status, 200);
    // Well under the 15 s route timeout: without the last chunk the upstream never answers.
    const r = await rawRequest(p.port, req, { timeoutMs: 3000 });
    assert.equal(r.responses[0]?.status, 200, `${req.split(' ')[0]}: ${r.raw.toString('latin1')}`);
    assert.equal(r.responses[0]?.body.toString(), 'deleted');
    const got = seen.pop() ?? '';
    assert.ok(got.endsWith(`\r\n\r\n0\r\n${trailer}\r\n`), JSON.stringify(got));
  }
  // Each upstream connection answers only its first request: the DELETE, the second /warm (on the
  // DELETE's connection) and the PUT were each retried once.
  const stats = (await httpGet(p.adminPort, '/stats?filter=^cluster\\.up\\.upstream_rq_retry$')).body;
  assert.equal(stats, 'cluster.up.upstream_rq_retry: 3\n');
});

test('a failed connect fails every request waiting for the pool at once (Envoy purgePendingStreams): 503 UF, not the route timeout', async () => {
  const port = await freePort();
  const p = await startProxy(['-c', writeConfig(v3Config({
    clusters: { up: [port] },
    clusterExtra: { up: 'circuit_breakers: { thresholds: [{ max_connections: 1 }] }' },
  })), '--concurrency', '1']);
  procs.push(p);
  const t0 = Date.now();
  const rs = await Promise.all([0, 1, 2, 3, 4].map((i) => rawRequest(p.port, `GET /r${i} HTTP/1.1\r\nHost: x\r\n\r\n`, { timeoutMs: 5000 })));
  assert.deepEqual(rs.map((r) => r.responses[0]?.status), [503, 503, 503, 503, 503]);
  for (const r of rs) assert.match(r.responses[0]!.body.toString(), /upstream connect error/);
  assert.ok(Date.now() - t0 < 4000, `answered after ${Date.now() - t0} ms`);
  const stats = (await httpGet(p.adminPort, '/stats?filter=^cluster\\.up\\.upstream_(rq_pending_failure_eject|rq_pending_active|cx_connect_fail)$')).body;
  const n = (name: string) => Number(new RegExp(`${name}: (\\d+)`).exec(stats)?.[1]);
  assert.equal(n('upstream_rq_pending_active'), 0);
  // Each connect attempt fails every request waiting at that moment: five in all.
  assert.equal(n('upstream_rq_pending_failure_eject'), 5);
  assert.ok(n('upstream_cx_connect_fail') >= 1 && n('upstream_cx_connect_fail') <= 5, stats);
});

test('a response with a transfer coding other than chunked is an upstream protocol error: 502', async () => {
  const up = await rawUpstream((sock, req) => {
    if (req.startsWith('GET /gzip-chunked')) sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    else sock.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nnot really gzip');
  });
  ups.push(up);
  const p = await proxyTo(up.port);
  for (const path of ['/gzip-chunked', '/gzip']) {
    const r = await rawRequest(p.port, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal(r.responses[0]?.status, 502, `${path}: ${r.raw.toString('latin1')}`);
  }
  assert.equal((await httpGet(p.adminPort, '/stats?filter=^cluster\\.up\\.upstream_cx_protocol_error$')).body, 'cluster.up.upstream_cx_protocol_error: 2\n');
});

test('HTTP/1.0 upstream responses: kept alive with Connection: keep-alive, closed (and counted in upstream_cx_close_notify) without', async () => {
  const up = await rawUpstream((sock, req) => {
    if (req.startsWith('GET /ka')) sock.write('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nka');
    else sock.end('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nno');
  });
  ups.push(up);
  const p = await proxyTo(up.port);
  for (let i = 0; i < 3; i++) assert.equal((await httpGet(p.port, '/ka')).body, 'ka');
  assert.equal(up.connections(), 1);
  // The first /close still goes on the kept-alive connection, which then closes; the second opens one.
  for (let i = 0; i < 2; i++) assert.equal((await httpGet(p.port, '/close')).body, 'no');
  assert.equal(up.connections(), 2);
  assert.equal((await httpGet(p.adminPort, '/stats?filter=^cluster\\.up\\.upstream_cx_close_notify$')).body, 'cluster.up.upstream_cx_close_notify: 2\n');
});

test('the router\'s own replies (here 503 UF) carry the route\'s response_headers_to_add, as Envoy\'s modify_headers_', async () => {
  const port = await freePort();
  const routes = `- match: { prefix: "/dead" }
  route: { cluster: up }
  response_headers_to_add: [{ header: { key: x-route, value: dead } }]`;
  const yaml = v3Config({ clusters: { up: [port] }, routes }).replace('name: local_service', 'name: local_service\n              response_headers_to_add: [{ header: { key: x-vhost, value: v } }]');
  const p = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1']);
  procs.push(p);
  const dead = await rawRequest(p.port, 'GET /dead HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(dead.responses[0]?.status, 503);
  assert.equal(dead.responses[0]?.headers['x-route'], 'dead');
  assert.equal(dead.responses[0]?.headers['x-vhost'], 'v');
});
