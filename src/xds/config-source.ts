/**
 * Resolves an Envoy ConfigSource (envoy.config.core.v3.ConfigSource) to where its resources come
 * from: the ADS stream (`ads: {}`), a per-type gRPC service on a static cluster
 * (`api_config_source: {api_type: GRPC, grpc_services: [{envoy_grpc: {cluster_name}}]}`; the loader
 * already rewrote the v2 `cluster_names` form into this), or a file (`path`, or
 * `path_config_source.path`).
 *
 * The gRPC target is the first endpoint (`address:port_value`) of the STATIC (or STRICT_DNS)
 * cluster named by `envoy_grpc.cluster_name`; the channel is plain-text HTTP/2.
 */
import { ConfigError } from '../common/errors';
import { durationMs } from '../common/duration';
import type { ApiConfigSource, Bootstrap, ConfigSource } from '../config/model';

/** Where a subscription's resources come from. */
export type ResolvedSource =
  | { kind: 'ads'; target: string; cluster: string }
  | { kind: 'grpc'; target: string; cluster: string }
  | { kind: 'path'; path: string };

/** Envoy's default `initial_fetch_timeout` (15 s); "0s" disables it (waits forever). */
export const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

/** A key equal for sources that share a stream (or file). */
export function sourceKey(s: ResolvedSource): string {
  return s.kind === 'path' ? `path:${s.path}` : s.kind === 'ads' ? 'ads' : `grpc:${s.target}`;
}

/**
 * The target (`host:port`) of the static cluster `name`.
 * @throws ConfigError when the cluster is not a static resource or has no endpoint.
 */
export function clusterTarget(bootstrap: Bootstrap, name: string, path: string): string {
  const c = (bootstrap.static_resources?.clusters ?? []).find((x) => x.name === name);
  if (!c) throw new ConfigError(`xDS cluster "${name}" is not a static cluster`, { path, hint: 'an xDS server must be reachable through a cluster in static_resources.clusters' });
  const sa = c.load_assignment?.endpoints?.[0]?.lb_endpoints?.[0]?.endpoint?.address?.socket_address;
  if (!sa) throw new ConfigError(`xDS cluster "${name}" has no endpoint`, { path });
  const host = sa.address.includes(':') ? `[${sa.address}]` : sa.address;
  return `${host}:${sa.port_value ?? 0}`;
}

function apiTarget(bootstrap: Bootstrap, api: ApiConfigSource, path: string): { target: string; cluster: string } {
  const cluster = api.grpc_services?.[0]?.envoy_grpc?.cluster_name ?? api.cluster_names?.[0];
  if (!cluster) throw new ConfigError('api_config_source names no cluster', { path, hint: 'set grpc_services: [{envoy_grpc: {cluster_name: xds_cluster}}]' });
  return { target: clusterTarget(bootstrap, cluster, path), cluster };
}

/**
 * Resolves a ConfigSource.
 * @param path the YAML path of the source, for errors
 * @throws ConfigError for REST and delta sources, `ads` without `dynamic_resources.ads_config`,
 *   and unreachable clusters
 */
export function resolveConfigSource(bootstrap: Bootstrap, cs: ConfigSource, path: string): ResolvedSource {
  const pcs = (cs as { path_config_source?: { path?: string } }).path_config_source;
  if (pcs?.path) return { kind: 'path', path: pcs.path };
  if (cs.path) return { kind: 'path', path: cs.path };
  if (cs.ads !== undefined) {
    const ads = bootstrap.dynamic_resources?.ads_config;
    if (!ads) throw new ConfigError('config source uses ads but dynamic_resources.ads_config is not set', { path });
    if (ads.api_type !== 'GRPC' && ads.api_type !== 'AGGREGATED_GRPC') {
      throw new ConfigError(`ads_config api_type ${ads.api_type} is not supported (attache speaks state-of-the-world GRPC)`, { path: 'dynamic_resources.ads_config.api_type' });
    }
    return { kind: 'ads', ...apiTarget(bootstrap, ads, 'dynamic_resources.ads_config') };
  }
  const api = cs.api_config_source;
  if (api) {
    if (api.api_type === 'AGGREGATED_GRPC') return resolveConfigSource(bootstrap, { ads: {} }, path);
    if (api.api_type !== 'GRPC') {
      throw new ConfigError(`api_type ${api.api_type} is not supported by attache`, { path: `${path}.api_config_source.api_type`, hint: 'use api_type: GRPC (state of the world), ads, or a path' });
    }
    return { kind: 'grpc', ...apiTarget(bootstrap, api, `${path}.api_config_source`) };
  }
  throw new ConfigError('config source has none of ads, api_config_source, path', { path });
}

/** `initial_fetch_timeout` of a source in ms (default 15 s; 0 = wait forever). */
export function initialFetchTimeoutMs(cs: ConfigSource | undefined): number {
  return durationMs(cs?.initial_fetch_timeout, DEFAULT_INITIAL_FETCH_TIMEOUT_MS);
}
