/**
 * What the admin server needs from the rest of the process. The supervisor implements it; tests
 * fake it. Everything here runs on the main thread.
 */

import type { StatsSnapshot } from '../stats/aggregator';
import type { ServerState } from '../stats/common-stats';
import type { LogLevel } from '../common/logger';

export type { ServerState };

/** Circuit breaker thresholds of one priority (envoy.config.cluster.v3.CircuitBreakers.Thresholds). */
export interface CircuitBreakerStatus {
  max_connections: number;
  max_pending_requests: number;
  max_requests: number;
  max_retries: number;
}

/** One upstream host as `/clusters` shows it. */
export interface HostStatus {
  address: string;
  port: number;
  hostname?: string;
  /** Per-host stats: counters `cx_total`, `cx_connect_fail`, `rq_total`, `rq_error`, `rq_success`, `rq_timeout`; gauges `cx_active`, `rq_active`. */
  counters: Record<string, number>;
  gauges: Record<string, number>;
  /** Envoy's health flags string: `healthy`, or `/failed_active_hc/failed_eds_health`, ... */
  healthFlags: string;
  /** EDS health status for JSON (`HEALTHY`, `UNHEALTHY`, `DEGRADED`, ...). */
  edsHealthStatus?: string;
  weight: number;
  region?: string;
  zone?: string;
  subZone?: string;
  priority?: number;
  canary?: boolean;
  /** -1 when unknown (no outlier detection). */
  successRate?: number;
}

/** One cluster as `/clusters` shows it. */
export interface ClusterStatus {
  name: string;
  observabilityName?: string;
  addedViaApi: boolean;
  edsServiceName?: string;
  /** Thresholds for DEFAULT and HIGH priority (Envoy defaults: 1024, 1024, 1024, 3). */
  circuitBreakers: { default: CircuitBreakerStatus; high: CircuitBreakerStatus };
  hosts: HostStatus[];
}

/** One listener as `/listeners` shows it. */
export interface ListenerStatus {
  name: string;
  address: string;
  port: number;
}

/** Facts for `/server_info` (envoy.admin.v3.ServerInfo). */
export interface ServerInfoSource {
  version: string;
  state: ServerState;
  /** Wall-clock process start (ms since epoch). */
  startTimeMs: number;
  /** envoy.admin.v3.CommandLineOptions fields (snake_case), e.g. `{ concurrency: 2, config_path, log_level }`. */
  commandLineOptions: Record<string, unknown>;
  node?: Record<string, unknown>;
  hotRestartVersion?: string;
}

/** The process as the admin server sees it. */
export interface AdminContext {
  /** Summed stats of all threads (StatsAggregator.snapshot()). */
  stats(): Promise<StatsSnapshot>;
  clusters(): ClusterStatus[] | Promise<ClusterStatus[]>;
  listeners(): ListenerStatus[];
  /**
   * The `configs` array of `/config_dump`, each `{ '@type': ..., ... }` in Envoy's order
   * (see `buildConfigDump()` in ./config-dump).
   */
  configDump(): Array<Record<string, unknown>>;
  serverInfo(): ServerInfoSource;
  /** Default level and per-component levels. */
  logLevels(): { level: LogLevel; components: Record<string, LogLevel> };
  /** Sets the level of one component, or of all when `component` is undefined. */
  setLogLevel(component: string | undefined, level: LogLevel): void;
  /** Called after the `/quitquitquit` response is sent. */
  quit(): void;
  /** `/drain_listeners[?graceful][&inboundonly]`. */
  drainListeners(opts: { graceful: boolean; inboundOnly: boolean }): void;
  healthcheckFail(): void;
  healthcheckOk(): void;
  resetCounters(): void;
  /**
   * `/reopen_logs` (and SIGUSR1): every thread reopens its access log files.
   * @returns one message per failure (empty: all reopened).
   */
  reopenLogs(): Promise<string[]>;
}
