/**
 * The HTTP connection manager for one downstream HTTP/1.1 connection (Envoy's
 * source/common/http/conn_manager_impl.cc): drives the llhttp codec over a raw `net.Socket`, runs
 * one stream at a time (pipelined requests wait, paused in the parser, and are answered in order),
 * mutates request/response headers as Envoy does, runs the HTTP filter chain and writes responses.
 *
 * Backpressure: a reference-counted `readDisable` pauses the socket; when the socket's write buffer
 * is over its high watermark the terminal filter is told through `downstreamWritable()` and resumed
 * through `onDownstreamDrain()`.
 */
// Imported: the global `Buffer` is an accessor (a getter call on every use on the hot path).
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { Http1Parser, ParserKind, ExecStatus, type Http1Handler } from '../codec/http1/parser';
import { encodeResponseHead, chunkHeader, encodeLastChunk, CHUNK_END } from '../codec/http1/encoder';
import { logger, nextConnectionId } from '../common/logger';
import { CoarseTimer, coarseNow } from '../common/timer-wheel';
import { SocketWriter } from '../common/socket-writer';
import { atReadEnd, eventNow, wallClockMs } from '../common/read-event';
import { appendVia, hasToken, HOP_BY_HOP_RESPONSE, truncate, type RequestHead } from './headers';
import { codecErrorReply } from './local-reply';
import { ActiveStream } from './active-stream';
import type { HcmConfig } from './hcm-config';

const log = logger('http');

/** The tunnel handler for an accepted upgrade: downstream bytes after the upgrade go here. */
export interface TunnelSink {
  onDownstreamData(data: Buffer): void;
  onDownstreamEnd(): void;
}

/** One downstream connection. Created by the listener for each accepted socket. */
export class DownstreamConnection implements Http1Handler {
  readonly parser: Http1Parser;
  /** The stream being served (HTTP/1: at most one). */
  stream: ActiveStream | null = null;
  /** Bytes received while a pipelined request waits for the previous response. */
  private pending: Buffer | null = null;
  private parserPaused = false;
  private inExecute = false;
  private readDisableCount = 0;
  /** Set when the connection must close after the current response (Connection: close, drain, HTTP/1.0). */
  closeAfterResponse = false;
  /** The downstream socket was closed or errored. */
  closed = false;
  /** Set when the listener drains: answer the current request with Connection: close, then close. */
  draining = false;
  /**
   * A response head not yet written (its status and final headers, encoded when it leaves): it
   * leaves with the first body bytes of this read event in one Buffer and one write (one syscall,
   * no gather write), or alone at the end of the event (common/read-event.ts; the end of the tick
   * outside one). Either way the write is queued by the SocketWriter for the end of the poll phase.
   */
  private outHeaders: string[] | null = null;
  private outStatus = 0;
  private outFlushScheduled = false;
  /** Reads were paused because too many pipelined bytes are waiting. */
  private pipelineReadDisabled = false;
  /** Parsing of the next pipelined request waits for the client to read (socket 'drain'). */
  private resumeOnDrain = false;
  /** The current request's Upgrade (h2c) was dropped: llhttp will still stop at its end. */
  private droppedUpgrade = false;
  /** eventNow() when the request head in progress began arriving (a read ended inside it); 0: none. */
  private headStartedAt = 0;
  /** The last Host that passed validAuthority() on this connection. */
  private lastAuthority = '';
  /** After a successful upgrade, raw bytes go to the tunnel. */
  tunnel: TunnelSink | null = null;
  /** Connection id in log lines (`[C7]`). */
  readonly id = nextConnectionId();
  /** performance.now() at accept, for downstream_cx_length_ms. */
  private readonly openedAt = performance.now();
  /** The peer closed or reset (downstream_cx_destroy_remote), rather than us. */
  private remoteClosed = false;
  /** The socket's write side: every byte to the client goes through it (writes leave at the end of the poll phase). */
  private readonly out: SocketWriter;
  /** Bytes written since the last countBytesWritten(). */
  private txBytes = 0;

  /** Writes to the downstream socket (strings as latin1: one byte per char) and counts the bytes. */
  private send(data: string | Buffer): boolean {
    this.txBytes += data.length;
    return this.out.write(data);
  }

  /** Moves the bytes written so far into downstream_cx_tx_bytes_total (per response, and at close). */
  private countBytesWritten(): void {
    if (this.txBytes > 0) {
      this.config.stats.downstream_cx_tx_bytes_total.inc(this.txBytes);
      this.txBytes = 0;
    }
  }
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;

  constructor(readonly socket: Socket, readonly config: HcmConfig, private readonly onClosed: (c: DownstreamConnection) => void) {
    this.out = new SocketWriter(socket);
    this.parser = new Http1Parser(ParserKind.Request, this, {
      maxHeaderBytes: config.maxRequestHeadersBytes,
      maxHeaderCount: config.maxHeadersCount,
    });
    this.remoteAddress = stripV4Mapped(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = stripV4Mapped(socket.localAddress ?? '');
    this.localPort = socket.localPort ?? 0;
    socket.setNoDelay(true);
    // Sockets the listener accepted itself read through `onread` (common/socket-reads.ts) and call
    // onData directly; the one libuv accepted (net.Server) emits 'data'.
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err: Error) => {
      log.debug(`downstream socket error: ${err.message}`);
      this.remoteClosed = true;
      this.onSocketClose();
    });
    socket.on('close', () => this.onSocketClose());
    socket.on('drain', () => {
      if (this.stream) this.stream.onDownstreamDrain();
      else if (this.resumeOnDrain) {
        this.resumeOnDrain = false;
        this.resumeParsing();
      }
    });
    config.stats.downstream_cx_total.inc();
    config.stats.downstream_cx_active.inc();
    config.stats.downstream_cx_http1_total.inc();
    config.stats.downstream_cx_http1_active.inc();
    if (log.debugOn) log.debug(`[C${this.id}] new connection from ${this.remoteAddress}:${this.remotePort}`);
    if (config.idleTimeoutMs > 0) {
      const t = (this.cxIdleTimer = new CoarseTimer(onConnectionIdle, this));
      t.arm(config.idleTimeoutMs);
      this.idleSince = t.armedAt;
    }
  }

  // ---- socket events --------------------------------------------------------------------------

  /** @internal Bytes read from the downstream socket. */
  onData(chunk: Buffer): void {
    this.config.stats.downstream_cx_rx_bytes_total.inc(chunk.length);
    if (this.tunnel) {
      this.tunnel.onDownstreamData(chunk);
      return;
    }
    // Our side of the connection is closed (drain, `connection: close`, a refused upgrade): a
    // request that arrives now could not be answered, so it must not reach an upstream. The client
    // sees the FIN with no response: the request was not processed and may be retried.
    if (this.socket.writableEnded) return;
    if (this.parserPaused || this.pending !== null) {
      // Pipelined bytes behind a request in flight: keep reading (so a client that goes away is
      // noticed) but stop once a per-connection buffer's worth is waiting.
      this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
      if (!this.pipelineReadDisabled && this.pending.length > PIPELINE_BUFFER_LIMIT) {
        this.pipelineReadDisabled = true;
        this.readDisable(true);
      }
      return;
    }
    this.execute(chunk);
  }

  private execute(chunk: Buffer): void {
    this.inExecute = true;
    const st = this.parser.execute(chunk);
    this.inExecute = false;
    if (st === ExecStatus.Ok) {
      // A request head cut by the end of the read: its stream exists for Envoy from the first
      // byte, so stream_idle_timeout runs from here (a slow head is not re-armed by each piece).
      if (this.stream === null && !this.parser.idle) {
        if (this.headStartedAt === 0) this.headStartedAt = eventNow();
        this.armHeadTimeout();
      }
      return;
    }
    if (st === ExecStatus.Paused) {
      const used = this.parser.consumed;
      if (used < chunk.length) {
        const rest = chunk.subarray(used);
        this.pending = this.pending ? Buffer.concat([rest, this.pending]) : rest;
      }
      this.parserPaused = true;
      // A stream that completed during execute (synchronous local reply) lets us go on now.
      if (this.stream === null) this.resumeParsing();
      return;
    }
    if (st === ExecStatus.Upgrade) {
      const rest = chunk.subarray(this.parser.consumed);
      const s = this.stream;
      if (s && s.upgradeType !== null && !s.responseComplete) {
        this.closeAfterResponse = true; // after a tunnel or a refused upgrade, the connection ends
        this.tunnel = s;
        s.onUpgradeRequestBytes(rest);
      } else if (this.droppedUpgrade) {
        // An upgrade header we dropped (h2c): the request went on as HTTP/1.1; what follows is the
        // next pipelined request. llhttp resumes as HTTP after resume().
        this.droppedUpgrade = false;
        if (rest.length > 0) this.pending = this.pending ? Buffer.concat([rest, this.pending]) : rest;
        this.parserPaused = true;
        if (this.stream === null) this.resumeParsing();
      } else if (s === null) {
        // Upgrade refused and answered already: close.
        this.closeAfterResponse = true;
        this.out.end();
      }
      return;
    }
    // Codec error: 400 / 431 and close (Envoy: DPE).
    this.onCodecError(this.parser.errorCode, this.parser.errorReason);
  }

  private onCodecError(code: string, reason: string): void {
    this.config.stats.downstream_cx_protocol_error.inc();
    log.debug(`downstream codec error ${code}: ${reason}`);
    const { status, body } = codecErrorReply(code);
    const s = this.stream;
    if (s && s.responseStarted) {
      this.destroy();
      return;
    }
    this.closeAfterResponse = true;
    if (s) {
      s.sendLocalReply(status, body, 'DPE');
      return;
    }
    // No stream yet (head did not parse): answer directly.
    this.headlessStream().sendLocalReply(status, body, 'DPE');
  }

  /**
   * A stream for a reply to a request whose head never completed (codec error, head timeout): no
   * method or path, so the access log shows `"- - HTTP/1.1"` as Envoy's does.
   */
  private headlessStream(): ActiveStream {
    const stream = new ActiveStream(this, { method: '', path: '', authority: '', scheme: 'http', versionMinor: 1, headers: [] }, true);
    const started = this.headStartedAt;
    if (started !== 0) {
      // The stream began with the head's first bytes (%START_TIME%, %DURATION%), not at the error.
      this.headStartedAt = 0;
      stream.streamInfo.startMono = started;
      stream.streamInfo.startTimeMs = wallClockMs(started);
    }
    this.stream = stream;
    stream.requestComplete = true;
    return stream;
  }

  private onEnd(): void {
    if (this.tunnel) {
      this.tunnel.onDownstreamEnd();
      return;
    }
    // The client closed its side. As Envoy's HTTP connection manager (no half-close): the stream in
    // flight is reset (flag DC) and the connection closed. (After our own FIN, the close is ours.)
    if (!this.socket.writableEnded) this.remoteClosed = true;
    this.closeAfterResponse = true;
    if (this.stream === null || this.stream.responseComplete) this.out.end();
    else {
      this.stream.onDownstreamReset('downstream remote disconnect');
      this.destroy();
    }
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.idleTimer?.disarm();
    this.cxIdleTimer?.disarm();
    const st = this.config.stats;
    st.downstream_cx_active.dec();
    st.downstream_cx_http1_active.dec();
    st.downstream_cx_destroy.inc();
    (this.remoteClosed ? st.downstream_cx_destroy_remote : st.downstream_cx_destroy_local).inc();
    this.countBytesWritten();
    st.downstream_cx_length_ms.record(performance.now() - this.openedAt);
    if (log.debugOn) log.debug(`[C${this.id}] closed`);
    const s = this.stream;
    if (s && !s.responseComplete) s.onDownstreamReset('downstream connection termination');
    this.parser.destroy();
    this.onClosed(this);
  }

  // ---- codec callbacks (Http1Handler) ---------------------------------------------------------

  onRequestHead(method: string, url: string, versionMinor: number, headers: string[], keepAlive: boolean, upgrade: boolean): void {
    const cfg = this.config;
    this.headStartedAt = 0;
    let path = url;
    let authority = '';
    // Absolute-form (RFC 9112 3.2.2): the URL's authority wins over Host.
    if (url.charCodeAt(0) !== 47 /* '/' */ && url !== '*') {
      const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^#]*)/.exec(url);
      if (m) {
        authority = m[2];
        path = m[3] === '' || m[3].charCodeAt(0) === 63 /* '?' */ ? `/${m[3]}` : m[3];
      }
    } else {
      // The fragment is not part of the request target sent upstream (Envoy strips it).
      const hash = url.indexOf('#');
      if (hash !== -1) path = url.slice(0, hash);
    }
    // One pass over the headers: Host → :authority, note the framing and hop-by-hop headers, and
    // compact the array without them (Envoy strips hop-by-hop headers before the filters run).
    let hostCount = 0;
    let te: string | undefined;
    let contentLength: string | undefined;
    let transferEncoding: string | undefined;
    let expect: string | undefined;
    let connection: string | undefined;
    let upgradeValue: string | undefined;
    let w = 0;
    for (let r = 0; r < headers.length; r += 2) {
      const name = headers[r];
      const value = headers[r + 1];
      switch (name) {
        case 'host':
          hostCount++;
          if (authority === '') authority = value;
          continue;
        case 'connection':
          connection = connection === undefined ? value : `${connection},${value}`;
          continue;
        case 'keep-alive':
        case 'proxy-connection':
        case 'http2-settings':
          continue;
        case 'transfer-encoding':
          transferEncoding = value;
          continue;
        case 'te':
          te = value;
          continue;
        case 'upgrade':
          upgradeValue = value;
          continue;
        case 'expect':
          expect = value;
          continue;
        case 'content-length':
          contentLength = value;
          break;
      }
      if (w !== r) {
        headers[w] = name;
        headers[w + 1] = value;
      }
      w += 2;
    }
    truncate(headers, w);
    const head: RequestHead = { method, path, authority, scheme: 'http', versionMinor, headers };
    const hasBody = transferEncoding !== undefined || (contentLength !== undefined && contentLength !== '0');
    const stream = new ActiveStream(this, head, !hasBody);
    this.stream = stream;
    if (log.debugOn) log.debug(`${stream.streamInfo.logPrefix()} request headers complete (end_stream=${!hasBody}):\n${debugHeaders([':authority', authority, ':path', path, ':method', method], headers)}`);
    if (!keepAlive || this.draining) this.closeAfterResponse = true;

    if (versionMinor === 0 && !cfg.acceptHttp10) {
      this.closeAfterResponse = true;
      stream.sendLocalReply(426, 'Upgrade Required', 'DPE');
      return;
    }
    if (authority === '') {
      if (versionMinor === 0 && cfg.defaultHostForHttp10) head.authority = cfg.defaultHostForHttp10;
      else {
        this.closeAfterResponse = true;
        stream.sendLocalReply(400, 'Bad Request', 'DPE');
        return;
      }
    }
    // Keep-alive clients repeat their Host: a new one only is checked.
    if (hostCount > 1 || (head.authority !== this.lastAuthority && !validAuthority(head.authority))) {
      this.closeAfterResponse = true;
      stream.sendLocalReply(400, 'Bad Request', 'DPE');
      return;
    }
    this.lastAuthority = head.authority;
    // Only `chunked` is a transfer coding a proxy can frame (Envoy answers others with 501).
    if (transferEncoding !== undefined && transferEncoding.trim().toLowerCase() !== 'chunked') {
      this.closeAfterResponse = true;
      stream.sendLocalReply(501, 'Not Implemented', 'DPE');
      return;
    }
    if (cfg.normalizePath || cfg.mergeSlashes) {
      head.path = normalizeRequestPath(head.path, cfg.normalizePath, cfg.mergeSlashes);
    }
    // Upgrade (WebSocket etc.): allowed per HCM upgrade_configs, overridable per route.
    let upgradeType: string | null = null;
    if (upgrade && method !== 'CONNECT' && upgradeValue !== undefined && hasToken(connection, 'upgrade')) {
      const t = upgradeValue.toLowerCase();
      // `Upgrade: h2c` (curl --http2, Java's HttpClient) is dropped and the request served as
      // HTTP/1.1, as Envoy's HTTP/1 codec does ("removing unsupported h2c upgrade headers").
      if (t !== 'h2c') upgradeType = t; // the router re-adds Connection/Upgrade upstream
      else this.droppedUpgrade = true;
    }
    // Expect: 100-continue is answered by the proxy and not forwarded (Envoy's default,
    // proxy_100_continue: false); other expectations are forwarded.
    if (expect !== undefined) {
      if (expect.toLowerCase() === '100-continue') {
        if (versionMinor === 1 && hasBody) {
          this.send('HTTP/1.1 100 Continue\r\n\r\n');
          cfg.stats.recordResponse(100); // Envoy counts the 1xx and the final response
        }
      } else headers.push('expect', expect);
    }
    // `te: trailers` is the one TE value forwarded.
    if (te !== undefined && hasToken(te, 'trailers')) headers.push('te', 'trailers');
    if (hasBody && contentLength === undefined) stream.requestChunked = true;
    // The stream's start time was just read: the idle timer starts from it (no second clock read).
    this.touchStream(stream.streamInfo.startMono);
    stream.upgradeType = upgradeType;
    stream.start();
  }

  onResponseHead(): boolean {
    return false; // request parser only
  }

  onBody(data: Buffer): void {
    const s = this.stream;
    if (s === null || s.responseComplete) return; // response already sent: discard the rest of the body
    this.touchStream();
    s.streamInfo.bytesReceived += data.length;
    s.decodeData(data, false);
  }

  onMessageComplete(trailers: string[] | null): boolean {
    const s = this.stream;
    // No stream: its response went out already. A closing connection parses nothing more (no
    // pipelined request after it may reach an upstream).
    if (s === null) return this.closeAfterResponse;
    s.requestComplete = true;
    // A request without a body was complete when its head was (no clock read on the common path).
    s.streamInfo.lastDownstreamRxByteReceivedMono = s.headersOnly ? s.streamInfo.startMono : eventNow();
    if (!s.responseComplete) {
      if (trailers !== null && trailers.length > 0 && this.config.enableTrailers) s.decodeTrailers(trailers);
      else if (!s.headersOnly) s.decodeData(EMPTY, true);
    }
    if (s.responseComplete) {
      // Answered already (a local reply from inside the parser's callbacks). The next pipelined
      // request would be parsed in this same execute(): stop here if the client is not reading
      // its responses (resumeParsing waits for the drain), as between proxied requests.
      this.finishStream(s);
      return this.closeAfterResponse || this.out.backedUp;
    }
    // An upgrade request: let llhttp stop with PAUSED_UPGRADE so the tunnel bytes are ours.
    if (s.upgradeType !== null) return false;
    return true; // pause until the response completes
  }

  // ---- stream idle timeout (HCM stream_idle_timeout, default 5 min) ---------------------------

  private idleTimer: CoarseTimer | null = null;
  /** The stream in flight's idle timeout in ms: the HCM's, or its route's `idle_timeout`. */
  private streamIdleMs = 0;

  /**
   * The route's `idle_timeout` (RouteAction.idle_timeout) replaces stream_idle_timeout for the
   * stream in flight; 0 disables it. Restarts the timer from now.
   */
  setStreamIdleTimeout(ms: number): void {
    this.streamIdleMs = ms;
    if (ms <= 0) this.idleTimer?.disarm();
    else this.streamTimer().arm(ms);
  }

  /** The stream idle timer (created on first use). */
  private streamTimer(): CoarseTimer {
    return (this.idleTimer ??= new CoarseTimer(onStreamIdle, this));
  }

  /**
   * Activity on the stream in flight: the idle timeout starts again.
   * @param startedAt `performance.now()` of a new stream's start: the timer is armed from it.
   */
  private touchStream(startedAt?: number): void {
    if (startedAt !== undefined) this.streamIdleMs = this.config.streamIdleTimeoutMs;
    const ms = this.streamIdleMs;
    if (ms <= 0) return;
    const t = this.streamTimer();
    if (startedAt === undefined) t.touch(ms);
    else t.arm(ms, startedAt);
  }

  /** Arms stream_idle_timeout for a request head still arriving (once: later pieces do not re-arm it). */
  private armHeadTimeout(): void {
    const ms = this.config.streamIdleTimeoutMs;
    if (ms <= 0) return;
    const t = this.streamTimer();
    if (t.index === -1) t.arm(ms);
  }

  /**
   * @internal The stream saw no activity for stream_idle_timeout (flag SI): 504 `stream timeout`
   * when the whole request was received, 408 (and close) while it was still arriving, as Envoy's
   * Utility::maybeRequestTimeoutCode; a reset once the response started. A request head that never
   * completed gets the 408 too.
   */
  onStreamIdle(): void {
    const s = this.stream;
    if (s === null) {
      if (!this.closed && !this.parser.idle && this.tunnel === null) this.onHeadTimeout();
      return;
    }
    if (s.responseComplete) return;
    this.config.stats.downstream_rq_idle_timeout.inc();
    if (s.responseStarted) {
      this.closeAfterResponse = true;
      s.streamInfo.setResponseFlag('SI');
      s.resetStream('stream idle timeout');
      return;
    }
    if (!s.requestComplete) this.closeAfterResponse = true;
    s.sendLocalReply(s.requestComplete ? 504 : 408, 'stream timeout', 'SI');
  }

  private onHeadTimeout(): void {
    this.config.stats.downstream_rq_idle_timeout.inc();
    this.closeAfterResponse = true;
    this.headlessStream().sendLocalReply(408, 'stream timeout', 'SI');
  }

  // ---- connection idle timeout (common_http_protocol_options.idle_timeout, default 1 h) -------

  private cxIdleTimer: CoarseTimer | null = null;
  /** When the connection last became idle (coarse clock, ms). */
  private idleSince = 0;

  /**
   * @internal The connection idle timer came due. It is armed once and checked here rather than
   * re-armed per request: a request in flight (or one since) pushes the deadline on.
   */
  onConnectionIdle(): void {
    if (this.closed) return;
    const ms = this.config.idleTimeoutMs;
    const t = this.cxIdleTimer!;
    if (this.stream !== null || this.tunnel !== null || !this.parser.idle) {
      t.arm(ms);
      return;
    }
    const left = this.idleSince + ms - coarseNow();
    if (left > 0) {
      t.arm(left);
      return;
    }
    this.config.stats.downstream_cx_idle_timeout.inc();
    log.debug('downstream connection idle timeout');
    this.destroy();
  }

  // ---- stream/connection coordination ---------------------------------------------------------

  /** Called by the stream when its response has been fully written (or the stream was reset). */
  onStreamComplete(s: ActiveStream): void {
    // A request without a body whose response was sent from inside the parser's callbacks (a local
    // reply to its head) is complete as soon as llhttp reaches the end of its head, within this
    // execute(): onMessageComplete finishes it, and the connection stays usable.
    const completesInThisExecute = this.inExecute && (s.requestComplete || s.headersOnly);
    if (!s.requestComplete && !completesInThisExecute) {
      // Response finished before the request body: HTTP/1.1 cannot re-synchronise, close after the write.
      this.closeAfterResponse = true;
    }
    if (completesInThisExecute) return;
    this.finishStream(s);
    if (!this.inExecute) this.resumeParsing();
  }

  private finishStream(s: ActiveStream): void {
    if (this.stream !== s) return;
    this.stream = null;
    this.idleTimer?.disarm();
    this.idleSince = coarseNow();
    s.destroy();
    this.flushHead();
    this.countBytesWritten();
    if (this.closeAfterResponse || this.closed) {
      if (!this.closed) this.out.end();
    }
  }

  private resumeParsing(): void {
    if (this.closed || this.closeAfterResponse || this.stream !== null) return;
    if (this.out.backedUp) {
      // The client is not reading its responses: dispatch no more pipelined requests until it does
      // (Envoy stops reading a connection whose output buffer is over its limit).
      this.resumeOnDrain = true;
      return;
    }
    if (this.parserPaused) {
      this.parserPaused = false;
      this.parser.resume();
    }
    if (this.pipelineReadDisabled) {
      this.pipelineReadDisabled = false;
      this.readDisable(false);
    }
    const p = this.pending;
    if (p !== null) {
      this.pending = null;
      this.execute(p);
    }
  }

  /** Reference-counted read disable (Envoy's readDisable): pauses the socket at the first, resumes at the last. */
  readDisable(disable: boolean): void {
    if (disable) {
      if (this.readDisableCount++ === 0 && !this.closed) this.socket.pause();
    } else if (this.readDisableCount > 0) {
      if (--this.readDisableCount === 0 && !this.closed) this.socket.resume();
    }
  }

  /** Starts draining: close idle, `connection: close` on the in-flight response. */
  drain(): void {
    this.draining = true;
    this.closeAfterResponse = true;
    if (this.stream === null && !this.closed) this.out.end();
  }

  /** The client is not reading: its socket's output is over the high watermark (until 'drain'). */
  outputBackedUp(): boolean {
    return this.out.backedUp;
  }

  /** Closes the socket now (resets in-flight). */
  destroy(): void {
    if (!this.closed) this.out.destroy();
  }

  /**
   * Writes a response head (already mutated by filters). Adds framing and connection headers.
   * @returns whether the body is sent chunked.
   */
  writeResponseHead(status: number, headers: string[], endStream: boolean, isHeadRequest: boolean, versionMinor: number): boolean {
    const cfg = this.config;
    // One pass: drop hop-by-hop headers (a 101 keeps Connection/Upgrade), apply
    // server_header_transformation (default OVERWRITE), note content-length.
    const drop = status === 101 ? UPGRADE_KEEP : HOP_BY_HOP_RESPONSE;
    const overwriteServer = cfg.serverHeaderTransformation === 'OVERWRITE';
    let hasServer = false;
    let cl: string | undefined;
    let w = 0;
    for (let r = 0; r < headers.length; r += 2) {
      const name = headers[r];
      if (drop.has(name) || name === 'date') continue;
      if (name === 'server') {
        if (overwriteServer) continue;
        hasServer = true;
      } else if (name === 'content-length') cl = headers[r + 1];
      if (w !== r) {
        headers[w] = name;
        headers[w + 1] = headers[r + 1];
      }
      w += 2;
    }
    truncate(headers, w);
    if (overwriteServer || (cfg.serverHeaderTransformation === 'APPEND_IF_ABSENT' && !hasServer)) headers.push('server', cfg.serverName);
    // Every response, local replies included, carries the proxy's `date` (Envoy's
    // DateProvider::setDateHeader replaces the upstream's).
    headers.push('date', httpDate());
    if (cfg.via !== '') appendVia(headers, cfg.via); // Envoy's mutateResponseHeaders: responses too
    let chunked = false;
    const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
    if (!noBody && status !== 101) {
      if (cl === undefined) {
        if (endStream) {
          if (!isHeadRequest) headers.push('content-length', '0');
        } else if (versionMinor === 1) {
          headers.push('transfer-encoding', 'chunked');
          chunked = !isHeadRequest;
        } else {
          this.closeAfterResponse = true; // HTTP/1.0: body delimited by close
        }
      }
    }
    // A response that starts before the request body has arrived ends the connection (HTTP/1 cannot
    // re-synchronise on the unread body): say so, so the client sends nothing more on it.
    const s = this.stream;
    if (s !== null && !s.requestComplete && !s.headersOnly && s.upgradeType === null && status >= 200) this.closeAfterResponse = true;
    // An upgrade request answered without 101: the connection ends after it (see execute()), say so.
    if (s !== null && s.upgradeType !== null && status >= 200 && status !== 101) this.closeAfterResponse = true;
    if (this.closeAfterResponse && status !== 101) headers.push('connection', 'close');
    else if (versionMinor === 0) headers.push('connection', 'keep-alive');
    if (log.debugOn && s !== null) log.debug(`${s.streamInfo.logPrefix()} encoding headers via codec (end_stream=${endStream}):\n${debugHeaders([':status', String(status)], headers)}`);
    if (!this.closed) {
      this.flushHead();
      this.outStatus = status;
      this.outHeaders = headers;
      if (endStream) this.flushHead();
      else {
        // The body bytes that follow in this read event (usually the same upstream read) leave with
        // it, encoded into one Buffer.
        if (!this.outFlushScheduled) {
          this.outFlushScheduled = true;
          atReadEnd(flushHeadTick, this);
        }
      }
    }
    return chunked;
  }

  /** @internal The end of the read event (or tick) in which a head was held back. */
  onFlushTick(): void {
    this.outFlushScheduled = false;
    this.flushHead();
  }

  /**
   * The held head encoded with `tail` spare bytes at the end of its Buffer (encodeResponseHead);
   * null when none is held, or when a header value holds CR/LF/NUL (only possible through a
   * mutation): that head is never emitted, the connection is reset instead.
   */
  private takeHead(tail: number): Buffer | null {
    const headers = this.outHeaders;
    if (headers === null) return null;
    this.outHeaders = null;
    const buf = encodeResponseHead(this.outStatus, undefined, headers, tail);
    if (buf === null) this.destroy();
    return buf;
  }

  /** Writes a response head still held back (see writeResponseHead). @internal */
  flushHead(): void {
    const head = this.takeHead(0);
    if (head !== null && !this.closed) this.send(head);
  }

  /** Writes body bytes. @returns false when the socket is over its high watermark. */
  writeBody(data: Buffer, chunked: boolean): boolean {
    if (this.closed) return true;
    this.touchStream();
    if (this.outHeaders === null && !chunked) return this.send(data);
    return this.writeFramed(data, chunked);
  }

  /**
   * [held head] + body bytes (chunk-framed when `chunked`) in one write: small data is copied
   * behind its head and framing in one Buffer; large data goes uncopied in one gather write (writev).
   */
  private writeFramed(data: Buffer, chunked: boolean): boolean {
    const len = data.length;
    if (len === 0) {
      this.flushHead();
      return !this.out.backedUp;
    }
    const size = chunked ? chunkHeader(len) : '';
    if (len <= COPY_LIMIT) {
      const tail = size.length + len + (chunked ? 2 : 0);
      let buf: Buffer | null;
      if (this.outHeaders === null) buf = Buffer.allocUnsafe(tail);
      else if ((buf = this.takeHead(tail)) === null || this.closed) return true; // reset (see takeHead)
      let o = buf.length - tail;
      if (chunked) o += buf.write(size, o, 'latin1');
      o += data.copy(buf, o);
      if (chunked) {
        buf[o] = 13;
        buf[o + 1] = 10;
      }
      return this.send(buf);
    }
    // Large data: [head + chunk size] [data] [CRLF] in one gather write, the data not copied.
    let first: Buffer | null = null;
    if (this.outHeaders !== null) {
      if ((first = this.takeHead(size.length)) === null || this.closed) return true;
      if (chunked) first.write(size, first.length - size.length, 'latin1');
    } else if (chunked) first = Buffer.from(size, 'latin1');
    const parts = first === null ? [data] : chunked ? [first, data, CRLF] : [first, data];
    this.txBytes += (first === null ? 0 : first.length) + len + (chunked ? 2 : 0);
    return this.out.writev(parts);
  }

  /** Ends a chunked body (with trailers, if any). */
  endChunked(trailers: string[] | null): void {
    if (this.closed) return;
    const last = encodeLastChunk(this.config.enableTrailers ? trailers : null);
    if (this.outHeaders === null) {
      this.send(last);
      return;
    }
    const buf = this.takeHead(last.length);
    if (buf === null || this.closed) return;
    buf.write(last, buf.length - last.length, 'latin1');
    this.send(buf);
  }
}

/** Body writes up to this size are copied next to their framing into one buffer (bytes). */
const COPY_LIMIT = 4096;

const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from(CHUNK_END, 'latin1');

let dateSecond = 0;
let dateValue = '';

/** The IMF-fixdate of now (`Sun, 29 Nov 2026 17:45:00 GMT`), formatted once per second. */
function httpDate(): string {
  const sec = Math.floor(wallClockMs(eventNow()) / 1000);
  if (sec !== dateSecond) {
    dateSecond = sec;
    dateValue = new Date(sec * 1000).toUTCString();
  }
  return dateValue;
}

/** Headers as Envoy's debug lines print them: `'name', 'value'` one per line, pseudo-headers first. */
function debugHeaders(pseudo: string[], headers: string[]): string {
  const lines: string[] = [];
  for (const h of [pseudo, headers]) for (let i = 0; i + 1 < h.length; i += 2) lines.push(`'${h[i]}', '${h[i + 1]}'`);
  return lines.join('\n');
}

function onStreamIdle(c: unknown): void {
  (c as DownstreamConnection).onStreamIdle();
}

function onConnectionIdle(c: unknown): void {
  (c as DownstreamConnection).onConnectionIdle();
}

/** Pipelined bytes buffered behind a request in flight before reads pause (bytes). */
const PIPELINE_BUFFER_LIMIT = 1024 * 1024;

function flushHeadTick(c: DownstreamConnection): void {
  c.onFlushTick();
}

const UPGRADE_KEEP: ReadonlySet<string> = new Set(['keep-alive', 'proxy-connection', 'transfer-encoding']);

function stripV4Mapped(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * Envoy's authority check (HeaderUtility::authorityIsValid): host characters of RFC 3986
 * reg-name / IP-literal, an optional port of at most 65535, no userinfo.
 */
function validAuthority(a: string): boolean {
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(:\d{1,5})?$/.test(a)) return false;
  const colon = a.lastIndexOf(':');
  if (colon !== -1 && a[0] !== '[') return Number(a.slice(colon + 1)) <= 65535;
  if (a[0] === '[' && colon > a.indexOf(']')) return Number(a.slice(colon + 1)) <= 65535;
  return true;
}

const UNRESERVED = /%(2[DEde]|3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|6[1-9A-Fa-f]|7[0-9Aa]|5[Ff]|7[Ee])/g;

/**
 * `normalize_path` (RFC 3986 section 6: percent-decoding of unreserved characters, then
 * remove_dot_segments) and `merge_slashes`, on the path without its query, as Envoy's
 * PathUtil::canonicalPath (Chromium's URL path canonicaliser: a backslash is a slash, and `..`
 * at the root stays at the root: `/a/..\c` and `/../c` are `/c`) and mergeSlashes.
 * Every path normalises (Envoy rejects none that llhttp accepts).
 */
export function normalizeRequestPath(path: string, normalize: boolean, merge: boolean): string {
  const q = path.indexOf('?');
  let p = q === -1 ? path : path.slice(0, q);
  const query = q === -1 ? '' : path.slice(q);
  if (normalize) {
    p = p.replace(UNRESERVED, (m) => String.fromCharCode(parseInt(m.slice(1), 16)));
    if (p.includes('\\')) p = p.replace(/\\/g, '/');
    const out: string[] = [];
    const segs = p.split('/');
    for (let i = 1; i < segs.length; i++) {
      const seg = segs[i];
      if (seg === '.') {
        if (i === segs.length - 1) out.push('');
        continue;
      }
      if (seg === '..') {
        if (out.length > 0) out.pop();
        if (i === segs.length - 1) out.push('');
        continue;
      }
      out.push(seg);
    }
    p = `/${out.join('/')}`;
  }
  if (merge) p = p.replace(/\/{2,}/g, '/');
  return p + query;
}
