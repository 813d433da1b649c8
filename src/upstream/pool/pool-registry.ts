/**
 * Per-worker glue between clusters, hosts and their connection pools: one {@link Http1ConnPool}
 * per host (created on first use, kept on `host.pool`), and per-cluster runtime state (stat handles,
 * pool settings) resolved once per cluster object, never per request.
 */
import type { StatsStore } from '../../stats/store';
import { clusterStats, type ClusterStats } from '../../stats/common-stats';
import type { Host, ThreadLocalCluster } from '../cluster';
import { Http1ConnPool, type PoolClusterInfo, type PoolStats } from './http1-pool';

/** Router-facing per-cluster counters. */
export interface RouterClusterStats {
  rqTotal(): void;
  /** A response head arrived: `upstream_rq_<code>`, class, and `upstream_rq_time` (ms). */
  rqCompleted(status: number, ms: number): void;
  rqTimeout(): void;
  rqRetry(): void;
  /** `upstream_rq_active` gauge (requests attached to an upstream connection). */
  rqActive(delta: number): void;
  /** A request the router answered itself after choosing this cluster (503 UF/UC/UO, 504 UT): `upstream_rq_<code>` and class, as Envoy's chargeUpstreamAbort. */
  rqAbort(status: number): void;
  noHealthyUpstream(): void;
}

/** Per-cluster runtime (one per ThreadLocalCluster object). */
export interface ClusterRuntime {
  readonly stats: RouterClusterStats;
  readonly poolInfo: PoolClusterInfo;
  readonly clusterStats: ClusterStats;
}

let store: StatsStore | null = null;
const runtimes = new WeakMap<ThreadLocalCluster, ClusterRuntime>();

/** Sets the worker's stats store (once, at worker start). */
export function setPoolStatsStore(s: StatsStore): void {
  store = s;
}

/** The runtime state of a cluster, created on first use. */
export function clusterRuntime(cluster: ThreadLocalCluster): ClusterRuntime {
  let rt = runtimes.get(cluster);
  if (rt !== undefined) return rt;
  if (store === null) throw new Error('pool registry: stats store not set');
  const cs = clusterStats(store, cluster.name);
  cluster.lbHealthyPanicCounter = cs.lb_healthy_panic;
  const requests = { active: 0 };
  const stats: RouterClusterStats = {
    rqTotal: () => cs.upstream_rq_total.inc(),
    rqCompleted: (status, ms) => {
      cs.recordResponse(status);
      cs.upstream_rq_time.record(ms);
    },
    rqTimeout: () => cs.upstream_rq_timeout.inc(),
    rqRetry: () => cs.upstream_rq_retry.inc(),
    rqActive: (d) => {
      cs.upstream_rq_active.inc(d);
      requests.active += d;
    },
    rqAbort: (status) => cs.recordResponse(status),
    noHealthyUpstream: () => cs.upstream_cx_none_healthy.inc(),
  };
  const poolStats: PoolStats = {
    cxTotal: () => {
      cs.upstream_cx_total.inc();
      cs.upstream_cx_http1_total.inc();
    },
    cxActive: (d) => cs.upstream_cx_active.inc(d),
    cxConnectFail: () => cs.upstream_cx_connect_fail.inc(),
    cxConnectTimeout: () => cs.upstream_cx_connect_timeout.inc(),
    cxDestroy: (local) => {
      cs.upstream_cx_destroy.inc();
      (local ? cs.upstream_cx_destroy_local : cs.upstream_cx_destroy_remote).inc();
    },
    cxConnectMs: (ms) => cs.upstream_cx_connect_ms.record(ms),
    pendingActive: (d) => cs.upstream_rq_pending_active.inc(d),
    pendingTotal: () => cs.upstream_rq_pending_total.inc(),
    pendingOverflow: () => cs.upstream_rq_pending_overflow.inc(),
    cxDestroyWithActiveRq: (local) => {
      cs.upstream_cx_destroy_with_active_rq.inc();
      (local ? cs.upstream_cx_destroy_local_with_active_rq : cs.upstream_cx_destroy_remote_with_active_rq).inc();
    },
    cxProtocolError: () => cs.upstream_cx_protocol_error.inc(),
    cxCloseNotify: () => cs.upstream_cx_close_notify.inc(),
    pendingFailureEject: () => cs.upstream_rq_pending_failure_eject.inc(),
    cxOverflow: () => cs.upstream_cx_overflow.inc(),
    cxRxBytes: (n) => cs.upstream_cx_rx_bytes_total.inc(n),
    cxTxBytes: (n) => cs.upstream_cx_tx_bytes_total.inc(n),
    rqReset: (local) => (local ? cs.upstream_rq_tx_reset : cs.upstream_rq_pending_failure_eject).inc(),
  };
  const cb = cluster.circuitBreakers.default;
  rt = Object.freeze({
    stats,
    clusterStats: cs,
    poolInfo: Object.freeze({
      name: cluster.name,
      connectTimeoutMs: cluster.connectTimeoutMs,
      idleTimeoutMs: cluster.idleTimeoutMs,
      maxConnections: cb.maxConnections,
      maxPendingRequests: cb.maxPendingRequests,
      maxRequests: cb.maxRequests,
      requests,
      stats: poolStats,
    }),
  });
  runtimes.set(cluster, rt);
  return rt;
}

/** The pool of `host` (created on first use with its cluster's settings). */
export function poolFor(host: Host, cluster: ThreadLocalCluster): Http1ConnPool {
  const p = host.pool as Http1ConnPool | null | undefined;
  if (p) return p;
  const pool = new Http1ConnPool(host.address, host.port, clusterRuntime(cluster).poolInfo, host);
  host.pool = pool;
  return pool;
}
