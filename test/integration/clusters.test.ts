/**
 * Cluster types and load-balancing policies end to end: STRICT_DNS (resolved by the main thread,
 * endpoints pushed to workers), weighted ROUND_ROBIN, LEAST_REQUEST and RANDOM over real upstreams,
 * and Envoy's edge headers with use_remote_address.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { countBy, httpGet, rawRequest, startProxy, startUpstream, startUpstreams, v3Config, writeConfig, type Upstream } from './harness';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const ups = (n: number): Promise<Upstream[]> => startUpstreams(n, cleanup);
const counts = countBy;

test('STRICT_DNS cluster resolving localhost serves traffic', async () => {
  const [u] = await ups(1);
  const yaml = v3Config({
    clusters: {},
    routes: '- match: { prefix: "/" }\n  route: { cluster: dns }',
    rawClusters: `- name: dns
  type: STRICT_DNS
  dns_lookup_family: V4_ONLY
  dns_refresh_rate: 1s
  load_assignment:
    cluster_name: dns
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: localhost, port_value: ${u.port} } } } }] }]`,
  });
  const p = await startProxy(['-c', writeConfig(yaml), '--concurrency', '2']);
  cleanup.push(() => p.stop());
  for (let i = 0; i < 4; i++) assert.equal((await httpGet(p.port, '/')).body, 'U0');
});

test('weighted ROUND_ROBIN follows load_balancing_weight (1:3)', async () => {
  const [a, b] = await ups(2);
  const yaml = v3Config({ clusters: { w: [] } }).replace(
    '      - lb_endpoints: []',
    `      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${a.port} } } }
          load_balancing_weight: 1
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${b.port} } } }
          load_balancing_weight: 3`,
  );
  const p = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1']);
  cleanup.push(() => p.stop());
  const bodies: string[] = [];
  for (let i = 0; i < 40; i++) bodies.push((await httpGet(p.port, '/')).body);
  assert.deepEqual(counts(bodies), { U0: 10, U1: 30 });
});

for (const policy of ['LEAST_REQUEST', 'RANDOM']) {
  test(`${policy} spreads sequential requests over all hosts`, async () => {
    const us = await ups(3);
    const yaml = v3Config({ clusters: { c: us.map((u) => u.port) } }).replace('lb_policy: ROUND_ROBIN', `lb_policy: ${policy}`);
    const p = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1']);
    cleanup.push(() => p.stop());
    const bodies: string[] = [];
    for (let i = 0; i < 60; i++) bodies.push((await httpGet(p.port, '/')).body);
    const c = counts(bodies);
    assert.deepEqual(Object.keys(c).sort(), ['U0', 'U1', 'U2']);
  });
}

test('use_remote_address: x-forwarded-for appended (the host address for a loopback peer), internal only without a prior hop, server_name used', async () => {
  const [u] = await ups(1);
  const yaml = v3Config({ clusters: { c: [u.port] }, hcmExtra: 'use_remote_address: true\nserver_name: attache-edge' });
  const p = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1']);
  cleanup.push(() => p.stop());
  // Envoy appends config.localAddress() for a loopback peer: the first non-loopback IPv4 address.
  const host = Object.values(os.networkInterfaces()).flat().find((a) => a?.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';
  // A prior hop (x-forwarded-for sent): an edge request, not internal; its control headers are dropped.
  const r = await httpGet(p.port, '/', { 'x-forwarded-for': '203.0.113.7', 'x-envoy-retry-on': '5xx', 'x-envoy-decorator-operation': 'op', 'x-envoy-external-address': '6.6.6.6' });
  assert.equal(r.headers.server, 'attache-edge');
  let seen = u.seen[u.seen.length - 1];
  assert.equal(seen.headers['x-forwarded-for'], `203.0.113.7,${host}`);
  assert.equal(seen.headers['x-envoy-internal'], undefined);
  // Envoy sets the address an edge request came from (the client's own value is replaced).
  assert.equal(seen.headers['x-envoy-external-address'], '127.0.0.1');
  assert.equal(seen.headers['x-envoy-retry-on'], undefined);
  assert.equal(seen.headers['x-envoy-decorator-operation'], undefined);
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  // No prior hop and a loopback (internal) peer: internal, control headers kept.
  await httpGet(p.port, '/', { 'x-envoy-retry-on': '5xx', 'x-envoy-internal': 'false' });
  seen = u.seen[u.seen.length - 1];
  assert.equal(seen.headers['x-forwarded-for'], host);
  assert.equal(seen.headers['x-envoy-internal'], 'true');
  assert.equal(seen.headers['x-envoy-retry-on'], '5xx');
});

test('without use_remote_address (a sidecar): the last x-forwarded-for address is the client; internal only if it is the single, internal one', async () => {
  const [u] = await ups(1);
  const routes = '- match: { prefix: "/" }\n  route: { cluster: c }\n  request_headers_to_add: [{ header: { key: x-client, value: "%DOWNSTREAM_REMOTE_ADDRESS%" } }]';
  const yaml = v3Config({ clusters: { c: [u.port] }, routes, hcmExtra: 'via: attache-via' }).replace('name: local_route', 'name: local_route\n            internal_only_headers: [x-secret]');
  const p = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1']);
  cleanup.push(() => p.stop());
  const send = async (hdrs: Record<string, string>) => {
    await httpGet(p.port, '/', hdrs);
    return u.seen[u.seen.length - 1].headers;
  };
  // No x-forwarded-for: external, whatever the peer.
  let h = await send({ 'x-envoy-upstream-rq-timeout-ms': '5', 'x-envoy-internal': 'true', 'x-secret': 's', 'x-envoy-custom': 'kept' });
  assert.equal(h['x-envoy-upstream-rq-timeout-ms'], undefined);
  assert.equal(h['x-envoy-internal'], undefined);
  assert.equal(h['x-secret'], undefined);
  assert.equal(h['x-envoy-custom'], 'kept');
  assert.equal(h['x-forwarded-for'], undefined);
  // Two x-forwarded-for lines are one list (Envoy joins them with ','); its last address is the
  // client; two hops: external.
  await rawRequest(p.port, 'GET / HTTP/1.1\r\nHost: x\r\nx-forwarded-for: 1.1.1.1\r\nx-forwarded-for: 10.0.0.9\r\nx-secret: s\r\n\r\n');
  h = u.seen[u.seen.length - 1].headers;
  assert.equal(h['x-forwarded-for'], '1.1.1.1,10.0.0.9');
  assert.equal(h['x-client'], '10.0.0.9:0');
  assert.equal(h['x-envoy-internal'], undefined);
  assert.equal(h['x-secret'], undefined);
  // One internal address: internal.
  h = await send({ 'x-forwarded-for': '10.0.0.9', 'x-secret': 's' });
  assert.equal(h['x-envoy-internal'], 'true');
  assert.equal(h['x-secret'], 's');
  // `via` is appended to requests and to responses (Envoy's appendVia on both).
  const r = await httpGet(p.port, '/', { via: '1.1 first' });
  assert.equal(u.seen[u.seen.length - 1].headers.via, '1.1 first, attache-via');
  assert.equal(r.headers.via, 'attache-via');
});

for (const policy of ['RING_HASH', 'MAGLEV']) {
  test(`${policy} with a header hash_policy: one user always lands on the same host, users spread`, async () => {
    const us = await ups(3);
    const routes = '- match: { prefix: "/" }\n  route:\n    cluster: c\n    hash_policy: [{ header: { header_name: x-user } }]';
    const yaml = v3Config({ clusters: { c: us.map((u) => u.port) }, routes }).replace('lb_policy: ROUND_ROBIN', `lb_policy: ${policy}`);
    const p = await startProxy(['-c', writeConfig(yaml), '--concurrency', '2']);
    cleanup.push(() => p.stop());
    const hostOf = new Map<string, string>();
    for (let u = 0; u < 12; u++) {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add((await httpGet(p.port, '/', { 'x-user': `user-${u}` })).body);
      assert.equal(seen.size, 1, `user-${u} moved between hosts: ${[...seen]}`);
      hostOf.set(`user-${u}`, [...seen][0]);
    }
    assert.ok(new Set(hostOf.values()).size > 1, 'all users on one host');
  });
}

test('RING_HASH with a cookie hash_policy and a ttl: a client without the cookie gets one (Set-Cookie) and sticks to one host with it', async () => {
  const us = await ups(3);
  const routes = '- match: { prefix: "/" }\n  route:\n    cluster: c\n    hash_policy: [{ cookie: { name: sticky, ttl: 3600s, path: / } }]';
  const yaml = v3Config({ clusters: { c: us.map((u) => u.port) }, routes }).replace('lb_policy: ROUND_ROBIN', 'lb_policy: RING_HASH');
  const p = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1']);
  cleanup.push(() => p.stop());
  const hosts = new Set<string>();
  for (let c = 0; c < 6; c++) {
    // Envoy's generated value: hex xxHash64 of the connection's remote and local `ip:port`.
    const first = await httpGet(p.port, '/');
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    const m = /^sticky="([0-9a-f]{16})"; Max-Age=3600; Path=\/; HttpOnly$/.exec(setCookie);
    assert.ok(m, `Set-Cookie: ${setCookie}`);
    const seen = new Set<string>([first.body]);
    for (let i = 0; i < 4; i++) {
      const r = await httpGet(p.port, '/', { cookie: `sticky=${m[1]}` });
      assert.equal(r.headers['set-cookie'], undefined, 'no new cookie when the client sends one');
      seen.add(r.body);
    }
    assert.equal(seen.size, 1, `client ${c} moved between hosts: ${[...seen]}`);
    hosts.add([...seen][0]);
  }
  assert.ok(hosts.size > 1, 'every generated cookie landed on one host');
});
