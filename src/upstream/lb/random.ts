/**
 * RANDOM (Envoy `RandomLoadBalancer`, source/extensions/load_balancing_policies/random/
 * random_lb.cc): a uniformly random host of the list, weights ignored as in Envoy.
 */

import type { Cluster } from '../../config/model';
import type { Host } from '../cluster/host';
import { EMPTY_PICKER, type HostPicker, type LbBuildOptions, type LbContext, type LbFactory } from './types';

class RandomPicker implements HostPicker {
  constructor(
    private readonly hosts: readonly Host[],
    private readonly random: () => number,
  ) {}
  chooseHost(ctx: LbContext | undefined): Host | null {
    const random = ctx?.random ?? this.random;
    return this.hosts[Math.floor(random() * this.hosts.length)];
  }
}

/** RANDOM factory. */
export const random: LbFactory<null> = {
  name: 'RANDOM',
  parseConfig(_cluster: Cluster): null {
    return null;
  },
  build(hosts: readonly Host[], _config: null, opts: LbBuildOptions): HostPicker {
    if (hosts.length === 0) return EMPTY_PICKER;
    return new RandomPicker(hosts, opts.random);
  },
};
