/**
 * google.protobuf.Duration helpers. The config normaliser turns every Duration into the proto3-JSON
 * string form (`"0.250s"`); workers convert to milliseconds once, at compile time.
 */

/** A Duration as the user or xDS may write it. */
export type DurationInput = string | { seconds?: number | string; nanos?: number } | number;

const DURATION_RE = /^(-?\d+(?:\.\d+)?)(s|ms|us|ns|m|h)$/;

/**
 * Parses a Duration into milliseconds (may be fractional).
 * Accepts `"0.25s"` (proto3 JSON), `"100ms"`/`"1m"`/`"1h"` (common in tutorials), `{seconds, nanos}`
 * (proto form, as xDS decodes it) and a bare number of seconds.
 * @returns milliseconds, or `undefined` if the input is not a duration.
 */
export function parseDurationMs(input: DurationInput): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input * 1000 : undefined;
  if (typeof input === 'string') {
    const m = DURATION_RE.exec(input.trim());
    if (!m) return undefined;
    const n = Number(m[1]);
    switch (m[2]) {
      case 's': return n * 1000;
      case 'ms': return n;
      case 'us': return n / 1000;
      case 'ns': return n / 1e6;
      case 'm': return n * 60_000;
      case 'h': return n * 3_600_000;
    }
    return undefined;
  }
  if (input && typeof input === 'object') {
    const s = Number(input.seconds ?? 0);
    const ns = Number(input.nanos ?? 0);
    if (!Number.isFinite(s) || !Number.isFinite(ns)) return undefined;
    return s * 1000 + ns / 1e6;
  }
  return undefined;
}

/** Formats milliseconds as a canonical proto3-JSON Duration string (`"0.250s"`, `"15s"`). */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (Number.isInteger(s)) return `${s}s`;
  return `${s.toFixed(9).replace(/0+$/, '')}s`;
}

/**
 * Milliseconds of a canonical Duration string from the snapshot, or `dflt` when absent.
 * @throws Error if the string is not a Duration (the validator guarantees it is).
 */
export function durationMs(d: string | undefined, dflt: number): number {
  if (d === undefined) return dflt;
  const ms = parseDurationMs(d);
  if (ms === undefined) throw new Error(`invalid duration ${JSON.stringify(d)}`);
  return ms;
}
