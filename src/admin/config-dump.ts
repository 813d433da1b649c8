/**
 * `/config_dump` (envoy.admin.v3.ConfigDump): a builder for the `configs` array from the bootstrap and
 * the current resources, and the `?resource=`, `?mask=` and `?name_regex=` query handling
 * (source/server/admin/config_dump_handler.cc).
 */

import type { Bootstrap, Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from '../config/model';

const T = 'type.googleapis.com/';
const ADMIN = T + 'envoy.admin.v3.';

/** Inputs of {@link buildConfigDump}. Timestamps are ms since epoch. */
export interface ConfigDumpInput {
  bootstrap: Bootstrap;
  bootstrapLoadedMs?: number;
  staticClusters: Cluster[];
  dynamicClusters?: Array<{ cluster: Cluster; versionInfo?: string; lastUpdatedMs?: number }>;
  clustersVersionInfo?: string;
  staticListeners: Listener[];
  dynamicListeners?: Array<{ listener: Listener; versionInfo?: string; lastUpdatedMs?: number }>;
  listenersVersionInfo?: string;
  staticRoutes?: RouteConfiguration[];
  dynamicRoutes?: Array<{ routeConfig: RouteConfiguration; versionInfo?: string; lastUpdatedMs?: number }>;
  /** Endpoints the main thread resolved for static (DNS) clusters, by `cluster_name`. */
  staticEndpoints?: ClusterLoadAssignment[];
  dynamicEndpoints?: Array<{ endpointConfig: ClusterLoadAssignment; versionInfo?: string; lastUpdatedMs?: number }>;
}

const ts = (ms?: number) => (ms === undefined ? undefined : new Date(ms).toISOString());
function typed(type: string, msg: object): Record<string, unknown> {
  return { '@type': T + type, ...msg };
}
function clean(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * The ClusterLoadAssignment of a static cluster as `static_endpoint_configs` shows it: the endpoints
 * the main thread resolved for it (DNS clusters, from `staticEndpoints` by `cluster_name`), else its
 * inline `load_assignment`, with `cluster_name` set to the cluster's name. Undefined for a static
 * EDS cluster, whose assignment came over xDS and is listed in `dynamic_endpoint_configs`.
 */
function staticAssignment(c: Cluster, resolved: ReadonlyMap<string, ClusterLoadAssignment>): ClusterLoadAssignment | undefined {
  if (c.type === 'EDS') return undefined;
  const r = resolved.get(c.name);
  if (r) return r;
  return { ...(c.load_assignment ?? {}), cluster_name: c.name };
}

/**
 * The `configs` array in Envoy's order: Bootstrap, Clusters, Listeners, Routes, Secrets (empty), then
 * Endpoints (envoy.admin.v3.EndpointsConfigDump; `/config_dump` drops it without `?include_eds`, as
 * Envoy's ConfigDumpHandler only adds it then).
 *
 * EndpointsConfigDump: Envoy (ConfigDumpHandler::dumpEndpointConfigs) lists one assignment per active
 * cluster, static or dynamic by the cluster's origin. attache lists static clusters' own endpoints
 * (inline or DNS-resolved) as `static_endpoint_configs`, and the assignments received over EDS, with
 * their version_info and last_updated, as `dynamic_endpoint_configs` (`dynamicEndpoints`).
 * @param includeEds false leaves the EndpointsConfigDump out
 */
export function buildConfigDump(i: ConfigDumpInput, includeEds = true): Array<Record<string, unknown>> {
  const configs: Array<Record<string, unknown>> = [
    clean({ '@type': ADMIN + 'BootstrapConfigDump', bootstrap: i.bootstrap, last_updated: ts(i.bootstrapLoadedMs) }),
    clean({
      '@type': ADMIN + 'ClustersConfigDump',
      version_info: i.clustersVersionInfo,
      static_clusters: i.staticClusters.map((c) => clean({ cluster: typed('envoy.config.cluster.v3.Cluster', c), last_updated: ts(i.bootstrapLoadedMs) })),
      dynamic_active_clusters: (i.dynamicClusters ?? []).map((d) =>
        clean({ version_info: d.versionInfo, cluster: typed('envoy.config.cluster.v3.Cluster', d.cluster), last_updated: ts(d.lastUpdatedMs) }),
      ),
    }),
    clean({
      '@type': ADMIN + 'ListenersConfigDump',
      version_info: i.listenersVersionInfo,
      static_listeners: i.staticListeners.map((l) => clean({ listener: typed('envoy.config.listener.v3.Listener', l), last_updated: ts(i.bootstrapLoadedMs) })),
      dynamic_listeners: (i.dynamicListeners ?? []).map((d) => ({
        name: d.listener.name,
        active_state: clean({ version_info: d.versionInfo, listener: typed('envoy.config.listener.v3.Listener', d.listener), last_updated: ts(d.lastUpdatedMs) }),
      })),
    }),
    {
      '@type': ADMIN + 'RoutesConfigDump',
      static_route_configs: (i.staticRoutes ?? []).map((r) => clean({ route_config: typed('envoy.config.route.v3.RouteConfiguration', r), last_updated: ts(i.bootstrapLoadedMs) })),
      dynamic_route_configs: (i.dynamicRoutes ?? []).map((d) =>
        clean({ version_info: d.versionInfo, route_config: typed('envoy.config.route.v3.RouteConfiguration', d.routeConfig), last_updated: ts(d.lastUpdatedMs) }),
      ),
    },
    { '@type': ADMIN + 'SecretsConfigDump' },
  ];
  if (includeEds) {
    const resolved = new Map((i.staticEndpoints ?? []).filter((e) => e.cluster_name).map((e) => [e.cluster_name, e] as const));
    const statics = i.staticClusters.map((c) => staticAssignment(c, resolved)).filter((e): e is ClusterLoadAssignment => e !== undefined);
    configs.push({
      '@type': ADMIN + 'EndpointsConfigDump',
      static_endpoint_configs: statics.map((e) => clean({ endpoint_config: typed('envoy.config.endpoint.v3.ClusterLoadAssignment', e), last_updated: ts(i.bootstrapLoadedMs) })),
      dynamic_endpoint_configs: (i.dynamicEndpoints ?? []).map((d) =>
        clean({ version_info: d.versionInfo, endpoint_config: typed('envoy.config.endpoint.v3.ClusterLoadAssignment', d.endpointConfig), last_updated: ts(d.lastUpdatedMs) }),
      ),
    });
  }
  return configs;
}

/** Element type of each repeated field that `?resource=` may name. */
const RESOURCE_TYPES: Record<string, string> = {
  static_clusters: 'ClustersConfigDump.StaticCluster',
  dynamic_active_clusters: 'ClustersConfigDump.DynamicCluster',
  dynamic_warming_clusters: 'ClustersConfigDump.DynamicCluster',
  static_listeners: 'ListenersConfigDump.StaticListener',
  dynamic_listeners: 'ListenersConfigDump.DynamicListener',
  static_route_configs: 'RoutesConfigDump.StaticRouteConfig',
  dynamic_route_configs: 'RoutesConfigDump.DynamicRouteConfig',
  static_endpoint_configs: 'EndpointsConfigDump.StaticEndpointConfig',
  dynamic_endpoint_configs: 'EndpointsConfigDump.DynamicEndpointConfig',
};

/** Keeps only the fields named by FieldMask paths (`a.b,c`); `@type` is always kept. */
export function applyFieldMask(msg: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if ('@type' in msg) out['@type'] = msg['@type'];
  for (const p of paths) {
    const segs = p.split('.');
    let src: unknown = msg;
    let dst = out;
    for (let i = 0; i < segs.length; i++) {
      if (src === null || typeof src !== 'object' || !(segs[i] in (src as object))) break;
      const v = (src as Record<string, unknown>)[segs[i]];
      if (i === segs.length - 1) {
        dst[segs[i]] = v;
      } else {
        if (typeof dst[segs[i]] !== 'object' || dst[segs[i]] === null) dst[segs[i]] = {};
        dst = dst[segs[i]] as Record<string, unknown>;
        src = v;
      }
    }
  }
  return out;
}

function resourceName(r: Record<string, unknown>): string | undefined {
  if (typeof r.name === 'string') return r.name;
  for (const k of ['cluster', 'listener', 'route_config', 'endpoint_config', 'active_state']) {
    const v = r[k] as Record<string, unknown> | undefined;
    if (v && typeof v === 'object') {
      if (typeof v.name === 'string') return v.name;
      if (typeof v.cluster_name === 'string') return v.cluster_name;
    }
  }
  return undefined;
}

/** Result of {@link queryConfigDump}: a body or an error status with Envoy's message. */
export type ConfigDumpResult = { status: 200; body: { configs: unknown[] } } | { status: 400 | 404; message: string };

/**
 * Applies `resource`, `mask` (comma-separated FieldMask paths) and `name_regex` to the configs.
 * With `resource`, `configs` holds each element of that repeated field with its own `@type`.
 */
export function queryConfigDump(
  configs: Array<Record<string, unknown>>,
  q: { resource?: string; mask?: string; nameFilter?: (name: string) => boolean },
): ConfigDumpResult {
  const mask = q.mask ? q.mask.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  if (q.resource) {
    const elemType = RESOURCE_TYPES[q.resource];
    // Envoy looks the field up in each dump message present (ConfigDumpHandler::addResourceToDump):
    // `dynamic_endpoint_configs` is not found without `include_eds`, which adds the EndpointsConfigDump.
    const owner = elemType === undefined ? undefined : ADMIN + elemType.slice(0, elemType.indexOf('.'));
    if (!elemType || !configs.some((c) => c['@type'] === owner)) return { status: 404, message: `${q.resource} not found in config dump` };
    const out: unknown[] = [];
    for (const c of configs) {
      const list = c[q.resource];
      if (!Array.isArray(list)) continue;
      for (const item of list as Array<Record<string, unknown>>) {
        if (q.nameFilter) {
          const n = resourceName(item);
          if (n === undefined || !q.nameFilter(n)) continue;
        }
        const withType = { '@type': ADMIN + elemType, ...item };
        out.push(mask ? applyFieldMask(withType, mask) : withType);
      }
    }
    return { status: 200, body: { configs: out } };
  }
  let out = configs;
  if (q.nameFilter) {
    const f = q.nameFilter;
    out = out.map((c) => {
      const copy: Record<string, unknown> = { ...c };
      for (const k of Object.keys(copy)) {
        if (Array.isArray(copy[k])) copy[k] = (copy[k] as Array<Record<string, unknown>>).filter((it) => {
          const n = resourceName(it);
          return n === undefined || f(n);
        });
      }
      return copy;
    });
  }
  return { status: 200, body: { configs: mask ? out.map((c) => applyFieldMask(c, mask)) : out } };
}
