/**
 * Glue from a finished {@link ActiveStream} to the configured access loggers (src/http/access-log.ts):
 * compiled once per HCM, one record built per request only when logging is configured.
 */
import { ConfigError } from '../common/errors';
import type { AccessLog } from '../config/model';
import { createAccessLoggers, type AccessLogRecord } from './access-log';
import type { ActiveStream } from './active-stream';

let flushIntervalMs: number | undefined;
/** Envoy's `--file-flush-interval-msec` (set on each worker at start). */
export function setAccessLogFlushInterval(ms: number): void {
  flushIntervalMs = ms;
}

/**
 * @param path the config path of the `access_log` list, e.g.
 *   `static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log`
 * @throws ConfigError naming the entry's field when a logger cannot be built (bad format operator,
 *   unreadable format file, unopenable path: `<path>[i].typed_config.path`).
 */
export function compileAccessLogs(configs: readonly AccessLog[], path: string): ReadonlyArray<(s: ActiveStream) => void> {
  if (configs.length === 0) return [];
  let loggers;
  try {
    loggers = createAccessLoggers(configs, flushIntervalMs === undefined ? undefined : { flushIntervalMs }, path);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError((err as Error).message, { path });
  }
  return loggers.map((l) => (s: ActiveStream) => l.log(recordOf(s)));
}

/**
 * StreamInfo fields the access log reads when the stream/router set them (see the report: Envoy's
 * StreamInfo::lastDownstreamRxByteReceived and upstreamInfo().upstreamLocalAddress()).
 */
type LoggedStreamInfo = ActiveStream['streamInfo'] & {
  /** performance.now() when the last request byte was received (onMessageComplete); 0 = not yet. */
  lastDownstreamRxByteReceivedMono?: number;
  /** Local IP / port of the upstream connection the request went out on. */
  upstreamLocalAddress?: string;
  upstreamLocalPort?: number;
};

function recordOf(s: ActiveStream): AccessLogRecord {
  const i: LoggedStreamInfo = s.streamInfo;
  const rxEnd = i.lastDownstreamRxByteReceivedMono;
  const h = s.head;
  return {
    method: h.method,
    path: h.path,
    originalPath: i.originalPath,
    protocol: h.versionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1',
    authority: h.authority,
    requestHeaders: h.headers,
    responseHeaders: s.responseHeaders ?? undefined,
    status: i.responseCode,
    responseFlags: i.responseFlags,
    responseCodeDetails: i.responseCodeDetails,
    bytesReceived: i.bytesReceived,
    bytesSent: i.bytesSent,
    startTimeMs: i.startTimeMs,
    durationMs: i.endMono - i.startMono,
    // %REQUEST_DURATION%: start to the last request byte received (Envoy's lastDownstreamRxByteReceived).
    requestDurationMs: rxEnd !== undefined && rxEnd > 0 ? rxEnd - i.startMono : undefined,
    responseDurationMs: i.upstreamHeadersMono > 0 ? i.upstreamHeadersMono - i.startMono : undefined,
    upstreamHost: i.upstreamHost,
    upstreamCluster: i.upstreamCluster,
    upstreamLocalAddress: i.upstreamLocalAddress,
    upstreamLocalPort: i.upstreamLocalPort,
    upstreamServiceTimeMs: i.upstreamHeadersMono > 0 ? i.upstreamHeadersMono - i.upstreamStartMono : undefined,
    downstreamRemoteAddress: i.downstreamRemoteAddress,
    downstreamRemotePort: i.downstreamRemotePort,
    downstreamDirectRemoteAddress: i.downstreamDirectRemoteAddress,
    downstreamDirectRemotePort: i.downstreamDirectRemotePort,
    downstreamLocalAddress: i.downstreamLocalAddress,
    downstreamLocalPort: i.downstreamLocalPort,
    routeName: i.routeName,
    healthCheck: i.healthCheck, // issue 4: not_health_check_filter
  };
}
