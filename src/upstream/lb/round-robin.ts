/**
 * ROUND_ROBIN (Envoy `RoundRobinLoadBalancer`, source/extensions/load_balancing_policies/
 * round_robin/round_robin_lb.h). Equal weights: plain rotation `hosts[index++ % n]`, the index
 * starting at the per-worker seed and carried across host-set rebuilds (Envoy keeps `rr_indexes_`
 * across refreshes). Unequal weights: the EDF scheduler, pre-picked `seed` times
 * (`EdfScheduler::createWithPicks(hosts, weight, seed_)`). Slow start is not implemented.
 */

import type { Cluster } from '../../config/model';
import type { Host } from '../cluster/host';
import { EdfScheduler } from './edf-scheduler';
import { EMPTY_PICKER, weightsAreEqual, type HostPicker, type LbBuildOptions, type LbContext, type LbFactory } from './types';

const staticWeight = (h: Host): number => h.weight;

/** Rotation over equally weighted hosts. */
class RoundRobinPicker implements HostPicker {
  index: number;
  constructor(private readonly hosts: readonly Host[], start: number) {
    this.index = start % hosts.length;
  }
  chooseHost(_ctx: LbContext | undefined): Host | null {
    const hosts = this.hosts;
    const i = this.index;
    this.index = i + 1 === hosts.length ? 0 : i + 1;
    return hosts[i];
  }
}

/** EDF over unequal static weights. */
class WeightedRoundRobinPicker implements HostPicker {
  constructor(private readonly edf: EdfScheduler) {}
  chooseHost(_ctx: LbContext | undefined): Host | null {
    return this.edf.pickAndAdd();
  }
}

/** Cursor a rebuilt RR picker inherits from the one it replaces. */
function previousIndex(prev: HostPicker | undefined): number | undefined {
  return prev instanceof RoundRobinPicker ? prev.index : undefined;
}

/** ROUND_ROBIN factory (no policy-specific config: `round_robin_lb_config.slow_start_config` ignored). */
export const roundRobin: LbFactory<null> = {
  name: 'ROUND_ROBIN',
  parseConfig(_cluster: Cluster): null {
    return null;
  },
  build(hosts: readonly Host[], _config: null, opts: LbBuildOptions): HostPicker {
    if (hosts.length === 0) return EMPTY_PICKER;
    if (weightsAreEqual(hosts)) return new RoundRobinPicker(hosts, previousIndex(opts.previous) ?? opts.seed >>> 0);
    return new WeightedRoundRobinPicker(new EdfScheduler(hosts, staticWeight, opts.seed));
  },
};
