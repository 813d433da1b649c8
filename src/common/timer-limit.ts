/**
 * Node's setTimeout() takes a signed 32-bit delay: anything above 2^31-1 ms (24.8 days) fires after
 * 1 ms with a TimeoutOverflowWarning. Envoy durations can be longer (`dns_refresh_rate: 2592000s`,
 * `initial_fetch_timeout`, `--drain-time-s`); a 24.8-day timer is as good as "never" for them.
 */

/** The longest delay setTimeout() honours (ms). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * A delay setTimeout() honours.
 * @param ms wanted delay (ms); NaN and negatives give 0
 * @returns `ms` clamped to [0, {@link MAX_TIMEOUT_MS}]
 */
export function clampTimeoutMs(ms: number): number {
  if (!(ms > 0)) return 0;
  return ms > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : ms;
}
