import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/common/errors';
import { Host } from '../../../src/upstream/cluster/host';
import { maglev, MaglevTable } from '../../../src/upstream/lb/maglev';
import { ringHash as ring, Ring } from '../../../src/upstream/lb/ring-hash';
import type { HostPicker, LbFactory } from '../../../src/upstream/lb/types';
import { nHosts, opts } from './helpers';
import { xxhash64 } from '../../../src/native';

const keys = Array.from({ length: 10000 }, (_, i) => xxhash64(`request-${i}`));

function assignments(p: HostPicker): string[] {
  return keys.map((hash) => p.chooseHost({ hash })!.key);
}

for (const [name, factory] of [['ring hash', ring], ['maglev', maglev]] as Array<[string, LbFactory<any>]>) {
  test(`${name}: the same hash always maps to the same host, across rebuilds`, () => {
    const hs = nHosts(5);
    const cfg = factory.parseConfig({ name: 'c' });
    const a = factory.build(hs, cfg, opts());
    const b = factory.build([...hs], cfg, opts({ seed: 99 }));
    assert.deepEqual(assignments(a), assignments(b));
    const h = keys[17];
    assert.equal(a.chooseHost({ hash: h }), a.chooseHost({ hash: h }));
  });

  test(`${name}: hash given as two u32 halves picks like the bigint`, () => {
    const p = factory.build(nHosts(7), factory.parseConfig({ name: 'c' }), opts());
    for (const hash of keys.slice(0, 200)) {
      const hashHi = Number(hash >> 32n);
      const hashLo = Number(hash & 0xffffffffn);
      assert.equal(p.chooseHost({ hashHi, hashLo }), p.chooseHost({ hash }));
    }
  });

  test(`${name}: spreads keys over all hosts`, () => {
    const p = factory.build(nHosts(4), factory.parseConfig({ name: 'c' }), opts());
    const counts = new Map<string, number>();
    for (const k of assignments(p)) counts.set(k, (counts.get(k) ?? 0) + 1);
    assert.equal(counts.size, 4);
    for (const [k, v] of counts) assert.ok(v > 1500 && v < 3500, `${k}: ${v}`);
  });

  test(`${name}: removing one of 10 hosts moves only about 1/10 of the keys`, () => {
    const hs = nHosts(10);
    const cfg = factory.parseConfig({ name: 'c' });
    const before = assignments(factory.build(hs, cfg, opts()));
    const removed = hs[3].key;
    const after = assignments(factory.build(hs.filter((_, i) => i !== 3), cfg, opts()));
    let moved = 0;
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === removed) assert.notEqual(after[i], removed);
      else if (before[i] !== after[i]) moved++;
    }
    const lost = before.filter((k) => k === removed).length;
    // Keys of surviving hosts barely move. Maglev: a few. Ring: each survivor's entry count grows
    // from 103 to 114 (scale = ceil(min_weight * 1024) / min_weight), those new entries take ~9%.
    const bound = name === 'maglev' ? 0.03 : 0.12;
    assert.ok(moved < keys.length * bound, `moved ${moved} keys of surviving hosts`);
    assert.ok(lost > 500 && lost < 1600, `removed host owned ${lost}`);
  });

  test(`${name}: weights shift the share`, () => {
    const hs = [new Host('10.0.0.1', 80, '', 1), new Host('10.0.0.2', 80, '', 3)];
    const p = factory.build(hs, factory.parseConfig({ name: 'c' }), opts());
    const share = assignments(p).filter((k) => k === '10.0.0.2:80').length / keys.length;
    assert.ok(share > 0.68 && share < 0.82, `share ${share}`);
  });
}

test('ring hash: ring size follows minimum_ring_size and host weights', () => {
  const cfg = ring.parseConfig({ name: 'c', ring_hash_lb_config: { minimum_ring_size: 12 } });
  const r = new Ring([new Host('10.0.0.1', 80, '', 1), new Host('10.0.0.2', 80, '', 2)], cfg, opts());
  assert.equal(r.hosts.length, 12);
  assert.equal(r.hosts.filter((h) => h.address === '10.0.0.2').length, 8);
  // Entries are xxHash64("<ip:port>_<i>") sorted ascending.
  const expected = ['10.0.0.1:80_0', '10.0.0.1:80_1', '10.0.0.1:80_2', '10.0.0.1:80_3']
    .map((k) => xxhash64(k));
  const got = [];
  for (let i = 0; i < r.hosts.length; i++) {
    if (r.hosts[i].address === '10.0.0.1') got.push((BigInt(r.hi[i]) << 32n) | BigInt(r.lo[i]));
  }
  assert.deepEqual(got, expected.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  // A hash equal to an entry's maps to that entry's host; one above the largest wraps to entry 0.
  assert.equal(r.chooseHost({ hash: expected[0] })!.address, '10.0.0.1');
  assert.equal(r.chooseHost({ hash: (1n << 64n) - 1n }), r.hosts[0]);
});

test('ring hash / maglev config validation', () => {
  assert.throws(() => ring.parseConfig({ name: 'c', ring_hash_lb_config: { minimum_ring_size: 10, maximum_ring_size: 5 } }), ConfigError);
  assert.throws(() => ring.parseConfig({ name: 'c', ring_hash_lb_config: { hash_function: 'MURMUR_HASH_2' } }), ConfigError);
  assert.throws(() => maglev.parseConfig({ name: 'c', maglev_lb_config: { table_size: 65536 } }), /prime/);
  assert.equal(maglev.parseConfig({ name: 'c' }).tableSize, 65537);
});

test('maglev: table of a small prime is fully filled in proportion to weights', () => {
  const hs = [new Host('10.0.0.1', 80, '', 1), new Host('10.0.0.2', 80, '', 1), new Host('10.0.0.3', 80, '', 2)];
  const t = new MaglevTable(hs, { tableSize: 101, useHostnameForHashing: false }, opts());
  const count = [0, 0, 0];
  for (const i of t.table) count[i]++;
  assert.equal(count[0] + count[1] + count[2], 101);
  assert.ok(Math.abs(count[2] - 50) <= 1 && Math.abs(count[0] - 25) <= 1, String(count));
});

test('use_hostname_for_hashing hashes the hostname instead of ip:port', () => {
  const cfg = { name: 'c', common_lb_config: { consistent_hashing_lb_config: { use_hostname_for_hashing: true } } };
  const a = [new Host('10.0.0.1', 80, 'a.example'), new Host('10.0.0.2', 80, 'b.example')];
  const b = [new Host('10.9.9.1', 80, 'a.example'), new Host('10.9.9.2', 80, 'b.example')];
  for (const f of [ring, maglev] as Array<LbFactory<any>>) {
    const pa = f.build(a, f.parseConfig(cfg), opts());
    const pb = f.build(b, f.parseConfig(cfg), opts());
    for (const hash of keys.slice(0, 300)) assert.equal(pa.chooseHost({ hash })!.hostname, pb.chooseHost({ hash })!.hostname);
  }
});
