import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsStore, StatKind, STATS_PAGE_SLOTS, type StatsLayoutMessage } from '../../../src/stats/store';
import { StatsAggregator } from '../../../src/stats/aggregator';
import { clusterStats, listenerStatName, listenerStats, serverStats, refreshServerStats } from '../../../src/stats/common-stats';
import { extractTags } from '../../../src/stats/tags';
import { computeQuantiles, cumulativeBuckets, emptyMerged, mergeExport } from '../../../src/stats/histogram';

test('counter(name) is idempotent and a name cannot change kind', () => {
  const s = new StatsStore();
  const a = s.counter('cluster.x.upstream_rq_total');
  const b = s.counter('cluster.x.upstream_rq_total');
  assert.equal(a, b);
  a.inc();
  b.inc(4);
  assert.equal(s.value('cluster.x.upstream_rq_total'), 5);
  assert.throws(() => s.gauge('cluster.x.upstream_rq_total'), /another type/);
  assert.equal(s.size, 1);
});

test('layout messages are coalesced per microtask and incremental', async () => {
  const msgs: StatsLayoutMessage[] = [];
  const s = new StatsStore({ postLayout: (m) => msgs.push(m) });
  s.counter('a');
  s.gauge('b');
  s.histogram('c');
  assert.equal(msgs.length, 0);
  await Promise.resolve();
  assert.equal(msgs.length, 1);
  assert.deepEqual(msgs[0].names, ['a', 'b', 'c']);
  assert.deepEqual(msgs[0].kinds, [StatKind.Counter, StatKind.Gauge, StatKind.Histogram]);
  assert.equal(msgs[0].from, 0);
  s.counter('a'); // existing: no message
  s.counter('d');
  await Promise.resolve();
  assert.equal(msgs.length, 2);
  assert.equal(msgs[1].from, 3);
  assert.deepEqual(msgs[1].names, ['d']);
});

test('stores grow past one page and the aggregator reads every page', () => {
  const s = new StatsStore();
  const agg = new StatsAggregator();
  agg.attachLocal(s, 'w');
  const n = STATS_PAGE_SLOTS * 2 + 5;
  for (let i = 0; i < n; i++) s.counter(`c${i}`).inc(i);
  s.flushLayout();
  const { counters } = agg.snapshotCountersAndGauges();
  assert.equal(counters.size, n);
  assert.equal(counters.get(`c${n - 1}`), n - 1);
  assert.equal(counters.get('c1024'), 1024);
});

test('clusterStats: upstream_rq(code) is created lazily and cached; recordResponse counts classes', () => {
  const s = new StatsStore();
  const cs = clusterStats(s, 'svc');
  const before = s.size;
  assert.equal(cs.upstream_rq(503), cs.upstream_rq(503));
  assert.equal(s.size, before + 1);
  cs.recordResponse(503);
  cs.recordResponse(204);
  assert.equal(s.value('cluster.svc.upstream_rq_503'), 1);
  assert.equal(s.value('cluster.svc.upstream_rq_5xx'), 1);
  assert.equal(s.value('cluster.svc.upstream_rq_2xx'), 1);
  assert.equal(s.value('cluster.svc.upstream_rq_completed'), 2);
});

test('listener stat names follow Envoy', () => {
  assert.equal(listenerStatName('0.0.0.0', 10000), '0.0.0.0_10000');
  assert.equal(listenerStatName('::1', 8080), '[__1]_8080');
  const s = new StatsStore();
  listenerStats(s, listenerStatName('0.0.0.0', 10000)).downstream_cx_total.inc();
  assert.equal(s.value('listener.0.0.0.0_10000.downstream_cx_total'), 1);
});

test('server stats', () => {
  const s = new StatsStore();
  const ss = serverStats(s);
  refreshServerStats(ss, { state: 'DRAINING', startTimeMs: Date.now() - 5000, concurrency: 2 });
  assert.equal(s.value('server.state'), 1);
  assert.equal(s.value('server.live'), 0);
  assert.equal(s.value('server.concurrency'), 2);
  assert.ok(s.value('server.uptime')! >= 4);
  assert.ok(s.value('server.memory_allocated')! > 0);
});

test('tag extraction follows Envoy well_known_names', () => {
  assert.deepEqual(extractTags('cluster.foo.upstream_rq_total'), {
    name: 'cluster.upstream_rq_total',
    tags: [{ name: 'envoy.cluster_name', value: 'foo' }],
  });
  assert.deepEqual(extractTags('cluster.foo.upstream_rq_503'), {
    name: 'cluster.upstream_rq',
    tags: [
      { name: 'envoy.response_code', value: '503' },
      { name: 'envoy.cluster_name', value: 'foo' },
    ],
  });
  assert.deepEqual(extractTags('http.ingress_http.downstream_rq_2xx'), {
    name: 'http.downstream_rq_xx',
    tags: [
      { name: 'envoy.response_code_class', value: '2' },
      { name: 'envoy.http_conn_manager_prefix', value: 'ingress_http' },
    ],
  });
  assert.deepEqual(extractTags('listener.0.0.0.0_10000.downstream_cx_total'), {
    name: 'listener.downstream_cx_total',
    tags: [{ name: 'envoy.listener_address', value: '0.0.0.0_10000' }],
  });
  assert.deepEqual(extractTags('listener.[__1]_80.downstream_cx_total').tags, [{ name: 'envoy.listener_address', value: '[__1]_80' }]);
  assert.deepEqual(extractTags('server.live'), { name: 'server.live', tags: [] });
});

test('histogram quantiles and cumulative buckets', () => {
  const s = new StatsStore();
  const h = s.histogram('x.t');
  for (let i = 1; i <= 100; i++) h.record(i);
  h.record(0.7); // truncated to 0, as Envoy records whole ms
  const m = emptyMerged();
  for (const e of s.exportHistograms()) mergeExport(m, e);
  assert.equal(m.count, 101);
  assert.equal(m.sum, 5050);
  const q = computeQuantiles(m);
  assert.equal(q[0], 0);
  assert.equal(q[2], 50);
  assert.equal(q[9], 100);
  const b = cumulativeBuckets(m, [0.5, 1, 5, 10, 100, 1000]);
  assert.deepEqual(b, [1, 2, 6, 11, 101, 101]);
  assert.ok(computeQuantiles(emptyMerged()).every(Number.isNaN));
  s.destroy();
});

test('histogram exports are cumulative across small and large values, export after export', () => {
  const s = new StatsStore();
  const h = s.histogram('x.t');
  for (let i = 1; i <= 500; i++) h.record(i);
  let m = emptyMerged();
  for (const e of s.exportHistograms()) mergeExport(m, e);
  assert.equal(m.count, 500);
  for (let i = 501; i <= 1000; i++) h.record(i);
  h.record(3);
  m = emptyMerged();
  for (const e of s.exportHistograms()) mergeExport(m, e);
  assert.equal(m.count, 1001);
  assert.equal(m.sum, 500500 + 3);
  const q = computeQuantiles(m);
  assert.equal(q[0], 1); // p0
  assert.equal(q[9], 1000); // p100
  assert.deepEqual(cumulativeBuckets(m, [3, 255, 256, 1000]), [4, 256, 257, 1001]);
  s.destroy();
});

test('retire(prefix): a removed cluster\'s stats leave every snapshot once no thread has them; handles kept write nowhere; a revived name starts at zero', async () => {
  const agg = new StatsAggregator();
  const w1 = new StatsStore();
  const w2 = new StatsStore();
  agg.attachLocal(w1, 1);
  agg.attachLocal(w2, 2);
  const old1 = clusterStats(w1, 'gone');
  const old2 = clusterStats(w2, 'gone');
  clusterStats(w1, 'kept').upstream_rq_total.inc(7);
  old1.upstream_rq_total.inc(2);
  old2.upstream_rq_total.inc(3);
  old1.upstream_rq_time.record(5);
  old1.recordResponse(200);
  w1.flushLayout();
  w2.flushLayout();
  assert.equal(agg.snapshotCountersAndGauges().counters.get('cluster.gone.upstream_rq_total'), 5);
  const names = async (): Promise<string[]> => {
    const snap = await agg.snapshot();
    return [...snap.counters.keys(), ...snap.gauges.keys(), ...snap.histograms.keys()].filter((n) => n.startsWith('cluster.gone.'));
  };

  // One worker retires: the other still has the stats, the sum is that worker's.
  assert.ok(w1.retire('cluster.gone.') > 40);
  w1.flushLayout();
  assert.equal(agg.snapshotCountersAndGauges().counters.get('cluster.gone.upstream_rq_total'), 3);
  assert.equal(w1.exportHistograms().some((h) => h.name.startsWith('cluster.gone.')), false);
  // A handle kept from before writes nowhere, and a stat created under the prefix is detached.
  old1.upstream_rq_total.inc(100);
  old1.recordResponse(503);
  w1.flushLayout();
  assert.equal(agg.snapshotCountersAndGauges().counters.get('cluster.gone.upstream_rq_total'), 3);
  assert.equal(agg.snapshotCountersAndGauges().counters.has('cluster.gone.upstream_rq_503'), false);

  // The last one retires: gone from counters, gauges and histograms.
  w2.retire('cluster.gone.');
  w2.flushLayout();
  assert.deepEqual(await names(), []);
  assert.equal(agg.snapshotCountersAndGauges().counters.get('cluster.kept.upstream_rq_total'), 7);

  // Added again: fresh stats from zero.
  const again = clusterStats(w1, 'gone');
  again.upstream_rq_total.inc();
  w1.flushLayout();
  assert.equal(agg.snapshotCountersAndGauges().counters.get('cluster.gone.upstream_rq_total'), 1);
  // A full layout (a restarted view) does not bring retired names back.
  const agg2 = new StatsAggregator();
  agg2.applyLayout(2, w2.fullLayout());
  assert.equal([...agg2.snapshotCountersAndGauges().counters.keys()].some((n) => n.startsWith('cluster.gone.')), false);
});
