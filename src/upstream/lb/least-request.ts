/**
 * LEAST_REQUEST (Envoy `LeastRequestLoadBalancer`, source/extensions/load_balancing_policies/
 * least_request/least_request_lb.cc).
 * - Equal weights: N random choices (`least_request_lb_config.choice_count`, default 2), keeping
 *   the host with strictly fewer `activeRequests` (Envoy's N_CHOICES selection method).
 * - Unequal weights: EDF where each host is re-inserted with
 *   `weight / (activeRequests + 1) ^ active_request_bias` (`active_request_bias.default_value`,
 *   default 1.0; 0 behaves as weighted round robin).
 * FULL_SCAN selection, slow start and pending-request counting are not implemented.
 */

import { ConfigError } from '../../common/errors';
import type { Cluster } from '../../config/model';
import type { Host } from '../cluster/host';
import { EdfScheduler, type EdfWeightFn } from './edf-scheduler';
import { EMPTY_PICKER, weightsAreEqual, type HostPicker, type LbBuildOptions, type LbContext, type LbFactory } from './types';

/** Parsed `least_request_lb_config`. */
export interface LeastRequestConfig {
  /** Random choices per pick, ≥ 2 (Envoy default 2). */
  choiceCount: number;
  /** Exponent applied to (active + 1) in the weighted case (Envoy default 1.0). */
  activeRequestBias: number;
}

class NChoicesPicker implements HostPicker {
  constructor(
    private readonly hosts: readonly Host[],
    private readonly choiceCount: number,
    private readonly random: () => number,
  ) {}
  chooseHost(ctx: LbContext | undefined): Host | null {
    const hosts = this.hosts;
    const n = hosts.length;
    const random = ctx?.random ?? this.random;
    let candidate = hosts[Math.floor(random() * n)];
    for (let c = 1; c < this.choiceCount; c++) {
      const sampled = hosts[Math.floor(random() * n)];
      if (sampled.activeRequests < candidate.activeRequests) candidate = sampled;
    }
    return candidate;
  }
}

class WeightedLeastRequestPicker implements HostPicker {
  constructor(private readonly edf: EdfScheduler) {}
  chooseHost(_ctx: LbContext | undefined): Host | null {
    return this.edf.pickAndAdd();
  }
}

function weightFn(bias: number): EdfWeightFn {
  if (bias === 0) return (h) => h.weight;
  if (bias === 1) return (h) => h.weight / (h.activeRequests + 1);
  return (h) => h.weight / Math.pow(h.activeRequests + 1, bias);
}

/** LEAST_REQUEST factory. */
export const leastRequest: LbFactory<LeastRequestConfig> = {
  name: 'LEAST_REQUEST',
  parseConfig(cluster: Cluster): LeastRequestConfig {
    const c = cluster.least_request_lb_config;
    const choiceCount = c?.choice_count ?? 2;
    if (!Number.isInteger(choiceCount) || choiceCount < 2) {
      throw new ConfigError(`least_request_lb_config.choice_count must be an integer >= 2, got ${choiceCount}`, { path: `clusters[${cluster.name}].least_request_lb_config.choice_count` });
    }
    const activeRequestBias = c?.active_request_bias?.default_value ?? 1.0;
    if (!Number.isFinite(activeRequestBias) || activeRequestBias < 0) {
      throw new ConfigError(`least_request_lb_config.active_request_bias must be >= 0, got ${activeRequestBias}`, { path: `clusters[${cluster.name}].least_request_lb_config.active_request_bias` });
    }
    return { choiceCount, activeRequestBias };
  },
  build(hosts: readonly Host[], config: LeastRequestConfig, opts: LbBuildOptions): HostPicker {
    if (hosts.length === 0) return EMPTY_PICKER;
    if (weightsAreEqual(hosts)) return new NChoicesPicker(hosts, config.choiceCount, opts.random);
    return new WeightedLeastRequestPicker(new EdfScheduler(hosts, weightFn(config.activeRequestBias), opts.seed));
  },
};
