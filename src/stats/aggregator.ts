/**
 * Main-thread view of every thread's stats (Envoy's ThreadLocalStoreImpl merge on main, without
 * the flush messages): counters and gauges are summed by reading each worker's SharedArrayBuffer
 * pages directly; histograms are requested from the workers, decoded and merged with hdr.
 *
 * A replaced worker's counters do not vanish: {@link StatsAggregator.retireWorker} folds its last
 * counter values (and last exported histograms) into a "retired" base, so totals stay monotonic.
 * Its gauges are dropped (its connections are gone with it).
 */

import { STATS_PAGE_SLOTS, StatKind, type HistogramExport, type StatKindCode, type StatsLayoutMessage, type StatsStore } from './store';
import { emptyMerged, mergeExport, mergeInto, type MergedHistogram } from './histogram';

/** The kind of a dropped stat id (no snapshot lists it). */
const DEAD = -1 as unknown as StatKindCode;

/** Worker id as the supervisor names it (`0`, `1`, ... or `'main'`). */
export type WorkerId = string | number;

/** What `snapshot()` returns. */
export interface StatsSnapshot {
  counters: Map<string, number>;
  gauges: Map<string, number>;
  /** Merged histograms by name; a declared histogram with no value is present with count 0. */
  histograms: Map<string, MergedHistogram>;
}

/** Histograms of one thread, as the supervisor collects them. */
export interface WorkerHistograms {
  workerId: WorkerId;
  histograms: HistogramExport[];
}

/** Options for {@link StatsAggregator}. */
export interface StatsAggregatorOptions {
  /**
   * Asks every live worker for `store.exportHistograms()` (the supervisor implements the message
   * round trip). Missing workers keep their last answer.
   */
  requestHistograms?: () => Promise<WorkerHistograms[]>;
  /** Give up waiting for workers after this long and use their last answers. Default 2000 ms. */
  histogramTimeoutMs?: number;
}

interface WorkerView {
  views: Float64Array[];
  /** Global stat id per worker slot. */
  ids: Int32Array;
  count: number;
  lastHistograms: HistogramExport[];
}

/** Sums per-thread stats on main. See the module comment. */
export class StatsAggregator {
  private readonly workers = new Map<WorkerId, WorkerView>();
  private readonly locals = new Map<WorkerId, StatsStore>();
  private readonly nameToId = new Map<string, number>();
  private readonly idNames: string[] = [];
  private readonly idKinds: StatKindCode[] = [];
  private retired = new Float64Array(256);
  private resetBase = new Float64Array(256);
  private readonly retiredHistograms = new Map<string, MergedHistogram>();
  private readonly opts: StatsAggregatorOptions;

  constructor(opts: StatsAggregatorOptions = {}) {
    this.opts = opts;
  }

  /** Applies a worker's layout message (full or incremental). */
  applyLayout(workerId: WorkerId, msg: StatsLayoutMessage): void {
    let w = this.workers.get(workerId);
    // An incremental layout that does not continue what we know cannot be placed (postMessage keeps
    // order, so this only happens if the supervisor dropped messages); wait for a full layout.
    if (msg.from !== 0 && (!w || msg.from > w.count)) return;
    if (!w || msg.from === 0) {
      const prev = w;
      w = { views: [], ids: new Int32Array(Math.max(64, msg.names.length)), count: 0, lastHistograms: prev?.lastHistograms ?? [] };
      this.workers.set(workerId, w);
    }
    for (let p = w.views.length; p < msg.pages.length; p++) w.views.push(new Float64Array(msg.pages[p]));
    const end = msg.from + msg.names.length;
    if (end > w.ids.length) {
      let n = w.ids.length;
      while (n < end) n *= 2;
      const ids = new Int32Array(n);
      ids.set(w.ids);
      w.ids = ids;
    }
    // A retired slot (name '') maps to no stat.
    for (let i = 0; i < msg.names.length; i++) w.ids[msg.from + i] = msg.names[i] === '' ? -1 : this.idFor(msg.names[i], msg.kinds[i]);
    w.count = Math.max(w.count, end);
    if (msg.retired !== undefined) this.retireSlots(w, msg.retired);
  }

  /**
   * Slots a thread retired (StatsStore.retire: a removed cluster's stats). A stat no thread maps
   * any more is dropped: it leaves the snapshots, and its name, if it comes back, is a new stat
   * starting at zero (as Envoy's stats of a cluster removed and added again).
   */
  private retireSlots(w: WorkerView, slots: readonly number[]): void {
    const ids = new Set<number>();
    for (const slot of slots) {
      if (slot >= w.count || w.ids[slot] < 0) continue;
      ids.add(w.ids[slot]);
      w.ids[slot] = -1;
    }
    if (ids.size === 0) return;
    for (const other of this.workers.values()) {
      for (let i = 0; i < other.count; i++) if (ids.has(other.ids[i])) ids.delete(other.ids[i]);
    }
    for (const id of ids) {
      const name = this.idNames[id];
      this.nameToId.delete(name);
      this.retiredHistograms.delete(name);
      this.idNames[id] = '';
      this.idKinds[id] = DEAD;
      this.retired[id] = 0;
      this.resetBase[id] = 0;
    }
  }

  /**
   * Registers a store living on this (main) thread: its layout is applied synchronously and its
   * histograms are read directly. Used for `server.*` stats.
   */
  attachLocal(store: StatsStore, workerId: WorkerId = 'main'): void {
    this.locals.set(workerId, store);
    store.setPostLayout((msg) => this.applyLayout(workerId, msg));
    store.flushLayout();
  }

  /**
   * Folds a dead or replaced worker's last counter values and histograms into the retired base and
   * forgets it. Call before (or instead of) applying the replacement's layout under the same id.
   */
  retireWorker(workerId: WorkerId): void {
    const w = this.workers.get(workerId);
    if (!w) return;
    for (let s = 0; s < w.count; s++) {
      const id = w.ids[s];
      if (id < 0) continue;
      const kind = this.idKinds[id];
      if (kind === StatKind.Counter || kind === StatKind.Histogram) this.retired[id] += w.views[s >> 10][s & (STATS_PAGE_SLOTS - 1)];
    }
    for (const e of w.lastHistograms) {
      let m = this.retiredHistograms.get(e.name);
      if (!m) this.retiredHistograms.set(e.name, (m = emptyMerged()));
      mergeExport(m, e);
    }
    this.workers.delete(workerId);
    this.locals.delete(workerId);
  }

  /** Ids of the workers whose layouts are known. */
  workerIds(): WorkerId[] {
    return [...this.workers.keys()];
  }

  /**
   * Admin `/reset_counters`: counters read as zero from now on (workers keep counting; the current
   * totals become the base subtracted from later snapshots).
   */
  resetCounters(): void {
    const sums = this.sums();
    for (let id = 0; id < this.idNames.length; id++) {
      if (this.idKinds[id] === StatKind.Counter) this.resetBase[id] = sums[id];
    }
  }

  /** Counters and gauges only, read synchronously from the shared pages. */
  snapshotCountersAndGauges(): { counters: Map<string, number>; gauges: Map<string, number> } {
    const sums = this.sums();
    const counters = new Map<string, number>();
    const gauges = new Map<string, number>();
    for (let id = 0; id < this.idNames.length; id++) {
      const kind = this.idKinds[id];
      if (kind === StatKind.Counter) counters.set(this.idNames[id], sums[id] - this.resetBase[id]);
      else if (kind === StatKind.Gauge) gauges.set(this.idNames[id], sums[id]);
    }
    return { counters, gauges };
  }

  /** Counters, gauges and merged histograms (asks workers for their histograms). */
  async snapshot(): Promise<StatsSnapshot> {
    await this.refreshHistograms();
    const { counters, gauges } = this.snapshotCountersAndGauges();
    const histograms = new Map<string, MergedHistogram>();
    for (let id = 0; id < this.idNames.length; id++) {
      if (this.idKinds[id] === StatKind.Histogram) histograms.set(this.idNames[id], emptyMerged());
    }
    for (const [name, m] of this.retiredHistograms) {
      const into = histograms.get(name);
      if (into) mergeInto(into, m);
    }
    for (const w of this.workers.values()) {
      for (const e of w.lastHistograms) {
        const into = histograms.get(e.name);
        if (into) mergeExport(into, e);
      }
    }
    return { counters, gauges, histograms };
  }

  private async refreshHistograms(): Promise<void> {
    for (const [id, store] of this.locals) {
      const w = this.workers.get(id);
      if (w) w.lastHistograms = store.exportHistograms();
    }
    const req = this.opts.requestHistograms;
    if (!req) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<WorkerHistograms[]>((resolve) => {
      timer = setTimeout(() => resolve([]), this.opts.histogramTimeoutMs ?? 2000);
    });
    try {
      const answers = await Promise.race([req(), timeout]);
      for (const a of answers) {
        const w = this.workers.get(a.workerId);
        if (w) w.lastHistograms = a.histograms;
      }
    } catch {
      // keep the last answers
    } finally {
      clearTimeout(timer);
    }
  }

  private sums(): Float64Array {
    const n = this.idNames.length;
    const sums = new Float64Array(n);
    sums.set(this.retired.subarray(0, n));
    for (const w of this.workers.values()) {
      const { views, ids, count } = w;
      for (let s = 0; s < count; s++) {
        const id = ids[s];
        if (id >= 0) sums[id] += views[s >> 10][s & (STATS_PAGE_SLOTS - 1)];
      }
    }
    return sums;
  }

  private idFor(name: string, kind: StatKindCode): number {
    let id = this.nameToId.get(name);
    if (id !== undefined) return id;
    id = this.idNames.length;
    this.nameToId.set(name, id);
    this.idNames.push(name);
    this.idKinds.push(kind);
    if (id >= this.retired.length) {
      const r = new Float64Array(this.retired.length * 2);
      r.set(this.retired);
      this.retired = r;
      const b = new Float64Array(this.resetBase.length * 2);
      b.set(this.resetBase);
      this.resetBase = b;
    }
    return id;
  }
}
