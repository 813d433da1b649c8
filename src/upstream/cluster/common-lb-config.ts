/**
 * The parts of `Cluster.common_lb_config` (envoy.config.cluster.v3.Cluster.CommonLbConfig) attache
 * implements: `healthy_panic_threshold` and `locality_weighted_lb_config`. (`consistent_hashing_lb_config.
 * use_hostname_for_hashing` is read by the hashing LBs, src/upstream/lb/ring-hash.ts.) The other
 * fields are warned about as ignored by the config checker (src/config/implemented.ts).
 */

import { ConfigError } from '../../common/errors';
import type { Cluster } from '../../config/model';
import { DEFAULT_HEALTHY_PANIC_THRESHOLD } from './priority-set';

/** Parsed `common_lb_config`. */
export interface CommonLbSettings {
  /**
   * `healthy_panic_threshold` (envoy.type.v3.Percent) rounded to an integer percent, as Envoy's
   * `PROTOBUF_PERCENT_TO_ROUNDED_INTEGER_OR_DEFAULT(common_lb_config, healthy_panic_threshold, 100,
   * 50)`; default 50; 0 disables panic mode.
   */
  readonly panicThreshold: number;
  /** `locality_weighted_lb_config` is present (an empty message enables it). */
  readonly localityWeighted: boolean;
}

/**
 * Reads a cluster's `common_lb_config` with Envoy's defaults.
 * @throws ConfigError when `healthy_panic_threshold.value` is not a number in [0, 100] (Envoy's
 *   Percent validation).
 */
export function commonLbSettings(cluster: Cluster): CommonLbSettings {
  const c = cluster.common_lb_config as { healthy_panic_threshold?: { value?: unknown } | number; locality_weighted_lb_config?: unknown } | undefined;
  let panicThreshold = DEFAULT_HEALTHY_PANIC_THRESHOLD;
  const t = c?.healthy_panic_threshold;
  if (t !== undefined && t !== null) {
    const v = typeof t === 'number' ? t : (t.value ?? 0);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) {
      throw new ConfigError(`common_lb_config.healthy_panic_threshold.value must be a percentage in [0, 100], got ${JSON.stringify(v)}`, { path: `clusters[${cluster.name}].common_lb_config.healthy_panic_threshold` });
    }
    panicThreshold = Math.round(v);
  }
  const lw = c?.locality_weighted_lb_config;
  return { panicThreshold, localityWeighted: lw !== undefined && lw !== null };
}
