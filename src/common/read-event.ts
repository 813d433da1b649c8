/**
 * The socket read event being handled: everything a request does in reaction to one read (parse,
 * route, write upstream; or parse the response, write it downstream, finish the stream) happens
 * within microseconds, inside one `onread` callback (common/socket-reads.ts). Two things use that:
 *
 * - **One clock read per event.** {@link eventNow} returns the monotonic time read when the event
 *   began instead of reading the clock again (a stream used to read it five to eight times). The
 *   timestamps it serves (StreamInfo's start/upstream/end times, idle deadlines) have millisecond
 *   resolution in Envoy's stats and access logs (`downstream_rq_time`, `%DURATION%`). Outside an
 *   event (timers, ticks) it reads the clock.
 * - **Work at the end of the event.** {@link atReadEnd} runs a callback once the event's handler
 *   returns, e.g. a response head held back for the body bytes of the same read: it leaves then,
 *   with no `process.nextTick` (whose tick machinery allocates) per response. Outside an event it
 *   falls back to `process.nextTick`.
 */

const perf = performance;

let inEvent = false;
let eventMono = 0;
// Work queued for the end of the event: entries [0, endCount) (reused slots, no length resets:
// setting an array's length is a runtime call).
const endFns: Array<(arg: unknown) => void> = [];
const endArgs: unknown[] = [];
let endCount = 0;

/**
 * `performance.now()` (ms, monotonic, fractional) as of the start of the read event being
 * handled; a fresh read outside one.
 */
export function eventNow(): number {
  return inEvent ? eventMono : perf.now();
}

/** Runs `fn(arg)` when the read event being handled ends (`process.nextTick` outside one). */
export function atReadEnd<T>(fn: (arg: T) => void, arg: T): void {
  if (!inEvent) {
    process.nextTick(fn, arg);
    return;
  }
  endFns[endCount] = fn as (arg: unknown) => void;
  endArgs[endCount++] = arg;
}

/**
 * Handles one read event: `deliver(chunk)` with the event's clock set, then the work queued by
 * {@link atReadEnd}. Events do not nest (libuv calls read callbacks from the loop only); a nested
 * call is handled as part of the outer event.
 */
export function inReadEvent(deliver: (chunk: Buffer) => void, chunk: Buffer): void {
  if (inEvent) {
    deliver(chunk);
    return;
  }
  inEvent = true;
  eventMono = perf.now();
  try {
    deliver(chunk);
  } finally {
    inEvent = false;
    if (endCount !== 0) runEnd();
  }
}

function runEnd(): void {
  // A callback may queue more (outside the event now, they go to nextTick).
  for (let i = 0; i < endCount; i++) {
    const fn = endFns[i];
    const arg = endArgs[i];
    endFns[i] = noop;
    endArgs[i] = undefined;
    try {
      fn(arg);
    } catch (err) {
      // Like an exception in a nextTick callback, but the rest of the queue still runs.
      process.nextTick(rethrow, err);
    }
  }
  endCount = 0;
}

function noop(): void {}

function rethrow(err: unknown): never {
  throw err;
}

// ---- wall clock ----------------------------------------------------------------------------------

/** Date.now() - performance.now(), re-read at most once a second (wall clock steps are followed within 1 s). */
let wallOffset = Date.now() - perf.now();
let wallCheckedAt = perf.now();

/**
 * Wall-clock ms since the epoch (integer, as Date.now()) at monotonic time `mono`
 * ({@link eventNow}'s clock): for `%START_TIME%` without a second clock read per stream.
 */
export function wallClockMs(mono: number): number {
  if (mono - wallCheckedAt >= 1000 || mono < wallCheckedAt) {
    wallCheckedAt = perf.now();
    wallOffset = Date.now() - wallCheckedAt;
  }
  return Math.floor(mono + wallOffset);
}
