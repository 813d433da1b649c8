/**
 * The dynamic half of `/config_dump` (envoy.admin.v3.ConfigDump): accepted xDS resources with the
 * version_info they came in and their last_updated time, the type's version_info, and the last
 * rejected update as `error_state` (envoy.admin.v3.UpdateFailureState: failed_configuration,
 * last_update_attempt, details, version_info) on the resources it named.
 */
import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from '../config/model';
import type { CachedResource, RejectedUpdate, ResourceCache } from './resource-cache';

const T = 'type.googleapis.com/';
const ADMIN = T + 'envoy.admin.v3.';

/** The four caches. */
export interface Caches {
  cds: ResourceCache<Cluster>;
  lds: ResourceCache<Listener>;
  rds: ResourceCache<RouteConfiguration>;
  eds: ResourceCache<ClusterLoadAssignment>;
}

/** Dynamic fields in the shape of src/admin/config-dump.ts `ConfigDumpInput`. */
export interface DynamicAdminView {
  dynamicClusters: Array<{ cluster: Cluster; versionInfo?: string; lastUpdatedMs?: number }>;
  clustersVersionInfo?: string;
  dynamicListeners: Array<{ listener: Listener; versionInfo?: string; lastUpdatedMs?: number }>;
  listenersVersionInfo?: string;
  dynamicRoutes: Array<{ routeConfig: RouteConfiguration; versionInfo?: string; lastUpdatedMs?: number }>;
  dynamicEndpoints: Array<{ endpointConfig: ClusterLoadAssignment; versionInfo?: string; lastUpdatedMs?: number }>;
}

const ts = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function clean(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function errorState(r: RejectedUpdate | undefined, name: string): Record<string, unknown> | undefined {
  if (!r || !r.names.includes(name)) return undefined;
  return { last_update_attempt: ts(r.timeMs), details: r.error, version_info: r.version };
}

function entries<T>(cache: ResourceCache<T>, make: (e: CachedResource<T> | undefined, name: string, err: Record<string, unknown> | undefined) => Record<string, unknown>): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const [name, e] of cache.items) out.push(make(e, name, errorState(cache.rejected, name)));
  // A rejected resource never accepted still shows, with only its error.
  for (const name of cache.rejected?.names ?? []) if (!cache.items.has(name)) out.push(make(undefined, name, errorState(cache.rejected, name)));
  return out;
}

/**
 * The four envoy.admin.v3 *ConfigDump messages with only dynamic entries.
 * @param isWarm whether a CDS cluster is active (else it is listed in dynamic_warming_clusters)
 */
export function buildDynamicDump(c: Caches, isWarm: (cluster: string) => boolean): Array<Record<string, unknown>> {
  const typed = (type: string, r: unknown) => (r === undefined ? undefined : { '@type': T + type, ...(r as object) });
  const cluster = (e: CachedResource<Cluster> | undefined, name: string, err: Record<string, unknown> | undefined) =>
    clean({ version_info: e?.version, cluster: typed('envoy.config.cluster.v3.Cluster', e?.resource), last_updated: ts(e?.lastUpdatedMs), error_state: err, name: e ? undefined : name });
  const all = entries(c.cds, cluster);
  const warm = (x: Record<string, unknown>) => isWarm(((x.cluster as Cluster | undefined)?.name ?? x.name) as string);
  return [
    clean({
      '@type': ADMIN + 'ClustersConfigDump',
      version_info: c.cds.version || undefined,
      dynamic_active_clusters: all.filter(warm),
      dynamic_warming_clusters: all.filter((x) => !warm(x)),
    }),
    clean({
      '@type': ADMIN + 'ListenersConfigDump',
      version_info: c.lds.version || undefined,
      dynamic_listeners: entries(c.lds, (e, name, err) =>
        clean({
          name,
          active_state: e ? clean({ version_info: e.version, listener: typed('envoy.config.listener.v3.Listener', e.resource), last_updated: ts(e.lastUpdatedMs) }) : undefined,
          error_state: err,
        }),
      ),
    }),
    {
      '@type': ADMIN + 'RoutesConfigDump',
      dynamic_route_configs: entries(c.rds, (e, name, err) =>
        clean({ version_info: e?.version, route_config: typed('envoy.config.route.v3.RouteConfiguration', e?.resource ?? { name }), last_updated: ts(e?.lastUpdatedMs), error_state: err }),
      ),
    },
    {
      '@type': ADMIN + 'EndpointsConfigDump',
      dynamic_endpoint_configs: entries(c.eds, (e, name, err) =>
        clean({ version_info: e?.version, endpoint_config: typed('envoy.config.endpoint.v3.ClusterLoadAssignment', e?.resource ?? { cluster_name: name }), last_updated: ts(e?.lastUpdatedMs), error_state: err }),
      ),
    },
  ];
}

/** The dynamic fields for src/admin's buildConfigDump input. */
export function adminView(c: Caches): DynamicAdminView {
  const list = <T, R>(cache: ResourceCache<T>, f: (e: CachedResource<T>) => R): R[] => [...cache.items.values()].map(f);
  return {
    dynamicClusters: list(c.cds, (e) => ({ cluster: e.resource, versionInfo: e.version, lastUpdatedMs: e.lastUpdatedMs })),
    clustersVersionInfo: c.cds.version || undefined,
    dynamicListeners: list(c.lds, (e) => ({ listener: e.resource, versionInfo: e.version, lastUpdatedMs: e.lastUpdatedMs })),
    listenersVersionInfo: c.lds.version || undefined,
    dynamicRoutes: list(c.rds, (e) => ({ routeConfig: e.resource, versionInfo: e.version, lastUpdatedMs: e.lastUpdatedMs })),
    dynamicEndpoints: list(c.eds, (e) => ({ endpointConfig: e.resource, versionInfo: e.version, lastUpdatedMs: e.lastUpdatedMs })),
  };
}

/**
 * Merges the dynamic dump into the static one (src/admin `buildConfigDump` output) by `@type`, so
 * `/config_dump` has one ClustersConfigDump with both static and dynamic entries, as Envoy's.
 * Types the base lacks are left out unless `includeMissing`.
 */
export function mergeConfigDump(base: Array<Record<string, unknown>>, dynamic: Array<Record<string, unknown>>, includeMissing = false): Array<Record<string, unknown>> {
  const out = base.map((c) => ({ ...c }));
  for (const d of dynamic) {
    const target = out.find((c) => c['@type'] === d['@type']);
    if (target) Object.assign(target, Object.fromEntries(Object.entries(d).filter(([k]) => k !== '@type')));
    else if (includeMissing) out.push(d);
  }
  return out;
}
