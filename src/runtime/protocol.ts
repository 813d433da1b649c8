/**
 * Messages between the main thread and proxy workers (over a MessagePort per worker task).
 * Only snapshots go main → worker on config change; stats cross through SharedArrayBuffers
 * (layout messages are rare); everything else is an admin-time request/reply.
 */
import type { ConfigSnapshot } from '../config/model';
import type { StatsLayoutMessage, HistogramExport } from '../stats/store';

/** The piscina task payload that starts a worker. */
export interface WorkerTask {
  workerId: number;
  port: import('node:worker_threads').MessagePort;
  snapshot: ConfigSnapshot;
  /** Resolved port per listener name (port_value 0 resolved by main). */
  listenerPorts: Record<string, number>;
  socketMode: 'native-addon' | 'node-reuseport' | 'none';
  logLevel: string;
  componentLogLevels: Record<string, string>;
  /** Access-log flush interval (ms), Envoy's --file-flush-interval-msec. */
  fileFlushIntervalMs: number;
  /** Admin `/healthcheck/fail` in force when this worker starts (issue 4). */
  healthCheckFailed?: boolean;
  /** The main thread's `--log-format` (issue 4). */
  logFormat?: { format: string; escaped: boolean };
  /** How a modified listener's open connections drain: --drain-time-s (ms) and --drain-strategy. */
  listenerDrain?: { timeMs: number; immediate: boolean };
}

/** Host status for /clusters. */
export interface HostStatus {
  cluster: string;
  address: string;
  port: number;
  hostname: string;
  weight: number;
  healthy: boolean;
  healthStatus: string;
  zone: string;
  region: string;
  subZone: string;
  priority: number;
  activeRequests: number;
  activeConnections: number;
  cxTotal: number;
  cxConnectFail: number;
  rqTotal: number;
  rqSuccess: number;
  rqError: number;
  rqTimeout: number;
}

export type MainToWorker =
  | { type: 'snapshot'; snapshot: ConfigSnapshot; listenerPorts: Record<string, number> }
  | { type: 'endpoints'; cluster: string; cla: import('../config/model').ClusterLoadAssignment }
  | { type: 'drain'; timeoutMs: number }
  | { type: 'histograms'; id: number }
  | { type: 'hosts'; id: number }
  | { type: 'log-level'; level?: string; component?: string }
  | { type: 'crash' }
  /** Admin `/healthcheck/fail` (failed: true) and `/healthcheck/ok` (issue 4). */
  | { type: 'healthcheck'; failed: boolean }
  | import('../listener/listener-manager').DrainListenersRequest
  /** Admin `/reopen_logs` or SIGUSR1: flush and reopen every access log file (issue 4). */
  | { type: 'reopen-logs'; id: number };

export type WorkerToMain =
  | { type: 'ready'; workerId: number; ports: Record<string, number> }
  | { type: 'snapshot-applied'; version: number }
  | { type: 'snapshot-rejected'; version: number; error: string }
  | StatsLayoutMessage
  | { type: 'histograms-reply'; id: number; histograms: HistogramExport[] }
  | { type: 'hosts-reply'; id: number; hosts: HostStatus[] }
  | { type: 'drained'; workerId: number }
  | { type: 'reopen-logs-reply'; id: number; error?: string };
