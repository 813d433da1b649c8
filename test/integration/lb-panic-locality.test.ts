/**
 * Panic threshold and locality weighted load balancing end to end, with real upstreams and
 * static health_status (Envoy docs: arch_overview/upstream/load_balancing/panic_threshold and
 * locality_weight).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { countBy, httpGet, startProxy, startUpstream, startUpstreams, v3Config, writeConfig, type Upstream } from './harness';

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const ups = (n: number): Promise<Upstream[]> => startUpstreams(n, cleanup);
const counts = countBy;

const endpoint = (u: Upstream, health?: string): string =>
  `{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${u.port} } } }${health ? `, health_status: ${health}` : ''} }`;

/** A STATIC cluster `name` over `us` with per-host health and extra cluster YAML. */
function cluster(name: string, us: Upstream[], health: Array<string | undefined>, extra = '', policy = 'ROUND_ROBIN'): string {
  return `- name: ${name}
  connect_timeout: 1s
  type: STATIC
  lb_policy: ${policy}
${extra}  load_assignment:
    cluster_name: ${name}
    endpoints:
    - lb_endpoints: [${us.map((u, i) => endpoint(u, health[i])).join(', ')}]`;
}

async function spread(port: number, path: string, n: number, headers?: (i: number) => Record<string, string>): Promise<Record<string, number>> {
  const bodies: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await httpGet(port, path, headers?.(i));
    assert.equal(r.status, 200, `${path}: ${r.status} ${r.body}`);
    bodies.push(r.body);
  }
  return counts(bodies);
}

test('panic threshold: 1 healthy host of 4 (25% < 50%) → every host gets traffic; threshold 0 → only the healthy one; none healthy → still served', async () => {
  const us = await ups(4);
  const oneUp = ['HEALTHY', 'UNHEALTHY', 'UNHEALTHY', 'UNHEALTHY'];
  const allDown = ['UNHEALTHY', 'UNHEALTHY', 'UNHEALTHY', 'TIMEOUT']; // (DRAINING hosts are excluded altogether: unit test)
  const yaml = v3Config({
    clusters: {},
    routes: [
      '- match: { prefix: "/panic" }\n  route: { cluster: panic }',
      '- match: { prefix: "/nopanic" }\n  route: { cluster: nopanic }',
      '- match: { prefix: "/down" }\n  route: { cluster: down }',
      '- match: { prefix: "/maglev" }\n  route: { cluster: maglev, hash_policy: [{ header: { header_name: x-k } }] }',
    ].join('\n'),
    rawClusters: [
      cluster('panic', us, oneUp),
      cluster('nopanic', us, oneUp, '  common_lb_config: { healthy_panic_threshold: { value: 0 } }\n'),
      cluster('down', us, allDown),
      cluster('maglev', us, oneUp, '', 'MAGLEV'),
    ].join('\n'),
  });
  const p = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1']);
  cleanup.push(() => p.stop());
  assert.deepEqual(await spread(p.port, '/panic', 40), { U0: 10, U1: 10, U2: 10, U3: 10 });
  assert.deepEqual(await spread(p.port, '/nopanic', 10), { U0: 10 });
  assert.deepEqual(await spread(p.port, '/down', 40), { U0: 10, U1: 10, U2: 10, U3: 10 });
  const m = await spread(p.port, '/maglev', 60, (i) => ({ 'x-k': `key-${i}` }));
  assert.deepEqual(Object.keys(m).sort(), ['U0', 'U1', 'U2', 'U3']);
});

test('locality_weighted_lb_config: localities of weight 1 and 3 get 1:3 of the traffic; without it the weights are ignored', async () => {
  const [a, b, c, d] = await ups(4);
  const localities = (name: string, extra: string) => `- name: ${name}
  connect_timeout: 1s
  type: STATIC
  lb_policy: ROUND_ROBIN
${extra}  load_assignment:
    cluster_name: ${name}
    endpoints:
    - locality: { zone: z1 }
      load_balancing_weight: 1
      lb_endpoints: [${endpoint(a)}, ${endpoint(b)}]
    - locality: { zone: z2 }
      load_balancing_weight: 3
      lb_endpoints: [${endpoint(c)}, ${endpoint(d)}]`;
  const yaml = v3Config({
    clusters: {},
    routes: '- match: { prefix: "/lw" }\n  route: { cluster: lw }\n- match: { prefix: "/flat" }\n  route: { cluster: flat }',
    rawClusters: [localities('lw', '  common_lb_config: { locality_weighted_lb_config: {} }\n'), localities('flat', '')].join('\n'),
  });
  const p = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1']);
  cleanup.push(() => p.stop());
  const lw = await spread(p.port, '/lw', 80);
  assert.deepEqual([(lw.U0 ?? 0) + (lw.U1 ?? 0), (lw.U2 ?? 0) + (lw.U3 ?? 0)], [20, 60]);
  assert.deepEqual(Object.keys(lw).sort(), ['U0', 'U1', 'U2', 'U3']);
  assert.deepEqual(await spread(p.port, '/flat', 40), { U0: 10, U1: 10, U2: 10, U3: 10 });
});
