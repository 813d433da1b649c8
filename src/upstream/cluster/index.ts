/** Per-worker upstream cluster state: cluster manager, clusters, hosts, priority load. */
export { ClusterManager, validateClusterLb, type ClusterManagerOptions, type ClusterUpdateResult } from './cluster-manager';
export { ThreadLocalCluster, type ClusterType } from './thread-local-cluster';
export { Host, coarseHealthOf, hostKey, CoarseHealth, type HealthStatus } from './host';
export { clusterSettings, HTTP_PROTOCOL_OPTIONS_TYPE, type CircuitBreakers, type CircuitBreakerThresholds, type ClusterSettings } from './cluster-info';
export { computePriorityLoad, groupByPriority, DEFAULT_OVERPROVISIONING_FACTOR, type PriorityLevel, type PriorityLoad } from './priority-set';
export type { LbContext } from '../lb/types';
