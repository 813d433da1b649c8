/**
 * The logger names `/logging?<name>=<level>` accepts (Envoy rejects unknown names with 400,
 * source/server/admin/logs_handler.cc). attache's own loggers (`logger('...')` in src/) plus the
 * ids of Envoy's registry (source/common/common/logger.h ALL_LOGGER_IDS) that users commonly type,
 * so that commands copied from Envoy setups keep working (they set a level nothing reads yet).
 */

/** attache's loggers: every `logger('<name>')` in src/. Keep in step when adding one. */
export const ATTACHE_LOGGERS: readonly string[] = ['admin', 'config', 'http', 'listener', 'main', 'pool', 'upstream'];

/** Envoy logger ids accepted for compatibility (a subset of ALL_LOGGER_IDS). */
export const ENVOY_LOGGERS: readonly string[] = [
  'admin', 'assert', 'backtrace', 'client', 'config', 'connection', 'conn_handler', 'dns', 'file',
  'filter', 'grpc', 'happy_eyeballs', 'hc', 'health_checker', 'http', 'http2', 'init', 'io', 'lua',
  'main', 'matcher', 'misc', 'pool', 'rbac', 'rds', 'router', 'runtime', 'secret', 'stats', 'tracing',
  'upstream', 'udp', 'websocket',
];

/** Every accepted logger name, sorted (the order `/logging` lists them in). */
export const LOGGER_NAMES: readonly string[] = [...new Set([...ATTACHE_LOGGERS, ...ENVOY_LOGGERS])].sort();

const known = new Set(LOGGER_NAMES);

/** True when `name` is a logger `/logging` may change. */
export function isLoggerName(name: string): boolean {
  return known.has(name);
}
