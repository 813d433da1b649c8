/**
 * The logger names `/logging?<name>=<level>` accepts (Envoy rejects unknown names with 400,
 * source/server/admin/logs_handler.cc). attache's own loggers (`logger('...')` in src/) plus the
 * ids of Envoy's registry (source/common/common/logger.h ALL_LOGGER_IDS) that users commonly type,
 * so that commands copied from Envoy setups keep working (they set a level nothing reads yet).
 */

/** attache's loggers: every `logger('<name>')` in src/. Keep in step when adding one. */
export const ATTACHE_LOGGERS: readonly string[] = ['admin', 'config', 'http', 'listener', 'main', 'pool', 'router', 'upstream'];

/** Envoy's logger ids (source/common/common/logger.h ALL_LOGGER_IDS), accepted so that commands and
 * Istio annotations written for Envoy (`--component-log-level jwt:debug`) keep working. */
export const ENVOY_LOGGERS: readonly string[] = [
  'admin', 'alternate_protocols_cache', 'aws', 'assert', 'backtrace', 'basic_auth', 'cache_filter', 'client',
  'config', 'connection', 'conn_handler', 'decompression', 'dns', 'dubbo', 'envoy_bug', 'ext_authz', 'ext_proc',
  'rocketmq', 'file', 'filter', 'forward_proxy', 'geolocation', 'grpc', 'happy_eyeballs', 'hc', 'health_checker',
  'http', 'http2', 'hystrix', 'init', 'io', 'jwt', 'kafka', 'key_value_store', 'lua', 'main', 'matcher', 'misc',
  'mongo', 'multi_connection', 'oauth2', 'quic', 'quic_stream', 'pool', 'rate_limit_quota', 'rbac', 'rds', 'redis',
  'router', 'runtime', 'stats', 'secret', 'tap', 'testing', 'thrift', 'tracing', 'upstream', 'udp', 'wasm',
  'websocket', 'golang',
];

/** Every accepted logger name, sorted (the order `/logging` lists them in). */
export const LOGGER_NAMES: readonly string[] = [...new Set([...ATTACHE_LOGGERS, ...ENVOY_LOGGERS])].sort();

const known = new Set(LOGGER_NAMES);

/** True when `name` is a logger `/logging` may change. */
export function isLoggerName(name: string): boolean {
  return known.has(name);
}
