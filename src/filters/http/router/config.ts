/**
 * Factory for envoy.filters.http.router (envoy.extensions.filters.http.router.v3.Router).
 * Accepted fields: `suppress_envoy_headers`; others in the proto are ignored (the config validator
 * warns about them).
 */
import type { HttpFilterFactory } from '../../../http/filter';
import { RouterFilter, type RouterConfig } from './router-filter';
import { httpConnManagerStats } from '../../../stats/common-stats';

export const routerFilterFactory: HttpFilterFactory = {
  name: 'envoy.filters.http.router',
  aliases: ['envoy.router'],
  typeUrls: [
    'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
    'type.googleapis.com/envoy.config.filter.http.router.v2.Router',
  ],
  terminal: true,
  create(config, ctx) {
    const cfg: RouterConfig = Object.freeze({
      clusterManager: ctx.services.clusterManager,
      suppressEnvoyHeaders: config.suppress_envoy_headers === true,
      stats: httpConnManagerStats(ctx.services.stats, ctx.statPrefix),
    });
    return (decoder) => new RouterFilter(cfg, decoder);
  },
};
