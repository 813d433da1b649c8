/** Shared timing loop of the micro-benchmarks: warm-up, then rounds of `fn`, best and median rate. */

/** Result of one scenario: operations per second (best of rounds) and the median. */
export interface BenchResult {
  name: string;
  bestPerSec: number;
  medianPerSec: number;
}

/**
 * Runs `fn` (which performs `perRound` operations) 3 times to warm up, then `rounds` times timed.
 * @returns operations/s: the best round and the median round
 */
export function measure(name: string, perRound: number, rounds: number, fn: () => void): BenchResult {
  for (let i = 0; i < 3; i++) fn();
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    const ns = Number(process.hrtime.bigint() - t0);
    rates.push((perRound * 1e9) / ns);
  }
  rates.sort((a, b) => a - b);
  return { name, bestPerSec: rates[rates.length - 1], medianPerSec: rates[rates.length >> 1] };
}
