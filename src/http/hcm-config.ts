/**
 * Compiles an HttpConnectionManager (model.ts) into the immutable per-worker {@link HcmConfig} the
 * connection manager reads on every request: filter factories resolved from the registry, the route
 * table compiled once, limits and header options with Envoy's defaults
 * (envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager).
 */
import { ConfigError } from '../common/errors';
import { durationMs } from '../common/duration';
import type { HttpConnectionManager } from '../config/model';
import type { RouteConfigProviders } from './rds-providers';
import { httpFilterRegistry } from '../filters/http';
import { compileRouteTable, type RouteTable } from '../router';
import { configHeaderValue } from '../router/headers';
import { httpConnManagerStats, type HttpConnManagerStats } from '../stats/common-stats';
import type { ActiveStream } from './active-stream';
import type { HttpFilterFactoryCb, WorkerServices } from './filter';
import { compileAccessLogs } from './access-log-sink';

/** Per-worker compiled HCM. Frozen; replaced whole on a config change. */
export interface HcmConfig {
  readonly statPrefix: string;
  /** The route table in force (RDS tables can be swapped under a fixed HcmConfig). */
  readonly routeTable: () => RouteTable | null;
  readonly filterFactories: readonly HttpFilterFactoryCb[];
  readonly serverName: string;
  readonly serverHeaderTransformation: 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH';
  /** bytes; `max_request_headers_kb` × 1024, default 60 KiB. */
  readonly maxRequestHeadersBytes: number;
  /** `common_http_protocol_options.max_headers_count`, default 100. */
  readonly maxHeadersCount: number;
  readonly acceptHttp10: boolean;
  readonly defaultHostForHttp10: string;
  readonly useRemoteAddress: boolean;
  readonly skipXffAppend: boolean;
  readonly xffNumTrustedHops: number;
  readonly generateRequestId: boolean;
  readonly preserveExternalRequestId: boolean;
  readonly alwaysSetRequestIdInResponse: boolean;
  readonly via: string;
  /** `normalize_path` (RFC 3986 normalisation before routing), default false. */
  readonly normalizePath: boolean;
  /** `merge_slashes`, default false. */
  readonly mergeSlashes: boolean;
  /** `stream_idle_timeout` in ms (default 300000; 0 disables). */
  readonly streamIdleTimeoutMs: number;
  /**
   * `common_http_protocol_options.idle_timeout` in ms (default 3600000; 0 disables): a downstream
   * connection with no request in flight for this long is closed (`downstream_cx_idle_timeout`).
   */
  readonly idleTimeoutMs: number;
  /**
   * `http_protocol_options.enable_trailers` (Http1ProtocolOptions), default false: the downstream
   * HTTP/1 codec drops request trailers and does not write response trailers, as Envoy's.
   */
  readonly enableTrailers: boolean;
  /** upgrade type (lowercase) → enabled, from `upgrade_configs`. */
  readonly upgrades: ReadonlyMap<string, boolean>;
  readonly accessLogs: ReadonlyArray<(s: ActiveStream) => void>;
  readonly stats: HttpConnManagerStats;
}

/** Inputs for {@link compileHcm}. */
export interface HcmCompileContext {
  readonly services: WorkerServices;
  /** Path for error messages, e.g. `listeners[0].filter_chains[0].filters[0]`. */
  readonly path: string;
  /** RDS route tables by name (stable accessors; tables swap under them). */
  readonly rds: RouteConfigProviders;
}

/**
 * @throws ConfigError for an unknown filter or `@type` (unless `is_optional`), a terminal filter not
 * last, or an invalid route configuration.
 */
export function compileHcm(hcm: HttpConnectionManager, ctx: HcmCompileContext): HcmConfig {
  const factories: HttpFilterFactoryCb[] = [];
  const filters = hcm.http_filters ?? [];
  filters.forEach((f, i) => {
    const path = `${ctx.path}.http_filters[${i}]`;
    if (f.disabled) return;
    const typeUrl = f.typed_config?.['@type'];
    const factory = httpFilterRegistry.lookup(typeUrl, f.name);
    if (factory === undefined) {
      if (f.is_optional) return;
      throw new ConfigError(`Didn't find a registered implementation for '${f.name}' with type URL: '${typeUrl ?? ''}'`, {
        path,
        hint: `attache implements: ${httpFilterRegistry.names().join(', ')}; set is_optional: true to skip a filter attache lacks`,
      });
    }
    if (factory.terminal && i !== filters.length - 1) {
      throw new ConfigError(`the terminal filter ${factory.name} must be the last http filter`, { path });
    }
    const { '@type': _t, ...cfg } = (f.typed_config ?? {}) as Record<string, unknown>;
    factories.push(factory.create(cfg, { services: ctx.services, path, statPrefix: hcm.stat_prefix }));
  });
  if (factories.length === 0 || !isTerminal(filters[filters.length - 1]?.name, filters[filters.length - 1]?.typed_config?.['@type'])) {
    throw new ConfigError('the last http filter must be a terminal filter (envoy.filters.http.router)', { path: `${ctx.path}.http_filters` });
  }
  let routeTable: () => RouteTable | null;
  if (hcm.route_config !== undefined) {
    const table = compileRouteTable(hcm.route_config, { pathPrefix: `${ctx.path}.route_config` });
    routeTable = () => table;
  } else if (hcm.rds !== undefined) {
    routeTable = ctx.rds.accessor(hcm.rds.route_config_name);
  } else {
    throw new ConfigError('one of route_config or rds is required', { path: ctx.path });
  }
  const upgrades = new Map<string, boolean>();
  for (const u of hcm.upgrade_configs ?? []) upgrades.set(u.upgrade_type.toLowerCase(), u.enabled ?? true);
  return Object.freeze({
    statPrefix: hcm.stat_prefix,
    routeTable,
    filterFactories: Object.freeze(factories),
    serverName: configHeaderValue(hcm.server_name ?? 'envoy', `${ctx.path}.server_name`),
    serverHeaderTransformation: hcm.server_header_transformation ?? 'OVERWRITE',
    maxRequestHeadersBytes: (hcm.max_request_headers_kb ?? 60) * 1024,
    maxHeadersCount: hcm.common_http_protocol_options?.max_headers_count ?? 100,
    acceptHttp10: hcm.http_protocol_options?.accept_http_10 ?? false,
    defaultHostForHttp10: hcm.http_protocol_options?.default_host_for_http_10 ?? '',
    useRemoteAddress: hcm.use_remote_address ?? false,
    skipXffAppend: hcm.skip_xff_append ?? false,
    xffNumTrustedHops: hcm.xff_num_trusted_hops ?? 0,
    generateRequestId: hcm.generate_request_id ?? true,
    preserveExternalRequestId: hcm.preserve_external_request_id ?? false,
    alwaysSetRequestIdInResponse: hcm.always_set_request_id_in_response ?? false,
    via: configHeaderValue(hcm.via ?? '', `${ctx.path}.via`),
    normalizePath: hcm.normalize_path ?? false,
    mergeSlashes: hcm.merge_slashes ?? false,
    streamIdleTimeoutMs: durationMs(hcm.stream_idle_timeout, 300_000),
    idleTimeoutMs: durationMs(hcm.common_http_protocol_options?.idle_timeout, 3_600_000),
    enableTrailers: hcm.http_protocol_options?.enable_trailers ?? false,
    upgrades,
    accessLogs: compileAccessLogs(hcm.access_log ?? [], `${ctx.path}.access_log`),
    stats: httpConnManagerStats(ctx.services.stats, hcm.stat_prefix),
  });
}

function isTerminal(name: string | undefined, typeUrl: string | undefined): boolean {
  const f = httpFilterRegistry.lookup(typeUrl, name);
  return f?.terminal === true;
}
