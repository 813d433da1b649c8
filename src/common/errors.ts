/**
 * Typed errors with stable codes (`ATTACHE_ERR_<AREA>_<WHAT>`), a source, whether a retry is safe,
 * and the Envoy response flag they map to. Modelled on undici's lib/core/errors.js and
 * pingora-error. Data-plane code does not throw these across the request path: it passes them to
 * callbacks; exceptions are for config and the control plane.
 */

const kAttacheError = Symbol.for('attache.error');

/** Where an error came from. */
export type ErrorSource = 'upstream' | 'downstream' | 'internal' | 'config';

/** Envoy response flags (source/common/stream_info/utility.cc short strings). */
export const ResponseFlag = {
  /** Failed local health check (upstream). */
  FailedLocalHealthCheck: 'LH',
  /** No healthy upstream hosts. */
  NoHealthyUpstream: 'UH',
  /** Upstream request timeout. */
  UpstreamRequestTimeout: 'UT',
  /** Local reset of the stream. */
  LocalReset: 'LR',
  /** Upstream remote reset. */
  UpstreamRemoteReset: 'UR',
  /** Upstream connection failure. */
  UpstreamConnectionFailure: 'UF',
  /** Upstream connection termination. */
  UpstreamConnectionTermination: 'UC',
  /** Upstream overflow (circuit breaking). */
  UpstreamOverflow: 'UO',
  /** No route found. */
  NoRouteFound: 'NR',
  /** Delay injected by fault filter. */
  DelayInjected: 'DI',
  /** Fault injected. */
  FaultInjected: 'FI',
  /** Rate limited. */
  RateLimited: 'RL',
  /** Downstream connection termination. */
  DownstreamConnectionTermination: 'DC',
  /** Downstream protocol error. */
  DownstreamProtocolError: 'DPE',
  /** Upstream protocol error. */
  UpstreamProtocolError: 'UPE',
  /** No cluster found. */
  NoClusterFound: 'NC',
  /** Stream idle timeout. */
  StreamIdleTimeout: 'SI',
  /** Overload manager / drain. */
  DownstreamRemoteReset: 'DR',
} as const;
export type ResponseFlagString = (typeof ResponseFlag)[keyof typeof ResponseFlag];

/** Options for {@link AttacheError}. */
export interface AttacheErrorOptions {
  source?: ErrorSource;
  /** True when the operation may be retried without side effects (no request byte reached a peer). */
  retry?: boolean;
  responseFlag?: ResponseFlagString;
  /** HTTP status a local reply for this error should use. */
  status?: number;
  cause?: unknown;
}

/** Base class of every attache error. */
export class AttacheError extends Error {
  readonly code: string;
  readonly source: ErrorSource;
  readonly retry: boolean;
  readonly responseFlag: ResponseFlagString | undefined;
  readonly status: number | undefined;
  constructor(code: string, message: string, opts: AttacheErrorOptions = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'AttacheError';
    this.code = code;
    this.source = opts.source ?? 'internal';
    this.retry = opts.retry ?? false;
    this.responseFlag = opts.responseFlag;
    this.status = opts.status;
  }
  get [kAttacheError](): boolean {
    return true;
  }
}

/** Brand check that works across module copies and realms (unlike `instanceof`). */
export function isAttacheError(v: unknown): v is AttacheError {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[kAttacheError] === true;
}

/**
 * A configuration error with where it happened: file, YAML path, line and column (1-based).
 * Printed by the CLI as `file:line:col: path: message` with no stack trace.
 */
export class ConfigError extends AttacheError {
  readonly file: string | undefined;
  readonly path: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly hint: string | undefined;
  constructor(message: string, where: { file?: string; path?: string; line?: number; column?: number; hint?: string } = {}) {
    super('ATTACHE_ERR_CONFIG_INVALID', message, { source: 'config' });
    this.name = 'ConfigError';
    this.file = where.file;
    this.path = where.path;
    this.line = where.line;
    this.column = where.column;
    this.hint = where.hint;
  }
  /** `file:line:col: path: message (hint)` — the one line the CLI prints. */
  format(): string {
    let loc = this.file ?? '<config>';
    if (this.line !== undefined) loc += `:${this.line}`;
    if (this.column !== undefined) loc += `:${this.column}`;
    const path = this.path ? `${this.path}: ` : '';
    const hint = this.hint ? `\n  hint: ${this.hint}` : '';
    return `${loc}: ${path}${this.message}${hint}`;
  }
}

/** Errors the upstream side produces, each with its Envoy response flag and local-reply status. */
export const UpstreamErrors = {
  connectFailure: (cause?: unknown) =>
    new AttacheError('ATTACHE_ERR_UPSTREAM_CONNECT', 'upstream connect error or disconnect/reset before headers. reset reason: connection failure', { source: 'upstream', retry: true, responseFlag: 'UF', status: 503, cause }),
  connectTimeout: () =>
    new AttacheError('ATTACHE_ERR_UPSTREAM_CONNECT_TIMEOUT', 'upstream connect error or disconnect/reset before headers. reset reason: connection timeout', { source: 'upstream', retry: true, responseFlag: 'UF', status: 503 }),
  noHealthyUpstream: () =>
    new AttacheError('ATTACHE_ERR_UPSTREAM_NO_HEALTHY', 'no healthy upstream', { source: 'upstream', responseFlag: 'UH', status: 503 }),
  overflow: () =>
    new AttacheError('ATTACHE_ERR_UPSTREAM_OVERFLOW', 'upstream connect error or disconnect/reset before headers. reset reason: overflow', { source: 'upstream', responseFlag: 'UO', status: 503 }),
  requestTimeout: () =>
    new AttacheError('ATTACHE_ERR_UPSTREAM_TIMEOUT', 'upstream request timeout', { source: 'upstream', responseFlag: 'UT', status: 504 }),
  reset: (retry: boolean, cause?: unknown) =>
    new AttacheError('ATTACHE_ERR_UPSTREAM_RESET', 'upstream connect error or disconnect/reset before headers. reset reason: connection termination', { source: 'upstream', retry, responseFlag: 'UC', status: 503, cause }),
  protocol: (cause?: unknown) =>
    new AttacheError('ATTACHE_ERR_UPSTREAM_PROTOCOL', 'upstream connect error or disconnect/reset before headers. reset reason: protocol error', { source: 'upstream', responseFlag: 'UPE', status: 502, cause }),
};
