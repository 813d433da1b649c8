/**
 * First-match route lookup for one virtual host without scanning every route.
 *
 * Every route lands in exactly one candidate list, keyed by what its path matcher needs:
 * `path` routes by their path (case-sensitive and case-insensitive maps), `prefix` and
 * `path_separated_prefix` routes by their prefix in per-length buckets (like Envoy's wildcard
 * vhost maps), `safe_regex` routes by the literal prefix every full match must start with (see
 * {@link regexLiteralPrefix}), and the rest (empty prefix, regexes with no literal prefix) in an
 * always-checked list. A lookup
 * collects the lists whose key the request path hits (one map probe per distinct prefix length),
 * merges them in route order and fully matches each candidate (path, headers, query) until the
 * first hit. Candidates are a superset of the matching routes and are tried in config order, so
 * the answer equals a linear scan's.
 */
import type { MatchContext, RouteEntry } from './route-entry';
import { PathKind } from './rewrite';

/**
 * The literal text every full match of `re` starts with ("" when unknown). Conservative: stops at
 * the first metacharacter, at an escape of a letter/digit, before a char followed by `*`, `?` or
 * `{`, and gives up on any `|`.
 */
export function regexLiteralPrefix(re: string): string {
  if (re.includes('|')) return '';
  let i = re[0] === '^' ? 1 : 0;
  let out = '';
  while (i < re.length) {
    let c = re[i];
    let len = 1;
    if (c === '\\') {
      const n = re[i + 1];
      if (n === undefined || /[0-9A-Za-z]/.test(n)) break;
      c = n;
      len = 2;
    } else if ('.[]()*+?{}^$'.includes(c)) {
      break;
    }
    const next = re[i + len];
    if (next !== undefined && '*?{'.includes(next)) break;
    out += c;
    i += len;
  }
  return out;
}

/** Below this many routes a plain scan is as fast as the index. */
const LINEAR_MAX = 8;

interface Bucket {
  readonly len: number;
  readonly map: Map<string, Int32Array>;
}

function freeze(m: Map<string, number[]>): Map<string, Int32Array> {
  const out = new Map<string, Int32Array>();
  for (const [k, v] of m) out.set(k, Int32Array.from(v));
  return out;
}

function buckets(byLen: Map<number, Map<string, number[]>>): Bucket[] {
  return [...byLen.entries()].sort((a, b) => a[0] - b[0]).map(([len, map]) => ({ len, map: freeze(map) }));
}

function push<K>(m: Map<K, number[]>, k: K, i: number): void {
  const l = m.get(k);
  if (l) l.push(i);
  else m.set(k, [i]);
}

/** Immutable index over one virtual host's routes. */
export class RouteIndex {
  private readonly routes: readonly RouteEntry[];
  private readonly linear: boolean;
  private readonly exact: Map<string, Int32Array>;
  private readonly exactCi: Map<string, Int32Array>;
  private readonly prefix: Bucket[];
  private readonly prefixCi: Bucket[];
  private readonly always: Int32Array;
  // Scratch for the merge (lookups are synchronous; one index is used by one thread).
  private readonly lists: Int32Array[];
  private readonly pos: Int32Array;

  constructor(routes: readonly RouteEntry[]) {
    this.routes = routes;
    this.linear = routes.length <= LINEAR_MAX;
    const exact = new Map<string, number[]>();
    const exactCi = new Map<string, number[]>();
    const pre = new Map<number, Map<string, number[]>>();
    const preCi = new Map<number, Map<string, number[]>>();
    const always: number[] = [];
    routes.forEach((r, i) => {
      const v = r.pathValue;
      switch (r.pathKind) {
        case PathKind.Path:
          push(r.caseSensitive ? exact : exactCi, v, i);
          break;
        case PathKind.Prefix:
        case PathKind.Separated: {
          if (v.length === 0) { always.push(i); break; }
          const byLen = r.caseSensitive ? pre : preCi;
          let m = byLen.get(v.length);
          if (!m) byLen.set(v.length, (m = new Map()));
          push(m, v, i);
          break;
        }
        default: {
          const lit = r.regexSource !== null ? regexLiteralPrefix(r.regexSource) : '';
          if (lit.length === 0) { always.push(i); break; }
          let m = pre.get(lit.length);
          if (!m) pre.set(lit.length, (m = new Map()));
          push(m, lit, i);
        }
      }
    });
    this.exact = freeze(exact);
    this.exactCi = freeze(exactCi);
    this.prefix = buckets(pre);
    this.prefixCi = buckets(preCi);
    this.always = Int32Array.from(always);
    const maxLists = 3 + this.prefix.length + this.prefixCi.length;
    this.lists = new Array<Int32Array>(maxLists);
    this.pos = new Int32Array(maxLists);
  }

  /** The first route (config order) matching the request in `ctx`, or null. */
  first(ctx: MatchContext): RouteEntry | null {
    const routes = this.routes;
    if (this.linear) {
      for (let i = 0; i < routes.length; i++) if (routes[i].matches(ctx)) return routes[i];
      return null;
    }
    const lists = this.lists;
    let k = 0;
    const path = ctx.path;
    let l: Int32Array | undefined;
    if (this.exact.size !== 0 && (l = this.exact.get(path)) !== undefined) lists[k++] = l;
    if (this.exactCi.size !== 0 && (l = this.exactCi.get(ctx.lower())) !== undefined) lists[k++] = l;
    const pre = this.prefix;
    for (let i = 0; i < pre.length; i++) {
      const b = pre[i];
      if (b.len > path.length) break;
      if ((l = b.map.get(b.len === path.length ? path : path.slice(0, b.len))) !== undefined) lists[k++] = l;
    }
    const preCi = this.prefixCi;
    if (preCi.length !== 0) {
      const lower = ctx.lower();
      for (let i = 0; i < preCi.length; i++) {
        const b = preCi[i];
        if (b.len > lower.length) break;
        if ((l = b.map.get(b.len === lower.length ? lower : lower.slice(0, b.len))) !== undefined) lists[k++] = l;
      }
    }
    if (this.always.length !== 0) lists[k++] = this.always;

    if (k === 0) return null;
    if (k === 1) {
      const only = lists[0];
      for (let i = 0; i < only.length; i++) if (routes[only[i]].matches(ctx)) return routes[only[i]];
      return null;
    }
    // k-way merge by route index.
    const pos = this.pos;
    pos.fill(0, 0, k);
    let found: RouteEntry | null = null;
    for (;;) {
      let best = -1;
      let bestIdx = 0x7fffffff;
      for (let j = 0; j < k; j++) {
        const lj = lists[j];
        const p = pos[j];
        if (p < lj.length && lj[p] < bestIdx) { bestIdx = lj[p]; best = j; }
      }
      if (best < 0) break;
      pos[best]++;
      const r = routes[bestIdx];
      if (r.matches(ctx)) { found = r; break; }
    }
    return found;
  }
}
