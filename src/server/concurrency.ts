/**
 * Default worker count: the container's CPU limit (cgroup v2 `cpu.max`, or v1
 * `cpu.cfs_quota_us`/`cpu.cfs_period_us`) rounded up, else the CPUs this process may use.
 * Envoy defaults to all host cores, which over-subscribes a Pod with a CPU limit.
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

/** CPU limit from cgroups, or undefined when unlimited or unreadable. `root` is for tests. */
export function cgroupCpuLimit(root = '/sys/fs/cgroup'): number | undefined {
  try {
    const [quota, period] = readFileSync(`${root}/cpu.max`, 'utf8').trim().split(/\s+/);
    if (quota !== 'max') {
      const q = Number(quota);
      const p = Number(period ?? 100000);
      if (q > 0 && p > 0) return q / p;
    }
    return undefined;
  } catch {
    /* not cgroup v2 */
  }
  try {
    const q = Number(readFileSync(`${root}/cpu/cpu.cfs_quota_us`, 'utf8').trim());
    const p = Number(readFileSync(`${root}/cpu/cpu.cfs_period_us`, 'utf8').trim());
    if (q > 0 && p > 0) return q / p;
  } catch {
    /* no cgroup v1 cpu controller */
  }
  return undefined;
}

/** The default `--concurrency`: ceil(cgroup limit) capped by available CPUs; at least 1. */
export function defaultConcurrency(root?: string): { value: number; source: string } {
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const limit = cgroupCpuLimit(root);
  if (limit !== undefined) return { value: Math.max(1, Math.min(cpus, Math.ceil(limit))), source: `cgroup CPU limit ${limit}` };
  return { value: Math.max(1, cpus), source: `${cpus} available CPUs` };
}
