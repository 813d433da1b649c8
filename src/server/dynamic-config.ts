/**
 * Dynamic configuration (Envoy's CDS/LDS/EDS/RDS on the main thread): subscribes to the bootstrap's
 * `dynamic_resources` (lds_config, cds_config, ads_config) and to the EDS and RDS names the
 * clusters and listeners use, validates what arrives, and merges it with the static resources into
 * the snapshots workers compile.
 *
 * - Subscriptions follow the config: an EDS cluster (static or from CDS) subscribes its
 *   `eds_cluster_config.service_name` (default: the cluster name) on its `eds_config`; an HCM with
 *   `rds` subscribes its `route_config_name`. Names are unsubscribed when nothing uses them.
 * - Warming: a CDS cluster of type EDS joins the snapshot once its endpoints arrive; an LDS
 *   listener once its RDS route configurations arrive (or their initial_fetch_timeout passes).
 *   An update of an active cluster or listener warms the same way while the active version
 *   goes on serving (with the endpoints or routes it had), as in Envoy.
 * - Initial fetch: `ready` resolves when CDS, LDS and every EDS/RDS name of the first round have
 *   answered or timed out (`initial_fetch_timeout`, default 15 s; "0s" waits forever).
 * - Publishing: endpoint-only changes go to workers per cluster (`publishEndpoints`, cheap, pools
 *   kept); anything else as a whole new snapshot with the next version number (`publish`).
 */
import { logger } from '../common/logger';
import { TYPE_URLS } from '../config/resource';
import type { Bootstrap, Cluster, ClusterLoadAssignment, ConfigSnapshot, Listener, RouteConfiguration } from '../config/model';
import { StatsStore } from '../stats/store';
import { validateClusterLb } from '../upstream/cluster/cluster-manager';
import { initialFetchTimeoutMs, resolveConfigSource, sourceKey, type ResolvedSource } from '../xds/config-source';
import { ResourceCache } from '../xds/resource-cache';
import { XdsClient, type Subscription } from '../xds/xds-client';
import { toProtoMessage } from '../xds/proto-json';
import { buildDynamicDump, type DynamicAdminView, adminView } from '../xds/dump';
import { XdsStats } from '../xds/xds-stats';
import { checkListenerCanBind, type BoundListener } from './listener-bind-check';
import { clampTimeoutMs } from '../common/timer-limit';

const log = logger('config');

/** Where changes go (the supervisor, in serve()). */
export interface DynamicConfigHooks {
  /** A whole new snapshot (listeners, clusters or routes changed). */
  publish(snapshot: ConfigSnapshot): void;
  /** New endpoints of one cluster only. */
  publishEndpoints(cluster: string, cla: ClusterLoadAssignment): void;
  /**
   * Every cluster (static and from CDS, warming ones included), called after each accepted CDS
   * update. When set, STRICT_DNS/LOGICAL_DNS clusters from CDS warm until their first resolution
   * arrives through {@link DynamicConfig.setStaticEndpoints} (Envoy: a DNS cluster initialises after
   * its first resolve); the server hands the list to its DnsDiscovery.
   */
  clustersChanged?(clusters: readonly Cluster[]): void;
}

/** Options of {@link startDynamicConfig}. */
export interface DynamicConfigOptions {
  /** Reconnect backoff of the gRPC streams (ms); defaults 500 / 30000. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** `node.user_agent_version` sent to the control plane. */
  version?: string;
}

/** A running dynamic configuration. */
export interface DynamicConfig {
  /** Resolves when the initial fetch is done (every first subscription answered or timed out). */
  readonly ready: Promise<void>;
  /** True once `ready` resolved (`/ready` says LIVE only then). */
  isReady(): boolean;
  /** The merged snapshot (static + warm dynamic resources). */
  current(): ConfigSnapshot;
  /**
   * Dynamic resources for `/config_dump`: envoy.admin.v3 ClustersConfigDump, ListenersConfigDump,
   * RoutesConfigDump and EndpointsConfigDump holding only the dynamic entries, each with
   * version_info, last_updated and, for the last rejected update, error_state.
   */
  configDump(): Array<Record<string, unknown>>;
  /** The dynamic fields of src/admin's ConfigDumpInput. */
  adminView(): DynamicAdminView;
  /** Main-thread stats (`control_plane.*`, `cluster_manager.cds.*`, `listener_manager.lds.*`, `cluster.<name>.update_*`); attach to the aggregator. */
  readonly stats: StatsStore;
  /**
   * Endpoints resolved outside xDS (STRICT_DNS/LOGICAL_DNS clusters, static or from CDS), kept in
   * whole snapshots; the first one of a warming CDS cluster publishes it.
   */
  setStaticEndpoints(cluster: string, cla: ClusterLoadAssignment): void;
  /** Ends every subscription. */
  stop(): void;
}

let active: DynamicConfig | null = null;

/** The dynamic config started in this process, if any (for the admin glue). */
export function activeDynamicConfig(): DynamicConfig | null {
  return active;
}

/** True when the bootstrap has dynamic resources or an EDS cluster / RDS route to subscribe. */
export { needsDynamicConfig } from '../config/snapshot';
import { hcms } from '../config/snapshot';


interface NamedSub {
  kind: 'eds' | 'rds';
  source: ResolvedSource;
  names: Set<string>;
  sub: Subscription;
}

/**
 * Starts the subscriptions of a loaded bootstrap.
 * @param baseSnapshot the static snapshot (snapshotFromBootstrap + resolved DNS endpoints)
 * @throws ConfigError when a config source cannot be used (REST, unknown xDS cluster)
 */
export function startDynamicConfig(bootstrap: Bootstrap, baseSnapshot: ConfigSnapshot, hooks: DynamicConfigHooks, opts: DynamicConfigOptions = {}): DynamicConfig {
  const stats = new StatsStore();
  const xs = new XdsStats(stats);
  const node = toProtoMessage('envoy.config.core.v3.Node', {
    ...(bootstrap.node ?? {}),
    user_agent_name: 'attache',
    user_agent_version: opts.version ?? '0.0.0',
  });
  const client = new XdsClient({ node, onConnectedState: (c) => xs.connected(c), backoffBaseMs: opts.backoffBaseMs, backoffMaxMs: opts.backoffMaxMs });
  const cds = new ResourceCache<Cluster>(TYPE_URLS.cluster, 'cluster', true, true);
  const lds = new ResourceCache<Listener>(TYPE_URLS.listener, 'listener', true, true);
  const eds = new ResourceCache<ClusterLoadAssignment>(TYPE_URLS.endpoint, 'cluster load assignment', false);
  const rds = new ResourceCache<RouteConfiguration>(TYPE_URLS.route, 'route configuration', false);
  const staticClusters = new Set(baseSnapshot.clusters.map((c) => c.name));
  const staticListeners = new Set(baseSnapshot.listeners.map((l) => l.name));
  cds.check = (c, name) => {
    if (staticClusters.has(name)) throw new Error(`cluster "${name}" is already defined in static_resources`);
    validateClusterLb(c);
  };
  const listenerCreateFailure = stats.counter('listener_manager.listener_create_failure');
  /** Addresses taken: this response's listeners checked so far, the static ones, the current LDS ones. */
  const boundListeners = function* (accepted: ReadonlyMap<string, Listener>): Iterable<BoundListener> {
    const bound = (l: Listener): BoundListener => ({ name: l.name, address: l.address.socket_address.address, port: Number(l.address.socket_address.port_value ?? 0) });
    for (const l of accepted.values()) yield bound(l);
    for (const l of baseSnapshot.listeners) yield bound(l);
    for (const e of lds.items.values()) if (!accepted.has(e.resource.name)) yield bound(e.resource);
  };
  lds.check = (l, name, accepted) => {
    if (staticListeners.has(name)) throw new Error(`listener "${name}" is already defined in static_resources`);
    if (hcms(l).length === 0) throw new Error(`listener "${name}": no envoy.filters.network.http_connection_manager in its filter chains`);
    try {
      checkListenerCanBind(l, name, boundListeners(accepted));
    } catch (e) {
      listenerCreateFailure.inc(); // Envoy: the listener could not be created (bind, duplicate address)
      throw e;
    }
  };
  const staticEndpoints: Record<string, ClusterLoadAssignment> = { ...baseSnapshot.endpoints };
  const isDns = (c: Cluster): boolean => c.type === 'STRICT_DNS' || c.type === 'LOGICAL_DNS';
  /** DNS clusters from CDS warm on their first resolution only when someone resolves them. */
  const dnsWarms = hooks.clustersChanged !== undefined;
  let cdsChanged = false;
  const named = new Map<string, NamedSub>();
  /** `${kind}|${name}` → initial-fetch timer (null: waits forever). */
  const awaiting = new Map<string, NodeJS.Timeout | null>();
  const timedOut = new Set<string>();
  let version = baseSnapshot.version;
  let built: ConfigSnapshot = baseSnapshot;
  let published: ConfigSnapshot | null = null;
  let isReady = false;
  let stopped = false;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  let flushQueued = false;

  const schedule = (): void => {
    if (flushQueued || stopped) return;
    flushQueued = true;
    setImmediate(flush);
  };
  const await_ = (key: string, timeoutMs: number): void => {
    if (awaiting.has(key) || timedOut.has(key)) return;
    const t = timeoutMs > 0 ? setTimeout(() => {
      awaiting.delete(key);
      timedOut.add(key);
      xs.initFetchTimeout(key.slice(0, 3));
      log.warn(`initial fetch of ${key.replace('|', ' ')} timed out after ${timeoutMs} ms`);
      schedule();
    }, clampTimeoutMs(timeoutMs)) : null; // > 24.8 days would fire at once
    awaiting.set(key, t);
  };
  const arrived = (key: string): void => {
    const t = awaiting.get(key);
    if (t) clearTimeout(t);
    awaiting.delete(key);
  };
  const known = (kind: 'eds' | 'rds', name: string): boolean => (kind === 'eds' ? eds.items.has(name) : rds.items.has(name)) || timedOut.has(`${kind}|${name}`);

  const watchFor = (cache: ResourceCache<unknown>, names: () => string[] | null, after: (r: { changed: string[]; removed: string[]; names: string[] }) => void) => ({
    typeUrl: cache.typeUrl,
    names,
    onResponse: (resources: unknown[], v: string): string | null => {
      const r = cache.accept(resources, v);
      const kind = cache === (cds as ResourceCache<unknown>) ? 'cds' : cache === (lds as ResourceCache<unknown>) ? 'lds' : cache === (eds as ResourceCache<unknown>) ? 'eds' : 'rds';
      xs.attempt(kind, typeof r === 'string' ? (cache.rejected?.names ?? []) : r.names, typeof r !== 'string' && r.error === undefined, kind === 'eds' ? edsUsers : rdsUsers);
      if (typeof r !== 'string' && r.error !== undefined) {
        // Applied in part (LDS/CDS, as Envoy): the good resources go out, the response is NACKed.
        after(r);
        if ((kind === 'cds' || kind === 'lds') && awaiting.has(`${kind}|*`)) arrived(`${kind}|*`);
        schedule();
        return r.error;
      }
      if (typeof r === 'string') {
        // A rejected CDS/LDS update still ends their initial fetch: startup goes on without it
        // (Envoy's CdsApiImpl/LdsApiImpl::onConfigUpdateFailed mark their init target ready).
        if ((kind === 'cds' || kind === 'lds') && awaiting.has(`${kind}|*`)) {
          arrived(`${kind}|*`);
          schedule();
        }
        return r;
      }
      after(r);
      schedule();
      return null;
    },
  });

  const edsServiceName = (c: Cluster): string => c.eds_cluster_config?.service_name || c.name;
  /** EDS service name → cluster names using it; route config name → HCM stat prefixes (stats). */
  const edsUsers = new Map<string, string[]>();
  const rdsUsers = new Map<string, string[]>();

  /** Creates, updates and cancels EDS/RDS subscriptions to match the current clusters and listeners. */
  const reconcile = (): void => {
    const want = new Map<string, { kind: 'eds' | 'rds'; source: ResolvedSource; names: Set<string> }>();
    const add = (kind: 'eds' | 'rds', cs: Parameters<typeof resolveConfigSource>[1] | undefined, name: string, path: string) => {
      let source: ResolvedSource;
      try {
        source = resolveConfigSource(bootstrap, cs ?? { ads: {} }, path);
      } catch (e) {
        log.error(`${path}: ${(e as Error).message}`);
        return;
      }
      const key = `${kind}|${sourceKey(source)}`;
      let w = want.get(key);
      if (!w) want.set(key, (w = { kind, source, names: new Set() }));
      w.names.add(name);
      // Each resource waits as long as its own config source says (clusters sharing an ADS stream
      // may set different initial_fetch_timeout values).
      if (!known(kind, name)) await_(`${kind}|${name}`, initialFetchTimeoutMs(cs));
    };
    edsUsers.clear();
    rdsUsers.clear();
    for (const c of [...baseSnapshot.clusters, ...[...cds.items.values()].map((e) => e.resource)]) {
      if (c.type !== 'EDS') continue;
      const sn = edsServiceName(c);
      edsUsers.set(sn, [...(edsUsers.get(sn) ?? []), c.name]);
      add('eds', c.eds_cluster_config?.eds_config, sn, `cluster ${c.name}.eds_cluster_config.eds_config`);
    }
    for (const l of [...baseSnapshot.listeners, ...[...lds.items.values()].map((e) => e.resource)]) {
      for (const h of hcms(l)) {
        if (!h.rds) continue;
        const rn = h.rds.route_config_name;
        rdsUsers.set(rn, [...(rdsUsers.get(rn) ?? []), h.stat_prefix]);
        add('rds', h.rds.config_source, rn, `listener ${l.name} rds`);
      }
    }
    for (const [key, n] of named) {
      const w = want.get(key);
      if (!w) {
        n.sub.cancel();
        named.delete(key);
        continue;
      }
      const same = w.names.size === n.names.size && [...w.names].every((x) => n.names.has(x));
      if (!same) {
        n.names = w.names;
        n.sub.namesChanged();
      }
      want.delete(key);
    }
    for (const [key, w] of want) {
      const cache = (w.kind === 'eds' ? eds : rds) as ResourceCache<unknown>;
      const entry: NamedSub = { kind: w.kind, source: w.source, names: w.names, sub: null as unknown as Subscription };
      named.set(key, entry);
      entry.sub = client.subscribe(w.source, watchFor(cache, () => [...entry.names], (r) => {
        for (const n of r.names) arrived(`${w.kind}|${n}`);
      }));
    }
    const allEds = new Set<string>();
    const allRds = new Set<string>();
    for (const n of named.values()) for (const x of n.names) (n.kind === 'eds' ? allEds : allRds).add(x);
    eds.retain(allEds);
    rds.retain(allRds);
    for (const key of [...awaiting.keys()]) {
      const [kind, name] = [key.slice(0, 3), key.slice(4)];
      if ((kind === 'eds' && !allEds.has(name)) || (kind === 'rds' && !allRds.has(name))) arrived(key);
    }
  };

  /** A CDS cluster that waits for its endpoints (EDS assignment, or first DNS resolution). */
  const isWarming = (c: Cluster): boolean => (c.type === 'EDS' ? !known('eds', edsServiceName(c)) : dnsWarms && isDns(c) && staticEndpoints[c.name] === undefined);

  let edsMemo = new Map<string, { src: ClusterLoadAssignment; out: ClusterLoadAssignment }>();

  const build = (): ConfigSnapshot => {
    // An updated cluster or listener that warms leaves its active version serving until it is
    // warm (Envoy's ClusterManager keeps the active cluster while the new one initialises; an
    // updated listener is added to the warming list and replaces the active one once warm).
    const active = published;
    const clusters = [...baseSnapshot.clusters];
    const warming: string[] = [];
    const kept = new Set<string>();
    for (const { resource: c } of cds.items.values()) {
      if (!isWarming(c)) {
        clusters.push(c);
        continue;
      }
      warming.push(c.name);
      const old = active?.clusters.find((x) => x.name === c.name);
      if (old !== undefined) {
        clusters.push(old);
        kept.add(c.name);
      }
    }
    const endpoints: Record<string, ClusterLoadAssignment> = { ...staticEndpoints };
    const memo = new Map<string, { src: ClusterLoadAssignment; out: ClusterLoadAssignment }>();
    for (const c of clusters) {
      if (kept.has(c.name)) {
        // Its EDS name may be unsubscribed already (the new version names another): the endpoints it serves with.
        const cla = active!.endpoints[c.name];
        if (cla !== undefined) endpoints[c.name] = cla;
        continue;
      }
      if (c.type !== 'EDS') continue;
      const cla = eds.get(edsServiceName(c));
      if (!cla) continue;
      // Same object while the assignment is unchanged: flush() compares by identity first.
      let m = edsMemo.get(c.name);
      if (m === undefined || m.src !== cla) m = { src: cla, out: { ...cla, cluster_name: c.name } };
      memo.set(c.name, m);
      endpoints[c.name] = m.out;
    }
    edsMemo = memo;
    const listeners = [...baseSnapshot.listeners];
    const keptRoutes: string[] = [];
    for (const { resource: l } of lds.items.values()) {
      if (hcms(l).every((h) => !h.rds || known('rds', h.rds.route_config_name))) {
        listeners.push(l);
        continue;
      }
      const old = active?.listeners.find((x) => x.name === l.name);
      if (old === undefined) continue;
      listeners.push(old);
      for (const h of hcms(old)) if (h.rds) keptRoutes.push(h.rds.route_config_name);
    }
    const routes: Record<string, RouteConfiguration> = { ...baseSnapshot.routes };
    for (const [name, e] of rds.items) routes[name] = e.resource;
    // The route configurations a kept listener uses, unsubscribed meanwhile: the ones it serves with.
    for (const name of keptRoutes) if (routes[name] === undefined && active!.routes[name] !== undefined) routes[name] = active!.routes[name];
    xs.gauges(clusters.length, warming.length);
    return { version, listeners, clusters, endpoints, routes };
  };

  const flush = (): void => {
    flushQueued = false;
    if (stopped) return;
    reconcile();
    if (cdsChanged && hooks.clustersChanged) {
      cdsChanged = false;
      const all = [...baseSnapshot.clusters, ...[...cds.items.values()].map((e) => e.resource)];
      const names = new Set(all.map((c) => c.name));
      for (const n of Object.keys(staticEndpoints)) if (!names.has(n) && !(n in baseSnapshot.endpoints)) delete staticEndpoints[n];
      hooks.clustersChanged(all); // may resolve synchronously in tests: setStaticEndpoints re-schedules
    }
    const next = build();
    if (!isReady) {
      built = next;
      // DNS clusters from CDS count as warming for the initial fetch only when they are resolved.
      const dnsWaiting = dnsWarms && [...cds.items.values()].some((e) => isDns(e.resource) && isWarming(e.resource));
      if (awaiting.size === 0 && !dnsWaiting) {
        isReady = true;
        published = built;
        log.info(`initial xDS fetch done: ${cds.items.size} dynamic cluster(s), ${lds.items.size} dynamic listener(s), ${eds.items.size} endpoint assignment(s), ${rds.items.size} route configuration(s)`);
        resolveReady();
      }
      return;
    }
    const prev = published ?? built;
    // Unchanged resources keep their objects (ResourceCache, edsMemo): identity first, JSON only
    // for what differs (an EDS update among 1,000 clusters compares one assignment).
    const same = (a: unknown, b: unknown): boolean => {
      if (a === b) return true;
      if (Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i])) return true;
      if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
        const ka = Object.keys(a);
        if (ka.length === Object.keys(b).length && ka.every((k) => (a as Record<string, unknown>)[k] === (b as Record<string, unknown>)[k])) return true;
      }
      return JSON.stringify(a) === JSON.stringify(b);
    };
    const sameKeys = Object.keys(prev.endpoints).sort().join() === Object.keys(next.endpoints).sort().join();
    if (sameKeys && same(prev.clusters, next.clusters) && same(prev.listeners, next.listeners) && same(prev.routes, next.routes)) {
      next.version = prev.version;
      for (const [name, cla] of Object.entries(next.endpoints)) {
        if (!same(prev.endpoints[name], cla)) hooks.publishEndpoints(name, cla);
      }
    } else {
      next.version = ++version;
      if (next.version <= prev.version) next.version = version = prev.version + 1;
      hooks.publish(next);
    }
    built = published = next;
  };

  // Wildcard subscriptions.
  const dyn = bootstrap.dynamic_resources;
  if (dyn?.cds_config) {
    await_('cds|*', initialFetchTimeoutMs(dyn.cds_config));
    client.subscribe(resolveConfigSource(bootstrap, dyn.cds_config, 'dynamic_resources.cds_config'), watchFor(cds as ResourceCache<unknown>, () => null, (r) => {
      arrived('cds|*');
      if (r.changed.length > 0 || r.removed.length > 0) cdsChanged = true;
    }));
  }
  if (dyn?.lds_config) {
    await_('lds|*', initialFetchTimeoutMs(dyn.lds_config));
    client.subscribe(resolveConfigSource(bootstrap, dyn.lds_config, 'dynamic_resources.lds_config'), watchFor(lds as ResourceCache<unknown>, () => null, () => arrived('lds|*')));
  }
  schedule();

  const dc: DynamicConfig = {
    ready,
    stats,
    isReady: () => isReady,
    current: () => (isReady ? published ?? built : build()),
    configDump: () => buildDynamicDump({ cds, lds, rds, eds }, (name) => {
      const c = cds.get(name);
      return c === undefined || !isWarming(c);
    }),
    adminView: () => adminView({ cds, lds, rds, eds }),
    setStaticEndpoints: (name, cla) => {
      const wasWarming = cds.get(name) !== undefined && isWarming(cds.get(name)!);
      staticEndpoints[name] = cla;
      if (published && !wasWarming) published = { ...published, endpoints: { ...published.endpoints, [name]: cla } };
      if (wasWarming) schedule(); // the cluster joins the next snapshot
    },
    stop: () => {
      stopped = true;
      for (const t of awaiting.values()) if (t) clearTimeout(t);
      client.stop();
      if (active === dc) active = null;
    },
  };
  active = dc;
  return dc;
}
