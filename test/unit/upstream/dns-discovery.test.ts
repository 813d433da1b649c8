import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import type { Cluster, ClusterLoadAssignment } from '../../../src/config/model';
import { DnsDiscovery, filterFamily } from '../../../src/server/dns-discovery';
import { ClusterManager } from '../../../src/upstream/cluster/cluster-manager';
import { cla, ep } from './helpers';

function dnsCluster(name: string, type: 'STRICT_DNS' | 'LOGICAL_DNS', extra: Partial<Cluster> = {}, ...eps: ReturnType<typeof ep>[]): Cluster {
  return { name, type, load_assignment: cla(name, ...eps), ...extra };
}

test('STRICT_DNS resolves localhost (V4_ONLY) to 127.0.0.1 with the endpoint port', async () => {
  const updates: Array<[string, ClusterLoadAssignment]> = [];
  const d = new DnsDiscovery([dnsCluster('svc', 'STRICT_DNS', { dns_lookup_family: 'V4_ONLY' }, ep('localhost', 8080, { load_balancing_weight: 3 })), { name: 'static' }], {
    onUpdate: (n, c) => updates.push([n, c]),
  });
  await d.start();
  d.stop();
  assert.equal(updates.length, 1);
  const [name, got] = updates[0];
  assert.equal(name, 'svc');
  const lbe = got.endpoints![0].lb_endpoints!;
  assert.ok(lbe.length >= 1);
  assert.ok(lbe.every((e) => e.endpoint.address.socket_address.address.startsWith('127.')));
  assert.equal(lbe[0].endpoint.address.socket_address.port_value, 8080);
  assert.equal(lbe[0].endpoint.hostname, 'localhost');
  assert.equal(lbe[0].load_balancing_weight, 3);
  // The result feeds a worker's cluster manager.
  const cm = new ClusterManager([{ name: 'svc', type: 'STRICT_DNS' }], { svc: got }, { seed: 0 });
  const h = cm.get('svc')!.chooseHost()!;
  assert.equal(h.key, '127.0.0.1:8080');
  assert.equal(h.hostname, 'localhost');
});

function fakeLookup(table: Record<string, LookupAddress[] | Error>) {
  const calls: string[] = [];
  const fn = async (name: string) => {
    calls.push(name);
    const r = table[name];
    if (r instanceof Error) throw r;
    return r ?? [];
  };
  return { fn, calls };
}

const v4 = (address: string): LookupAddress => ({ address, family: 4 });
const v6 = (address: string): LookupAddress => ({ address, family: 6 });

test('STRICT_DNS: every address is a host; LOGICAL_DNS: the first only', async () => {
  const { fn } = fakeLookup({ 'a.test': [v4('10.0.0.2'), v4('10.0.0.1')], 'b.test': [v4('10.0.1.1')] });
  const updates = new Map<string, ClusterLoadAssignment>();
  const d = new DnsDiscovery([
    dnsCluster('strict', 'STRICT_DNS', {}, ep('a.test', 80), ep('b.test', 81)),
    dnsCluster('logical', 'LOGICAL_DNS', {}, ep('a.test', 90)),
  ], { onUpdate: (n, c) => updates.set(n, c), lookup: fn });
  await d.start();
  d.stop();
  const addrs = (c: ClusterLoadAssignment) => c.endpoints!.flatMap((g) => g.lb_endpoints!.map((e) => `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`));
  assert.deepEqual(addrs(updates.get('strict')!), ['10.0.0.1:80', '10.0.0.2:80', '10.0.1.1:81']);
  assert.deepEqual(addrs(updates.get('logical')!), ['10.0.0.2:90']);
});

test('dns_lookup_family filtering', () => {
  const both = [v6('::1'), v4('127.0.0.1'), v6('::2')];
  assert.deepEqual(filterFamily(both, undefined), ['::1', '::2']);
  assert.deepEqual(filterFamily(both, 'AUTO'), ['::1', '::2']);
  assert.deepEqual(filterFamily([v4('127.0.0.1')], 'AUTO'), ['127.0.0.1']);
  assert.deepEqual(filterFamily(both, 'V4_ONLY'), ['127.0.0.1']);
  assert.deepEqual(filterFamily(both, 'V6_ONLY'), ['::1', '::2']);
  assert.deepEqual(filterFamily(both, 'V4_PREFERRED'), ['127.0.0.1']);
  assert.deepEqual(filterFamily([v6('::1')], 'V4_PREFERRED'), ['::1']);
  assert.deepEqual(filterFamily(both, 'ALL'), ['127.0.0.1', '::1', '::2']);
});

test('refresh reports only changes; failures keep the last answer', async () => {
  const answers: Array<LookupAddress[] | Error> = [
    [v4('10.0.0.1'), v4('10.0.0.2')],
    [v4('10.0.0.2'), v4('10.0.0.1')], // same set, rotated: no update
    new Error('ETIMEOUT'), // kept
    [v4('10.0.0.3')], // change
  ];
  let i = 0;
  const errors: string[] = [];
  const updates: string[][] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const d = new DnsDiscovery([dnsCluster('c', 'STRICT_DNS', { dns_refresh_rate: '0.005s' }, ep('x.test', 80))], {
    lookup: async () => {
      const a = answers[Math.min(i++, answers.length - 1)];
      if (i >= answers.length + 2) done();
      if (a instanceof Error) throw a;
      return a;
    },
    onError: (_c, name, err) => errors.push(`${name}: ${err.message}`),
    onUpdate: (_n, c) => updates.push(c.endpoints![0].lb_endpoints!.map((e) => e.endpoint.address.socket_address.address)),
  });
  const keepAlive = setInterval(() => undefined, 1000); // the discovery's timers are unref'd
  await d.start();
  await finished;
  d.stop();
  clearInterval(keepAlive);
  assert.deepEqual(updates, [['10.0.0.1', '10.0.0.2'], ['10.0.0.3']]);
  assert.deepEqual(errors, ['x.test: ETIMEOUT']);
});

test('setClusters starts new DNS clusters and forgets removed ones; stop silences', async () => {
  const { fn, calls } = fakeLookup({ 'a.test': [v4('10.0.0.1')], 'b.test': [v4('10.0.0.9')] });
  const updates: string[] = [];
  const d = new DnsDiscovery([dnsCluster('a', 'STRICT_DNS', {}, ep('a.test', 80))], { lookup: fn, onUpdate: (n) => updates.push(n) });
  await d.start();
  d.setClusters([dnsCluster('b', 'LOGICAL_DNS', {}, ep('b.test', 80))]);
  await new Promise((r) => setImmediate(r));
  d.stop();
  assert.deepEqual(updates, ['a', 'b']);
  assert.deepEqual(calls, ['a.test', 'b.test']);
});
