/** envoy.filters.http.health_check: factory and the worker's health-check state. */
export { healthCheckFilterFactory } from './config';
export { healthCheckFailed, setHealthCheckFailed } from './state';
