/**
 * Coarse shared timers for per-request deadlines (route timeout, stream idle timeout), as undici's
 * lib/util/timers.js: one native timer per thread ticking every {@link TICK_MS} while any deadline is
 * armed, instead of one `setTimeout` per request. Precision is ±TICK_MS, which is fine for deadlines
 * measured in hundreds of milliseconds or more.
 */

import { eventNow } from './read-event';

/** Resolution of the shared clock in ms. */
export const TICK_MS = 50;

/** A reusable deadline. Arm with {@link CoarseTimer.arm}, disarm with {@link CoarseTimer.disarm}. */
export class CoarseTimer {
  /** Absolute deadline (ms since epoch per `performance.now()` base), 0 when disarmed. */
  deadline = 0;
  /** `performance.now()` at the last arm(). */
  armedAt = 0;
  /** Index in the active list, -1 when not listed. */
  index = -1;
  constructor(public onTimeout: (arg: unknown) => void, public arg: unknown = undefined) {}
  /**
   * Arms (or re-arms) the timer to fire after `ms` milliseconds. `ms <= 0` disarms.
   * @param at the current `performance.now()` when the caller has just read it (saves a clock read).
   */
  arm(ms: number, at?: number): void {
    if (ms <= 0) return this.disarm();
    // A fresh clock (the read event's: microseconds old): the cached one may be a tick old, which
    // would fire up to TICK_MS early.
    this.armedAt = now = at ?? eventNow();
    this.deadline = now + ms;
    if (this.index === -1) add(this);
  }
  /**
   * Re-arms an idle timeout on activity. A timeout of 10 s or more armed since the last tick is
   * left as it is (it fires at most TICK_MS early, 0.5%), which saves a clock read per body write.
   */
  touch(ms: number): void {
    if (ms >= 10_000 && this.index !== -1 && this.armedAt >= now) return;
    this.arm(ms);
  }
  /** Disarms; the callback will not run. */
  disarm(): void {
    this.deadline = 0;
    if (this.index !== -1) remove(this);
  }
}

let now = performance.now();
const active: CoarseTimer[] = [];

/**
 * The shared clock without a clock read (`performance.now()` ms as of the last tick or arm): at
 * most TICK_MS old while any timer is armed. For timestamps that only feed coarse timeouts.
 */
export function coarseNow(): number {
  return now;
}
let handle: NodeJS.Timeout | null = null;

function add(t: CoarseTimer): void {
  t.index = active.length;
  active.push(t);
  if (handle === null) {
    now = performance.now();
    handle = setTimeout(tick, TICK_MS);
    handle.unref();
  }
}

function remove(t: CoarseTimer): void {
  const last = active.pop()!;
  if (last !== t) {
    active[t.index] = last;
    last.index = t.index;
  }
  t.index = -1;
}

function tick(): void {
  now = performance.now();
  for (let i = 0; i < active.length; ) {
    const t = active[i];
    if (t.deadline !== 0 && t.deadline <= now) {
      remove(t);
      t.deadline = 0;
      try {
        t.onTimeout(t.arg);
      } catch (err) {
        queueMicrotask(() => { throw err; });
      }
      // the slot now holds another timer (or the list shrank): do not advance
      continue;
    }
    i++;
  }
  if (active.length > 0) {
    handle = setTimeout(tick, TICK_MS);
    handle.unref();
  } else {
    handle = null;
  }
}
