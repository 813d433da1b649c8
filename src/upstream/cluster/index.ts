/** Per-worker upstream cluster state: cluster manager, clusters, hosts, priority load. */
export { ClusterManager, validateClusterLb, type ClusterManagerOptions, type ClusterUpdateResult } from './cluster-manager';
export { ThreadLocalCluster, type ClusterType } from './thread-local-cluster';
export { Host, coarseHealthOf, hostKey, CoarseHealth, type HealthStatus } from './host';
export { clusterSettings, HTTP_PROTOCOL_OPTIONS_TYPE, type CircuitBreakers, type CircuitBreakerThresholds, type ClusterSettings } from './cluster-info';
export { computePriorityLoad, computePriorityState, groupByPriority, isLevelInPanic, DEFAULT_OVERPROVISIONING_FACTOR, DEFAULT_HEALTHY_PANIC_THRESHOLD, type PriorityLevel, type PriorityLoad, type PriorityState } from './priority-set';
export { commonLbSettings, type CommonLbSettings } from './common-lb-config';
export type { LbContext } from '../lb/types';
