/**
 * Handle sets for Envoy's common stat families, resolved once at config time:
 * - `cluster.<name>.*` (docs: "Cluster manager > Statistics", general cluster stats)
 * - `http.<stat_prefix>.*` (HTTP connection manager stats, plus the router filter's `no_route`,
 *   `no_cluster`, `rq_redirect`, `rq_direct_response`)
 * - `listener.<address>_<port>.*` (listener stats)
 * - `cluster_manager.*` and `server.*`.
 */

import type { Counter, Gauge, Histogram, StatsStore } from './store';

/** `cluster.<name>.` stats. */
export class ClusterStats {
  readonly upstream_rq_total: Counter;
  readonly upstream_rq_completed: Counter;
  readonly upstream_rq_1xx: Counter;
  readonly upstream_rq_2xx: Counter;
  readonly upstream_rq_3xx: Counter;
  readonly upstream_rq_4xx: Counter;
  readonly upstream_rq_5xx: Counter;
  readonly upstream_rq_active: Gauge;
  readonly upstream_rq_timeout: Counter;
  readonly upstream_rq_per_try_timeout: Counter;
  readonly upstream_rq_pending_active: Gauge;
  readonly upstream_rq_pending_total: Counter;
  readonly upstream_rq_pending_overflow: Counter;
  readonly upstream_rq_cancelled: Counter;
  readonly upstream_rq_retry: Counter;
  readonly upstream_rq_retry_success: Counter;
  readonly upstream_rq_retry_overflow: Counter;
  readonly upstream_cx_total: Counter;
  readonly upstream_cx_active: Gauge;
  readonly upstream_cx_http1_total: Counter;
  readonly upstream_cx_connect_fail: Counter;
  readonly upstream_cx_connect_timeout: Counter;
  readonly upstream_cx_overflow: Counter;
  readonly upstream_cx_none_healthy: Counter;
  readonly upstream_cx_destroy: Counter;
  readonly upstream_cx_destroy_local: Counter;
  readonly upstream_cx_destroy_remote: Counter;
  readonly upstream_cx_destroy_with_active_rq: Counter;
  readonly upstream_cx_destroy_local_with_active_rq: Counter;
  readonly upstream_cx_destroy_remote_with_active_rq: Counter;
  readonly upstream_cx_protocol_error: Counter;
  /** Connections the upstream said it would close (`Connection: close`, HTTP/1.0 without keep-alive). */
  readonly upstream_cx_close_notify: Counter;
  readonly upstream_rq_tx_reset: Counter;
  readonly upstream_rq_pending_failure_eject: Counter;
  /** Picks made in panic mode (healthy share below healthy_panic_threshold). */
  readonly lb_healthy_panic: Counter;
  readonly upstream_cx_rx_bytes_total: Counter;
  readonly upstream_cx_tx_bytes_total: Counter;
  readonly membership_healthy: Gauge;
  readonly membership_total: Gauge;
  readonly membership_change: Counter;
  /** ms from request start to the last upstream response byte. */
  readonly upstream_rq_time: Histogram;
  /** ms to establish an upstream connection. */
  readonly upstream_cx_connect_ms: Histogram;
  private readonly byCode: Array<Counter | undefined> = new Array(600);
  private readonly classes: Counter[];

  constructor(private readonly store: StatsStore, readonly prefix: string) {
    const c = (n: string) => store.counter(prefix + n);
    const g = (n: string) => store.gauge(prefix + n);
    this.upstream_rq_total = c('upstream_rq_total');
    this.upstream_rq_completed = c('upstream_rq_completed');
    this.upstream_rq_1xx = c('upstream_rq_1xx');
    this.upstream_rq_2xx = c('upstream_rq_2xx');
    this.upstream_rq_3xx = c('upstream_rq_3xx');
    this.upstream_rq_4xx = c('upstream_rq_4xx');
    this.upstream_rq_5xx = c('upstream_rq_5xx');
    this.upstream_rq_active = g('upstream_rq_active');
    this.upstream_rq_timeout = c('upstream_rq_timeout');
    this.upstream_rq_per_try_timeout = c('upstream_rq_per_try_timeout');
    this.upstream_rq_pending_active = g('upstream_rq_pending_active');
    this.upstream_rq_pending_total = c('upstream_rq_pending_total');
    this.upstream_rq_pending_overflow = c('upstream_rq_pending_overflow');
    this.upstream_rq_cancelled = c('upstream_rq_cancelled');
    this.upstream_rq_retry = c('upstream_rq_retry');
    this.upstream_rq_retry_success = c('upstream_rq_retry_success');
    this.upstream_rq_retry_overflow = c('upstream_rq_retry_overflow');
    this.upstream_cx_total = c('upstream_cx_total');
    this.upstream_cx_active = g('upstream_cx_active');
    this.upstream_cx_http1_total = c('upstream_cx_http1_total');
    this.upstream_cx_connect_fail = c('upstream_cx_connect_fail');
    this.upstream_cx_connect_timeout = c('upstream_cx_connect_timeout');
    this.upstream_cx_overflow = c('upstream_cx_overflow');
    this.upstream_cx_none_healthy = c('upstream_cx_none_healthy');
    this.upstream_cx_destroy = c('upstream_cx_destroy');
    this.upstream_cx_destroy_local = c('upstream_cx_destroy_local');
    this.upstream_cx_destroy_remote = c('upstream_cx_destroy_remote');
    this.upstream_cx_destroy_with_active_rq = c('upstream_cx_destroy_with_active_rq');
    this.upstream_cx_destroy_local_with_active_rq = c('upstream_cx_destroy_local_with_active_rq');
    this.upstream_cx_destroy_remote_with_active_rq = c('upstream_cx_destroy_remote_with_active_rq');
    this.upstream_cx_protocol_error = c('upstream_cx_protocol_error');
    this.upstream_cx_close_notify = c('upstream_cx_close_notify');
    this.upstream_rq_tx_reset = c('upstream_rq_tx_reset');
    this.upstream_rq_pending_failure_eject = c('upstream_rq_pending_failure_eject');
    this.lb_healthy_panic = c('lb_healthy_panic');
    this.upstream_cx_rx_bytes_total = c('upstream_cx_rx_bytes_total');
    this.upstream_cx_tx_bytes_total = c('upstream_cx_tx_bytes_total');
    this.membership_healthy = g('membership_healthy');
    this.membership_total = g('membership_total');
    this.membership_change = c('membership_change');
    this.upstream_rq_time = store.histogram(prefix + 'upstream_rq_time', 'ms');
    this.upstream_cx_connect_ms = store.histogram(prefix + 'upstream_cx_connect_ms', 'ms');
    this.classes = [this.upstream_rq_1xx, this.upstream_rq_1xx, this.upstream_rq_2xx, this.upstream_rq_3xx, this.upstream_rq_4xx, this.upstream_rq_5xx];
  }

  /**
   * `upstream_rq_<code>` for a status code (100..599), created the first time a code is seen (the
   * store then posts a layout update to main; rare). Other codes share `upstream_rq_<code>` too.
   */
  upstream_rq(code: number): Counter {
    const cached = code >= 0 && code < 600 ? this.byCode[code] : undefined;
    if (cached !== undefined) return cached;
    const counter = this.store.counter(`${this.prefix}upstream_rq_${code}`);
    if (code >= 0 && code < 600) this.byCode[code] = counter;
    return counter;
  }

  /** Counts a completed upstream response: `upstream_rq_completed`, `upstream_rq_<N>xx`, `upstream_rq_<code>`. */
  recordResponse(code: number): void {
    this.upstream_rq_completed.inc();
    const cls = (code / 100) | 0;
    if (cls >= 1 && cls <= 5) this.classes[cls].inc();
    this.upstream_rq(code).inc();
  }
}

/**
 * Handles for `cluster.<name>.*`. Call once per cluster per worker at config time. A cluster added
 * again after its removal (whose stats were retired) gets new stats starting at zero.
 */
export function clusterStats(store: StatsStore, clusterName: string): ClusterStats {
  const prefix = `cluster.${clusterName}.`;
  store.revive(prefix);
  return new ClusterStats(store, prefix);
}

/** `http.<stat_prefix>.` stats of an HTTP connection manager and its router filter. */
export class HttpConnManagerStats {
  readonly downstream_cx_total: Counter;
  readonly downstream_cx_active: Gauge;
  readonly downstream_cx_http1_total: Counter;
  readonly downstream_cx_http1_active: Gauge;
  readonly downstream_cx_destroy: Counter;
  readonly downstream_cx_destroy_remote: Counter;
  readonly downstream_cx_destroy_local: Counter;
  readonly downstream_cx_protocol_error: Counter;
  readonly downstream_cx_idle_timeout: Counter;
  readonly downstream_cx_rx_bytes_total: Counter;
  readonly downstream_cx_tx_bytes_total: Counter;
  readonly downstream_rq_total: Counter;
  readonly downstream_rq_http1_total: Counter;
  readonly downstream_rq_active: Gauge;
  readonly downstream_rq_1xx: Counter;
  readonly downstream_rq_2xx: Counter;
  readonly downstream_rq_3xx: Counter;
  readonly downstream_rq_4xx: Counter;
  readonly downstream_rq_5xx: Counter;
  readonly downstream_rq_completed: Counter;
  readonly downstream_rq_rx_reset: Counter;
  readonly downstream_rq_tx_reset: Counter;
  readonly downstream_rq_timeout: Counter;
  readonly downstream_rq_idle_timeout: Counter;
  readonly downstream_rq_header_timeout: Counter;
  readonly downstream_rq_too_large: Counter;
  readonly downstream_cx_upgrades_total: Counter;
  readonly downstream_cx_upgrades_active: Gauge;
  readonly downstream_rq_ws_on_non_ws_route: Counter;
  /** ms from the first request byte to the last response byte. */
  readonly downstream_rq_time: Histogram;
  /** ms a downstream connection lived. */
  readonly downstream_cx_length_ms: Histogram;
  // Router filter (http.<stat_prefix>.*)
  readonly no_route: Counter;
  readonly no_cluster: Counter;
  readonly rq_redirect: Counter;
  readonly rq_direct_response: Counter;
  readonly rq_total: Counter;
  private readonly classes: Counter[];

  constructor(store: StatsStore, readonly prefix: string) {
    const c = (n: string) => store.counter(prefix + n);
    const g = (n: string) => store.gauge(prefix + n);
    this.downstream_cx_total = c('downstream_cx_total');
    this.downstream_cx_active = g('downstream_cx_active');
    this.downstream_cx_http1_total = c('downstream_cx_http1_total');
    this.downstream_cx_http1_active = g('downstream_cx_http1_active');
    this.downstream_cx_destroy = c('downstream_cx_destroy');
    this.downstream_cx_destroy_remote = c('downstream_cx_destroy_remote');
    this.downstream_cx_destroy_local = c('downstream_cx_destroy_local');
    this.downstream_cx_protocol_error = c('downstream_cx_protocol_error');
    this.downstream_cx_idle_timeout = c('downstream_cx_idle_timeout');
    this.downstream_cx_rx_bytes_total = c('downstream_cx_rx_bytes_total');
    this.downstream_cx_tx_bytes_total = c('downstream_cx_tx_bytes_total');
    this.downstream_rq_total = c('downstream_rq_total');
    this.downstream_rq_http1_total = c('downstream_rq_http1_total');
    this.downstream_rq_active = g('downstream_rq_active');
    this.downstream_rq_1xx = c('downstream_rq_1xx');
    this.downstream_rq_2xx = c('downstream_rq_2xx');
    this.downstream_rq_3xx = c('downstream_rq_3xx');
    this.downstream_rq_4xx = c('downstream_rq_4xx');
    this.downstream_rq_5xx = c('downstream_rq_5xx');
    this.downstream_rq_completed = c('downstream_rq_completed');
    this.downstream_rq_rx_reset = c('downstream_rq_rx_reset');
    this.downstream_rq_tx_reset = c('downstream_rq_tx_reset');
    this.downstream_rq_timeout = c('downstream_rq_timeout');
    this.downstream_rq_idle_timeout = c('downstream_rq_idle_timeout');
    this.downstream_rq_header_timeout = c('downstream_rq_header_timeout');
    this.downstream_rq_too_large = c('downstream_rq_too_large');
    this.downstream_cx_upgrades_total = c('downstream_cx_upgrades_total');
    this.downstream_cx_upgrades_active = g('downstream_cx_upgrades_active');
    this.downstream_rq_ws_on_non_ws_route = c('downstream_rq_ws_on_non_ws_route');
    this.downstream_rq_time = store.histogram(prefix + 'downstream_rq_time', 'ms');
    this.downstream_cx_length_ms = store.histogram(prefix + 'downstream_cx_length_ms', 'ms');
    this.no_route = c('no_route');
    this.no_cluster = c('no_cluster');
    this.rq_redirect = c('rq_redirect');
    this.rq_direct_response = c('rq_direct_response');
    this.rq_total = c('rq_total');
    this.classes = [this.downstream_rq_1xx, this.downstream_rq_1xx, this.downstream_rq_2xx, this.downstream_rq_3xx, this.downstream_rq_4xx, this.downstream_rq_5xx];
  }

  /** Counts a response sent downstream: `downstream_rq_completed` and `downstream_rq_<N>xx`. */
  recordResponse(code: number): void {
    this.downstream_rq_completed.inc();
    const cls = (code / 100) | 0;
    if (cls >= 1 && cls <= 5) this.classes[cls].inc();
  }
}

/** Handles for `http.<stat_prefix>.*`. */
export function httpConnManagerStats(store: StatsStore, statPrefix: string): HttpConnManagerStats {
  return new HttpConnManagerStats(store, `http.${statPrefix}.`);
}

/** `listener.<address>.` stats. */
export interface ListenerStats {
  downstream_cx_total: Counter;
  downstream_cx_active: Gauge;
  downstream_cx_destroy: Counter;
  downstream_cx_overflow: Counter;
  no_filter_chain_match: Counter;
  downstream_cx_length_ms: Histogram;
}

/**
 * Envoy's stat name for a listener address: `0.0.0.0_10000`, `[__1]_8080` (':' becomes '_').
 * A listener's `stat_prefix`, when set, is used instead by callers.
 */
export function listenerStatName(address: string, port: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `${host}:${port}`.replace(/:/g, '_');
}

/**
 * Handles for `listener.<addr>.*`; `addr` is {@link listenerStatName}'s result or the listener's
 * `stat_prefix`.
 */
export function listenerStats(store: StatsStore, addr: string): ListenerStats {
  const p = `listener.${addr}.`;
  return {
    downstream_cx_total: store.counter(p + 'downstream_cx_total'),
    downstream_cx_active: store.gauge(p + 'downstream_cx_active'),
    downstream_cx_destroy: store.counter(p + 'downstream_cx_destroy'),
    downstream_cx_overflow: store.counter(p + 'downstream_cx_overflow'),
    no_filter_chain_match: store.counter(p + 'no_filter_chain_match'),
    downstream_cx_length_ms: store.histogram(p + 'downstream_cx_length_ms', 'ms'),
  };
}

/** `cluster_manager.*` (main thread). */
export interface ClusterManagerStats {
  cluster_added: Counter;
  cluster_modified: Counter;
  cluster_removed: Counter;
  cluster_updated: Counter;
  active_clusters: Gauge;
  warming_clusters: Gauge;
}

/** Handles for `cluster_manager.*`. */
export function clusterManagerStats(store: StatsStore): ClusterManagerStats {
  const p = 'cluster_manager.';
  return {
    cluster_added: store.counter(p + 'cluster_added'),
    cluster_modified: store.counter(p + 'cluster_modified'),
    cluster_removed: store.counter(p + 'cluster_removed'),
    cluster_updated: store.counter(p + 'cluster_updated'),
    active_clusters: store.gauge(p + 'active_clusters'),
    warming_clusters: store.gauge(p + 'warming_clusters'),
  };
}

/** Envoy's `server.state` values (envoy.admin.v3.ServerInfo.State). */
export const ServerStateCode = { LIVE: 0, DRAINING: 1, PRE_INITIALIZING: 2, INITIALIZING: 3 } as const;
export type ServerState = keyof typeof ServerStateCode;

/** `server.*` gauges (main thread). */
export interface ServerStats {
  live: Gauge;
  uptime: Gauge;
  concurrency: Gauge;
  memory_allocated: Gauge;
  memory_heap_size: Gauge;
  memory_physical_size: Gauge;
  total_connections: Gauge;
  version: Gauge;
  state: Gauge;
  days_until_first_cert_expiring: Gauge;
}

/** Handles for `server.*`. */
export function serverStats(store: StatsStore): ServerStats {
  const g = (n: string) => store.gauge('server.' + n);
  return {
    live: g('live'),
    uptime: g('uptime'),
    concurrency: g('concurrency'),
    memory_allocated: g('memory_allocated'),
    memory_heap_size: g('memory_heap_size'),
    memory_physical_size: g('memory_physical_size'),
    total_connections: g('total_connections'),
    version: g('version'),
    state: g('state'),
    days_until_first_cert_expiring: g('days_until_first_cert_expiring'),
  };
}

/**
 * Sets the `server.*` gauges; the supervisor calls it before serving stats (or on a timer).
 * `totalConnections` is the sum of downstream connections (Envoy: across all listeners).
 */
export function refreshServerStats(
  s: ServerStats,
  info: { state: ServerState; startTimeMs: number; concurrency: number; totalConnections?: number; version?: number },
): void {
  const mem = process.memoryUsage();
  s.state.set(ServerStateCode[info.state]);
  // Envoy: server.live is 1 unless the server is draining.
  s.live.set(info.state === 'DRAINING' ? 0 : 1);
  s.uptime.set(Math.floor((Date.now() - info.startTimeMs) / 1000));
  s.concurrency.set(info.concurrency);
  s.memory_allocated.set(mem.heapUsed);
  s.memory_heap_size.set(mem.heapTotal);
  s.memory_physical_size.set(mem.rss);
  if (info.totalConnections !== undefined) s.total_connections.set(info.totalConnections);
  if (info.version !== undefined) s.version.set(info.version);
}
