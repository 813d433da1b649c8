// Micro-benchmark: the hot-path cost of stats. Run: node dist/bench/micro/stats-inc.js
// Compares a counter handle increment (one Float64Array write on a SharedArrayBuffer page) with a
// Map lookup per increment, a histogram record (hdr-histogram WebAssembly backend), and the
// main-thread aggregation of a snapshot.
import { StatsStore } from '../../src/stats/store';
import { StatsAggregator } from '../../src/stats/aggregator';
import { clusterStats } from '../../src/stats/common-stats';

export interface BenchResult {
  name: string;
  nsPerOp: number;
  ops: number;
}

function bench(name: string, ops: number, fn: (n: number) => void): BenchResult {
  fn(Math.min(ops, 100_000)); // warm up
  const t0 = process.hrtime.bigint();
  fn(ops);
  const ns = Number(process.hrtime.bigint() - t0);
  return { name, nsPerOp: ns / ops, ops };
}

/** Runs the stats micro-benchmarks and returns ns/op per case. */
export function run(): BenchResult[] {
  const store = new StatsStore();
  const cs = clusterStats(store, 'backend');
  const map = new Map<string, number>();
  const N = 20_000_000;
  const out: BenchResult[] = [];
  out.push(
    bench('counter.inc() (handle)', N, (n) => {
      const c = cs.upstream_rq_total;
      for (let i = 0; i < n; i++) c.inc();
    }),
  );
  out.push(
    bench('gauge.inc()+dec() (handle)', N, (n) => {
      const g = cs.upstream_cx_active;
      for (let i = 0; i < n; i++) {
        g.inc();
        g.dec();
      }
    }),
  );
  out.push(
    bench('recordResponse(200) (class + code)', N / 4, (n) => {
      for (let i = 0; i < n; i++) cs.recordResponse(200);
    }),
  );
  out.push(
    bench('Map<string, number> lookup+set (baseline)', N / 4, (n) => {
      for (let i = 0; i < n; i++) map.set('cluster.backend.upstream_rq_total', (map.get('cluster.backend.upstream_rq_total') ?? 0) + 1);
    }),
  );
  out.push(
    bench('histogram.record(v)', N / 10, (n) => {
      const h = cs.upstream_rq_time;
      for (let i = 0; i < n; i++) h.record(i & 1023);
    }),
  );
  const agg = new StatsAggregator();
  agg.attachLocal(store, 'w0');
  for (let i = 0; i < 200; i++) clusterStats(store, `c${i}`);
  store.flushLayout();
  out.push(
    bench(`snapshotCountersAndGauges() (${store.size} stats)`, 200, (n) => {
      for (let i = 0; i < n; i++) agg.snapshotCountersAndGauges();
    }),
  );
  store.destroy();
  return out;
}

if (require.main === module) {
  for (const r of run()) console.log(`${r.name.padEnd(48)} ${r.nsPerOp.toFixed(2).padStart(12)} ns/op`);
}
