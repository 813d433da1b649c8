/**
 * Main-thread supervisor: starts N proxy workers as long-running piscina tasks, publishes config
 * snapshots to them, sums their stats, answers admin queries, replaces a worker that crashes (its
 * listeners reopen on the new thread while the others keep serving) and drains them on shutdown.
 * The main thread never touches request bytes.
 */
import * as path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { getLogFormat, logger } from '../common/logger';
import type { ClusterLoadAssignment, ConfigSnapshot } from '../config/model';
import type { HostStatus, MainToWorker, WorkerTask, WorkerToMain } from '../runtime/protocol';
import { StatsAggregator } from '../stats/aggregator';
import type { HistogramExport } from '../stats/store';
import type { DrainListenersRequest } from '../listener/listener-manager';

const log = logger('main');

/** Supervisor settings. */
export interface SupervisorOptions {
  concurrency: number;
  socketMode: WorkerTask['socketMode'];
  logLevel: string;
  componentLogLevels: Record<string, string>;
  fileFlushIntervalMs: number;
  /** Resolved port per listener name. */
  listenerPorts: Record<string, number>;
  /** How a modified listener's open connections drain (--drain-time-s in ms, --drain-strategy). */
  listenerDrain?: { timeMs: number; immediate: boolean };
}

interface WorkerSlot {
  id: number;
  port: MessagePort | null;
  ready: boolean;
  restarts: number;
  ports: Record<string, number>;
}

/** Supervises the worker threads. */
export class Supervisor {
  private readonly pool: Piscina;
  private readonly slots: WorkerSlot[] = [];
  readonly stats: StatsAggregator;
  private snapshot: ConfigSnapshot;
  private stopping = false;
  private nextReq = 1;
  private readonly pendingReplies = new Map<number, { left: number; acc: unknown[]; resolve: (v: unknown[]) => void }>();
  private readyWaiters: Array<() => void> = [];
  /** Worker replacements since start (for /server_info and tests). */
  restarts = 0;
  /** Admin `/healthcheck/fail` state, handed to replacement workers too (issue 4). */
  private healthCheckFailed = false;

  constructor(private readonly opts: SupervisorOptions, snapshot: ConfigSnapshot) {
    this.snapshot = snapshot;
    this.pool = new Piscina({
      filename: path.resolve(__dirname, '../../workers/proxy-worker.js'),
      minThreads: opts.concurrency,
      maxThreads: opts.concurrency,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      concurrentTasksPerWorker: 1,
      maxQueue: 'auto',
    });
    // Admin must not wait on busy workers: after 25 ms the last histograms a worker sent are used
    // (as stale as Envoy's own, which are merged at each stats flush).
    this.stats = new StatsAggregator({ requestHistograms: () => this.collectHistograms(), histogramTimeoutMs: 25 });
  }

  /** Starts every worker; resolves when all have opened their listeners. */
  start(): Promise<void> {
    for (let i = 0; i < this.opts.concurrency; i++) {
      const slot: WorkerSlot = { id: i, port: null, ready: false, restarts: 0, ports: {} };
      this.slots.push(slot);
      this.launch(slot);
    }
    return this.whenAllReady();
  }

  private startReject: ((e: Error) => void) | null = null;

  private whenAllReady(): Promise<void> {
    if (this.slots.every((s) => s.ready)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.readyWaiters.push(resolve);
      this.startReject = reject;
    });
  }

  private launch(slot: WorkerSlot): void {
    const { port1, port2 } = new MessageChannel();
    slot.port = port1;
    slot.ready = false;
    port1.on('message', (m: WorkerToMain) => this.onMessage(slot, m));
    port1.unref();
    const task: WorkerTask = {
      workerId: slot.id,
      port: port2,
      snapshot: this.snapshot,
      listenerPorts: this.opts.listenerPorts,
      socketMode: this.opts.socketMode,
      logLevel: this.opts.logLevel,
      componentLogLevels: this.opts.componentLogLevels,
      fileFlushIntervalMs: this.opts.fileFlushIntervalMs,
      healthCheckFailed: this.healthCheckFailed,
      logFormat: getLogFormat(),
      listenerDrain: this.opts.listenerDrain,
    };
    this.pool.run(task, { transferList: [port2] as never }).then(
      () => {
        slot.port = null;
      },
      (err: Error) => {
        port1.close();
        slot.port = null;
        slot.ready = false;
        this.stats.retireWorker(slot.id);
        if (this.stopping) return;
        if (this.startReject !== null) {
          // A worker that fails before every worker is up (a listener cannot bind, bad config):
          // startup fails, as Envoy exits when a listener cannot be created.
          const reject = this.startReject;
          this.startReject = null;
          this.stopping = true;
          void this.pool.destroy();
          reject(err);
          return;
        }
        slot.restarts++;
        this.restarts++;
        log.error(`worker_${slot.id} crashed: ${err.message}; starting a replacement (restart #${slot.restarts})`);
        setTimeout(() => this.launch(slot), Math.min(1000, 50 * slot.restarts)).unref();
      },
    );
  }

  private onMessage(slot: WorkerSlot, m: WorkerToMain): void {
    switch (m.type) {
      case 'ready':
        slot.ready = true;
        slot.ports = m.ports;
        for (const d of this.listenerDrains) slot.port?.postMessage(d); // a replacement worker stops them too
        log.debug(`worker_${slot.id} ready`);
        if (this.slots.every((s) => s.ready)) {
          this.startReject = null;
          const w = this.readyWaiters;
          this.readyWaiters = [];
          for (const r of w) r();
        }
        break;
      case 'stats-layout':
        this.stats.applyLayout(slot.id, m);
        break;
      case 'histograms-reply':
      case 'hosts-reply':
      case 'reopen-logs-reply': {
        const p = this.pendingReplies.get(m.id);
        if (p) {
          p.acc.push({ workerId: slot.id, data: m.type === 'histograms-reply' ? m.histograms : m.type === 'hosts-reply' ? m.hosts : m.error });
          if (--p.left === 0) {
            this.pendingReplies.delete(m.id);
            p.resolve(p.acc);
          }
        }
        break;
      }
      case 'snapshot-rejected':
        log.error(`worker_${slot.id} rejected config version ${m.version}: ${m.error}`);
        break;
      default:
        break;
    }
  }

  private broadcast(m: MainToWorker): void {
    for (const s of this.slots) s.port?.postMessage(m);
  }

  /** Asks every live worker and gathers the replies (admin only; 2 s timeout). */
  private ask<T>(make: (id: number) => MainToWorker): Promise<Array<{ workerId: number; data: T }>> {
    const live = this.slots.filter((s) => s.port !== null && s.ready);
    if (live.length === 0) return Promise.resolve([]);
    const id = this.nextReq++;
    return new Promise((resolve) => {
      const entry = { left: live.length, acc: [] as unknown[], resolve: resolve as (v: unknown[]) => void };
      this.pendingReplies.set(id, entry);
      for (const s of live) s.port!.postMessage(make(id));
      setTimeout(() => {
        if (this.pendingReplies.delete(id)) resolve(entry.acc as Array<{ workerId: number; data: T }>);
      }, 2000).unref();
    });
  }

  private async collectHistograms(): Promise<Array<{ workerId: number; histograms: HistogramExport[] }>> {
    const r = await this.ask<HistogramExport[]>((id) => ({ type: 'histograms', id }));
    return r.map((x) => ({ workerId: x.workerId, histograms: x.data }));
  }

  /** Every worker's view of its hosts (for /clusters). */
  async hosts(): Promise<HostStatus[][]> {
    return (await this.ask<HostStatus[]>((id) => ({ type: 'hosts', id }))).map((x) => x.data);
  }

  /** Publishes a new snapshot to every worker (and to replacements started later). */
  publish(snapshot: ConfigSnapshot): void {
    this.snapshot = snapshot;
    this.broadcast({ type: 'snapshot', snapshot, listenerPorts: this.opts.listenerPorts });
  }

  /** Sends resolved endpoints of one cluster (DNS, EDS) to every worker. */
  publishEndpoints(cluster: string, cla: ClusterLoadAssignment): void {
    this.snapshot = { ...this.snapshot, endpoints: { ...this.snapshot.endpoints, [cluster]: cla } };
    this.broadcast({ type: 'endpoints', cluster, cla });
  }

  /** Admin `/drain_listeners` requests so far (replayed to replacement workers). */
  private readonly listenerDrains: DrainListenersRequest[] = [];

  /**
   * Admin `/drain_listeners[?inboundonly][&graceful]`: every worker stops its listeners (those
   * with traffic_direction INBOUND with `inboundOnly`), now or, with `graceful`, after discouraging
   * keep-alive for `drainTimeMs` (see DrainListenersRequest). The process keeps running.
   * A graceful request repeating one already under way is ignored (Envoy returns OK).
   */
  drainListeners(o: { inboundOnly: boolean; graceful: boolean; drainTimeMs: number; strategy: 'gradual' | 'immediate' }): void {
    if (o.graceful && this.listenerDrains.some((d) => d.graceful && (!d.inboundOnly || o.inboundOnly))) return;
    const m: DrainListenersRequest = { type: 'drain-listeners', ...o, startedAtMs: Date.now() };
    this.listenerDrains.push(m);
    for (const s of this.slots) if (s.ready) s.port?.postMessage(m);
  }

  setLogLevel(level: string, component?: string): void {
    this.broadcast({ type: 'log-level', level, component });
  }

  // --- issue 4: health-check state and access-log reopening ---
  /** Admin `/healthcheck/fail` (true) / `/healthcheck/ok` (false): every worker's health_check filter follows. */
  setHealthCheckFailed(failed: boolean): void {
    this.healthCheckFailed = failed;
    this.broadcast({ type: 'healthcheck', failed });
  }

  /**
   * Every worker flushes and reopens its access log files (admin `/reopen_logs`, SIGUSR1).
   * @returns the error messages of workers that failed (empty: all reopened).
   */
  async reopenLogs(): Promise<string[]> {
    const r = await this.ask<string | undefined>((id) => ({ type: 'reopen-logs', id }));
    return r.filter((x) => x.data !== undefined).map((x) => `worker_${x.workerId}: ${x.data}`);
  }
  // --- end issue 4 ---

  /** Crashes one worker on purpose (debug admin endpoint; used by tests). */
  crashWorker(id: number): boolean {
    const s = this.slots[id];
    if (!s?.port) return false;
    s.port.postMessage({ type: 'crash' } satisfies MainToWorker);
    return true;
  }

  /** Number of workers serving. */
  liveWorkers(): number {
    return this.slots.filter((s) => s.ready).length;
  }

  /** Ports bound by worker 0 (all workers bind the same). */
  boundPorts(): Record<string, number> {
    return this.slots.find((s) => s.ready)?.ports ?? {};
  }

  /**
   * Drains every worker: stop accepting, finish in-flight requests (up to `timeoutMs`), close.
   * Resolves when all workers are done.
   */
  async drainAndStop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    const done = this.slots.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.port === null) return resolve();
          const port = s.port;
          port.on('message', (m: WorkerToMain) => {
            if (m.type === 'drained') resolve();
          });
          port.on('close', () => resolve());
          port.postMessage({ type: 'drain', timeoutMs } satisfies MainToWorker);
        }),
    );
    await Promise.race([Promise.all(done), new Promise((r) => setTimeout(r, timeoutMs + 2000).unref())]);
    await this.pool.destroy();
  }
}
