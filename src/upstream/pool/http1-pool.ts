/**
 * Per-worker, per-host HTTP/1.1 connection pool (Envoy's source/common/http/http1/conn_pool.cc):
 * keep-alive connections reused LIFO, one request at a time per connection, new connections up to
 * the cluster's `max_connections` circuit breaker, a pending queue up to `max_pending_requests`
 * (beyond it: overflow, response flag UO), `connect_timeout`, and an idle timeout after which an
 * unused connection is closed (`common_http_protocol_options.idle_timeout`, default 1 h).
 */
import * as net from 'node:net';
import { Http1Parser, ParserKind, ExecStatus, type Http1Handler } from '../../codec/http1/parser';
import { UpstreamErrors, type AttacheError } from '../../common/errors';
import { logger, nextConnectionId } from '../../common/logger';
import { socketReads } from '../../common/socket-reads';
import { clampTimeoutMs } from '../../common/timer-limit';
import { SocketWriter } from '../../common/socket-writer';
import { eventNow } from '../../common/read-event';
import { hasToken } from '../../http/headers';

const log = logger('pool');

/** What a pool needs to know of its cluster (resolved once per cluster version). */
export interface PoolClusterInfo {
  readonly name: string;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  /** circuit_breakers `max_requests` (per worker, over all hosts of the cluster). */
  readonly maxRequests: number;
  /** Requests of the cluster attached to an upstream connection now (this worker); shared by its host pools. */
  readonly requests: { active: number };
  readonly stats: PoolStats;
}

/** Stat handles the pool updates (cluster.<name>.upstream_cx_*). */
export interface PoolStats {
  cxTotal(): void;
  cxActive(delta: number): void;
  cxConnectFail(): void;
  cxConnectTimeout(): void;
  /** A connection closed; `local`: attache closed it (idle timeout, release without keep-alive, reset). */
  cxDestroy(local: boolean): void;
  cxConnectMs(ms: number): void;
  pendingActive(delta: number): void;
  pendingTotal(): void;
  pendingOverflow(): void;
  /** A request had to wait because max_connections was reached (`upstream_cx_overflow`). */
  cxOverflow(): void;
  /** Bytes read from / written to upstream connections (`upstream_cx_rx_bytes_total`, `upstream_cx_tx_bytes_total`). */
  cxRxBytes(n: number): void;
  cxTxBytes(n: number): void;
  /** A connection closed with a request in flight (`upstream_cx_destroy_{local,remote}_with_active_rq`). */
  cxDestroyWithActiveRq(local: boolean): void;
  /** The upstream's response did not parse (`upstream_cx_protocol_error`). */
  cxProtocolError(): void;
  /** A response said the connection closes after it (`upstream_cx_close_notify`). */
  cxCloseNotify(): void;
  /** A waiting request failed because a connect failed (`upstream_rq_pending_failure_eject`). */
  pendingFailureEject(): void;
  /**
   * A request in flight ended by us (`upstream_rq_tx_reset`) or by the upstream closing the
   * connection (`upstream_rq_pending_failure_eject`, Envoy's name for a ConnectionTermination reset).
   */
  rqReset(local: boolean): void;
}

/** A waiter for a connection. */
export interface PoolCallbacks {
  /** A connection is ready and exclusively yours until release()/destroy(). */
  onPoolReady(conn: UpstreamConnection): void;
  /** No connection: connect failure/timeout (UF) or overflow (UO). */
  onPoolFailure(err: AttacheError): void;
}

/** Events of the response on a connection. */
export interface UpstreamResponseHandler {
  onUpstreamHead(status: number, headers: string[], keepAlive: boolean, upgrade: boolean): void;
  onUpstreamData(data: Buffer): void;
  onUpstreamComplete(trailers: string[] | null): void;
  /** The connection failed. `beforeResponse`: no response byte was received. */
  onUpstreamReset(err: AttacheError, beforeResponse: boolean): void;
  /** The connection's write buffer drained below its high watermark. */
  onUpstreamDrain(): void;
  /** Raw bytes after a 101 response (tunnel). */
  onUpstreamTunnelData?(data: Buffer): void;
  onUpstreamTunnelEnd?(): void;
}

export const enum State { Connecting, Idle, Busy, Closed }

/** One upstream TCP connection with its response parser. */
export class UpstreamConnection implements Http1Handler {
  /** @internal */
  state = State.Connecting;
  readonly parser: Http1Parser;
  handler: UpstreamResponseHandler | null = null;
  /** Number of requests this connection has carried before the current one. */
  uses = 0;
  /** performance.now() when it last became idle. */
  idleSince = 0;
  private gotResponseBytes = false;
  private keepAlive = true;
  private tunnel = false;
  private connectTimer: NodeJS.Timeout | null = null;
  private readonly connectStart = performance.now();
  /** The socket's write side (writes leave at the end of the poll phase: common/socket-writer.ts). */
  private readonly out: SocketWriter;
  /** Connection id in log lines (`[C8]`). */
  readonly id = nextConnectionId();
  /** Local address and port of the connection (%UPSTREAM_LOCAL_ADDRESS%), read once it connects. */
  localAddress: string | undefined = undefined;
  localPort: number | undefined = undefined;

  constructor(readonly pool: Http1ConnPool, readonly socket: net.Socket) {
    this.out = new SocketWriter(socket);
    this.parser = new Http1Parser(ParserKind.Response, this);
    if (log.debugOn) log.debug(`[C${this.id}] connecting to ${pool.address}:${pool.port}`);
    socket.setNoDelay(true);
    socket.on('connect', () => this.onConnect());
    socket.on('end', () => this.onEnd());
    socket.on('error', (e: Error) => this.onError(e));
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.handler?.onUpstreamDrain());
    const ms = pool.cluster.connectTimeoutMs;
    if (ms > 0) {
      this.connectTimer = setTimeout(() => {
        this.connectTimer = null;
        if (this.state === State.Connecting) {
          pool.cluster.stats.cxConnectTimeout();
          this.failConnect(UpstreamErrors.connectTimeout());
        }
      }, clampTimeoutMs(ms));
    }
  }

  get reused(): boolean {
    return this.uses > 0;
  }

  /** Starts a request: the caller writes its head and body through write(). */
  attach(handler: UpstreamResponseHandler, isHeadRequest: boolean, isUpgradeRequest = false): void {
    this.handler = handler;
    this.upgradeRequested = isUpgradeRequest;
    this.state = State.Busy;
    this.gotResponseBytes = false;
    this.parser.expectNoBody = isHeadRequest;
  }

  /** Writes request bytes. @returns false over the high watermark (wait for onUpstreamDrain). */
  write(data: string | Buffer): boolean {
    if (this.state === State.Closed) return true;
    this.pool.cluster.stats.cxTxBytes(data.length); // latin1 strings: one byte per char
    return this.out.write(data);
  }

  readDisable(disable: boolean): void {
    if (this.state === State.Closed) return;
    if (disable) this.socket.pause();
    else this.socket.resume();
  }

  /**
   * Ends the current request. `reusable`: the request was fully written and nothing requires a
   * close; the connection returns to the pool if the response allowed keep-alive.
   */
  release(reusable: boolean): void {
    this.handler = null;
    if (this.state !== State.Busy) return;
    if (this.inExecute) {
      // Finish parsing this read first: bytes after the response must not reach the next request.
      this.deferredRelease = reusable;
      return;
    }
    this.uses++;
    if (!reusable || !this.keepAlive || this.tunnel) {
      this.destroy();
      return;
    }
    this.state = State.Idle;
    this.pool.onConnectionIdle(this);
  }

  /** Closes the connection now, without calling the current handler back. */
  destroy(): void {
    if (this.handler !== null && this.state === State.Busy) {
      const s = this.pool.cluster.stats;
      s.cxDestroyWithActiveRq(true);
      // A protocol error resets the stream with reason ProtocolError, which Envoy's pool counts in
      // neither upstream_rq_tx_reset nor rx_reset.
      if (!this.protocolError) s.rqReset(true);
    }
    this.handler = null;
    this.closedLocally = true;
    this.teardown();
  }

  /** @internal true when attache closed it (for upstream_cx_destroy_local vs _remote). */
  closedLocally = false;
  /** The current request asked for an upgrade (only then may the upstream answer 101). */
  private upgradeRequested = false;
  /** The response head just parsed was an interim 1xx: its message end is not the response's. */
  private interim = false;
  /** Inside parser.execute(): a release is deferred until it returns (see onData). */
  private inExecute = false;
  /** A release requested from inside parser callbacks: true/false = reusable, null = none. */
  private deferredRelease: boolean | null = null;

  /** Closes the socket; the handler (if any) is told through onUpstreamReset. */
  private teardown(): void {
    if (this.state === State.Closed) return;
    this.out.destroy();
    this.onClose();
  }

  // ---- socket events --------------------------------------------------------------------------

  private onConnect(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.pool.cluster.stats.cxConnectMs(performance.now() - this.connectStart);
    if (log.debugOn) log.debug(`[C${this.id}] connected`);
    this.localAddress = this.socket.localAddress;
    this.localPort = this.socket.localPort;
    this.state = State.Busy; // handed to a waiter right away
    this.pool.onConnected(this);
  }

  private failConnect(err: AttacheError): void {
    if (this.state !== State.Connecting) return;
    this.state = State.Closed;
    this.out.destroy();
    this.parser.destroy();
    this.pool.onConnectFailed(this, err);
  }

  /** @internal Bytes read from the socket (see Http1ConnPool.connect: the socket's `onread`). */
  onData(d: Buffer): void {
    this.pool.cluster.stats.cxRxBytes(d.length);
    if (this.tunnel) {
      this.handler?.onUpstreamTunnelData?.(d);
      return;
    }
    if (this.state !== State.Busy || this.handler === null) {
      // Bytes on an idle connection: the upstream is confused; close it.
      this.destroy();
      return;
    }
    this.gotResponseBytes = true;
    this.inExecute = true;
    const st = this.parser.execute(d);
    this.inExecute = false;
    if (this.protocolError) {
      this.failProtocol();
      return;
    }
    const deferred = this.deferredRelease;
    if (deferred !== null) {
      this.deferredRelease = null;
      // The response ended (the parser paused there). Anything after it answers no request: an
      // upstream protocol violation; the connection is closed, never handed to another request.
      const extra = st === ExecStatus.Paused && this.parser.consumed < d.length;
      if (extra || (st !== ExecStatus.Ok && st !== ExecStatus.Paused)) {
        log.debug(`upstream sent ${d.length - this.parser.consumed} bytes after a complete response; closing`);
        this.destroy();
        return;
      }
      if (st === ExecStatus.Paused) this.parser.resume();
      this.release(deferred);
      return;
    }
    if (st === ExecStatus.Ok) return;
    if (st === ExecStatus.Paused) {
      // Paused at a response end that nobody released (its stream is gone): do not reuse.
      if (this.handler === null && (this.state as State) === State.Busy) this.destroy();
      return;
    }
    if (st === ExecStatus.Upgrade) {
      this.tunnel = true;
      const rest = d.subarray(this.parser.consumed);
      if (rest.length > 0) this.handler?.onUpstreamTunnelData?.(rest);
      return;
    }
    // The connection was released and closed from inside a parser callback: nothing left to do.
    if ((this.state as State) === State.Closed) return;
    log.debug(`upstream protocol error ${this.parser.errorCode}: ${this.parser.errorReason}`);
    this.failProtocol();
  }

  /** The response did not parse: `upstream_cx_protocol_error`, close, and a 502 (UPE) for the request. */
  private failProtocol(): void {
    const h = this.handler;
    this.protocolError = true;
    this.pool.cluster.stats.cxProtocolError();
    this.destroy();
    h?.onUpstreamReset(UpstreamErrors.protocol(), false);
  }

  private onEnd(): void {
    if (this.tunnel) {
      this.handler?.onUpstreamTunnelEnd?.();
      return;
    }
    if (this.state === State.Busy && this.handler !== null && this.gotResponseBytes) {
      // Response delimited by close.
      const st = this.parser.finish();
      if (st === ExecStatus.Ok && this.handler === null) return;
    }
    this.teardown();
  }

  private onError(e: Error): void {
    if (this.state === State.Connecting) {
      this.pool.cluster.stats.cxConnectFail();
      this.failConnect(UpstreamErrors.connectFailure(e));
      return;
    }
    log.debug(`upstream connection error: ${e.message}`);
    this.teardown();
  }

  private onClose(): void {
    if (log.debugOn && this.state !== State.Closed) log.debug(`[C${this.id}] closed`);
    if (this.connectTimer) {
      clearTimeout(this.connectTimer);
      this.connectTimer = null;
    }
    if (this.state === State.Connecting) {
      this.failConnect(UpstreamErrors.connectFailure());
      return;
    }
    const prev = this.state;
    if (prev === State.Closed) return;
    this.state = State.Closed;
    this.parser.destroy();
    const h = this.handler;
    this.handler = null;
    this.pool.onConnectionClosed(this, prev === State.Idle);
    if (h !== null && prev === State.Busy) {
      const s = this.pool.cluster.stats;
      s.cxDestroyWithActiveRq(false);
      s.rqReset(false);
    }
    if (h !== null) {
      if (this.tunnel) h.onUpstreamTunnelEnd?.();
      else h.onUpstreamReset(UpstreamErrors.reset(!this.gotResponseBytes && this.reused), !this.gotResponseBytes);
    }
  }

  // ---- parser callbacks -----------------------------------------------------------------------

  onRequestHead(): void {}

  onResponseHead(status: number, _reason: string, versionMinor: number, headers: string[], keepAlive: boolean, upgrade: boolean): boolean {
    if (status >= 100 && status < 200 && status !== 101) {
      // 1xx interim (100 Continue, 103 Early Hints): llhttp reports it as a message of its own;
      // the final response follows on the same connection.
      this.interim = true;
      return false;
    }
    // llhttp's keep-alive: HTTP/1.1 without `Connection: close`, or HTTP/1.0 with
    // `Connection: keep-alive`, and a body that does not end at EOF (Envoy's
    // HeaderUtility::shouldCloseConnection keeps both kinds of connection).
    this.keepAlive = keepAlive;
    if (status < 100 || status > 599 || (status === 204 && hasBodyFraming(headers)) || unsupportedTransferEncoding(headers)) {
      // Not a status a proxy can pass on, a 204 that claims a body, or a transfer coding other
      // than `chunked` (Envoy's codec: "unsupported transfer encoding"): protocol error (502).
      this.protocolError = true;
      return true;
    }
    if (closeNotified(versionMinor, headers)) this.pool.cluster.stats.cxCloseNotify();
    if (status === 101) {
      if (!this.upgradeRequested) {
        // A 101 to a request that asked for no upgrade: protocol error (Envoy does not switch).
        this.protocolError = true;
        return true;
      }
      this.tunnel = true; // bytes after this head belong to the tunnel
    }
    this.handler?.onUpstreamHead(status, headers, keepAlive, upgrade && status === 101);
    return this.parser.expectNoBody;
  }

  onBody(data: Buffer): void {
    this.handler?.onUpstreamData(data);
  }

  onMessageComplete(trailers: string[] | null): boolean {
    if (this.tunnel) return false; // a 101: the exchange continues as a tunnel
    if (this.interim) {
      this.interim = false;
      return false;
    }
    if (this.protocolError) return true;
    const h = this.handler;
    if (h !== null) h.onUpstreamComplete(trailers);
    // Pause after the response: onData decides what to do with any bytes after it.
    return true;
  }

  /** The response violated the protocol in a way llhttp accepts (a 101 nobody asked for). */
  private protocolError = false;
}

/** Pool of connections to one host. */
export class Http1ConnPool {
  private readonly idle: UpstreamConnection[] = [];
  private readonly pending: PoolCallbacks[] = [];
  private connecting = 0;
  /** Connections open or opening. */
  total = 0;
  private draining = false;

  /**
   * @param hostCounters the Host's shared counters (`activeConnections`, Envoy's host cx_active),
   *   kept here for the load balancers and /clusters.
   */
  constructor(
    readonly address: string,
    readonly port: number,
    readonly cluster: PoolClusterInfo,
    private readonly hostCounters: { activeConnections: number; cxTotal: number; cxConnectFail: number } = { activeConnections: 0, cxTotal: 0, cxConnectFail: 0 },
  ) {}

  /**
   * Asks for a connection. Calls back synchronously when an idle one is available.
   * @param fresh true to skip idle connections (retry after a stale keep-alive connection failed).
   * @returns a cancel function for a waiting request.
   */
  newStream(cb: PoolCallbacks, fresh = false): () => void {
    // circuit_breakers max_requests: Envoy's pool refuses the stream (503 UO, upstream_rq_pending_overflow).
    if (this.cluster.requests.active >= this.cluster.maxRequests) {
      this.cluster.stats.pendingOverflow();
      cb.onPoolFailure(UpstreamErrors.overflow());
      return noop;
    }
    if (!fresh) {
      const c = this.idle.pop();
      if (c !== undefined) {
        cb.onPoolReady(c);
        return noop;
      }
    }
    if (this.total >= this.cluster.maxConnections && !fresh) {
      if (this.pending.length >= this.cluster.maxPendingRequests) {
        this.cluster.stats.pendingOverflow();
        cb.onPoolFailure(UpstreamErrors.overflow());
        return noop;
      }
      this.cluster.stats.cxOverflow();
    }
    this.pending.push(cb);
    this.cluster.stats.pendingTotal();
    this.cluster.stats.pendingActive(1);
    if (this.total < this.cluster.maxConnections || fresh) this.connect();
    return () => {
      const i = this.pending.indexOf(cb);
      if (i !== -1) {
        this.pending.splice(i, 1);
        this.cluster.stats.pendingActive(-1);
      }
    };
  }

  private connect(): void {
    this.total++;
    this.hostCounters.activeConnections++;
    this.hostCounters.cxTotal++;
    this.connecting++;
    this.cluster.stats.cxTotal();
    this.cluster.stats.cxActive(1);
    let conn: UpstreamConnection | null = null;
    const socket = net.connect({ host: this.address, port: this.port, onread: socketReads((d) => conn!.onData(d)) });
    conn = new UpstreamConnection(this, socket);
  }

  /** @internal */
  onConnected(c: UpstreamConnection): void {
    this.connecting--;
    this.give(c);
  }

  /** @internal */
  onConnectFailed(_c: UpstreamConnection, err: AttacheError): void {
    this.connecting--;
    this.total--;
    this.hostCounters.activeConnections--;
    this.hostCounters.cxConnectFail++;
    this.cluster.stats.cxActive(-1);
    // Every waiting request fails (Envoy's purgePendingStreams on a connect failure: "streams can
    // get stuck here in the pending state"), each counted in upstream_rq_pending_failure_eject.
    // The list is taken first, so a request queued from a callback (a retry) is not failed here.
    const failed = this.pending.splice(0);
    const stats = this.cluster.stats;
    if (failed.length > 0) stats.pendingActive(-failed.length);
    for (const cb of failed) {
      stats.pendingFailureEject();
      cb.onPoolFailure(err);
    }
  }

  /** @internal */
  onConnectionIdle(c: UpstreamConnection): void {
    if (this.draining && this.pending.length === 0) {
      c.destroy();
      return;
    }
    this.give(c);
  }

  private give(c: UpstreamConnection): void {
    const cb = this.pending.shift();
    if (cb !== undefined) {
      this.cluster.stats.pendingActive(-1);
      cb.onPoolReady(c);
      return;
    }
    c.state = State.Idle;
    c.idleSince = eventNow();
    this.idle.push(c);
    if (this.sweepTimer === null && this.cluster.idleTimeoutMs > 0) this.armSweep();
  }

  /**
   * One timer per pool closes connections idle longer than the idle timeout (Envoy's
   * `idle_timeout`), instead of a socket timer armed and cleared on every request.
   */
  private sweepTimer: NodeJS.Timeout | null = null;
  private armSweep(): void {
    const every = Math.max(50, Math.min(this.cluster.idleTimeoutMs / 4, 30_000));
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = null;
      const cutoff = performance.now() - this.cluster.idleTimeoutMs;
      // idle is LIFO: the oldest are first
      while (this.idle.length > 0 && this.idle[0].idleSince <= cutoff) this.idle[0].destroy();
      if (this.idle.length > 0) this.armSweep();
    }, clampTimeoutMs(every));
    this.sweepTimer.unref();
  }

  /** @internal */
  onConnectionClosed(c: UpstreamConnection, wasIdle: boolean): void {
    this.total--;
    this.hostCounters.activeConnections--;
    this.cluster.stats.cxActive(-1);
    this.cluster.stats.cxDestroy(c.closedLocally);
    if (wasIdle) {
      const i = this.idle.indexOf(c);
      if (i !== -1) this.idle.splice(i, 1);
    }
    // Waiters beyond the connections being opened get a new connection.
    if (this.pending.length > this.connecting && this.total < this.cluster.maxConnections) this.connect();
  }

  /** Closes idle connections and every connection once released (host removed or config replaced). */
  drain(): void {
    this.draining = true;
    for (const c of this.idle.splice(0)) c.destroy();
  }

  /** Idle connections (for /clusters and tests). */
  get idleCount(): number {
    return this.idle.length;
  }
}

function noop(): void {}

/**
 * A Transfer-Encoding other than `chunked` (case-insensitive; `gzip, chunked` included): Envoy's
 * HTTP/1 codec rejects transfer codings it does not implement (RFC 9112 section 6.1), on
 * requests and responses alike.
 */
function unsupportedTransferEncoding(headers: string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'transfer-encoding' && headers[i + 1].toLowerCase() !== 'chunked') return true;
  }
  return false;
}

/**
 * Whether the response says the connection ends after it (Envoy's
 * HeaderUtility::shouldCloseConnection): HTTP/1.0 without `Connection: keep-alive`, or a
 * `Connection` or `Proxy-Connection` header listing `close`.
 */
function closeNotified(versionMinor: number, headers: string[]): boolean {
  let keepAlive = false;
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i];
    if (n !== 'connection' && n !== 'proxy-connection') continue;
    const v = headers[i + 1];
    // The usual value (nginx sends it on every keep-alive response) without a token split.
    if (v === 'keep-alive' || v === 'Keep-Alive') {
      if (n === 'connection') keepAlive = true;
      continue;
    }
    if (hasToken(v, 'close')) return true;
    if (n === 'connection' && hasToken(v, 'keep-alive')) keepAlive = true;
  }
  return versionMinor === 0 && !keepAlive;
}

/** A Transfer-Encoding, or a non-zero Content-Length, among response headers. */
function hasBodyFraming(headers: string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i];
    if (n === 'transfer-encoding' || (n === 'content-length' && headers[i + 1] !== '0')) return true;
  }
  return false;
}
