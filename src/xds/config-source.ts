/**
 * Resolves an Envoy ConfigSource (envoy.config.core.v3.ConfigSource) to where its resources come
 * from: the ADS stream (`ads: {}`), a per-type gRPC service on a static cluster
 * (`api_config_source: {api_type: GRPC, grpc_services: [{envoy_grpc: {cluster_name}}]}`; the loader
 * already rewrote the v2 `cluster_names` form into this), or a file (`path`, or
 * `path_config_source.path`).
 *
 * The gRPC target is the first endpoint of the STATIC (or STRICT_DNS) cluster named by
 * `envoy_grpc.cluster_name`: `address:port_value` for a socket_address, or a grpc-js `unix:` target
 * for a `pipe` (a Unix domain socket, as the `xds-grpc` cluster of Istio's pilot-agent bootstrap:
 * `pipe: {path: ./etc/istio/proxy/XDS}`; a relative path is relative to the working directory, as
 * Envoy's). The channel is plain-text HTTP/2.
 */
import { ConfigError } from '../common/errors';
import { durationMs } from '../common/duration';
import type { Address, ApiConfigSource, Bootstrap, ConfigSource } from '../config/model';

/** Where a subscription's resources come from. */
export type ResolvedSource =
  | ({ kind: 'ads' } & ApiTarget)
  | ({ kind: 'grpc' } & ApiTarget)
  | { kind: 'path'; path: string };

/** The control plane of a gRPC source. */
export interface ApiTarget {
  /** grpc-js target: `host:port`, or `unix:<path>` for a pipe. */
  target: string;
  cluster: string;
  /**
   * ApiConfigSource `set_node_on_first_message_only` (default false: Envoy sends `node` on every
   * DiscoveryRequest; envoy/config/core/v3/config_source.proto).
   */
  setNodeOnFirstMessageOnly?: boolean;
}

/** Envoy's default `initial_fetch_timeout` (15 s); "0s" disables it (waits forever). */
export const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

/** A key equal for sources that share a stream (or file). */
export function sourceKey(s: ResolvedSource): string {
  return s.kind === 'path' ? `path:${s.path}` : s.kind === 'ads' ? 'ads' : `grpc:${s.target}`;
}

/**
 * The grpc-js target of a Unix socket path (envoy.config.core.v3.Pipe.path): `unix:<path>` for a
 * relative path, `unix://<path>` for an absolute one (grpc-js reads `unix:///abs` as `/abs`).
 * @throws ConfigError for an abstract socket (`@name`), which grpc-js cannot connect to.
 */
export function pipeTarget(pipePath: string, path: string): string {
  if (pipePath.startsWith('@')) throw new ConfigError(`xDS cluster pipe "${pipePath}" is an abstract socket, which attache's gRPC client cannot connect to`, { path, hint: 'use a filesystem path' });
  return pipePath.startsWith('/') ? `unix://${pipePath}` : `unix:${pipePath}`;
}

/**
 * The gRPC target of the static cluster `name`: `host:port` of its first endpoint, or `unix:<path>`
 * when that endpoint's address is a `pipe`.
 * @throws ConfigError when the cluster is not a static resource or has no endpoint.
 */
export function clusterTarget(bootstrap: Bootstrap, name: string, path: string): string {
  const c = (bootstrap.static_resources?.clusters ?? []).find((x) => x.name === name);
  if (!c) throw new ConfigError(`xDS cluster "${name}" is not a static cluster`, { path, hint: 'an xDS server must be reachable through a cluster in static_resources.clusters' });
  const address = c.load_assignment?.endpoints?.[0]?.lb_endpoints?.[0]?.endpoint?.address as Partial<Address> | undefined;
  if (address?.pipe?.path) return pipeTarget(address.pipe.path, `static_resources.clusters["${name}"].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.pipe.path`);
  const sa = address?.socket_address;
  if (!sa) throw new ConfigError(`xDS cluster "${name}" has no endpoint`, { path });
  const host = sa.address.includes(':') ? `[${sa.address}]` : sa.address;
  return `${host}:${sa.port_value ?? 0}`;
}

function apiTarget(bootstrap: Bootstrap, api: ApiConfigSource, path: string): ApiTarget {
  const cluster = api.grpc_services?.[0]?.envoy_grpc?.cluster_name ?? api.cluster_names?.[0];
  if (!cluster) throw new ConfigError('api_config_source names no cluster', { path, hint: 'set grpc_services: [{envoy_grpc: {cluster_name: xds_cluster}}]' });
  const firstOnly = api.set_node_on_first_message_only === true;
  return { target: clusterTarget(bootstrap, cluster, path), cluster, ...(firstOnly ? { setNodeOnFirstMessageOnly: true } : {}) };
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
