/**
 * Wires the admin server (src/admin) to the process: the {@link AdminContext} implementation.
 * Runs on the main thread. The admin listener starts before DNS, xDS and the workers (as Envoy binds
 * admin at startup): until {@link RunningAdmin.serving} hands it the supervisor it answers from the
 * main thread alone (stats: `server.*` and any attached main-thread stores such as xDS; clusters and
 * listeners empty; `/ready` 503 with PRE_INITIALIZING/INITIALIZING). Once serving, stats are read from
 * the workers' SharedArrayBuffers and host state is asked of the workers (admin-time only).
 */
import type { AdminContext, ClusterStatus, HostStatus as AdminHostStatus, ServerState } from '../admin/context';
import { startAdminServer, type Handler } from '../admin/server';
import { buildConfigDump } from '../admin/config-dump';
import { mergeConfigDump } from '../xds/dump';
import { getLogLevels, setComponentLogLevel, setLogLevel, type LogLevel } from '../common/logger';
import type { Bootstrap, ConfigSnapshot } from '../config/model';
import type { HostStatus } from '../runtime/protocol';
import { clusterSettings } from '../upstream/cluster/cluster-info';
import { hostKey } from '../upstream/cluster/host';
import { StatsStore, type Gauge } from '../stats/store';
import { StatsAggregator } from '../stats/aggregator';
import { refreshServerStats, serverStats } from '../stats/common-stats';
import type { Options } from './options';
import type { Supervisor } from './supervisor';
import { writeFileSync } from 'node:fs';
import { logger } from '../common/logger';

const log = logger('admin');

/** Inputs for the admin context. */
export interface AdminGlueOptions {
  bootstrap: Bootstrap;
  opts: Options;
  startMs: number;
  version: string;
  concurrency: number;
  /** The current config snapshot (static + xDS). */
  snapshot: () => ConfigSnapshot;
  shutdown: (reason: string) => void;
  /** Extra config_dump entries (dynamic resources), if any; read at each `/config_dump`. */
  dynamicDump?: () => Array<Record<string, unknown>> | undefined;
}

/** A started admin listener. */
export interface RunningAdmin {
  readonly port: number;
  /**
   * Lifecycle state before serving: `PRE_INITIALIZING` at start (cluster manager: DNS, CDS/EDS),
   * `INITIALIZING` while the initial xDS fetch and worker start-up run (Envoy's init manager).
   */
  setInitState(state: 'PRE_INITIALIZING' | 'INITIALIZING'): void;
  /**
   * Registers a main-thread stats store (e.g. xDS `control_plane.*`) under `id`: shown by `/stats`
   * at once and attached to the supervisor's aggregator by {@link serving}.
   */
  attachStats(store: StatsStore, id: string): void;
  /**
   * Switches to the full context (workers' stats, hosts, listeners) and state LIVE. Replays the
   * admin changes made before (log levels, `/healthcheck/fail`) to the workers.
   */
  serving(supervisor: Supervisor): void;
  /** Server state → DRAINING (`/ready` answers 503). */
  markDraining(): void;
  close(): Promise<void>;
}

/** Sums the workers' views of one cluster's hosts into `/clusters` host entries (per-host stats). */
function mergeHosts(cluster: string, perWorker: HostStatus[][]): AdminHostStatus[] {
  const hosts = new Map<string, AdminHostStatus>();
  for (const w of perWorker) {
    for (const h of w) {
      if (h.cluster !== cluster) continue;
      const key = `${h.address}:${h.port}`;
      let e = hosts.get(key);
      if (e === undefined) {
        e = {
          address: h.address,
          port: h.port,
          hostname: h.hostname,
          counters: { cx_total: 0, cx_connect_fail: 0, rq_total: 0, rq_success: 0, rq_error: 0, rq_timeout: 0 },
          gauges: { cx_active: 0, rq_active: 0 },
          // Envoy's HostUtility::healthFlagsToString names.
          healthFlags: h.healthy
            ? 'healthy'
            : h.healthStatus === 'DRAINING'
              ? '/eds_status_draining'
              : h.healthStatus === 'DEGRADED'
                ? '/degraded_eds_health'
                : '/failed_eds_health',
          // Envoy reports an endpoint without a failing EDS status (UNKNOWN included) as HEALTHY.
          edsHealthStatus: h.healthStatus === 'UNKNOWN' ? 'HEALTHY' : h.healthStatus,
          weight: h.weight,
          region: h.region,
          zone: h.zone,
          subZone: h.subZone,
          priority: h.priority,
        };
        hosts.set(key, e);
      }
      e.gauges.cx_active += h.activeConnections;
      e.gauges.rq_active += h.activeRequests;
      e.counters.cx_total += h.cxTotal ?? 0;
      e.counters.cx_connect_fail += h.cxConnectFail ?? 0;
      e.counters.rq_total += h.rqTotal ?? 0;
      e.counters.rq_success += h.rqSuccess ?? 0;
      e.counters.rq_error += h.rqError ?? 0;
      e.counters.rq_timeout += h.rqTimeout ?? 0;
    }
  }
  return [...hosts.values()];
}


/**
 * Writes the admin address (`ip:port`, `[ip6]:port`, or the pipe path; no newline) to `file`, as
 * Envoy's `--admin-address-path` (AdminImpl::startHttpListener). A file that cannot be written is
 * logged at critical level and start-up goes on, as in Envoy.
 */
export function writeAdminAddress(file: string, address: string): void {
  try {
    writeFileSync(file, address);
  } catch {
    log.critical(`cannot open admin address output file ${file} for writing.`);
  }
}

/**
 * Starts the admin listener on `admin.address` (socket_address or pipe), before the workers exist.
 * @throws Error when the address cannot be bound.
 */
export async function startAdmin(o: AdminGlueOptions): Promise<RunningAdmin> {
  const { bootstrap } = o;
  let sup: Supervisor | null = null;
  /** Lifecycle state; what admin shows also depends on `healthFailed` (see effectiveState). */
  let state: ServerState = 'PRE_INITIALIZING';
  let healthFailed = false;
  // Envoy (source/server/utils.cc serverState()): once initialized, health_check_failed ? DRAINING : LIVE.
  const effectiveState = (): ServerState => (state === 'LIVE' && healthFailed ? 'DRAINING' : state);
  const mainStore = new StatsStore();
  const server = serverStats(mainStore);
  const staticClusterNames = new Set((o.bootstrap.static_resources?.clusters ?? []).map((c) => c.name));
  // Istio's pilot-agent readiness probe reads listener_manager.workers_started (with usedonly).
  const workersStarted = mainStore.gauge('listener_manager.workers_started');
  workersStarted.set(0);
  const locals = new Map<string, StatsStore>([['main', mainStore]]);
  // Before serving: an aggregator over the main-thread stores only.
  const early = new StatsAggregator();
  early.attachLocal(mainStore, 'main');
  const stats = (): StatsAggregator => sup?.stats ?? early;
  /** Log level changes made before the workers exist, replayed to them by serving(). */
  const earlyLevels: Array<{ component: string | undefined; level: LogLevel }> = [];
  const refresh = () => {
    refreshServerStats(server, { state: effectiveState(), startTimeMs: o.startMs, concurrency: o.concurrency });
    // Envoy's server.live is 1 once the workers run and until draining, and 0 while the health
    // check is failed (InstanceImpl::failHealthcheck sets it to !fail).
    server.live.set(state === 'LIVE' && !healthFailed ? 1 : 0);
  };
  // --- issue 4: cluster.<name>.membership_{total,healthy} are main-thread gauges in Envoy; attache
  // fills them from worker 0's host sets whenever stats are read (admin time only).
  const membership = new Map<string, { total: Gauge; healthy: Gauge }>();
  const refreshMembership = async (supervisor: Supervisor): Promise<void> => {
    const perWorker = await supervisor.hosts();
    const view = perWorker[0] ?? [];
    const counts = new Map<string, { total: number; healthy: number }>();
    for (const c of o.snapshot().clusters) counts.set(c.name, { total: 0, healthy: 0 });
    for (const h of view) {
      const e = counts.get(h.cluster);
      if (!e) continue;
      e.total++;
      if (h.healthy) e.healthy++;
    }
    for (const [name, n] of counts) {
      let g = membership.get(name);
      if (!g) membership.set(name, (g = { total: mainStore.gauge(`cluster.${name}.membership_total`), healthy: mainStore.gauge(`cluster.${name}.membership_healthy`) }));
      g.total.set(n.total);
      g.healthy.set(n.healthy);
    }
    for (const name of membership.keys()) {
      if (counts.has(name)) continue;
      // A removed cluster: its gauges go with it (Envoy frees the cluster's stats).
      membership.delete(name);
      mainStore.retire(`cluster.${name}.membership_`, false);
    }
  };
  // --- end issue 4 ---


  const ctx: AdminContext = {
    async stats() {
      refresh();
      if (sup) await refreshMembership(sup); // issue 4
      return stats().snapshot();
    },
    async clusters(): Promise<ClusterStatus[]> {
      if (!sup) return [];
      const perWorker = await sup.hosts();
      const out: ClusterStatus[] = [];
      for (const c of o.snapshot().clusters) {
        const s = clusterSettings(c);
        const cb = (t: typeof s.circuitBreakers.default) => ({ max_connections: t.maxConnections, max_pending_requests: t.maxPendingRequests, max_requests: t.maxRequests, max_retries: t.maxRetries });
        out.push({ name: c.name, addedViaApi: !staticClusterNames.has(c.name), circuitBreakers: { default: cb(s.circuitBreakers.default), high: cb(s.circuitBreakers.high) }, hosts: mergeHosts(c.name, perWorker) });
      }
      return out;
    },
    listeners() {
      if (!sup) return [];
      const ports = sup.boundPorts();
      return o.snapshot().listeners.map((l) => ({ name: l.name, address: l.address.socket_address.address, port: l.address.socket_address.port_value || ports[l.name] || 0 }));
    },
    configDump() {
      const snap = o.snapshot();
      const base = buildConfigDump({
        bootstrap,
        bootstrapLoadedMs: o.startMs,
        staticClusters: bootstrap.static_resources?.clusters ?? [],
        staticListeners: bootstrap.static_resources?.listeners ?? [],
        staticEndpoints: Object.values(snap.endpoints),
      });
      const dynamic = o.dynamicDump?.();
      return dynamic ? mergeConfigDump(base, dynamic) : base;
    },
    serverInfo() {
      return {
        version: o.version,
        state: effectiveState(),
        startTimeMs: o.startMs,
        commandLineOptions: {
          concurrency: o.concurrency,
          config_path: o.opts.configPath ?? '',
          config_yaml: o.opts.configYaml ?? '',
          log_level: o.opts.logLevel,
          component_log_level: Object.entries(o.opts.componentLogLevels).map(([k, v]) => `${k}:${v}`).join(','),
          mode: o.opts.mode === 'serve' ? 'Serve' : 'Validate',
          drain_time: `${o.opts.drainTimeS}s`,
          drain_strategy: o.opts.drainStrategy === 'immediate' ? 'Immediate' : 'Gradual',
          parent_shutdown_time: `${o.opts.parentShutdownTimeS}s`,
          file_flush_interval: `${o.opts.fileFlushIntervalMsec / 1000}s`,
          service_cluster: o.opts.serviceCluster ?? '',
          service_node: o.opts.serviceNode ?? '',
          disable_hot_restart: true,
        },
        node: bootstrap.node as Record<string, unknown> | undefined,
      };
    },
    logLevels: () => getLogLevels(),
    setLogLevel(component: string | undefined, level: LogLevel) {
      if (component) setComponentLogLevel(component, level);
      else setLogLevel(level);
      if (sup) sup.setLogLevel(level, component);
      else earlyLevels.push({ component, level });
    },
    quit() {
      o.shutdown('/quitquitquit');
    },
    // Envoy (listeners_handler.cc): stop the listeners (INBOUND ones with inboundonly) now, or with
    // graceful after --drain-time-s of discouraging keep-alive; server.state stays as it is.
    drainListeners({ graceful, inboundOnly }) {
      sup?.drainListeners({ graceful, inboundOnly, drainTimeMs: o.opts.drainTimeS * 1000, strategy: o.opts.drainStrategy });
    },
    // issue 4: the workers' health_check filters answer 503 while failed.
    healthcheckFail() {
      healthFailed = true;
      refresh();
      sup?.setHealthCheckFailed(true);
    },
    healthcheckOk() {
      healthFailed = false;
      refresh();
      sup?.setHealthCheckFailed(false);
    },
    // No access log is open before the workers start.
    reopenLogs: async () => (sup ? sup.reopenLogs() : []),
    resetCounters() {
      stats().resetCounters();
    },
  };
  // issue 4: admin.address.pipe (a Unix socket path) or socket_address.
  const addr = bootstrap.admin!.address! as { socket_address?: { address: string; port_value?: number }; pipe?: { path: string; mode?: number } };
  const extraHandlers: Record<string, Handler> = {};
  if (process.env.ATTACHE_DEBUG_ADMIN === '1') {
    // Test-only: crash a worker the way a data-plane bug would.
    extraHandlers['/debug/crash_worker'] = {
      help: 'crash worker ?id=N (ATTACHE_DEBUG_ADMIN=1 only)',
      mutates: true,
      fn: (q) => {
        const ok = sup?.crashWorker(Number(q.get('id') ?? 0)) ?? false;
        return { status: ok ? 200 : 404, body: ok ? 'OK\n' : 'no such worker\n' };
      },
    };
  }
  const admin = addr.pipe
    ? await startAdminServer(ctx, { path: addr.pipe.path, mode: addr.pipe.mode, extraHandlers })
    : await startAdminServer(ctx, { address: addr.socket_address!.address, port: addr.socket_address!.port_value ?? 0, extraHandlers });
  // --admin-address-path (Options.adminAddressPath): the bound address, for tools that start with admin port 0.
  const addressPath = o.opts.adminAddressPath;
  if (addressPath) writeAdminAddress(addressPath, addr.pipe ? addr.pipe.path : hostKey(addr.socket_address!.address, admin.port));
  return {
    port: admin.port,
    setInitState(s) {
      if (state === 'PRE_INITIALIZING' || state === 'INITIALIZING') state = s;
    },
    attachStats(store, id) {
      locals.set(id, store);
      if (sup) sup.stats.attachLocal(store, id);
      else early.attachLocal(store, id);
    },
    serving(supervisor) {
      workersStarted.set(1);
      sup = supervisor;
      for (const [id, store] of locals) supervisor.stats.attachLocal(store, id);
      for (const { component, level } of earlyLevels) supervisor.setLogLevel(level, component);
      earlyLevels.length = 0;
      if (healthFailed) supervisor.setHealthCheckFailed(true);
      if (state !== 'DRAINING') state = 'LIVE';
    },
    markDraining() {
      state = 'DRAINING';
    },
    close: () => admin.close(),
  };
}
