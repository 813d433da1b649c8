/**
 * Envoy access logging (docs: "Access logging" > "Format rules" / "Command operators";
 * source/common/formatter/): format strings compiled once into a formatter, and a buffered file sink
 * per path that writes with `fs.write` on an fd when its buffer passes 64 KiB or every
 * `--file-flush-interval-msec` (Envoy's default: 10000 ms).
 *
 * Supported operators: START_TIME[(strftime)], REQ/RESP/TRAILER(Header[?Alt])[:len], RESPONSE_CODE,
 * RESPONSE_CODE_DETAILS, RESPONSE_FLAGS, BYTES_RECEIVED, BYTES_SENT, DURATION, REQUEST_DURATION,
 * RESPONSE_DURATION, RESPONSE_TX_DURATION, UPSTREAM_HOST, UPSTREAM_CLUSTER, UPSTREAM_LOCAL_ADDRESS[_WITHOUT_PORT],
 * UPSTREAM_LOCAL_PORT,
 * UPSTREAM_TRANSPORT_FAILURE_REASON, DOWNSTREAM_[DIRECT_]REMOTE_ADDRESS[_WITHOUT_PORT],
 * DOWNSTREAM_LOCAL_ADDRESS[_WITHOUT_PORT], DOWNSTREAM_LOCAL_PORT, PROTOCOL, ROUTE_NAME, HOSTNAME,
 * CONNECTION_ID. A missing value prints `-` (text) or `null` (JSON). `%%` prints `%`; any other `%`
 * must start a valid command (a config error otherwise, as in Envoy).
 */

import * as fs from 'node:fs';
import * as os from 'node:os';
import { dirname } from 'node:path';
import { ConfigError } from '../common/errors';
import type { AccessLog } from '../config/model';
import { compileAccessLogFilter, type AccessLogFilterConfig, type AccessLogPredicate } from './access-log-filter';
import { clampTimeoutMs } from '../common/timer-limit';
import { compileStrftime } from '../common/strftime';

/** Envoy's default format (docs "Access logging" > "Default format string"). */
export const DEFAULT_ACCESS_LOG_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" ' +
  '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

/** Envoy's default `--file-flush-interval-msec`. */
export const DEFAULT_FLUSH_INTERVAL_MS = 10_000;
/** Buffer size that triggers a write before the interval (Envoy's file flush min size: 64 KiB). */
export const FLUSH_SIZE_BYTES = 64 * 1024;

/** Everything an access log line may print about one request. Times are ms. */
export interface AccessLogRecord {
  method: string;
  /** `:path` as received (with query). */
  path: string;
  /** Path before a rewrite (what `x-envoy-original-path` would hold). */
  originalPath?: string;
  /** `HTTP/1.1`, `HTTP/1.0`. */
  protocol: string;
  /** `:authority` / Host. */
  authority?: string;
  /** Flat `[lowercased name, value, ...]`. */
  requestHeaders: readonly string[];
  responseHeaders?: readonly string[];
  responseTrailers?: readonly string[];
  /** 0 when no response was sent. */
  status: number;
  /** Comma-joined response flags (`UH`, `UF,URX`), '' for none. */
  responseFlags: string;
  responseCodeDetails?: string;
  bytesReceived: number;
  bytesSent: number;
  /** Wall clock (ms since epoch) when the request started. */
  startTimeMs: number;
  /** Start to last response byte sent. */
  durationMs?: number;
  /** Start to last request byte received. */
  requestDurationMs?: number;
  /** Start to first upstream response byte. */
  responseDurationMs?: number;
  /** First upstream response byte to last response byte sent. */
  responseTxDurationMs?: number;
  /** `ip:port` of the upstream host. */
  upstreamHost?: string;
  upstreamCluster?: string;
  /** Local IP of the upstream connection (%UPSTREAM_LOCAL_ADDRESS[_WITHOUT_PORT]%). */
  upstreamLocalAddress?: string;
  /** Local port of the upstream connection (%UPSTREAM_LOCAL_PORT%). */
  upstreamLocalPort?: number;
  upstreamTransportFailureReason?: string;
  /** Used for `%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%` when the header is not in responseHeaders. */
  upstreamServiceTimeMs?: number;
  downstreamRemoteAddress: string;
  downstreamRemotePort: number;
  /** The peer of the connection (%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%), when it differs from downstreamRemoteAddress (x-forwarded-for). */
  downstreamDirectRemoteAddress?: string;
  downstreamDirectRemotePort?: number;
  downstreamLocalAddress: string;
  downstreamLocalPort: number;
  routeName?: string;
  connectionId?: number;
  /** The health_check filter marked the request (for `not_health_check_filter`). */
  healthCheck?: boolean;
}

const enum Op {
  StartTime, Req, Resp, Trailer, ResponseCode, ResponseCodeDetails, ResponseFlags, BytesReceived, BytesSent,
  Duration, RequestDuration, ResponseDuration, ResponseTxDuration, UpstreamHost, UpstreamCluster,
  UpstreamLocalAddress, UpstreamLocalAddressNoPort, UpstreamLocalPort, UpstreamTransportFailureReason, RemoteAddress, RemoteAddressNoPort, DirectRemoteAddress, DirectRemoteAddressNoPort, LocalAddress,
  LocalAddressNoPort, LocalPort, Protocol, RouteName, Hostname, ConnectionId,
}

const SIMPLE_OPS: Record<string, Op> = {
  RESPONSE_CODE: Op.ResponseCode,
  RESPONSE_CODE_DETAILS: Op.ResponseCodeDetails,
  RESPONSE_FLAGS: Op.ResponseFlags,
  BYTES_RECEIVED: Op.BytesReceived,
  BYTES_SENT: Op.BytesSent,
  DURATION: Op.Duration,
  REQUEST_DURATION: Op.RequestDuration,
  RESPONSE_DURATION: Op.ResponseDuration,
  RESPONSE_TX_DURATION: Op.ResponseTxDuration,
  UPSTREAM_HOST: Op.UpstreamHost,
  UPSTREAM_CLUSTER: Op.UpstreamCluster,
  UPSTREAM_LOCAL_ADDRESS: Op.UpstreamLocalAddress,
  UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: Op.UpstreamLocalAddressNoPort,
  UPSTREAM_LOCAL_PORT: Op.UpstreamLocalPort,
  UPSTREAM_TRANSPORT_FAILURE_REASON: Op.UpstreamTransportFailureReason,
  DOWNSTREAM_REMOTE_ADDRESS: Op.RemoteAddress,
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: Op.RemoteAddressNoPort,
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS: Op.DirectRemoteAddress,
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT: Op.DirectRemoteAddressNoPort,
  DOWNSTREAM_LOCAL_ADDRESS: Op.LocalAddress,
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: Op.LocalAddressNoPort,
  DOWNSTREAM_LOCAL_PORT: Op.LocalPort,
  PROTOCOL: Op.Protocol,
  ROUTE_NAME: Op.RouteName,
  HOSTNAME: Op.Hostname,
  CONNECTION_ID: Op.ConnectionId,
};

interface Command {
  op: Op;
  /** Header name (lowercase) for REQ/RESP/TRAILER. */
  h1: string;
  /** Alternative header after `?`, or ''. */
  h2: string;
  /** `:len` truncation, 0 = none. */
  maxLen: number;
  /** START_TIME formatter, undefined = Envoy's default (`%Y-%m-%dT%H:%M:%E3SZ`, UTC). */
  time: ((ms: number) => string) | undefined;
}

type Part = string | Command;

/**
 * One command at the start of the rest of a format: Envoy's commandWithArgsRegex
 * (source/common/formatter/substitution_formatter.cc): `%COMMAND(SUBCOMMAND):LENGTH%`, COMMAND of
 * A-Z, 0-9 and `_`, SUBCOMMAND the shortest text up to a `)` that the rest of the command follows.
 */
const CMD_RE = /^%((?:[A-Z]|[0-9]|_)+)(?:\((.*?)\))?(?::([0-9]+))?%/s;

/**
 * Compiles one format string into parts, as Envoy's SubstitutionFormatParser::parse: `%%` prints
 * `%`; any other `%` must start a valid command.
 * @throws Error `Incorrect configuration: <format>. Couldn't find valid command at position <n>`
 *   (n: byte offset of the `%`, as Envoy) for a `%` that starts no command (a lone `%`, lower-case,
 *   unterminated), and `Not supported field in StreamInfo: <COMMAND>` for an unknown command.
 */
function compileText(format: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let pos = 0;
  while (pos < format.length) {
    const next = format.indexOf('%', pos);
    if (next < 0) {
      literal += format.slice(pos);
      break;
    }
    literal += format.slice(pos, next);
    pos = next;
    if (format.charCodeAt(pos + 1) === 0x25 /* % */) {
      literal += '%';
      pos += 2;
      continue;
    }
    const m = CMD_RE.exec(format.slice(pos));
    if (m === null) {
      throw new Error(`Incorrect configuration: ${format}. Couldn't find valid command at position ${Buffer.byteLength(format.slice(0, pos))}`);
    }
    if (literal !== '') parts.push(literal);
    literal = '';
    pos += m[0].length;
    const cmd = command(m[1], m[2], m[3] ? Number(m[3]) : 0);
    if (typeof cmd === 'string') {
      // A constant ("-"): merge with the literal text around it.
      literal += cmd;
    } else parts.push(cmd);
  }
  if (literal !== '') parts.push(literal);
  return parts;
}

/**
 * The compiled form of one command; a string for operators attache has no value for (Envoy prints
 * them as "-" when not applicable).
 * @throws Error for an unknown operator or a REQ/RESP/TRAILER without a header name.
 */
function command(name: string, arg: string | undefined, maxLen: number): Command | string {
  if (name === 'REQ' || name === 'RESP' || name === 'TRAILER') {
    if (!arg) throw new Error(`access log format: ${name} requires a header name`);
    const [a, b = ''] = arg.split('?');
    return { op: name === 'REQ' ? Op.Req : name === 'RESP' ? Op.Resp : Op.Trailer, h1: a.toLowerCase(), h2: b.toLowerCase(), maxLen, time: undefined };
  }
  if (name === 'START_TIME') return { op: Op.StartTime, h1: '', h2: '', maxLen, time: arg ? compileStrftime(arg) : undefined };
  const op = SIMPLE_OPS[name];
  if (op !== undefined) return { op, h1: '', h2: '', maxLen, time: undefined };
  if (!KNOWN_UNSUPPORTED.has(name) && !name.startsWith('DOWNSTREAM_PEER_') && !name.startsWith('DOWNSTREAM_TLS_') && !name.startsWith('UPSTREAM_PEER_') && !name.startsWith('UPSTREAM_TLS_')) {
    throw new Error(`Not supported field in StreamInfo: ${name}`);
  }
  return '-';
}

/** Envoy command operators that always print "-" in attache (no TLS, no filter state, ...). */
const KNOWN_UNSUPPORTED: ReadonlySet<string> = new Set([
  'CONNECTION_TERMINATION_DETAILS', 'REQUESTED_SERVER_NAME', 'LOCAL_REPLY_BODY', 'UPSTREAM_TRANSPORT_FAILURE_REASON_DETAILS',
  'DYNAMIC_METADATA', 'CLUSTER_METADATA', 'UPSTREAM_METADATA', 'FILTER_STATE', 'UPSTREAM_FILTER_STATE', 'FILTER_CHAIN_NAME',
  'ROUTE_METADATA', 'VIRTUAL_CLUSTER_NAME', 'GRPC_STATUS', 'GRPC_STATUS_NUMBER', 'STREAM_ID', 'CONNECTION_ID',
  'UPSTREAM_CONNECTION_ID', 'ENVIRONMENT', 'UPSTREAM_REQUEST_ATTEMPT_COUNT', 'REQ_WITHOUT_QUERY', 'CEL', 'METADATA',
  'DOWNSTREAM_LOCAL_PORT',
  'UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT', 'UPSTREAM_REMOTE_PORT', 'REQUEST_TX_DURATION', 'RESPONSE_TX_DURATION',
  'ROUNDTRIP_DURATION', 'DOWNSTREAM_HANDSHAKE_DURATION', 'UNIQUE_ID', 'TRACE_ID', 'UPSTREAM_CLUSTER_RAW', 'REQUEST_HEADERS_BYTES',
  'RESPONSE_HEADERS_BYTES', 'RESPONSE_TRAILERS_BYTES', 'DOWNSTREAM_WIRE_BYTES_SENT', 'DOWNSTREAM_WIRE_BYTES_RECEIVED',
  'UPSTREAM_WIRE_BYTES_SENT', 'UPSTREAM_WIRE_BYTES_RECEIVED', 'UPSTREAM_HEADER_BYTES_SENT', 'UPSTREAM_HEADER_BYTES_RECEIVED',
  'DOWNSTREAM_HEADER_BYTES_SENT', 'DOWNSTREAM_HEADER_BYTES_RECEIVED', 'ACCESS_LOG_TYPE',
]);

function header(list: readonly string[] | undefined, name: string): string | undefined {
  if (!list) return undefined;
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return list[i + 1];
  return undefined;
}

function reqHeader(r: AccessLogRecord, name: string): string | undefined {
  switch (name) {
    case ':method': return r.method;
    case ':path': return r.path;
    case ':authority': return r.authority ?? header(r.requestHeaders, 'host');
    case ':scheme': return 'http';
    case 'x-envoy-original-path': return r.originalPath ?? header(r.requestHeaders, name);
  }
  return header(r.requestHeaders, name);
}

function respHeader(r: AccessLogRecord, name: string): string | undefined {
  if (name === ':status') return r.status ? String(r.status) : undefined;
  const v = header(r.responseHeaders, name);
  if (v === undefined && name === 'x-envoy-upstream-service-time' && r.upstreamServiceTimeMs !== undefined) {
    return String(Math.floor(r.upstreamServiceTimeMs));
  }
  return v;
}

function addr(a: string, port: number): string {
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}

function ms(v: number | undefined): number | undefined {
  return v === undefined ? undefined : Math.floor(v);
}

let defaultTimeMs = NaN;
let defaultTimeStr = '';
const HOSTNAME = os.hostname();

/** The value of one command: a string, a number, or undefined when not available. */
function value(c: Command, r: AccessLogRecord): string | number | undefined {
  switch (c.op) {
    case Op.StartTime:
      if (c.time) return c.time(r.startTimeMs);
      if (r.startTimeMs !== defaultTimeMs) {
        defaultTimeMs = r.startTimeMs;
        defaultTimeStr = new Date(r.startTimeMs).toISOString();
      }
      return defaultTimeStr;
    case Op.Req: return reqHeader(r, c.h1) ?? (c.h2 ? reqHeader(r, c.h2) : undefined);
    case Op.Resp: return respHeader(r, c.h1) ?? (c.h2 ? respHeader(r, c.h2) : undefined);
    case Op.Trailer: return header(r.responseTrailers, c.h1) ?? (c.h2 ? header(r.responseTrailers, c.h2) : undefined);
    case Op.ResponseCode: return r.status;
    case Op.ResponseCodeDetails: return r.responseCodeDetails;
    // ResponseFlagUtils::toShortString: "-" (NONE) when no flag is set, in text and JSON alike.
    case Op.ResponseFlags: return r.responseFlags === '' ? '-' : r.responseFlags;
    case Op.BytesReceived: return r.bytesReceived;
    case Op.BytesSent: return r.bytesSent;
    case Op.Duration: return ms(r.durationMs);
    case Op.RequestDuration: return ms(r.requestDurationMs);
    case Op.ResponseDuration: return ms(r.responseDurationMs);
    case Op.ResponseTxDuration: return ms(r.responseTxDurationMs);
    case Op.UpstreamHost: return r.upstreamHost;
    case Op.UpstreamCluster: return r.upstreamCluster;
    case Op.UpstreamLocalAddress: return r.upstreamLocalAddress === undefined || r.upstreamLocalPort === undefined ? r.upstreamLocalAddress : addr(r.upstreamLocalAddress, r.upstreamLocalPort);
    case Op.UpstreamLocalAddressNoPort: return r.upstreamLocalAddress;
    case Op.UpstreamLocalPort: return r.upstreamLocalPort;
    case Op.UpstreamTransportFailureReason: return r.upstreamTransportFailureReason;
    case Op.RemoteAddress: return addr(r.downstreamRemoteAddress, r.downstreamRemotePort);
    case Op.RemoteAddressNoPort: return r.downstreamRemoteAddress;
    case Op.DirectRemoteAddress: return addr(r.downstreamDirectRemoteAddress ?? r.downstreamRemoteAddress, r.downstreamDirectRemotePort ?? r.downstreamRemotePort);
    case Op.DirectRemoteAddressNoPort: return r.downstreamDirectRemoteAddress ?? r.downstreamRemoteAddress;
    case Op.LocalAddress: return addr(r.downstreamLocalAddress, r.downstreamLocalPort);
    case Op.LocalAddressNoPort: return r.downstreamLocalAddress;
    case Op.LocalPort: return r.downstreamLocalPort;
    case Op.Protocol: return r.protocol;
    case Op.RouteName: return r.routeName;
    case Op.Hostname: return HOSTNAME;
    case Op.ConnectionId: return r.connectionId;
  }
}

function text(c: Command, r: AccessLogRecord): string {
  const v = value(c, r);
  if (v === undefined || v === '') return '-';
  const s = typeof v === 'string' ? v : String(v);
  return c.maxLen > 0 && s.length > c.maxLen ? s.slice(0, c.maxLen) : s;
}

function renderParts(parts: Part[], r: AccessLogRecord): string {
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    out += typeof p === 'string' ? p : text(p, r);
  }
  return out;
}

type JsonNode = { kind: 'const'; v: unknown } | { kind: 'one'; c: Command } | { kind: 'text'; parts: Part[] } | { kind: 'obj'; keys: string[]; vals: JsonNode[] };

function compileJson(v: unknown): JsonNode {
  if (typeof v === 'string') {
    const parts = compileText(v);
    if (parts.length === 1 && typeof parts[0] !== 'string') return { kind: 'one', c: parts[0] };
    return { kind: 'text', parts };
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    return { kind: 'obj', keys, vals: keys.map((k) => compileJson((v as Record<string, unknown>)[k])) };
  }
  return { kind: 'const', v };
}

function evalJson(n: JsonNode, r: AccessLogRecord): unknown {
  switch (n.kind) {
    case 'const': return n.v;
    case 'text': return renderParts(n.parts, r);
    case 'one': {
      const v = value(n.c, r);
      if (v === undefined || v === '') return null;
      if (typeof v === 'string' && n.c.maxLen > 0 && v.length > n.c.maxLen) return v.slice(0, n.c.maxLen);
      return v;
    }
    case 'obj': {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n.keys.length; i++) o[n.keys[i]] = evalJson(n.vals[i], r);
      return o;
    }
  }
}

/** A compiled access log format. Build once per config; `format()` per request. */
export class AccessLogFormatter {
  private readonly parts: Part[] | undefined;
  private readonly json: JsonNode | undefined;
  /**
   * @param format a text format (Envoy's `text_format`/`format`), or a `json_format` object whose
   * string values are formats: a value that is exactly one operator keeps its type (numbers stay
   * numbers; missing → null).
   * @throws Error on an unknown operator.
   */
  constructor(format: string | Record<string, unknown> = DEFAULT_ACCESS_LOG_FORMAT) {
    if (typeof format === 'string') this.parts = compileText(format);
    else this.json = compileJson(format);
  }
  /** The log line for one request (text formats carry their own `\n`; JSON lines get one). */
  format(r: AccessLogRecord): string {
    if (this.parts) return renderParts(this.parts, r);
    return JSON.stringify(evalJson(this.json!, r)) + '\n';
  }
}


// ---------------------------------------------------------------------------------------------
// File sink

/** Options for {@link AccessLogFileSink}. */
export interface AccessLogSinkOptions {
  /** Envoy's `--file-flush-interval-msec`; default 10000. */
  flushIntervalMs?: number;
  /** Write as soon as this many bytes are buffered; default 64 KiB. */
  flushSizeBytes?: number;
}

/**
 * A buffered append-only log file. Lines are buffered and written with one `fs.write` per flush
 * (never one syscall per line); at most one write is in flight, always to the fd it started on.
 * `/dev/stdout` and `/dev/stderr` write to fd 1/2 when these are regular files (shared with the
 * application log's offset), else are opened as files (a blocking description of the pipe or tty;
 * fd 1/2 when they cannot be opened, e.g. a socket). {@link AccessLogFileSink.reopen} (admin `/reopen_logs`, SIGUSR1) moves to
 * a fresh fd for `path` after logrotate renamed the old file: lines logged before the call end up
 * in the old file, lines after it in the new one, none is lost.
 * @throws Error from `fs.openSync` when the path cannot be opened for appending.
 */
export class AccessLogFileSink {
  private fd: number;
  private ownsFd: boolean;
  private chunks: string[] = [];
  private buffered = 0;
  private writing = false;
  /** Old fd and its not-yet-written lines while a write to it is still in flight (reopen). */
  private retiring: { fd: number; owns: boolean; data: string } | null = null;
  private idleWaiters: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;
  private readonly flushSize: number;
  private closed = false;

  constructor(readonly path: string, opts: AccessLogSinkOptions = {}) {
    this.flushSize = opts.flushSizeBytes ?? FLUSH_SIZE_BYTES;
    const o = AccessLogFileSink.open(path);
    this.fd = o.fd;
    this.ownsFd = o.owns;
    this.timer = setInterval(() => this.flush(), clampTimeoutMs(opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS));
    this.timer.unref();
  }

  private static open(path: string): { fd: number; owns: boolean } {
    const std = path === '/dev/stdout' ? 1 : path === '/dev/stderr' ? 2 : -1;
    // A regular file (`attache > log 2>&1`): write through the process's own descriptor, whose file
    // offset the application log shares; a second description of the same file (from opening
    // /dev/stdout) would write over the log's lines.
    if (std !== -1) {
      try {
        if (fs.fstatSync(std).isFile()) return { fd: std, owns: false };
      } catch {
        /* closed: fall through */
      }
    }
    try {
      return { fd: fs.openSync(path, 'a'), owns: true };
    } catch (err) {
      if (std !== -1) return { fd: std, owns: false };
      throw err;
    }
  }

  /** Buffers one line (the formatter's output, newline included). */
  write(line: string): void {
    if (this.closed) return;
    this.chunks.push(line);
    this.buffered += line.length;
    if (this.buffered >= this.flushSize) this.flush();
  }

  /** Starts writing what is buffered (asynchronously); no-op while a write is in flight. */
  flush(): void {
    if (this.writing || this.buffered === 0) return;
    const buf = Buffer.from(this.chunks.join(''));
    this.chunks = [];
    this.buffered = 0;
    this.writing = true;
    this.writeFrom(this.fd, buf, 0);
  }

  private writeFrom(fd: number, buf: Buffer, off: number): void {
    fs.write(fd, buf, off, buf.length - off, null, (err, n) => {
      if (!err && off + n < buf.length) return this.writeFrom(fd, buf, off + n);
      this.writing = false;
      const r = this.retiring;
      if (r !== null) {
        this.retiring = null;
        writeAllSync(r.fd, r.data);
        if (r.owns) fs.closeSync(r.fd);
      }
      if (this.closed) {
        this.finishClose();
      } else if (this.buffered >= this.flushSize || this.idleWaiters.length > 0) {
        this.flush();
      }
      if (!this.writing && this.idleWaiters.length > 0) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
    });
  }

  /**
   * Writes everything buffered synchronously (shutdown). When an asynchronous write is still in
   * flight the synchronous one may land before it; use {@link AccessLogFileSink.drain} to keep order.
   */
  flushSync(): void {
    if (this.buffered === 0) return;
    const data = this.chunks.join('');
    this.chunks = [];
    this.buffered = 0;
    writeAllSync(this.fd, data);
  }

  /** Resolves once nothing is buffered and no write is in flight (every line is in the file). */
  drain(): Promise<void> {
    if (!this.writing) {
      this.flushSync();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve)).then(() => this.drain());
  }

  /**
   * Reopens `path` (Envoy's AccessLogManager::reopen): what is buffered goes to the old file, later
   * lines to the newly opened one.
   * @throws Error from `fs.openSync` when the path cannot be opened (the old fd stays in use).
   */
  reopen(): void {
    if (this.closed) return;
    const next = AccessLogFileSink.open(this.path);
    const data = this.chunks.join('');
    this.chunks = [];
    this.buffered = 0;
    if (this.writing) {
      // The in-flight write holds the old fd: its completion writes `data` there and closes it.
      const prev = this.retiring;
      this.retiring = { fd: this.fd, owns: this.ownsFd, data: (prev?.data ?? '') + data };
    } else {
      writeAllSync(this.fd, data);
      if (this.ownsFd) fs.closeSync(this.fd);
    }
    this.fd = next.fd;
    this.ownsFd = next.owns;
  }

  /** Flushes and closes the file (synchronously unless a write is in flight). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (!this.writing) this.finishClose();
  }

  private finishClose(): void {
    this.flushSync();
    if (this.ownsFd) fs.closeSync(this.fd);
    this.ownsFd = false;
  }
}

function writeAllSync(fd: number, data: string): void {
  if (data.length === 0) return;
  const buf = Buffer.from(data);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
  }
}

const sinks = new Map<string, AccessLogFileSink>();

/** The sink for `path` on this thread (one per path, shared by every logger writing there). */
export function accessLogSink(path: string, opts?: AccessLogSinkOptions): AccessLogFileSink {
  let s = sinks.get(path);
  if (!s) sinks.set(path, (s = new AccessLogFileSink(path, opts)));
  return s;
}

/** Flushes every sink of this thread synchronously (call on shutdown). */
export function flushAllAccessLogsSync(): void {
  for (const s of sinks.values()) s.flushSync();
}

/** Resolves when every sink of this thread has written all its lines, in order (drain, shutdown). */
export async function drainAllAccessLogs(): Promise<void> {
  await Promise.all([...sinks.values()].map((s) => s.drain()));
}

/**
 * Reopens every file sink of this thread (admin `/reopen_logs`, SIGUSR1).
 * @throws Error naming the paths that could not be reopened (the others are reopened).
 */
export function reopenAllAccessLogs(): void {
  const failed: string[] = [];
  for (const s of sinks.values()) {
    if (s.path === '/dev/stdout' || s.path === '/dev/stderr') continue;
    try {
      s.reopen();
    } catch (err) {
      failed.push(`${s.path}: ${(err as Error).message}`);
    }
  }
  if (failed.length > 0) throw new Error(`cannot reopen ${failed.join('; ')}`);
}

/** Closes every sink of this thread. */
export function closeAllAccessLogs(): void {
  for (const s of sinks.values()) s.close();
  sinks.clear();
}

/** A formatter bound to a sink: one configured `access_log` entry, with its optional filter. */
export class AccessLogger {
  constructor(
    readonly formatter: AccessLogFormatter,
    readonly sink: { write(line: string): void },
    /** Envoy's `AccessLog.filter`: the record is logged only when this returns true. */
    readonly filter: AccessLogPredicate | null = null,
  ) {}
  log(r: AccessLogRecord): void {
    if (this.filter !== null && !this.filter(r)) return;
    this.sink.write(this.formatter.format(r));
  }
}

const FILE_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const STDOUT_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
const STDERR_TYPE = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog';

type AccessLogTypedConfig = NonNullable<AccessLog['typed_config']>;

/** Where a format came from: the text or json_format object, and its field below `typed_config`. */
export interface AccessLogFormatSource {
  format: string | Record<string, unknown>;
  /** e.g. `log_format.text_format_source.filename`, `format`; '' for the default format. */
  field: string;
}

/**
 * The format of one access logger's typed_config, as Envoy's SubstitutionFormatStringUtils reads
 * SubstitutionFormatString (envoy/config/core/v3/substitution_format_string.proto): `json_format`,
 * `text_format`, or `text_format_source` (a DataSource: `inline_string`, `inline_bytes` (base64,
 * as proto3 JSON/YAML spells bytes) or `filename`, read now, at config time); the legacy v2
 * `format`; else {@link DEFAULT_ACCESS_LOG_FORMAT}.
 * @param path the config path of the typed_config, for errors
 * @throws ConfigError naming `<path>.log_format.text_format_source.filename` when the file cannot be read
 */
export function accessLogFormatOf(tc: AccessLogTypedConfig, path: string): AccessLogFormatSource {
  const lf = tc.log_format;
  if (lf?.json_format) return { format: lf.json_format, field: 'log_format.json_format' };
  if (typeof lf?.text_format === 'string') return { format: lf.text_format, field: 'log_format.text_format' };
  const src = lf?.text_format_source;
  if (src) {
    const at = 'log_format.text_format_source';
    if (typeof src.inline_string === 'string') return { format: src.inline_string, field: `${at}.inline_string` };
    if (typeof src.inline_bytes === 'string') return { format: Buffer.from(src.inline_bytes, 'base64').toString('utf8'), field: `${at}.inline_bytes` };
    if (typeof src.filename === 'string') {
      try {
        return { format: fs.readFileSync(src.filename, 'utf8'), field: `${at}.filename` };
      } catch (err) {
        throw new ConfigError(`unable to read access log format file '${src.filename}': ${errnoText(err)}`, { path: `${path}.${at}.filename` });
      }
    }
  }
  if (typeof tc.format === 'string' && tc.format !== '') return { format: tc.format, field: 'format' };
  return { format: DEFAULT_ACCESS_LOG_FORMAT, field: '' };
}

/** `ENOENT: no such file or directory` from a Node fs error (without the trailing `, open '<path>'`). */
function errnoText(err: unknown): string {
  return String((err as Error)?.message ?? err).replace(/, \w+ '.*'$/s, '');
}

/** The file a logger writes: FileAccessLog's `path`, `/dev/stdout` / `/dev/stderr` for the stream loggers; undefined for other types. */
function sinkPathOf(tc: AccessLogTypedConfig): string | undefined {
  if (tc['@type'] === FILE_TYPE) return tc.path;
  if (tc['@type'] === STDOUT_TYPE) return '/dev/stdout';
  if (tc['@type'] === STDERR_TYPE) return '/dev/stderr';
  return undefined;
}

/**
 * A cheap check that an access log file can be opened for appending, without creating it (for
 * `--mode validate`; Envoy's AccessLogManagerImpl opens the file at startup and fails with
 * "unable to open file '<path>': <error>"): its directory exists and is writable, and the file,
 * when it exists, is writable and not a directory.
 * @param path the config path of the `path` field, for errors
 * @throws ConfigError naming `path` and the file
 */
export function checkAccessLogFile(file: string, path: string): void {
  if (file === '/dev/stdout' || file === '/dev/stderr') return;
  const fail = (why: string): never => {
    throw new ConfigError(`unable to open file '${file}': ${why}`, { path });
  };
  const dir = dirname(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    return fail(`directory '${dir}': ${errnoText(err)}`);
  }
  if (!st.isDirectory()) fail(`'${dir}' is not a directory`);
  let exists = true;
  try {
    if (fs.statSync(file).isDirectory()) fail('EISDIR: illegal operation on a directory');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    exists = false;
  }
  try {
    fs.accessSync(exists ? file : dir, fs.constants.W_OK);
  } catch (err) {
    fail(`${exists ? '' : `directory '${dir}': `}${errnoText(err)}`);
  }
}

/**
 * Checks one `access_log` entry at validate time as the workers build it: the format (read from
 * its DataSource when it is one) compiles, and the file can be opened ({@link checkAccessLogFile}).
 * @param path the config path of the entry (`...access_log[0]`)
 * @throws ConfigError naming the field (`<path>.typed_config.log_format.text_format`,
 *   `<path>.typed_config.path`, ...)
 */
export function checkAccessLogConfig(cfg: AccessLog, path: string): void {
  const tc = cfg.typed_config;
  if (!tc) return;
  const file = sinkPathOf(tc);
  if (file === undefined) return;
  const tcPath = `${path}.typed_config`;
  compileFormat(accessLogFormatOf(tc, tcPath), tcPath);
  checkAccessLogFile(file, `${tcPath}.path`);
}

function compileFormat(src: AccessLogFormatSource, tcPath: string): AccessLogFormatter {
  try {
    return new AccessLogFormatter(src.format);
  } catch (err) {
    throw new ConfigError((err as Error).message, { path: src.field ? `${tcPath}.${src.field}` : tcPath });
  }
}

/**
 * Builds loggers from an HCM's or listener's `access_log` list (envoy.config.accesslog.v3.AccessLog
 * with FileAccessLog, StdoutAccessLog or StderrAccessLog; the format from {@link accessLogFormatOf};
 * `filter` compiled by ./access-log-filter). Entries of other types are skipped.
 * @param path the config path of the list (`...typed_config.access_log`), for errors
 * @throws ConfigError naming the field: an invalid format (Envoy's "Couldn't find valid command at
 *   position N" / "Not supported field in StreamInfo"), an unreadable format file, an invalid
 *   filter, or an unopenable path (`<path>[i].typed_config.path`: "unable to open file '<file>': ...").
 */
export function createAccessLoggers(configs: readonly AccessLog[] | undefined, opts?: AccessLogSinkOptions, path = 'access_log'): AccessLogger[] {
  const out: AccessLogger[] = [];
  for (const [i, cfg] of (configs ?? []).entries()) {
    const tc = cfg.typed_config;
    if (!tc) continue;
    const file = sinkPathOf(tc);
    if (!file) continue;
    const tcPath = `${path}[${i}].typed_config`;
    const formatter = compileFormat(accessLogFormatOf(tc, tcPath), tcPath);
    const fc = (cfg as AccessLog & { filter?: AccessLogFilterConfig }).filter;
    const filter = fc ? compileAccessLogFilter(fc, `${path}[${i}].filter`) : null;
    let sink: AccessLogFileSink;
    try {
      sink = accessLogSink(file, opts);
    } catch (err) {
      throw new ConfigError(`unable to open file '${file}': ${errnoText(err)}`, { path: `${tcPath}.path` });
    }
    out.push(new AccessLogger(formatter, sink, filter));
  }
  return out;
}
