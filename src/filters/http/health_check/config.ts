/**
 * Factory for envoy.filters.http.health_check (envoy.extensions.filters.http.health_check.v3.HealthCheck;
 * legacy name `envoy.health_check`). Fields: `pass_through_mode` (required by Envoy), `headers`
 * (HeaderMatcher list selecting health-check requests, usually `:path` exact `/healthz`).
 * `cache_time` and `cluster_min_healthy_percentages` are accepted and ignored (attache answers from
 * the local health-check state only).
 */
import { ConfigError } from '../../../common/errors';
import type { HeaderMatcher } from '../../../config/model';
import type { HttpFilterFactory } from '../../../http/filter';
import { CompiledHeaderMatcher } from '../../../router/matchers';
import { HealthCheckFilter, type HealthCheckConfig } from './health-check-filter';

/** The registered factory. @throws ConfigError (from create) when `pass_through_mode` is missing or a matcher is invalid. */
export const healthCheckFilterFactory: HttpFilterFactory = {
  name: 'envoy.filters.http.health_check',
  aliases: ['envoy.health_check'],
  typeUrls: [
    'type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck',
    'type.googleapis.com/envoy.config.filter.http.health_check.v2.HealthCheck',
  ],
  create(config, ctx) {
    const ptm = config.pass_through_mode;
    if (ptm === undefined || ptm === null) {
      throw new ConfigError('HealthCheck.pass_through_mode is required', { path: `${ctx.path}.typed_config.pass_through_mode` });
    }
    const passThrough = typeof ptm === 'object' ? (ptm as { value?: unknown }).value === true : ptm === true;
    const headers = (config.headers ?? []) as HeaderMatcher[];
    if (!Array.isArray(headers)) throw new ConfigError('HealthCheck.headers must be a list', { path: `${ctx.path}.typed_config.headers` });
    const matchers = headers.map((h, i) => new CompiledHeaderMatcher(h, `${ctx.path}.typed_config.headers[${i}]`));
    const cfg: HealthCheckConfig = Object.freeze({ matchers: Object.freeze(matchers), passThrough });
    return (decoder) => new HealthCheckFilter(cfg, decoder);
  },
};
