/**
 * Per-thread stats store: Envoy's model (source/docs/stats.md) of counters, gauges and histograms
 * with handles resolved at config time.
 *
 * Counters and gauges live in a growable set of `SharedArrayBuffer` pages viewed as `Float64Array`
 * (integers stay exact up to 2^53). Only the owning thread writes its pages; the main thread's
 * {@link StatsAggregator} reads them directly, so an increment on the hot path is one typed-array
 * write: no lock, no Map lookup, no message. Histograms are hdr-histogram-js histograms kept on the
 * owning thread and exported as [value, count] buckets when main asks ({@link StatsStore.exportHistograms}).
 *
 * When new names are created the store posts a {@link StatsLayoutMessage} (coalesced in a
 * microtask) through the `postLayout` callback the thread gives it; main learns new names and new
 * pages only through that rare message.
 */

// hdr-histogram-js's JS histogram class alone: the package's main entry also loads its WebAssembly
// bundle and zlib (~11 MiB per thread, measured), which a worker does not need.
import Float64Histogram from 'hdr-histogram-js/dist/Float64Histogram';
import type JsHistogram from 'hdr-histogram-js/dist/JsHistogram';

/** Slots (Float64) per SharedArrayBuffer page. 1024 slots = 8 KiB. */
export const STATS_PAGE_SLOTS = 1024;
const PAGE_SHIFT = 10;

/** Kind codes used in layout messages. */
export const StatKind = { Counter: 0, Gauge: 1, Histogram: 2 } as const;
export type StatKindCode = (typeof StatKind)[keyof typeof StatKind];

/**
 * Sent from a worker to main when names were added. `names[i]`/`kinds[i]` describe global slot
 * `from + i` (slot s lives in `pages[s >> 10][s & 1023]`). `pages` always holds every page (SABs are
 * shared, not copied). A histogram's slot holds its sample count.
 */
export interface StatsLayoutMessage {
  type: 'stats-layout';
  /** Index of the first slot described by `names` (0 for a full layout). */
  from: number;
  names: string[];
  kinds: StatKindCode[];
  pages: SharedArrayBuffer[];
  /** Slots retired since the last message (their names are gone: see {@link StatsStore.retire}). */
  retired?: number[];
}

/** One histogram as exported to main: hdr's compressed base64 encoding plus the exact sum. */
export interface HistogramExport {
  name: string;
  /** Non-empty buckets of the cumulative histogram: `[value, count, value, count, ...]`. */
  counts: number[];
  /** Exact sum of recorded values (unit of the histogram, e.g. ms). */
  sum: number;
}

/** A monotonically increasing count (Envoy Counter). */
export class Counter {
  /** @internal */
  constructor(readonly name: string, private readonly arr: Float64Array, private readonly i: number) {}
  /** Adds `n` (default 1). One typed-array write. */
  inc(n = 1): void {
    this.arr[this.i] += n;
  }
  /** This thread's value. */
  value(): number {
    return this.arr[this.i];
  }
}

/** A value that goes up and down (Envoy Gauge), e.g. `upstream_cx_active`. */
export class Gauge {
  /** @internal */
  constructor(readonly name: string, private readonly arr: Float64Array, private readonly i: number) {}
  inc(n = 1): void {
    this.arr[this.i] += n;
  }
  dec(n = 1): void {
    this.arr[this.i] -= n;
  }
  set(v: number): void {
    this.arr[this.i] = v;
  }
  /** This thread's value. */
  value(): number {
    return this.arr[this.i];
  }
}

/** Unit of a histogram; Envoy's are milliseconds or unspecified. */
export type HistogramUnit = 'ms' | 'unspecified' | 'bytes';

/** Values below this are counted in a flat array first (see Histogram.record). */
const SMALL_VALUES = 256;

/** A distribution of values (Envoy Histogram), e.g. `upstream_rq_time` in ms. */
export class Histogram {
  /** Exact sum of recorded values. */
  sum = 0;
  /** @internal */
  constructor(
    readonly name: string,
    readonly unit: HistogramUnit,
    /** @internal */ readonly hist: JsHistogram,
    private readonly arr: Float64Array,
    private readonly i: number,
  ) {}
  /**
   * Records one value. Values are truncated to integers (Envoy records whole milliseconds);
   * negative values record as 0.
   */
  record(v: number): void {
    const x = v > 0 ? Math.floor(v) : 0;
    if (x < SMALL_VALUES) {
      // Most request times are a few ms: count them in a flat array (one increment), folded into
      // the hdr histogram when it is read (hdr's recordValue costs a log2 and two pow per value).
      (this.small ??= new Uint32Array(SMALL_VALUES))[x]++;
      this.smallPending = true;
    } else this.hist.recordValue(x);
    this.sum += x;
    this.arr[this.i] += 1;
  }
  private small: Uint32Array | null = null;
  private smallPending = false;
  /** The hdr histogram with every recorded value in it. */
  recorded(): JsHistogram {
    const small = this.small;
    if (small !== null && this.smallPending) {
      this.smallPending = false;
      for (let x = 0; x < SMALL_VALUES; x++) {
        const c = small[x];
        if (c !== 0) {
          this.hist.recordValueWithCount(x, c);
          small[x] = 0;
        }
      }
    }
    return this.hist;
  }
  /** Number of values recorded on this thread. */
  count(): number {
    return this.arr[this.i];
  }
}

/**
 * Builds a histogram for recording: hdr-histogram-js's Float64Histogram (3 significant digits,
 * auto-resizing), about 100 ns per record, two or three records per request.
 */
export function newRecordingHistogram(): JsHistogram {
  const h = new Float64Histogram(1, 2, 3);
  h.autoResize = true;
  return h;
}

/** The non-empty buckets of `h` as a flat `[value, count, value, count, ...]` array. */
export function histogramCounts(h: JsHistogram): number[] {
  const out: number[] = [];
  const n = h.countsArrayLength;
  for (let i = 0; i < n; i++) {
    const c = h.getCountAtIndex(i);
    if (c !== 0) out.push(h.valueFromIndex(i), c);
  }
  return out;
}

/** Options for {@link StatsStore}. */
export interface StatsStoreOptions {
  /** Called (coalesced in a microtask) when names were added. Workers forward it to main. */
  postLayout?: (msg: StatsLayoutMessage) => void;
}

/**
 * One thread's stats. `counter(name)`, `gauge(name)`, `histogram(name)` are idempotent (same name,
 * same handle) and meant to be called at config time; the handles are used on the hot path.
 * @throws Error when a name is reused with a different kind.
 */
export class StatsStore {
  private readonly pages: SharedArrayBuffer[] = [];
  private readonly views: Float64Array[] = [];
  private readonly names: string[] = [];
  private readonly kinds: StatKindCode[] = [];
  private readonly byName = new Map<string, Counter | Gauge | Histogram>();
  private readonly histograms: Histogram[] = [];
  private postLayout: ((msg: StatsLayoutMessage) => void) | undefined;
  private posted = 0;
  private scheduled = false;
  /** Global slot per live name (for retire()). */
  private readonly slotOf = new Map<string, number>();
  /** Prefixes retired and not revived: stats created under them are detached (see retire()). */
  private readonly retiredPrefixes = new Set<string>();
  /** Slots retired and not yet posted. */
  private retiredSlots: number[] = [];
  /** Incremented by every retire(): handles cached before may be detached. */
  generation = 0;

  constructor(opts: StatsStoreOptions = {}) {
    this.postLayout = opts.postLayout;
  }

  /** Sets (or replaces) the layout callback; the next flush sends a full layout. */
  setPostLayout(fn: ((msg: StatsLayoutMessage) => void) | undefined): void {
    this.postLayout = fn;
    this.posted = 0;
    if (fn && this.names.length > 0) this.schedule();
  }

  /** The counter named `name` (created on first use). */
  counter(name: string): Counter {
    const h = this.byName.get(name);
    if (h !== undefined) {
      if (!(h instanceof Counter)) throw new Error(`stat ${name} already exists with another type`);
      return h;
    }
    if (this.isRetired(name)) return new Counter(name, new Float64Array(1), 0);
    const slot = this.alloc(name, StatKind.Counter);
    const c = new Counter(name, this.views[slot >> PAGE_SHIFT], slot & (STATS_PAGE_SLOTS - 1));
    this.byName.set(name, c);
    return c;
  }

  /** The gauge named `name` (created on first use). */
  gauge(name: string): Gauge {
    const h = this.byName.get(name);
    if (h !== undefined) {
      if (!(h instanceof Gauge)) throw new Error(`stat ${name} already exists with another type`);
      return h;
    }
    if (this.isRetired(name)) return new Gauge(name, new Float64Array(1), 0);
    const slot = this.alloc(name, StatKind.Gauge);
    const g = new Gauge(name, this.views[slot >> PAGE_SHIFT], slot & (STATS_PAGE_SLOTS - 1));
    this.byName.set(name, g);
    return g;
  }

  /** The histogram named `name` (created on first use). */
  histogram(name: string, unit: HistogramUnit = 'ms'): Histogram {
    const h = this.byName.get(name);
    if (h !== undefined) {
      if (!(h instanceof Histogram)) throw new Error(`stat ${name} already exists with another type`);
      return h;
    }
    if (this.isRetired(name)) return new Histogram(name, unit, newRecordingHistogram(), new Float64Array(1), 0);
    const slot = this.alloc(name, StatKind.Histogram);
    const hist = new Histogram(name, unit, newRecordingHistogram(), this.views[slot >> PAGE_SHIFT], slot & (STATS_PAGE_SLOTS - 1));
    this.byName.set(name, hist);
    this.histograms.push(hist);
    return hist;
  }

  /**
   * Forgets every stat whose name starts with `prefix` (a removed cluster's `cluster.<name>.`, as
   * Envoy frees a removed cluster's stats scope): they leave the layout (main drops them from
   * `/stats`), their histograms are freed, and their slots are never reused, so a handle still
   * held (a request in flight on the removed cluster) writes where nobody reads. With `block`
   * (workers: a removed cluster's objects may still create stats lazily), until {@link revive} a
   * stat created under the prefix is such a detached handle too. Callers that cache handles
   * compare {@link generation} to know when to look them up again.
   * @returns how many stats were retired.
   */
  retire(prefix: string, block = true): number {
    if (block) this.retiredPrefixes.add(prefix);
    this.generation++;
    let n = 0;
    for (const [name, slot] of this.slotOf) {
      if (!name.startsWith(prefix)) continue;
      const h = this.byName.get(name);
      this.byName.delete(name);
      this.slotOf.delete(name);
      this.names[slot] = '';
      if (h instanceof Histogram) {
        const i = this.histograms.indexOf(h);
        if (i !== -1) this.histograms.splice(i, 1);
      }
      this.retiredSlots.push(slot);
      n++;
    }
    if (n > 0 && this.postLayout) this.schedule();
    return n;
  }

  /** Undoes the creation block of {@link retire} for `prefix` (the cluster was added again): new stats start at zero. */
  revive(prefix: string): void {
    this.retiredPrefixes.delete(prefix);
  }

  private isRetired(name: string): boolean {
    if (this.retiredPrefixes.size === 0) return false;
    for (const p of this.retiredPrefixes) if (name.startsWith(p)) return true;
    return false;
  }

  /** Number of stats (all kinds), retired ones included. */
  get size(): number {
    return this.names.length;
  }

  /** This thread's value of a counter or gauge, or undefined (tests, admin of a single thread). */
  value(name: string): number | undefined {
    const h = this.byName.get(name);
    if (h === undefined || h instanceof Histogram) return undefined;
    return h.value();
  }

  /**
   * Encodes every histogram that has recorded values (cumulative since the thread started).
   * Costs ~0.1 ms per histogram; called only when main asks.
   */
  exportHistograms(): HistogramExport[] {
    const out: HistogramExport[] = [];
    for (const h of this.histograms) {
      if (h.count() === 0) continue;
      out.push({ name: h.name, counts: histogramCounts(h.recorded()), sum: h.sum });
    }
    return out;
  }

  /**
   * A layout describing every slot (sent after `setPostLayout`, or on request after a restart of
   * main's view); a retired slot has the name ''.
   */
  fullLayout(): StatsLayoutMessage {
    return { type: 'stats-layout', from: 0, names: this.names.slice(), kinds: this.kinds.slice(), pages: this.pages.slice() };
  }

  /** Posts pending layout changes (new names, retired slots) now instead of in the next microtask. */
  flushLayout(): void {
    this.scheduled = false;
    const fn = this.postLayout;
    if (!fn || (this.posted === this.names.length && this.retiredSlots.length === 0)) return;
    const from = this.posted;
    this.posted = this.names.length;
    const msg: StatsLayoutMessage = { type: 'stats-layout', from, names: this.names.slice(from), kinds: this.kinds.slice(from), pages: this.pages.slice() };
    if (this.retiredSlots.length > 0) {
      msg.retired = this.retiredSlots;
      this.retiredSlots = [];
    }
    fn(msg);
  }

  /** Frees histogram memory (WebAssembly histograms are not garbage-collected). */
  destroy(): void {
    for (const h of this.histograms) h.hist.destroy();
    this.histograms.length = 0;
  }

  private alloc(name: string, kind: StatKindCode): number {
    const slot = this.names.length;
    if (slot >> PAGE_SHIFT >= this.pages.length) {
      const sab = new SharedArrayBuffer(STATS_PAGE_SLOTS * 8);
      this.pages.push(sab);
      this.views.push(new Float64Array(sab));
    }
    this.names.push(name);
    this.kinds.push(kind);
    this.slotOf.set(name, slot);
    if (this.postLayout) this.schedule();
    return slot;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flushLayout());
  }
}
