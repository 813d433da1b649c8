/**
 * `/stats` renderers: Envoy's text (source/server/admin/stats_render.cc), JSON, and Prometheus text
 * format 0.0.4 (source/server/admin/prometheus_stats.cc).
 */

import type { StatsSnapshot } from '../stats/aggregator';
import {
  DEFAULT_BUCKETS,
  SUPPORTED_QUANTILES,
  computeQuantiles,
  cumulativeBuckets,
  formatQuantileValue,
  type MergedHistogram,
} from '../stats/histogram';
import { extractTags, type StatTag } from '../stats/tags';

/** Which stats to render. */
export interface StatsQuery {
  /** Keep names for which this returns true (the `filter` regex). */
  filter?: (name: string) => boolean;
  /** `usedonly`: skip counters that are 0 and histograms with no values (gauges always count as used). */
  usedOnly?: boolean;
  /** `type=Counters|Gauges|Histograms|TextReadouts|All` (default All). */
  type?: string;
}

interface Selected {
  scalars: Array<[string, number]>;
  histograms: Array<[string, MergedHistogram]>;
  counters: Array<[string, number]>;
  gauges: Array<[string, number]>;
}

function select(s: StatsSnapshot, q: StatsQuery): Selected {
  const type = (q.type ?? 'All').toLowerCase();
  const keep = (name: string, used: boolean) => (!q.usedOnly || used) && (!q.filter || q.filter(name));
  const counters: Array<[string, number]> = [];
  const gauges: Array<[string, number]> = [];
  const histograms: Array<[string, MergedHistogram]> = [];
  if (type === 'all' || type === 'counters') for (const [n, v] of s.counters) if (keep(n, v !== 0)) counters.push([n, v]);
  // Gauges count as used once set, as in Envoy (Istio's readiness check reads `server.state` and
  // `downstream_cx_active` with usedonly, both legitimately 0): attache sets every gauge at creation.
  if (type === 'all' || type === 'gauges') for (const [n, v] of s.gauges) if (keep(n, true)) gauges.push([n, v]);
  if (type === 'all' || type === 'histograms') for (const [n, h] of s.histograms) if (keep(n, h.count > 0)) histograms.push([n, h]);
  const byName = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  counters.sort(byName);
  gauges.sort(byName);
  histograms.sort(byName);
  const scalars = [...counters, ...gauges].sort(byName);
  return { scalars, histograms, counters, gauges };
}

/**
 * Envoy's text format: `name: value` for counters and gauges (sorted together), then one line per
 * histogram: `name: P0(interval,cumulative) P25(...) ... P100(...)` or `name: No recorded values`.
 * attache has no flush interval, so interval values print `nan`.
 */
export function renderStatsText(s: StatsSnapshot, q: StatsQuery = {}): string {
  const sel = select(s, q);
  let out = '';
  for (const [n, v] of sel.scalars) out += `${n}: ${v}\n`;
  for (const [n, h] of sel.histograms) {
    if (h.count === 0) {
      out += `${n}: No recorded values\n`;
      continue;
    }
    const cum = computeQuantiles(h);
    const parts = SUPPORTED_QUANTILES.map((qq, i) => `P${qq * 100}(nan,${formatQuantileValue(cum[i])})`);
    out += `${n}: ${parts.join(' ')}\n`;
  }
  return out;
}

/**
 * Envoy's `/stats?format=json`: `{"stats":[{"name","value"}..., {"histograms":{"supported_quantiles":
 * [0,25,...], "computed_quantiles":[{"name","values":[{"interval","cumulative"}...]}]}}]}`; with
 * `histogramBuckets` `cumulative`/`disjoint` the last entry is instead
 * `{"histograms":[{"name","buckets":[{"upper_bound","interval","cumulative"}...]}]}` (counts).
 */
export function renderStatsJson(s: StatsSnapshot, q: StatsQuery = {}, histogramBuckets?: string): string {
  const sel = select(s, q);
  const stats: unknown[] = sel.scalars.map(([name, value]) => ({ name, value }));
  if (sel.histograms.length > 0 && (histogramBuckets === 'cumulative' || histogramBuckets === 'disjoint')) {
    // Envoy's `histogram_buckets=cumulative|disjoint`: counts per default bucket (values <= upper_bound,
    // or within (previous bound, upper_bound] for disjoint). attache has no flush interval: interval is null.
    const disjoint = histogramBuckets === 'disjoint';
    stats.push({
      histograms: sel.histograms.map(([name, h]) => {
        const cum = cumulativeBuckets(h, DEFAULT_BUCKETS);
        return {
          name,
          buckets: DEFAULT_BUCKETS.map((ub, i) => ({ upper_bound: ub, interval: null, cumulative: disjoint ? cum[i] - (i > 0 ? cum[i - 1] : 0) : cum[i] })),
        };
      }),
    });
  } else if (sel.histograms.length > 0) {
    stats.push({
      histograms: {
        supported_quantiles: SUPPORTED_QUANTILES.map((x) => x * 100),
        computed_quantiles: sel.histograms.map(([name, h]) => ({
          name,
          values: computeQuantiles(h).map((v) => ({ interval: null, cumulative: Number.isNaN(v) ? null : v })),
        })),
      },
    });
  }
  return JSON.stringify({ stats }, null, 1);
}

/** Prometheus metric name: `envoy_` + the tag-extracted name with `[^a-zA-Z0-9_]` → `_`. */
export function prometheusName(tagExtractedName: string): string {
  const n = tagExtractedName.replace(/[^a-zA-Z0-9_]/g, '_');
  return 'envoy_' + n;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(tags: StatTag[], extra?: string): string {
  const parts = tags.map((t) => `${t.name.replace(/[^a-zA-Z0-9_]/g, '_')}="${escapeLabel(t.value)}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

interface Family<T> {
  lines: Array<{ labels: StatTag[]; v: T }>;
}

function group<T>(entries: Array<[string, T]>): Array<[string, Family<T>]> {
  const fams = new Map<string, Family<T>>();
  for (const [name, v] of entries) {
    const ex = extractTags(name);
    const pn = prometheusName(ex.name);
    let f = fams.get(pn);
    if (!f) fams.set(pn, (f = { lines: [] }));
    f.lines.push({ labels: ex.tags, v });
  }
  return [...fams].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * Prometheus text exposition format 0.0.4 with Envoy's names and tags: counters, then gauges, then
 * histograms (`_bucket{le=...}` over Envoy's default buckets, `_sum`, `_count`). Each metric family
 * has one `# TYPE` line.
 */
export function renderPrometheus(s: StatsSnapshot, q: StatsQuery = {}): string {
  const sel = select(s, q);
  let out = '';
  const scalar = (entries: Array<[string, number]>, type: string) => {
    for (const [pn, fam] of group(entries)) {
      out += `# TYPE ${pn} ${type}\n`;
      for (const l of fam.lines) out += `${pn}${labels(l.labels)} ${l.v}\n`;
    }
  };
  scalar(sel.counters, 'counter');
  scalar(sel.gauges, 'gauge');
  for (const [pn, fam] of group(sel.histograms)) {
    out += `# TYPE ${pn} histogram\n`;
    for (const l of fam.lines) {
      const h = l.v;
      const counts = cumulativeBuckets(h, DEFAULT_BUCKETS);
      for (let i = 0; i < DEFAULT_BUCKETS.length; i++) out += `${pn}_bucket${labels(l.labels, `le="${DEFAULT_BUCKETS[i]}"`)} ${counts[i]}\n`;
      out += `${pn}_bucket${labels(l.labels, 'le="+Inf"')} ${h.count}\n`;
      out += `${pn}_sum${labels(l.labels)} ${h.sum}\n`;
      out += `${pn}_count${labels(l.labels)} ${h.count}\n`;
    }
  }
  return out;
}
