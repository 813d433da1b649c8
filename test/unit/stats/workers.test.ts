// Stats exactness across real worker_threads. This file is also the worker's entry point: when
// loaded in a worker it serves stats instead of registering tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { StatsStore } from '../../../src/stats/store';
import { clusterStats, httpConnManagerStats } from '../../../src/stats/common-stats';
import { connectWorkerStats, createHistogramRequester, type StatsPort } from '../../../src/stats/messages';
import { StatsAggregator, type WorkerId } from '../../../src/stats/aggregator';

if (!isMainThread && workerData?.statsTestWorker) {
  const port = parentPort!;
  const store = new StatsStore();
  connectWorkerStats(store, port);
  const cs = clusterStats(store, 'backend');
  const hs = httpConnManagerStats(store, 'ingress_http');
  port.on('message', (m: { type: string; n?: number; seq?: number }) => {
    if (m.type !== 'run') return;
    const n = m.n!;
    for (let i = 0; i < n; i++) {
      cs.upstream_rq_total.inc();
      hs.downstream_rq_total.inc();
      cs.recordResponse(i % 10 === 0 ? 503 : 200);
      cs.upstream_rq_time.record(i % 100);
    }
    cs.upstream_cx_active.inc(3);
    cs.upstream_cx_active.dec();
    // Layout changes (upstream_rq_503 is dynamic) must reach main before 'done'.
    store.flushLayout();
    port.postMessage({ type: 'done', seq: m.seq });
  });
} else if (isMainThread) {
  runTests();
}

function runTests(): void {

  interface Harness {
    agg: StatsAggregator;
    workers: Map<WorkerId, Worker>;
    spawn(id: WorkerId): Promise<Worker>;
    run(id: WorkerId, n: number): Promise<void>;
    stop(): Promise<void>;
  }

  function harness(): Harness {
    const workers = new Map<WorkerId, Worker>();
    const waiting = new Map<number, () => void>();
    let seq = 0;
    // eslint-disable-next-line prefer-const
    let agg: StatsAggregator;
    const req = createHistogramRequester(
      () => [...workers].map(([id, w]) => [id, w as unknown as StatsPort] as [WorkerId, StatsPort]),
      (id, msg) => agg.applyLayout(id, msg),
    );
    agg = new StatsAggregator({ requestHistograms: req.requestHistograms });
    return {
      agg,
      workers,
      async spawn(id) {
        const w = new Worker(__filename, { workerData: { statsTestWorker: true } });
        w.on('message', (m: { type: string; seq?: number }) => {
          if (req.onWorkerMessage(id, m)) return;
          if (m.type === 'done') waiting.get(m.seq!)?.();
        });
        workers.set(id, w);
        await new Promise<void>((resolve, reject) => {
          w.once('online', () => resolve());
          w.once('error', reject);
        });
        return w;
      },
      run(id, n) {
        const s = ++seq;
        return new Promise<void>((resolve) => {
          waiting.set(s, resolve);
          workers.get(id)!.postMessage({ type: 'run', n, seq: s });
        });
      },
      async stop() {
        for (const w of workers.values()) await w.terminate();
        workers.clear();
      },
    };
  }

  test('two workers: aggregate counters are the exact sum, gauges summed, histograms merged', async () => {
    const h = harness();
    try {
      await h.spawn(0);
      await h.spawn(1);
      await Promise.all([h.run(0, 10_000), h.run(1, 7_000)]);
      await h.run(0, 1); // a second batch on worker 0
      const snap = await h.agg.snapshot();
      assert.equal(snap.counters.get('cluster.backend.upstream_rq_total'), 17_001);
      assert.equal(snap.counters.get('http.ingress_http.downstream_rq_total'), 17_001);
      // i % 10 === 0 → 503: worker0 1000 + 1 (i=0 of the second batch), worker1 700
      assert.equal(snap.counters.get('cluster.backend.upstream_rq_503'), 1_701);
      assert.equal(snap.counters.get('cluster.backend.upstream_rq_5xx'), 1_701);
      assert.equal(snap.counters.get('cluster.backend.upstream_rq_200'), 17_001 - 1_701);
      assert.equal(snap.counters.get('cluster.backend.upstream_rq_2xx'), 17_001 - 1_701);
      // two runs on worker 0 (+2 each) and one on worker 1
      assert.equal(snap.gauges.get('cluster.backend.upstream_cx_active'), 6);
      const rqTime = snap.histograms.get('cluster.backend.upstream_rq_time');
      assert.ok(rqTime !== undefined);
      assert.equal(rqTime.count, 17_001);
      // sum of i % 100 over i < 10000 is 100 * 4950; over i < 7000 is 70 * 4950; plus 0
      assert.equal(rqTime.sum, 170 * 4950);
      assert.equal(rqTime.hist.maxValue, 99);
    } finally {
      await h.stop();
    }
  });

  test('a retired worker keeps its counters and histograms in totals; its gauges go', async () => {
    const h = harness();
    try {
      await h.spawn(0);
      await h.spawn(1);
      await Promise.all([h.run(0, 1_000), h.run(1, 500)]);
      await h.agg.snapshot(); // caches worker histograms
      await h.workers.get(1)!.terminate();
      h.workers.delete(1);
      h.agg.retireWorker(1);
      await h.spawn(1); // the replacement under the same id
      await h.run(1, 20);
      const snap = await h.agg.snapshot();
      assert.equal(snap.counters.get('cluster.backend.upstream_rq_total'), 1_520);
      assert.equal(snap.gauges.get('cluster.backend.upstream_cx_active'), 4);
      assert.equal(snap.histograms.get('cluster.backend.upstream_rq_time')!.count, 1_520);
    } finally {
      await h.stop();
    }
  });

  test('reset_counters zeroes counters but not gauges', async () => {
    const h = harness();
    try {
      await h.spawn(0);
      await h.run(0, 100);
      h.agg.resetCounters();
      await h.run(0, 5);
      const { counters, gauges } = h.agg.snapshotCountersAndGauges();
      assert.equal(counters.get('cluster.backend.upstream_rq_total'), 5);
      assert.equal(gauges.get('cluster.backend.upstream_cx_active'), 4);
    } finally {
      await h.stop();
    }
  });
}
