/**
 * Cluster types and load-balancing policies end to end: STRICT_DNS (resolved by the main thread,
 * endpoints pushed to workers), weighted ROUND_ROBIN, LEAST_REQUEST and RANDOM over real upstreams,
 * and Envoy's edge headers with use_remote_address.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { httpGet, startProxy, startUpstream, v3Config, writeConfig, type Upstream } from './harness';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function ups(n: number): Promise<Upstream[]> {
  const out: Upstream[] = [];
  for (let i = 0; i < n; i++) {
    const u = await startUpstream(`U${i}`);
    cleanup.push(() => u.close());
    out.push(u);
  }
  return out;
}

function counts(bodies: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const b of bodies) c[b] = (c[b] ?? 0) + 1;
  return c;
}

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

test('use_remote_address: x-forwarded-for appended, x-envoy-internal set, server_name used', async () => {
  const [u] = await ups(1);
  const yaml = v3Config({ clusters: { c: [u.port] }, hcmExtra: 'use_remote_address: true\nserver_name: attache-edge' });
  const p = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1']);
  cleanup.push(() => p.stop());
  const r = await httpGet(p.port, '/', { 'x-forwarded-for': '203.0.113.7' });
  assert.equal(r.headers.server, 'attache-edge');
  const seen = u.seen[u.seen.length - 1];
  assert.equal(seen.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
  assert.equal(seen.headers['x-envoy-internal'], 'true');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
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
