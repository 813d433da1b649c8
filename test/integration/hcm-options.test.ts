/**
 * HTTP connection manager options and request validation as Envoy: normalize_path and
 * merge_slashes (a deny route cannot be bypassed with dot segments, encodings or double slashes),
 * stream_idle_timeout, transfer codings other than chunked (501), invalid authorities (400), and
 * request targets with fragments or an absolute-form URL without a path.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rawRequest, startProxy, startUpstream, v3Config, writeConfig, type Proxy, type Upstream } from './harness';

let up: Upstream;
let stall: Upstream;
let proxy: Proxy;
before(async () => {
  up = await startUpstream('U', (req, res) => res.end(`U ${req.url}`));
  stall = await startUpstream('stall', () => {
    /* never answers */
  });
  const routes = `
- match: { prefix: "/admin" }
  direct_response: { status: 403, body: { inline_string: "denied" } }
- match: { prefix: "/stall" }
  route: { cluster: s, timeout: 0s }
- match: { prefix: "/rewrite-xfh" }
  route: { cluster: u, host_rewrite_literal: up.example, append_x_forwarded_host: true }
- match: { prefix: "/rewrite" }
  route: { cluster: u, host_rewrite_literal: up.example }
- match: { prefix: "/by-header" }
  route: { cluster: u, host_rewrite_header: x-newhost }
- match: { prefix: "/auto-named" }
  route: { cluster: named, auto_host_rewrite: true }
- match: { prefix: "/auto" }
  route: { cluster: u, auto_host_rewrite: true }
- match: { prefix: "/" }
  route: { cluster: u }`;
  const named = `- name: named
  type: STATIC
  load_assignment: { cluster_name: named, endpoints: [{ lb_endpoints: [{ endpoint: { hostname: svc.named.example, address: { socket_address: { address: 127.0.0.1, port_value: ${up.port} } } } }] }] }`;
  const yaml = v3Config({ clusters: { u: [up.port], s: [stall.port] }, rawClusters: named, routes, hcmExtra: 'normalize_path: true\nmerge_slashes: true\nstream_idle_timeout: 0.5s' });
  proxy = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1']);
});
after(async () => {
  await proxy.stop();
  await up.close();
  await stall.close();
});

for (const p of ['//admin/secret', '/./admin/secret', '/x/../admin/secret', '/%61dmin/secret', '/x/%2e%2e/admin/secret']) {
  test(`normalize_path + merge_slashes: ${p} is routed as /admin/secret (denied)`, async () => {
    const r = await rawRequest(proxy.port, `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal(r.responses[0].status, 403);
    assert.equal(r.responses[0].body.toString(), 'denied');
  });
}

test('the normalised path is what the upstream receives; the query is kept', async () => {
  const r = await rawRequest(proxy.port, 'GET /a//b/./c/../d?x=1 HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(r.responses[0].body.toString(), 'U /a/b/d?x=1');
});

test('dot segments above the root stay at the root, and a backslash is a slash (Envoy PathUtil::canonicalPath)', async () => {
  for (const [sent, seen] of [['/../etc/passwd', '/etc/passwd'], ['/a/b/../../../../c', '/c'], ['/..', '/'], ['/a/..\\c', '/c']]) {
    const r = await rawRequest(proxy.port, `GET ${sent} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal(r.responses[0].status, 200, sent);
    assert.equal(r.responses[0].body.toString(), `U ${seen}`, sent);
  }
  // Routing sees the normalised path too: a backslash cannot reach around a route.
  const r = await rawRequest(proxy.port, 'GET /x/..\\admin/secret HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(r.responses[0].status, 403);
});

test('stream_idle_timeout: an upstream that never answers gets the client a 504 "stream timeout" (the request was complete)', async () => {
  const r = await rawRequest(proxy.port, 'GET /stall HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 4000 });
  assert.equal(r.responses[0]?.status, 504);
  assert.equal(r.responses[0].body.toString(), 'stream timeout');
});

test('host_rewrite_literal sends the new Host; x-forwarded-host only with append_x_forwarded_host', async () => {
  await rawRequest(proxy.port, 'GET /rewrite HTTP/1.1\r\nHost: orig.example\r\n\r\n');
  const plain = up.seen.at(-1)!;
  assert.equal(plain.url, '/rewrite');
  assert.equal(plain.headers.host, 'up.example');
  assert.equal(plain.headers['x-forwarded-host'], undefined);
  await rawRequest(proxy.port, 'GET /rewrite-xfh HTTP/1.1\r\nHost: orig.example\r\n\r\n');
  const xfh = up.seen.at(-1)!;
  assert.equal(xfh.headers.host, 'up.example');
  assert.equal(xfh.headers['x-forwarded-host'], 'orig.example');
});

test('auto_host_rewrite: Host becomes the endpoint hostname; an endpoint without one leaves Host alone (Envoy)', async () => {
  await rawRequest(proxy.port, 'GET /auto-named HTTP/1.1\r\nHost: orig.example\r\n\r\n');
  assert.equal(up.seen.at(-1)!.headers.host, 'svc.named.example');
  await rawRequest(proxy.port, 'GET /auto HTTP/1.1\r\nHost: orig.example\r\n\r\n');
  assert.equal(up.seen.at(-1)!.headers.host, 'orig.example');
});

test('host_rewrite_header: Host from the header; an absent or empty one leaves Host alone (Envoy)', async () => {
  for (const [extra, host] of [['x-newhost: new.example\r\n', 'new.example'], ['x-newhost:\r\n', 'orig.example'], ['', 'orig.example']]) {
    await rawRequest(proxy.port, `GET /by-header HTTP/1.1\r\nHost: orig.example\r\n${extra}\r\n`);
    assert.equal(up.seen.at(-1)!.headers.host, host, JSON.stringify(extra));
  }
});

test('Transfer-Encoding other than chunked → 501', async () => {
  const r = await rawRequest(proxy.port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n');
  assert.equal(r.responses[0].status, 501);
  assert.equal(r.closed, true);
});

for (const host of ['a b', 'u:p@other.example', 'x:99999999999', 'x:70000']) {
  test(`invalid authority "${host}" → 400`, async () => {
    const r = await rawRequest(proxy.port, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    assert.equal(r.responses[0].status, 400);
  });
}

test('a fragment is not forwarded; an absolute-form URL with only a query gets the path "/"', async () => {
  const a = await rawRequest(proxy.port, 'GET /frag#section HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(a.responses[0].body.toString(), 'U /frag');
  const b = await rawRequest(proxy.port, 'GET http://h.example?q=1 HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(b.responses[0].body.toString(), 'U /?q=1');
});

test('CONNECT without a connect_matcher route → 404, never forwarded', async () => {
  const before = up.seen.length;
  const r = await rawRequest(proxy.port, 'CONNECT up.example:443 HTTP/1.1\r\nHost: up.example:443\r\n\r\n');
  assert.equal(r.responses[0].status, 404);
  assert.equal(up.seen.length, before);
});
