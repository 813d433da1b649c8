/**
 * One request/response exchange on a downstream connection: Envoy's ActiveStream and
 * FilterManager (source/common/http/filter_manager.cc), trimmed. Runs decoder filters in order and
 * encoder filters in reverse, buffers body while a filter has stopped iteration, applies Envoy's
 * request header mutations (x-forwarded-for, x-forwarded-proto, x-request-id) before the filters and
 * writes the response through the connection.
 */
// Imported: the global `Buffer` is an accessor (a getter call on every use on the hot path).
import { Buffer } from 'node:buffer';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { FilterDataStatus, FilterHeadersStatus, type DecoderFilterCallbacks, type EncoderFilterCallbacks, type HttpFilter } from './filter';
import { appendVia, getHeader, setHeader, removeHeader, truncate, type RequestHead, type ResponseHead } from './headers';
import { localReplyHead } from './local-reply';
import { StreamInfo } from './stream-info';
import { newRequestId } from './request-id';
import type { CompiledRoute } from '../router';
import type { DownstreamConnection, TunnelSink } from './connection-manager';
import { eventNow } from '../common/read-event';

const EMPTY = Buffer.alloc(0);

/** How a stream ended: its response written, reset by us (downstream_rq_tx_reset) or by the client (downstream_rq_rx_reset). */
const enum Outcome { Complete, LocalReset, RemoteReset }

/** %RESPONSE_CODE_DETAILS% of local replies by response flag (Envoy's ResponseCodeDetails names). */
const LOCAL_REPLY_DETAILS: Readonly<Record<string, string>> = {
  NR: 'route_not_found',
  NC: 'cluster_not_found',
  UH: 'no_healthy_upstream',
  UF: 'upstream_reset_before_response_started{connection_failure}',
  UC: 'upstream_reset_before_response_started{connection_termination}',
  UO: 'upstream_reset_before_response_started{overflow}',
  UPE: 'upstream_reset_before_response_started{protocol_error}',
  UT: 'response_timeout',
  SI: 'stream_idle_timeout',
  DPE: 'http1.codec_error',
  LH: 'health_check_failed',
};

/** A request in flight. */
export class ActiveStream implements DecoderFilterCallbacks, EncoderFilterCallbacks, TunnelSink {
  readonly streamInfo: StreamInfo;
  private filters: HttpFilter[] = [];
  /** Index of the decoder filter that stopped header iteration (-1: none). */
  private headersStoppedAt = -1;
  /** Index of the decoder filter the body is buffered behind (-1: none). */
  private dataStoppedAt = -1;
  private decodeBuffered: Buffer[] | null = null;
  private decodeBufferedEnd = false;
  private decodeTrailersPending: string[] | null = null;
  private cachedRoute: CompiledRoute | null | undefined = undefined;
  /** The request body will be/was sent with chunked framing downstream. */
  requestChunked = false;
  requestComplete = false;
  responseStarted = false;
  responseComplete = false;
  private responseChunked = false;
  private destroyed = false;
  /** Upgrade type requested (lowercase `websocket`), or null. */
  upgradeType: string | null = null;
  /** Downstream bytes that arrived after an upgrade request head, before the upstream accepted. */
  upgradeBytes: Buffer[] = [];
  /** Set by the router when it takes over an upgraded connection. */
  upgradeHandler: ((data: Buffer) => void) | null = null;
  responseStatus = 0;
  responseHeaders: string[] | null = null;

  constructor(readonly conn: DownstreamConnection, readonly head: RequestHead, readonly headersOnly: boolean) {
    this.streamInfo = new StreamInfo(conn.id, conn.remoteAddress, conn.remotePort, conn.localAddress, conn.localPort);
    conn.config.stats.downstream_rq_total.inc();
    conn.config.stats.downstream_rq_http1_total.inc();
    conn.config.stats.downstream_rq_active.inc();
  }

  /** Begins processing once the head has been validated. */
  start(): void {
    const cfg = this.conn.config;
    mutateRequestHeaders(this);
    const factories = cfg.filterFactories;
    const filters = this.filters;
    for (let i = 0; i < factories.length; i++) filters.push(factories[i](this, this));
    this.runDecodeHeaders(0);
  }

  // ---- decode path ----------------------------------------------------------------------------
  // Envoy's FilterManager semantics: a filter that stops header iteration still receives the
  // body (decodeData); filters after it see nothing until it calls continueDecoding(). A filter
  // that returns StopIterationAndBuffer from decodeData has the body buffered for it.

  private runDecodeHeaders(from: number): void {
    const filters = this.filters;
    for (let i = from; i < filters.length; i++) {
      const f = filters[i];
      if (f.decodeHeaders === undefined) continue;
      const st = f.decodeHeaders(this.head, this.headersOnly);
      if (this.responseComplete || this.destroyed) return;
      if (st === FilterHeadersStatus.StopIteration) {
        this.headersStoppedAt = i;
        return;
      }
    }
  }

  /** Request body bytes from the codec (`end` true on the last call). */
  decodeData(data: Buffer, end: boolean): void {
    if (this.dataStoppedAt !== -1) {
      this.bufferDecode(data, end);
      return;
    }
    this.runDecodeData(0, data, end);
  }

  private bufferDecode(data: Buffer, end: boolean): void {
    if (data.length > 0) (this.decodeBuffered ??= []).push(data);
    if (end) this.decodeBufferedEnd = true;
  }

  private runDecodeData(from: number, data: Buffer, end: boolean): void {
    const filters = this.filters;
    for (let i = from; i < filters.length; i++) {
      if (this.headersStoppedAt !== -1 && i > this.headersStoppedAt) {
        // Later filters have not seen the headers yet: hold the body for them.
        this.dataStoppedAt = this.headersStoppedAt;
        this.bufferDecode(data, end);
        return;
      }
      const f = filters[i];
      if (f.decodeData === undefined) continue;
      const st = f.decodeData(data, end);
      if (this.responseComplete || this.destroyed) return;
      if (st === FilterDataStatus.Continue) continue;
      if (st === FilterDataStatus.StopIterationAndBuffer) {
        this.dataStoppedAt = i;
        this.bufferDecode(data, end);
      }
      return;
    }
  }

  /** Request trailers (chunked requests). */
  decodeTrailers(trailers: string[]): void {
    if (this.dataStoppedAt !== -1) {
      this.decodeTrailersPending = trailers;
      this.decodeBufferedEnd = true;
      return;
    }
    this.runDecodeTrailers(0, trailers);
  }

  private runDecodeTrailers(from: number, trailers: string[]): void {
    const filters = this.filters;
    for (let i = from; i < filters.length; i++) {
      if (this.headersStoppedAt !== -1 && i > this.headersStoppedAt) {
        this.dataStoppedAt = this.headersStoppedAt;
        this.decodeTrailersPending = trailers;
        this.decodeBufferedEnd = true;
        return;
      }
      const f = filters[i];
      if (f.decodeTrailers === undefined) {
        if (f.decodeData !== undefined) {
          const st = f.decodeData(EMPTY, true);
          if (this.responseComplete || this.destroyed) return;
          if (st !== FilterDataStatus.Continue) return;
        }
        continue;
      }
      const st = f.decodeTrailers(trailers);
      if (this.responseComplete || this.destroyed) return;
      if (st === FilterHeadersStatus.StopIteration) return;
    }
  }

  continueDecoding(): void {
    if (this.destroyed || this.responseComplete) return;
    let from: number;
    if (this.headersStoppedAt !== -1) {
      from = this.headersStoppedAt + 1;
      this.headersStoppedAt = -1;
      this.runDecodeHeaders(from);
      if (this.responseComplete || this.destroyed) return;
    } else if (this.dataStoppedAt !== -1) {
      from = this.dataStoppedAt + 1;
    } else return;
    this.dataStoppedAt = -1;
    const buffered = this.decodeBuffered;
    const end = this.decodeBufferedEnd;
    const trailers = this.decodeTrailersPending;
    this.decodeBuffered = null;
    this.decodeBufferedEnd = false;
    this.decodeTrailersPending = null;
    if (buffered !== null || (end && trailers === null)) {
      const body = buffered === null ? EMPTY : buffered.length === 1 ? buffered[0] : Buffer.concat(buffered);
      this.runDecodeData(from, body, end && trailers === null);
      if (this.responseComplete || this.destroyed) return;
    }
    if (trailers !== null) {
      if (this.dataStoppedAt !== -1) {
        this.decodeTrailersPending = trailers;
        this.decodeBufferedEnd = true;
      } else this.runDecodeTrailers(from, trailers);
    }
  }

  // ---- route ----------------------------------------------------------------------------------

  route(): CompiledRoute | null {
    if (this.cachedRoute === undefined) {
      const table = this.conn.config.routeTable();
      this.cachedRoute = table === null ? null : table.route(this.head); // a RequestHead is a RouteRequest
      if (this.cachedRoute) this.streamInfo.routeName = this.cachedRoute.name;
    }
    return this.cachedRoute;
  }

  clearRouteCache(): void {
    this.cachedRoute = undefined;
  }

  // ---- encode path ----------------------------------------------------------------------------

  sendLocalReply(status: number, body: string, responseFlag?: string, extraHeaders?: string[]): void {
    if (responseFlag) this.streamInfo.setResponseFlag(responseFlag);
    this.streamInfo.responseCodeDetails ??= (responseFlag && LOCAL_REPLY_DETAILS[responseFlag]) || (responseFlag ? 'local_reply' : 'direct_response');
    if (this.responseStarted) {
      // Too late for a reply: reset the stream (close the connection).
      this.resetStream('local reply after response started');
      return;
    }
    const head = localReplyHead(status, body, extraHeaders);
    const isHead = this.head.method === 'HEAD';
    this.encodeHeaders(head, body.length === 0 || isHead);
    if (body.length > 0 && !isHead) this.encodeData(Buffer.from(body, 'latin1'), true);
  }

  encodeHeaders(head: ResponseHead, endStream: boolean): void {
    if (this.responseStarted || this.destroyed) return;
    const filters = this.filters;
    for (let i = filters.length - 1; i >= 0; i--) {
      const f = filters[i];
      if (f.encodeHeaders !== undefined) f.encodeHeaders(head, endStream);
    }
    this.responseStarted = true;
    this.responseStatus = head.status;
    this.responseHeaders = head.headers;
    this.streamInfo.responseCode = head.status;
    // Envoy's chargeStats runs as the head is encoded: a response reset after it still counts.
    this.conn.config.stats.recordResponse(head.status);
    const cfg = this.conn.config;
    if (cfg.alwaysSetRequestIdInResponse) {
      const id = getHeader(this.head.headers, 'x-request-id');
      if (id !== undefined) setHeader(head.headers, 'x-request-id', id);
    }
    const isHead = this.head.method === 'HEAD';
    this.responseChunked = this.conn.writeResponseHead(head.status, head.headers, endStream, isHead, this.head.versionMinor);
    if (endStream || isHead) {
      if (!endStream) this.headOnlySent = true;
      else this.complete();
    }
  }

  /** Response to HEAD: the body that follows is not written. */
  private headOnlySent = false;

  encodeData(data: Buffer, endStream: boolean): void {
    if (this.responseComplete || this.destroyed) return;
    if (!this.headOnlySent && data.length > 0) {
      this.streamInfo.bytesSent += data.length;
      this.conn.writeBody(data, this.responseChunked);
    }
    if (endStream) {
      if (this.responseChunked) this.conn.endChunked(null);
      this.complete();
    }
  }

  encodeTrailers(trailers: string[]): void {
    if (this.responseComplete || this.destroyed) return;
    if (this.responseChunked) this.conn.endChunked(trailers);
    this.complete();
  }

  continueEncoding(): void {
    /* encoder filters that stop are not supported yet: every encoder filter continues */
  }

  readDisable(disable: boolean): void {
    this.conn.readDisable(disable);
  }

  downstreamWritable(): boolean {
    return !this.conn.outputBackedUp();
  }

  setStreamIdleTimeout(ms: number): void {
    this.conn.setStreamIdleTimeout(ms);
  }

  resetStream(reason: string): void {
    this.streamInfo.setResponseFlag('LR');
    this.conn.closeAfterResponse = true;
    this.finishStream(Outcome.LocalReset, reason);
    this.conn.destroy();
  }

  /** Downstream went away before the response completed. */
  onDownstreamReset(reason: string): void {
    this.streamInfo.setResponseFlag('DC');
    this.finishStream(Outcome.RemoteReset, reason);
  }

  onDownstreamDrain(): void {
    for (const f of this.filters) f.onDownstreamDrain?.();
  }

  upgradeEnabledByHcm(type: string): boolean {
    return this.conn.config.upgrades.get(type) ?? false;
  }

  takeUpgradeBytes(handler: ((data: Buffer) => void) | null): Buffer[] {
    this.upgradeHandler = handler;
    const b = this.upgradeBytes;
    this.upgradeBytes = [];
    return b;
  }

  onDownstreamData(data: Buffer): void {
    this.onUpgradeRequestBytes(data);
  }

  onDownstreamEnd(): void {
    if (!this.responseComplete) this.resetStream('downstream closed the tunnel');
  }

  /** Bytes after an upgrade request head. */
  onUpgradeRequestBytes(data: Buffer): void {
    if (this.upgradeHandler) {
      if (data.length > 0) this.upgradeHandler(data);
    } else if (data.length > 0) this.upgradeBytes.push(data);
  }

  private complete(): void {
    this.finishStream(Outcome.Complete, '');
  }

  private finishStream(outcome: Outcome, _reason: string): void {
    if (this.responseComplete) return;
    this.responseComplete = true;
    const info = this.streamInfo;
    info.endMono = eventNow();
    const st = this.conn.config.stats;
    st.downstream_rq_active.dec();
    if (outcome !== Outcome.Complete) (outcome === Outcome.LocalReset ? st.downstream_rq_tx_reset : st.downstream_rq_rx_reset).inc();
    st.downstream_rq_time.record(info.endMono - info.startMono);
    const logs = this.conn.config.accessLogs;
    if (logs.length > 0) for (const l of logs) l(this);
    this.conn.onStreamComplete(this);
  }

  /** Releases filter resources. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const f of this.filters) f.onDestroy?.();
  }
}

/**
 * Envoy's ConnectionManagerUtility::mutateRequestHeaders: x-envoy-internal is dropped; with
 * use_remote_address the peer is appended to x-forwarded-for (the host's own address for a loopback
 * peer) and x-forwarded-proto is set; without it the last x-forwarded-for address is the client.
 * A request is internal only when x-forwarded-for holds a single internal address (with
 * use_remote_address: none was sent and the peer is internal); internal requests get
 * `x-envoy-internal: true`, the others lose Envoy's control headers (cleanInternalHeaders) and the
 * route config's internal_only_headers. x-request-id is generated when missing, or on edge requests
 * unless preserve_external_request_id; `via` is appended.
 */
function mutateRequestHeaders(s: ActiveStream): void {
  const cfg = s.conn.config;
  const h = s.head.headers;
  // One pass: join x-forwarded-for lines (as Envoy's inline header), drop x-envoy-internal, note
  // the rest.
  let xff: string | undefined;
  let hasProto = false;
  let hasRequestId = false;
  let controlHeaders = false;
  let w = 0;
  for (let r = 0; r < h.length; r += 2) {
    const name = h[r];
    if (name === 'x-forwarded-for') {
      xff = xff === undefined ? h[r + 1] : `${xff},${h[r + 1]}`;
      continue;
    }
    if (name === 'x-envoy-internal') continue;
    if (name === 'x-forwarded-proto') hasProto = true;
    else if (name === 'x-request-id') hasRequestId = true;
    else if (ENVOY_CONTROL_HEADERS.has(name)) controlHeaders = true;
    if (w !== r) {
      h[w] = name;
      h[w + 1] = h[r + 1];
    }
    w += 2;
  }
  truncate(h, w);
  const info = s.streamInfo;
  let trusted = false;
  let client: string | undefined;
  if (cfg.useRemoteAddress) {
    trusted = xff === undefined;
    const peer = s.conn.remoteAddress;
    client = peer;
    if (!cfg.skipXffAppend) {
      const add = isLoopback(peer) ? hostAddress() : peer;
      xff = xff === undefined ? add : `${xff},${add}`;
    }
    // The edge proxy sets the scheme it saw.
    setHeader(h, 'x-forwarded-proto', s.head.scheme);
    hasProto = true;
  } else if (xff !== undefined) {
    const comma = xff.lastIndexOf(',');
    const last = (comma === -1 ? xff : xff.slice(comma + 1)).trim();
    if (isIP(last) !== 0) {
      client = last;
      trusted = comma === -1;
      info.downstreamRemoteAddress = last;
      info.downstreamRemotePort = 0;
    }
  }
  if (xff !== undefined) h.push('x-forwarded-for', xff);
  if (!hasProto) h.push('x-forwarded-proto', s.head.scheme);
  const internal = trusted && client !== undefined && isInternalAddress(client);
  const edge = !internal && cfg.useRemoteAddress;
  if (internal) h.push('x-envoy-internal', 'true');
  // An edge request (external, use_remote_address): the address it came from, as Envoy's
  // mutateRequestHeaders sets it (replacing any the client sent).
  if (edge && client !== undefined) setHeader(h, 'x-envoy-external-address', client);
  if (!internal) {
    if (controlHeaders) removeControlHeaders(h, edge);
    const only = cfg.routeTable()?.internalOnlyHeaders;
    if (only !== undefined) for (let i = 0; i < only.length; i++) removeHeader(h, only[i]);
  }
  if (cfg.generateRequestId && (!hasRequestId || (edge && !cfg.preserveExternalRequestId))) setHeader(h, 'x-request-id', newRequestId());
  if (cfg.via) appendVia(h, cfg.via);
}

/** The headers cleanInternalHeaders removes from requests that are not internal (conn_manager_utility.cc). */
const ENVOY_CONTROL_HEADERS: ReadonlySet<string> = new Set([
  'x-envoy-retriable-status-codes', 'x-envoy-retriable-header-names', 'x-envoy-retry-on', 'x-envoy-retry-grpc-on',
  'x-envoy-max-retries', 'x-envoy-upstream-alt-stat-name', 'x-envoy-upstream-rq-timeout-ms',
  'x-envoy-upstream-rq-per-try-timeout-ms', 'x-envoy-upstream-rq-timeout-alt-response', 'x-envoy-expected-rq-timeout-ms',
  'x-envoy-force-trace', 'x-envoy-ip-tags', 'x-envoy-original-url', 'x-envoy-hedge-on-per-try-timeout',
  // removed on edge requests only
  'x-envoy-decorator-operation', 'x-envoy-downstream-service-cluster', 'x-envoy-downstream-service-node',
]);
const EDGE_ONLY: ReadonlySet<string> = new Set(['x-envoy-decorator-operation', 'x-envoy-downstream-service-cluster', 'x-envoy-downstream-service-node']);

function removeControlHeaders(h: string[], edge: boolean): void {
  let w = 0;
  for (let r = 0; r < h.length; r += 2) {
    const name = h[r];
    if (ENVOY_CONTROL_HEADERS.has(name) && (edge || !EDGE_ONLY.has(name))) continue;
    if (w !== r) {
      h[w] = name;
      h[w + 1] = h[r + 1];
    }
    w += 2;
  }
  truncate(h, w);
}

function isLoopback(a: string): boolean {
  return a.startsWith('127.') || a === '::1';
}

let hostAddr: string | undefined;
/**
 * The host's own address, appended to x-forwarded-for for a loopback peer (Envoy's
 * config.localAddress(): the first non-loopback IPv4 address; 127.0.0.1 when there is none).
 */
function hostAddress(): string {
  if (hostAddr === undefined) {
    hostAddr = '127.0.0.1';
    for (const list of Object.values(networkInterfaces())) {
      const a = list?.find((x) => x.family === 'IPv4' && !x.internal);
      if (a) {
        hostAddr = a.address;
        break;
      }
    }
  }
  return hostAddr;
}

/** RFC 1918 / loopback / link-local: Envoy's default internal address config. */
function isInternalAddress(a: string): boolean {
  return a.startsWith('10.') || a.startsWith('192.168.') || a.startsWith('127.') || a === '::1' ||
    /^172\.(1[6-9]|2\d|3[01])\./.test(a) || a.startsWith('fd') || a.startsWith('fc');
}
