/**
 * Everything one proxy worker owns (Envoy's per-worker thread-local state): its stats store, its
 * cluster manager (hosts, LBs, connection pools) and its listeners. It receives config snapshots
 * from the main thread, compiles them once, and swaps them whole; in-flight requests keep the
 * objects they started with.
 */
import type { MessagePort } from 'node:worker_threads';
import { logger, setLogLevel, setComponentLogLevel, parseLogLevel, setThreadName, setLogFormat } from '../common/logger';
import { isAttacheError } from '../common/errors';
import type { ConfigSnapshot } from '../config/model';
import type { WorkerServices } from '../http/filter';
import { ListenerManager } from '../listener/listener-manager';
import { RouteConfigProviders } from '../http/rds-providers';
import { ready as nativeReady } from '../native';
import { StatsStore } from '../stats/store';
import { drainAllAccessLogs, flushAllAccessLogsSync, reopenAllAccessLogs } from '../http/access-log';
import { setHealthCheckFailed } from '../filters/http/health_check/state';
import { setAccessLogFlushInterval } from '../http/access-log-sink';
import { ClusterManager } from '../upstream/cluster';
import { setPoolStatsStore } from '../upstream/pool/pool-registry';
import type { Http1ConnPool } from '../upstream/pool/http1-pool';
import type { HostStatus, MainToWorker, WorkerTask, WorkerToMain } from './protocol';

const log = logger('main');

/** Runs a worker until it is told to drain; resolves when its listeners are closed. */
export async function runWorker(task: WorkerTask): Promise<void> {
  setThreadName(`worker_${task.workerId}`);
  if (task.logFormat) setLogFormat(task.logFormat.format, task.logFormat.escaped);
  const lvl = parseLogLevel(task.logLevel);
  if (lvl) setLogLevel(lvl);
  for (const [c, l] of Object.entries(task.componentLogLevels)) {
    const p = parseLogLevel(l);
    if (p) setComponentLogLevel(c, p);
  }
  setAccessLogFlushInterval(task.fileFlushIntervalMs);
  setHealthCheckFailed(task.healthCheckFailed === true);
  await nativeReady;
  const rt = new WorkerRuntime(task);
  return rt.run();
}

class WorkerRuntime {
  private readonly port: MessagePort;
  private readonly stats: StatsStore;
  private readonly clusterManager: ClusterManager;
  private readonly listeners: ListenerManager;
  private readonly rds = new RouteConfigProviders();
  private version = -1;
  private done!: () => void;

  constructor(private readonly task: WorkerTask) {
    this.port = task.port;
    this.stats = new StatsStore({ postLayout: (m) => this.send(m) });
    setPoolStatsStore(this.stats);
    this.clusterManager = new ClusterManager([], {});
    this.listeners = new ListenerManager(task.socketMode, task.listenerDrain);
  }

  private send(m: WorkerToMain): void {
    this.port.postMessage(m);
  }

  run(): Promise<void> {
    const finished = new Promise<void>((r) => {
      this.done = r;
    });
    // First snapshot: a failure here is fatal for the worker (main validated it already).
    this.applySnapshot(this.task.snapshot, this.task.listenerPorts, true);
    this.port.on('message', (m: MainToWorker) => this.onMessage(m));
    // 'ready' only once every listener listens; a listener that cannot bind fails the worker.
    return this.listeners.whenListening().then(() => {
      this.send({ type: 'ready', workerId: this.task.workerId, ports: this.listeners.boundPorts() });
      return finished;
    });
  }

  private applySnapshot(s: ConfigSnapshot, ports: Record<string, number>, first: boolean): void {
    if (s.version <= this.version) return;
    deepFreeze(s); // immutable from here on: compiled objects may keep references into it
    try {
      // xDS (issue 5): the one ClusterManager is updated in place (CDS add/modify/remove, EDS), so
      // Host objects and their pools survive for addresses that remain; removed hosts drain.
      const services: WorkerServices = { clusterManager: this.clusterManager, stats: this.stats, workerId: this.task.workerId };
      this.rds.update(s.routes);
      const changes = this.clusterManager.update(s);
      this.listeners.apply(s.listeners, services, this.rds, ports);
      this.version = s.version;
      // A removed cluster's stats go with it (Envoy frees the cluster's stats scope).
      for (const name of changes.removed) this.stats.retire(`cluster.${name}.`);
      for (const h of changes.removedHosts) (h.pool as Http1ConnPool | undefined)?.drain();
      this.send({ type: 'snapshot-applied', version: s.version });
    } catch (err) {
      const msg = isAttacheError(err) && 'format' in err ? (err as unknown as { format(): string }).format() : String(err);
      // The error crosses to the main thread as a structured clone (message only): keep file/path.
      if (first) throw isAttacheError(err) && 'format' in err ? new Error(msg) : err;
      log.error(`config version ${s.version} rejected: ${msg}`);
      this.send({ type: 'snapshot-rejected', version: s.version, error: msg });
    }
  }

  private onMessage(m: MainToWorker): void {
    switch (m.type) {
      case 'snapshot':
        this.applySnapshot(m.snapshot, m.listenerPorts, false);
        break;
      case 'endpoints': {
        const removed = this.clusterManager.updateEndpoints(m.cluster, m.cla);
        for (const h of removed) (h.pool as Http1ConnPool | undefined)?.drain();
        break;
      }
      case 'drain':
        void this.listeners.drain(m.timeoutMs).then(async () => {
          // issue 4: wait for in-flight access-log writes so that no line is lost or reordered.
          await drainAllAccessLogs().catch(() => flushAllAccessLogsSync());
          this.stats.flushLayout();
          this.send({ type: 'drained', workerId: this.task.workerId });
          this.port.close();
          this.done();
        });
        break;
      case 'histograms':
        this.send({ type: 'histograms-reply', id: m.id, histograms: this.stats.exportHistograms() });
        break;
      case 'hosts':
        this.send({ type: 'hosts-reply', id: m.id, hosts: this.hostStatus() });
        break;
      case 'log-level': {
        const l = m.level ? parseLogLevel(m.level) : undefined;
        if (l && m.component) setComponentLogLevel(m.component, l);
        else if (l) setLogLevel(l);
        break;
      }
      // --- issue 4: health-check state and log reopening ---
      case 'healthcheck':
        setHealthCheckFailed(m.failed);
        break;
      case 'drain-listeners':
        this.listeners.drainListeners(m);
        break;
      case 'reopen-logs': {
        let error: string | undefined;
        try {
          reopenAllAccessLogs();
        } catch (err) {
          error = (err as Error).message;
          log.error(`reopening access logs: ${error}`);
        }
        this.send({ type: 'reopen-logs-reply', id: m.id, error });
        break;
      }
      // --- end issue 4 ---
      case 'crash':
        // Debug hook (admin /debug/crash_worker, enabled only by ATTACHE_DEBUG_ADMIN=1):
        // an uncaught exception, exactly what a bug in the data plane would produce.
        setImmediate(() => {
          throw new Error(`worker ${this.task.workerId}: crash requested by admin`);
        });
        break;
    }
  }

  private hostStatus(): HostStatus[] {
    const out: HostStatus[] = [];
    for (const c of this.clusterManager.all()) {
      for (const h of c.hosts) {
        out.push({
          cluster: c.name,
          address: h.address,
          port: h.port,
          hostname: h.hostname,
          weight: h.weight,
          healthy: h.healthy,
          healthStatus: h.healthStatus,
          zone: h.locality?.zone ?? '',
          region: h.locality?.region ?? '',
          subZone: h.locality?.sub_zone ?? '',
          priority: h.priority,
          activeRequests: h.activeRequests,
          activeConnections: h.activeConnections,
          cxTotal: h.cxTotal,
          cxConnectFail: h.cxConnectFail,
          rqTotal: h.rqTotal,
          rqSuccess: h.rqSuccess,
          rqError: h.rqError,
          rqTimeout: h.rqTimeout,
        });
      }
    }
    return out;
  }
}

/** Freezes a plain-data snapshot in place (structured-cloned on arrival, so nobody else holds it). */
function deepFreeze(o: unknown): void {
  if (o === null || typeof o !== 'object' || Object.isFrozen(o)) return;
  Object.freeze(o);
  for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
}
