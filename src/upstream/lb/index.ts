/**
 * The load-balancer registry: `Cluster.lb_policy` → {@link LbFactory}. CLUSTER_PROVIDED and
 * LOAD_BALANCING_POLICY_CONFIG are not supported.
 */

import { ConfigError } from '../../common/errors';
import { xxhash64 } from '../../native';
import type { Cluster } from '../../config/model';
import { leastRequest } from './least-request';
import { maglev } from './maglev';
import { random } from './random';
import { ringHash } from './ring-hash';
import { roundRobin } from './round-robin';
import type { Hash64Fn, LbFactory } from './types';

export * from './types';
export { EdfScheduler } from './edf-scheduler';

/** Built-in policies by `lb_policy` name. */
export const LB_FACTORIES: ReadonlyMap<string, LbFactory<any>> = new Map<string, LbFactory<any>>([
  [roundRobin.name, roundRobin],
  [leastRequest.name, leastRequest],
  [random.name, random],
  [ringHash.name, ringHash],
  [maglev.name, maglev],
]);

/**
 * The factory for a cluster's `lb_policy` (default ROUND_ROBIN).
 * @throws ConfigError for unsupported policies.
 */
export function lbFactoryFor(cluster: Cluster, factories: ReadonlyMap<string, LbFactory<any>> = LB_FACTORIES): LbFactory<any> {
  const name = cluster.lb_policy ?? 'ROUND_ROBIN';
  const f = factories.get(name);
  if (f === undefined) {
    throw new ConfigError(`unsupported lb_policy ${name} (supported: ${[...factories.keys()].join(', ')})`, { path: `clusters[${cluster.name}].lb_policy` });
  }
  return f;
}

/** xxHash64 from src/native (the addon, else xxhash-wasm, else BigInt JS: identical answers). */
export const defaultXxhash64: Hash64Fn = xxhash64;
