/**
 * Per-cluster settings read once from the config (Envoy `ClusterInfoImpl`): timeouts, buffer
 * limit, circuit-breaker thresholds, upstream HTTP protocol options. Plain data, shared by every
 * request to the cluster.
 */

import { durationMs } from '../../common/duration';
import type { Cluster, Http1ProtocolOptions, HttpProtocolOptions } from '../../config/model';

/** `type.googleapis.com/...` key of the v3 upstream HTTP protocol options. */
export const HTTP_PROTOCOL_OPTIONS_TYPE = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** One `circuit_breakers.thresholds` entry with Envoy's defaults applied. */
export interface CircuitBreakerThresholds {
  /** `max_connections`, default 1024. */
  readonly maxConnections: number;
  /** `max_pending_requests`, default 1024. */
  readonly maxPendingRequests: number;
  /** `max_requests`, default 1024. */
  readonly maxRequests: number;
  /** `max_retries`, default 3. */
  readonly maxRetries: number;
}

/** Thresholds for the DEFAULT and HIGH routing priorities. */
export interface CircuitBreakers {
  readonly default: CircuitBreakerThresholds;
  readonly high: CircuitBreakerThresholds;
}

/** The settings of a cluster the router and the pool read. */
export interface ClusterSettings {
  /** `connect_timeout`, default 5000 ms. */
  readonly connectTimeoutMs: number;
  /** `per_connection_buffer_limit_bytes`, default 1 MiB (1048576). */
  readonly perConnectionBufferLimitBytes: number;
  /** `circuit_breakers.thresholds` per priority (Envoy's are process-wide; these are per worker). */
  readonly circuitBreakers: CircuitBreakers;
  /**
   * Upstream connection idle timeout in ms: `common_http_protocol_options.idle_timeout` of
   * `typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]`,
   * else the cluster's legacy `common_http_protocol_options`; default 1 hour; 0 = disabled ("0s").
   */
  readonly idleTimeoutMs: number;
  /** `common_http_protocol_options.max_connection_duration` in ms; 0 = unlimited (default). */
  readonly maxConnectionDurationMs: number;
  /** `common_http_protocol_options.max_requests_per_connection`; 0 = unlimited (default). */
  readonly maxRequestsPerConnection: number;
  /**
   * HTTP/1 `enable_trailers` of the cluster's http_protocol_options (explicit_http_config of the v3
   * extension options, else the legacy field); default false: the upstream codec drops trailers.
   */
  readonly enableTrailers: boolean;
}

const DEFAULT_THRESHOLDS: CircuitBreakerThresholds = Object.freeze({ maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 });

function thresholdsFor(cluster: Cluster, priority: 'DEFAULT' | 'HIGH'): CircuitBreakerThresholds {
  const t = cluster.circuit_breakers?.thresholds?.find((x) => (x.priority ?? 'DEFAULT') === priority);
  if (t === undefined) return DEFAULT_THRESHOLDS;
  return Object.freeze({
    maxConnections: t.max_connections ?? 1024,
    maxPendingRequests: t.max_pending_requests ?? 1024,
    maxRequests: t.max_requests ?? 1024,
    maxRetries: t.max_retries ?? 3,
  });
}

/** The upstream `common_http_protocol_options` in effect (v3 extension options win over the legacy field). */
export function commonHttpProtocolOptions(cluster: Cluster): (HttpProtocolOptions & { max_requests_per_connection?: number }) | undefined {
  const ext = cluster.typed_extension_protocol_options?.[HTTP_PROTOCOL_OPTIONS_TYPE] as { common_http_protocol_options?: HttpProtocolOptions } | undefined;
  return ext?.common_http_protocol_options ?? cluster.common_http_protocol_options;
}

/** The upstream HTTP/1 protocol options in effect (v3 extension `explicit_http_config` wins over the legacy field). */
function http1ProtocolOptions(cluster: Cluster): Http1ProtocolOptions | undefined {
  const ext = cluster.typed_extension_protocol_options?.[HTTP_PROTOCOL_OPTIONS_TYPE] as { explicit_http_config?: { http_protocol_options?: Http1ProtocolOptions } } | undefined;
  return ext?.explicit_http_config?.http_protocol_options ?? cluster.http_protocol_options;
}

/**
 * Reads a cluster's settings with Envoy's defaults.
 * @throws Error if a duration is malformed (the config validator rejects those first).
 */
export function clusterSettings(cluster: Cluster): ClusterSettings {
  const http = commonHttpProtocolOptions(cluster);
  return Object.freeze({
    connectTimeoutMs: durationMs(cluster.connect_timeout, 5000),
    perConnectionBufferLimitBytes: cluster.per_connection_buffer_limit_bytes ?? 1024 * 1024,
    circuitBreakers: Object.freeze({ default: thresholdsFor(cluster, 'DEFAULT'), high: thresholdsFor(cluster, 'HIGH') }),
    idleTimeoutMs: durationMs(http?.idle_timeout, 3_600_000),
    maxConnectionDurationMs: durationMs(http?.max_connection_duration, 0),
    maxRequestsPerConnection: http?.max_requests_per_connection ?? 0,
    enableTrailers: http1ProtocolOptions(cluster)?.enable_trailers ?? false,
  });
}
