/**
 * Earliest Deadline First scheduler for weighted round robin and weighted least request, after
 * Envoy's `source/common/upstream/edf_scheduler.h`: each pick takes the entry with the earliest
 * deadline (ties: the one inserted first), advances the scheduler's time to that deadline and
 * re-inserts the entry at `time + 1 / weight`. Deterministic.
 *
 * Entries never leave (a picker is rebuilt when the host list changes), so the min-heap is a fixed
 * set of typed arrays: a pick replaces the root and sifts it down. O(log n), no allocation.
 */

import type { Host } from '../cluster/host';

/** Weight of an entry (a host, or a locality) at (re)insertion time; must be > 0. */
export type EdfWeightFn<T = Host> = (entry: T) => number;

/**
 * Envoy's `EdfScheduler<T>` restricted to pickAndAdd (no peek/preconnect). `T` is a Host for the
 * weighted LBs, a locality entry for locality-weighted balancing (`HostSetImpl::chooseLocality`).
 */
export class EdfScheduler<T = Host> {
  private readonly hosts: readonly T[];
  private readonly weight: EdfWeightFn<T>;
  private readonly deadline: Float64Array;
  private readonly order: Float64Array;
  private readonly entry: Int32Array;
  private readonly size: number;
  private currentTime = 0;
  private orderOffset = 0;

  /**
   * Builds the schedule as if `picks` picks had been made from an empty scheduler with all
   * entries added in order (Envoy `EdfScheduler::createWithPicks`, including its 1e-13 epsilon and
   * the floor-pick correction). `picks` is reduced modulo 429496729 as Envoy does.
   */
  constructor(hosts: readonly T[], weight: EdfWeightFn<T>, picks = 0) {
    const n = hosts.length;
    this.hosts = hosts;
    this.weight = weight;
    this.size = n;
    this.deadline = new Float64Array(n);
    this.order = new Float64Array(n);
    this.entry = new Int32Array(n);
    if (n === 0) return;
    picks = (picks >>> 0) % 429496729;
    const w = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      w[i] = weight(hosts[i]) + 1e-13;
      sum += w[i];
    }
    let picksSoFar = 0;
    let maxPickTime = 0;
    for (let i = 0; i < n; i++) {
      let floorPicks = Math.floor((w[i] * picks) / sum);
      if (floorPicks > 0 && floorPicks / w[i] >= picks / sum) floorPicks--;
      this.deadline[i] = (floorPicks + 1) / w[i];
      this.order[i] = i;
      this.entry[i] = i;
      maxPickTime = Math.max(maxPickTime, floorPicks / w[i]);
      picksSoFar += floorPicks;
    }
    this.currentTime = maxPickTime;
    this.orderOffset = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i);
    while (picksSoFar < picks) {
      this.pickAndAdd();
      picksSoFar++;
    }
  }

  /** Picks the entry with the earliest deadline and re-adds it with its current weight. */
  pickAndAdd(): T | null {
    if (this.size === 0) return null;
    const host = this.hosts[this.entry[0]];
    this.currentTime = this.deadline[0];
    this.deadline[0] = this.currentTime + 1 / this.weight(host);
    this.order[0] = this.orderOffset++;
    this.siftDown(0);
    return host;
  }

  private less(a: number, b: number): boolean {
    const da = this.deadline[a];
    const db = this.deadline[b];
    return da < db || (da === db && this.order[a] < this.order[b]);
  }

  private siftDown(i: number): void {
    const n = this.size;
    const dl = this.deadline;
    const ord = this.order;
    const ent = this.entry;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      let m = l;
      if (l + 1 < n && this.less(l + 1, l)) m = l + 1;
      if (!this.less(m, i)) return;
      const d = dl[i]; dl[i] = dl[m]; dl[m] = d;
      const o = ord[i]; ord[i] = ord[m]; ord[m] = o;
      const e = ent[i]; ent[i] = ent[m]; ent[m] = e;
      i = m;
    }
  }
}
