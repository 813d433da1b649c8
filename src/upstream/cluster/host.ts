/**
 * One upstream host (Envoy's `Upstream::Host`): an endpoint of a cluster on one worker, with the
 * counters the connection pool and the load balancers share. Host objects are owned by a worker's
 * {@link ClusterManager}: an EDS/DNS update keeps the Host object of every address that remains
 * (so its pool and active-request count survive) and only replaces its weight, locality, priority
 * and health.
 */

import type { LbEndpoint, Locality } from '../../config/model';

/** envoy.config.core.v3.HealthStatus as carried by an LbEndpoint. */
export type HealthStatus = NonNullable<LbEndpoint['health_status']>;

/** Coarse health, as Envoy's `Host::coarseHealth()`. */
export const enum CoarseHealth {
  Healthy = 0,
  Degraded = 1,
  Unhealthy = 2,
}

/**
 * Maps an EDS `health_status` to coarse health (Envoy `HostImpl::healthFlagsSetFromProto` /
 * `coarseHealth`): UNKNOWN and HEALTHY are healthy, DEGRADED is degraded (used only when healthy
 * hosts are not enough), UNHEALTHY, DRAINING and TIMEOUT are unhealthy (never picked).
 */
export function coarseHealthOf(status: HealthStatus | undefined): CoarseHealth {
  switch (status) {
    case 'UNHEALTHY':
    case 'DRAINING':
    case 'TIMEOUT':
      return CoarseHealth.Unhealthy;
    case 'DEGRADED':
      return CoarseHealth.Degraded;
    default:
      return CoarseHealth.Healthy;
  }
}

/**
 * The host key and Envoy's `Address::asString()`: `ip:port`, or `[ipv6]:port`. Ring hash and
 * Maglev hash this string (Envoy `hashKey()` without `use_hostname_for_hashing`).
 */
export function hostKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Stable string for a locality (`region/zone/sub_zone`), used to group hosts per locality. */
export function localityKey(l: Locality | undefined): string {
  return l === undefined ? '' : `${l.region ?? ''}/${l.zone ?? ''}/${l.sub_zone ?? ''}`;
}

/**
 * An upstream host on one worker. Fields marked "cluster manager" are rewritten in place by
 * {@link ClusterManager.updateEndpoints} when the same address comes back with new attributes;
 * nothing else writes them. The counters are the pool's.
 */
export class Host {
  /** IP address (or the literal the config gave for a STATIC cluster). */
  readonly address: string;
  /** TCP port (`socket_address.port_value`). */
  readonly port: number;
  /** `ip:port` / `[ipv6]:port`: identity across updates and the hash key of ring hash / Maglev. */
  readonly key: string;
  /** `endpoint.hostname` (STRICT_DNS/LOGICAL_DNS: the DNS name resolved); '' when unset. */
  hostname: string;
  /** `load_balancing_weight`, default 1 (cluster manager). */
  weight: number;
  /** The `LocalityLbEndpoints.locality` this host came from (cluster manager). */
  locality: Locality | undefined;
  /**
   * The `LocalityLbEndpoints.load_balancing_weight` of this host's locality, 0 when unset (cluster
   * manager). Read only with `common_lb_config.locality_weighted_lb_config`.
   */
  localityWeight = 0;
  /** The `LocalityLbEndpoints.priority`, default 0 (cluster manager). */
  priority: number;
  /** EDS `health_status`, default UNKNOWN (cluster manager; {@link ThreadLocalCluster.setHostHealth}). */
  healthStatus: HealthStatus;
  /** True when the LB may pick this host as healthy (UNKNOWN/HEALTHY). */
  healthy: boolean;
  /** True for DEGRADED: picked only with the degraded share of the priority load. */
  degraded: boolean;
  /** Requests in flight to this host on this worker (Envoy `rq_active`), kept by the pool. */
  activeRequests = 0;
  /** Open connections to this host on this worker (Envoy `cx_active`), kept by the pool. */
  activeConnections = 0;
  /** Connections ever opened (Envoy host `cx_total`), kept by the pool. */
  cxTotal = 0;
  /** Connection attempts that failed (host `cx_connect_fail`). */
  cxConnectFail = 0;
  /** Requests sent (host `rq_total`), answered without 5xx (`rq_success`), 5xx/reset/timeout (`rq_error`), timed out (`rq_timeout`). */
  rqTotal = 0;
  rqSuccess = 0;
  rqError = 0;
  rqTimeout = 0;
  /** Slot for the per-host connection pool (src/upstream/pool); undefined until the pool creates it. */
  pool: unknown = undefined;
  /** Slot for per-host stat handles (src/stats). */
  stats: unknown = undefined;

  constructor(address: string, port: number, hostname = '', weight = 1, locality?: Locality, priority = 0, healthStatus: HealthStatus = 'UNKNOWN') {
    this.address = address;
    this.port = port;
    this.key = hostKey(address, port);
    this.hostname = hostname;
    this.weight = weight;
    this.locality = locality;
    this.priority = priority;
    this.healthStatus = healthStatus;
    const h = coarseHealthOf(healthStatus);
    this.healthy = h === CoarseHealth.Healthy;
    this.degraded = h === CoarseHealth.Degraded;
  }

  /** Sets `healthStatus` and the derived `healthy`/`degraded` flags. Does not rebuild any LB. */
  setHealthStatus(status: HealthStatus): void {
    this.healthStatus = status;
    const h = coarseHealthOf(status);
    this.healthy = h === CoarseHealth.Healthy;
    this.degraded = h === CoarseHealth.Degraded;
  }
}
