/**
 * Main-thread histogram helpers: decoding worker exports, merging, and Envoy's quantile and bucket
 * views (source/common/stats/histogram_impl.cc).
 */

import Float64Histogram from 'hdr-histogram-js/dist/Float64Histogram';
import type JsHistogram from 'hdr-histogram-js/dist/JsHistogram';
import type { HistogramExport } from './store';

/** Envoy's supported quantiles (HistogramStatisticsImpl::supportedQuantiles), as fractions. */
export const SUPPORTED_QUANTILES: readonly number[] = [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1];

/** Envoy's default histogram buckets (ms), used for Prometheus `_bucket{le=...}` lines. */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

/** A histogram merged over threads (JS backend, so it can be iterated). */
export interface MergedHistogram {
  /** hdr-histogram-js JsHistogram holding the cumulative distribution. */
  hist: JsHistogram;
  /** Exact sum of recorded values. */
  sum: number;
  /** Number of recorded values. */
  count: number;
}

/** An empty mergeable histogram. */
export function emptyMerged(): MergedHistogram {
  const hist: JsHistogram = new Float64Histogram(1, 2, 3);
  hist.autoResize = true;
  return { hist, sum: 0, count: 0 };
}

/** Adds one exported histogram into `into`. */
export function mergeExport(into: MergedHistogram, e: HistogramExport): void {
  const c = e.counts;
  for (let i = 0; i < c.length; i += 2) into.hist.recordValueWithCount(c[i], c[i + 1]);
  into.sum += e.sum;
  into.count = into.hist.totalCount;
}

/** Adds `b` into `a`. */
export function mergeInto(a: MergedHistogram, b: MergedHistogram): void {
  a.hist.add(b.hist);
  a.sum += b.sum;
  a.count = a.hist.totalCount;
}

/** Values at {@link SUPPORTED_QUANTILES}; NaN for each when the histogram is empty. */
export function computeQuantiles(m: MergedHistogram | undefined): number[] {
  if (!m || m.count === 0) return SUPPORTED_QUANTILES.map(() => NaN);
  return SUPPORTED_QUANTILES.map((q) => m.hist.getValueAtPercentile(q * 100));
}

/**
 * Cumulative counts of values `<= bound` for each bound (Prometheus `le` semantics).
 * Iterates the histogram's count array once.
 */
export function cumulativeBuckets(m: MergedHistogram, bounds: readonly number[] = DEFAULT_BUCKETS): number[] {
  const out = new Array<number>(bounds.length).fill(0);
  if (m.count === 0) return out;
  const h = m.hist;
  const n = h.countsArrayLength;
  for (let i = 0; i < n; i++) {
    const c = h.getCountAtIndex(i);
    if (c === 0) continue;
    const v = h.valueFromIndex(i);
    for (let b = bounds.length - 1; b >= 0 && v <= bounds[b]; b--) out[b] += c;
  }
  return out;
}

/** Envoy's number formatting for quantile output: `nan`, shortest decimal otherwise. */
export function formatQuantileValue(v: number): string {
  return Number.isNaN(v) ? 'nan' : String(v);
}
