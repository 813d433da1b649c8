import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster } from '../../../src/config/model';
import { EdfScheduler } from '../../../src/upstream/lb/edf-scheduler';
import { leastRequest } from '../../../src/upstream/lb/least-request';
import { random } from '../../../src/upstream/lb/random';
import { roundRobin } from '../../../src/upstream/lb/round-robin';
import { lbFactoryFor } from '../../../src/upstream/lb/index';
import { ConfigError } from '../../../src/common/errors';
import { hosts, opts, seededRandom, tally } from './helpers';

const C: Cluster = { name: 'c' };

test('round robin over 2 equal hosts alternates exactly, starting at the seed', () => {
  const hs = hosts(1, 1);
  const p = roundRobin.build(hs, null, opts());
  const seq = Array.from({ length: 6 }, () => p.chooseHost(undefined)!.address);
  assert.deepEqual(seq, ['10.0.0.1', '10.0.0.2', '10.0.0.1', '10.0.0.2', '10.0.0.1', '10.0.0.2']);
  const q = roundRobin.build(hs, null, opts({ seed: 7 }));
  assert.equal(q.chooseHost(undefined)!.address, '10.0.0.2');
});

test('round robin carries its cursor over a rebuild', () => {
  const hs = hosts(1, 1, 1);
  const p = roundRobin.build(hs, null, opts());
  p.chooseHost(undefined);
  const q = roundRobin.build(hs, null, opts({ previous: p }));
  assert.equal(q.chooseHost(undefined)!.address, '10.0.0.2');
});

test('weighted round robin 1:3 gives exactly 250:750 over 1000 picks (EDF)', () => {
  const hs = hosts(1, 3);
  const p = roundRobin.build(hs, null, opts());
  const t = tally(() => p.chooseHost(undefined), 1000);
  assert.equal(t.get('10.0.0.1:80'), 250);
  assert.equal(t.get('10.0.0.2:80'), 750);
});

test('weighted round robin 1:2:3 interleaves deterministically and proportionally', () => {
  const hs = hosts(1, 2, 3);
  const a = roundRobin.build(hs, null, opts({ seed: 5 }));
  const b = roundRobin.build(hs, null, opts({ seed: 5 }));
  const sa = Array.from({ length: 60 }, () => a.chooseHost(undefined)!.key);
  const sb = Array.from({ length: 60 }, () => b.chooseHost(undefined)!.key);
  assert.deepEqual(sa, sb);
  const count = (k: string) => sa.filter((x) => x === k).length;
  assert.deepEqual([count('10.0.0.1:80'), count('10.0.0.2:80'), count('10.0.0.3:80')], [10, 20, 30]);
});

/** Envoy's EdfScheduler as written: add() in order, then pickAndAdd() (reference for the test). */
function referenceEdf(ws: number[]) {
  let now = 0;
  let order = 0;
  const q: Array<{ d: number; o: number; i: number }> = ws.map((w, i) => ({ d: 1 / w, o: order++, i }));
  return () => {
    q.sort((a, b) => a.d - b.d || a.o - b.o);
    const e = q[0];
    now = e.d;
    e.d = now + 1 / ws[e.i];
    e.o = order++;
    return e.i;
  };
}

// Deadlines of different hosts tie exactly at multiples of the weights' LCM; float rounding then
// decides the order (in Envoy too), so compare counts, which may differ by one.
test('EDF createWithPicks(P) continues like P picks from a fresh Envoy scheduler', () => {
  for (const ws of [[5, 7, 11], [13, 4], [100, 1, 17], [1, 3]]) {
    const hs = hosts(...ws);
    for (const picks of [0, 1, 23, 100, 1001, 12345]) {
      const ref = referenceEdf(ws);
      for (let i = 0; i < picks; i++) ref();
      const pre = new EdfScheduler(hs, (h) => h.weight, picks);
      const a = new Array(ws.length).fill(0);
      const b = new Array(ws.length).fill(0);
      for (let i = 0; i < 500; i++) {
        a[ref()]++;
        b[hs.indexOf(pre.pickAndAdd()!)]++;
      }
      for (let i = 0; i < ws.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1, `weights ${ws} picks=${picks}: ${b} vs ${a}`);
    }
  }
  // Before the first tie the sequences are identical.
  const ref = referenceEdf([5, 7, 11]);
  const pre = new EdfScheduler(hosts(5, 7, 11), (h) => h.weight, 0);
  const first = Array.from({ length: 20 }, () => ref());
  const mine = Array.from({ length: 20 }, () => Number(pre.pickAndAdd()!.address.split('.')[3]) - 1);
  assert.deepEqual(mine, first);
});

test('EDF pre-picks keep the proportions: weights 1:3, any seed, 400 picks → 100:300 (±1)', () => {
  for (const seed of [0, 1, 2, 3, 12345, 0xffffffff]) {
    const s = new EdfScheduler(hosts(1, 3), (h) => h.weight, seed);
    const t = tally(() => s.pickAndAdd(), 400);
    assert.ok(Math.abs(t.get('10.0.0.1:80')! - 100) <= 1 && t.get('10.0.0.1:80')! + t.get('10.0.0.2:80')! === 400, `seed ${seed}: ${[...t]}`);
  }
});

test('least request (equal weights) prefers the less loaded of the sampled hosts', () => {
  const hs = hosts(1, 1);
  hs[0].activeRequests = 5;
  const p = leastRequest.build(hs, leastRequest.parseConfig(C), opts());
  // choices: host 0 then host 1 → host 1 (fewer active); host 1 then host 0 → host 1.
  const seq = [0.1, 0.9, 0.9, 0.1];
  let i = 0;
  const r = () => seq[i++];
  assert.equal(p.chooseHost({ random: r })!.address, '10.0.0.2');
  assert.equal(p.chooseHost({ random: r })!.address, '10.0.0.2');
  // both samples on the loaded host: it is picked (power of two choices, as Envoy).
  assert.equal(p.chooseHost({ random: () => 0.1 })!.address, '10.0.0.1');
  // Over many picks the loaded host only wins when sampled twice: ~25%.
  const t = tally(() => p.chooseHost(undefined), 4000);
  const loaded = t.get('10.0.0.1:80') ?? 0;
  assert.ok(loaded > 800 && loaded < 1200, `loaded host got ${loaded}`);
});

test('least request choice_count = hosts count with distinct samples finds the minimum', () => {
  const hs = hosts(1, 1, 1);
  hs[0].activeRequests = 3;
  hs[1].activeRequests = 1;
  hs[2].activeRequests = 2;
  const p = leastRequest.build(hs, leastRequest.parseConfig({ name: 'c', least_request_lb_config: { choice_count: 3 } }), opts());
  const seq = [0.0, 0.4, 0.8];
  let i = 0;
  assert.equal(p.chooseHost({ random: () => seq[i++] })!.address, '10.0.0.2');
});

test('weighted least request divides weight by active requests + 1', () => {
  const hs = hosts(2, 1);
  const p = leastRequest.build(hs, leastRequest.parseConfig(C), opts());
  // Without load: 2:1.
  const t = tally(() => p.chooseHost(undefined), 300);
  assert.equal(t.get('10.0.0.1:80'), 200);
  // Host 1 now has 3 active (effective weight 2/4 = 0.5) vs host 2 at 1: host 2 gets ~2/3.
  hs[0].activeRequests = 3;
  const q = leastRequest.build(hs, leastRequest.parseConfig(C), opts());
  const u = tally(() => q.chooseHost(undefined), 300);
  assert.equal(u.get('10.0.0.2:80'), 200);
});

test('least request config is validated', () => {
  assert.throws(() => leastRequest.parseConfig({ name: 'c', least_request_lb_config: { choice_count: 1 } }), ConfigError);
  assert.deepEqual(leastRequest.parseConfig({ name: 'c', least_request_lb_config: { active_request_bias: { default_value: 0.5 } } }), { choiceCount: 2, activeRequestBias: 0.5 });
});

test('random covers all hosts roughly evenly', () => {
  const hs = hosts(1, 1, 1, 1);
  const p = random.build(hs, null, opts({ random: seededRandom(1) }));
  const t = tally(() => p.chooseHost(undefined), 4000);
  assert.equal(t.size, 4);
  for (const [k, v] of t) assert.ok(v > 850 && v < 1150, `${k}: ${v}`);
});

test('empty host lists pick null', () => {
  for (const f of [roundRobin, random]) assert.equal(f.build([], null, opts()).chooseHost(undefined), null);
  assert.equal(leastRequest.build([], leastRequest.parseConfig(C), opts()).chooseHost(undefined), null);
});

test('unsupported lb_policy is a ConfigError', () => {
  assert.throws(() => lbFactoryFor({ name: 'x', lb_policy: 'CLUSTER_PROVIDED' }), /unsupported lb_policy CLUSTER_PROVIDED/);
  assert.equal(lbFactoryFor({ name: 'x' }).name, 'ROUND_ROBIN');
});
