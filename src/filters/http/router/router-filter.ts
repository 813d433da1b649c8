/**
 * The router filter (envoy.filters.http.router, source/common/router/router.cc): the terminal HTTP
 * filter. Picks the route's cluster and a host, takes a connection from the host's pool, forwards
 * the request head and streams the body with backpressure both ways, enforces the route timeout,
 * and turns upstream failures into Envoy's local replies and response flags.
 */
import { encodeRequestHead, chunkHeader, encodeLastChunk, LAST_CHUNK } from '../../../codec/http1/encoder';
import type { AttacheError } from '../../../common/errors';
import { logger } from '../../../common/logger';
import { CoarseTimer } from '../../../common/timer-wheel';
import { eventNow } from '../../../common/read-event';
import { FilterDataStatus, FilterHeadersStatus, type DecoderFilterCallbacks, type HttpFilter } from '../../../http/filter';
import { getHeader, removeHeader, setHeader, type RequestHead } from '../../../http/headers';
import type { CompiledRoute, HeaderContext } from '../../../router';
import { hostKey, type ClusterManager, type Host, type LbContext, type ThreadLocalCluster } from '../../../upstream/cluster';
import { computeHash, generatedCookieValue, setCookieValue, type CookieSetter, type HashPolicyConfig } from './hash-policy';
import type { PoolCallbacks, UpstreamConnection, UpstreamResponseHandler } from '../../../upstream/pool/http1-pool';
import { poolFor, clusterRuntime, type ClusterRuntime } from '../../../upstream/pool/pool-registry';
import type { HttpConnManagerStats } from '../../../stats/common-stats';

/** Compiled router filter config (envoy.extensions.filters.http.router.v3.Router). */
export interface RouterConfig {
  readonly clusterManager: ClusterManager;
  /** `suppress_envoy_headers`: do not add x-envoy-* headers. */
  readonly suppressEnvoyHeaders: boolean;
  /** `http.<stat_prefix>.` stats (the router's no_route, no_cluster, rq_redirect, rq_direct_response). */
  readonly stats: HttpConnManagerStats;
}

const log = logger('router');
const EMPTY = Buffer.alloc(0);
const RETRY_ONCE = 1;
/** Methods whose request may be sent twice (RFC 9110 section 9.2.2). */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** One request's router instance. */
export class RouterFilter implements HttpFilter, PoolCallbacks, UpstreamResponseHandler, CookieSetter {
  private route: CompiledRoute | null = null;
  private cluster: ThreadLocalCluster | null = null;
  /** The cluster's stats and pool settings, looked up once per request. */
  private rt: ClusterRuntime | null = null;
  private host: Host | null = null;
  private head: RequestHead | null = null;
  private conn: UpstreamConnection | null = null;
  private cancelPool: (() => void) | null = null;
  /** Body chunks received before a connection was ready. */
  private buffered: Buffer[] | null = null;
  private bufferedBytes = 0;
  private requestEnded = false;
  private requestEndWritten = false;
  /** The request's trailers (chunked requests), kept for the last chunk and for a retried copy. */
  private trailers: string[] | null = null;
  private bodyBytesWritten = 0;
  private chunked = false;
  private upgrade: string | null = null;
  private responseStarted = false;
  private upstreamDisabled = false;
  private downstreamDisabled = false;
  private retriesLeft = RETRY_ONCE;
  private timer: CoarseTimer | null = null;
  private timeoutMs = 0;
  private done = false;
  /** The upstream request head (null: a header value could not be encoded). */
  private encodedHead: Buffer | null = null;
  /** Set-Cookie values of cookies a hash policy generated (added to the response head). */
  private setCookies: string[] | null = null;

  /** @internal A cookie hash policy with a ttl found no cookie: one is generated for the response. */
  addDownstreamSetCookie(name: string, path: string, maxAgeS: number): string {
    const i = this.cb.streamInfo;
    const value = generatedCookieValue(hostKey(i.downstreamDirectRemoteAddress, i.downstreamDirectRemotePort), hostKey(i.downstreamLocalAddress, i.downstreamLocalPort));
    (this.setCookies ??= []).push(setCookieValue(name, value, path, maxAgeS));
    return value;
  }

  constructor(private readonly cfg: RouterConfig, private readonly cb: DecoderFilterCallbacks) {}

  decodeHeaders(head: RequestHead, endStream: boolean): FilterHeadersStatus {
    const cb = this.cb;
    const route = cb.route();
    // CONNECT is routed only by connect_matcher routes, which attache does not implement: 404 (Envoy).
    if (route === null || head.method === 'CONNECT') {
      this.cfg.stats.no_route.inc();
      cb.sendLocalReply(404, '', 'NR');
      return FilterHeadersStatus.StopIteration;
    }
    this.route = route;
    this.head = head;
    this.cfg.stats.rq_total.inc();
    if (route.idleTimeoutMs !== undefined) cb.setStreamIdleTimeout(route.idleTimeoutMs);
    if (route.kind === 'direct_response') {
      this.cfg.stats.rq_direct_response.inc();
      const d = route.directResponse!;
      const extra: string[] = [];
      if (!route.responseHeaders.empty) route.responseHeaders.apply(extra, this.headerContext(head));
      cb.sendLocalReply(d.status, d.body === null ? '' : d.body.toString('latin1'), undefined, extra);
      return FilterHeadersStatus.StopIteration;
    }
    if (route.kind === 'redirect') {
      this.cfg.stats.rq_redirect.inc();
      const r = route.redirect({ authority: head.authority, path: head.path, method: head.method, headers: head.headers }, head.scheme)!;
      const extra = ['location', r.location];
      if (!route.responseHeaders.empty) route.responseHeaders.apply(extra, this.headerContext(head));
      cb.sendLocalReply(r.status, '', undefined, extra);
      return FilterHeadersStatus.StopIteration;
    }
    const info = cb.streamInfo;
    const clusterName = route.clusterName(head.headers, Math.random());
    const cluster = clusterName === null ? undefined : this.cfg.clusterManager.get(clusterName);
    if (cluster === undefined) {
      this.cfg.stats.no_cluster.inc();
      this.replyLocal(route.clusterNotFoundStatus ?? 503, '', 'NC');
      return FilterHeadersStatus.StopIteration;
    }
    this.cluster = cluster;
    this.rt = clusterRuntime(cluster);
    info.upstreamCluster = cluster.name;
    // Upgrade allowed? (HCM upgrade_configs, overridden per route.)
    const t = cb.upgradeType;
    if (t !== null) {
      if (!route.upgradeAllowed(t, cb.upgradeEnabledByHcm(t))) {
        // Envoy's HCM: an empty 403, details upgrade_failed.
        this.cfg.stats.downstream_rq_ws_on_non_ws_route.inc();
        cb.streamInfo.responseCodeDetails = 'upgrade_failed';
        cb.sendLocalReply(403, '', undefined);
        return FilterHeadersStatus.StopIteration;
      }
      this.upgrade = getHeader(head.headers, 'upgrade') ?? t;
      this.cfg.stats.downstream_cx_upgrades_total.inc();
      this.cfg.stats.downstream_cx_upgrades_active.inc();
    }
    // Hashing LBs get the route's hash_policy hash; every other policy ignores it.
    let lbCtx: LbContext | undefined;
    if ((cluster.lbPolicy === 'RING_HASH' || cluster.lbPolicy === 'MAGLEV') && Array.isArray(route.hashPolicy)) {
      const hash = computeHash(route.hashPolicy as HashPolicyConfig[], head.headers, head.path, cb.streamInfo.downstreamRemoteAddress, this);
      if (hash !== undefined) lbCtx = { hash };
    }
    const host = cluster.chooseHost(lbCtx);
    if (host === null) {
      this.rt.stats.noHealthyUpstream();
      this.replyLocal(503, 'no healthy upstream', 'UH');
      return FilterHeadersStatus.StopIteration;
    }
    this.host = host;
    if (log.debugOn) log.debug(`${info.logPrefix()} cluster '${cluster.name}' match for URL '${head.path}'; upstream host ${host.key}`);
    this.requestEnded = endStream;
    this.timeoutMs = route.timeoutMs;
    this.buildUpstreamHead(head, route, host);
    if (this.encodedHead === null) {
      cb.sendLocalReply(400, 'Bad Request', 'DPE');
      return FilterHeadersStatus.StopIteration;
    }
    if (endStream) this.armTimeout();
    this.requestUpstream(false);
    return FilterHeadersStatus.StopIteration;
  }

  private headerContext(head: RequestHead): HeaderContext {
    const info = this.cb.streamInfo;
    return {
      downstreamRemoteAddress: info.downstreamRemoteAddress,
      downstreamRemotePort: info.downstreamRemotePort,
      downstreamLocalAddress: info.downstreamLocalAddress,
      protocol: head.versionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1',
      startTimeMs: info.startTimeMs,
      upstreamRemoteAddress: this.host?.key,
      requestHeaders: head.headers,
      method: head.method,
      path: head.path,
      authority: head.authority,
      scheme: head.scheme,
    };
  }

  private buildUpstreamHead(head: RequestHead, route: CompiledRoute, host: Host): void {
    const headers = head.headers;
    let path = head.path;
    const rewritten = route.rewritePath(path);
    if (rewritten !== null) {
      if (!this.cfg.suppressEnvoyHeaders) setHeader(headers, 'x-envoy-original-path', path);
      this.cb.streamInfo.originalPath = path;
      path = rewritten;
    }
    let authority = head.authority;
    if (route.hostRewriteLiteral !== null) authority = route.hostRewriteLiteral;
    // auto_host_rewrite: the upstream host's hostname (DNS clusters, endpoint.hostname); a host
    // without one leaves Host alone (Envoy's UpstreamRequest rewrites only when it is not empty).
    else if (route.autoHostRewrite) {
      if (host.hostname !== '') authority = host.hostname;
    }
    else if (route.hostRewriteHeader !== null) {
      // host_rewrite_header: an absent or empty header leaves Host alone (Envoy skips empty values).
      const v = getHeader(headers, route.hostRewriteHeader);
      if (v !== undefined && v !== '') authority = v;
    }
    if (authority !== head.authority && route.appendXForwardedHost) headers.push('x-forwarded-host', head.authority);
    if (!route.requestHeaders.empty) route.requestHeaders.apply(headers, this.headerContext(head));
    // A client's x-envoy-upstream-rq-timeout-ms replaces the route timeout and is not forwarded
    // (Envoy's FilterUtility::finalTimeout); what the upstream is told is the timeout in force.
    const asked = getHeader(headers, 'x-envoy-upstream-rq-timeout-ms');
    let timeoutHeader = route.timeoutHeaderValue;
    if (asked !== undefined) {
      removeHeader(headers, 'x-envoy-upstream-rq-timeout-ms');
      if (/^\d{1,15}$/.test(asked)) {
        this.timeoutMs = Number(asked);
        timeoutHeader = String(this.timeoutMs);
      }
    }
    if (this.timeoutMs > 0 && !this.cfg.suppressEnvoyHeaders) setHeader(headers, 'x-envoy-expected-rq-timeout-ms', timeoutHeader);
    let extra: string[] | undefined;
    if (this.cb.requestChunked) {
      this.chunked = true;
      extra = ['transfer-encoding', 'chunked'];
    }
    if (this.upgrade !== null) (extra ??= []).push('connection', 'upgrade', 'upgrade', this.upgrade);
    // null: a header value with CR/LF/NUL (only possible through a header mutation formatter).
    this.encodedHead = encodeRequestHead(head.method, path, headers, authority, extra);
  }

  private requestUpstream(fresh: boolean): void {
    const pool = poolFor(this.host!, this.cluster!);
    this.cancelPool = pool.newStream(this, fresh);
  }

  // ---- pool callbacks -------------------------------------------------------------------------

  onPoolReady(conn: UpstreamConnection): void {
    this.cancelPool = null;
    if (this.done) {
      conn.release(true);
      return;
    }
    this.conn = conn;
    const host = this.host!;
    host.activeRequests++;
    host.rqTotal++;
    const rt = this.rt!;
    rt.stats.rqTotal();
    rt.stats.rqActive(1);
    this.cb.streamInfo.upstreamHost = host.key;
    const info = this.cb.streamInfo;
    info.upstreamStartMono = eventNow();
    info.upstreamLocalAddress = conn.localAddress;
    info.upstreamLocalPort = conn.localPort;
    if (log.debugOn) log.debug(`${info.logPrefix()} pool ready: request sent on [C${conn.id}]`);
    conn.attach(this, this.head!.method === 'HEAD', this.upgrade !== null);
    let ok = conn.write(this.encodedHead!);
    if (this.upgrade !== null) {
      // A request body (rare on upgrades, but legal) goes before the tunnel bytes.
      if (this.buffered !== null) {
        for (const b of this.buffered) this.writeBody(b);
        this.buffered = null;
      }
      if (this.requestEnded) this.writeEnd();
      // Tunnel bytes from downstream: a backed-up upstream pauses the client (onUpstreamDrain resumes it).
      const early = this.cb.takeUpgradeBytes((d: Buffer) => {
        if (this.conn !== null && !this.conn.write(d)) this.pauseDownstream();
      });
      for (const b of early) ok = conn.write(b);
      if (!ok) this.pauseDownstream();
      return;
    }
    const buf = this.buffered;
    if (buf !== null) {
      this.buffered = null;
      for (const b of buf) ok = this.writeBody(b);
      this.resumeDownstream();
    }
    if (this.requestEnded) this.writeEnd();
    if (!ok) this.pauseDownstream();
  }

  onPoolFailure(err: AttacheError): void {
    this.cancelPool = null;
    if (this.done) return;
    const status = err.status ?? 503;
    // Envoy charges upstream aborts to the cluster as if the upstream answered them.
    this.rt!.stats.rqAbort(status);
    // A request dropped by a circuit breaker says so (Envoy's onUpstreamAbort with dropped = true).
    const extra = err.responseFlag === 'UO' && !this.cfg.suppressEnvoyHeaders ? ['x-envoy-overloaded', 'true'] : undefined;
    this.localFailure(status, err.message, err.responseFlag ?? 'UF', extra);
  }

  // ---- request body ---------------------------------------------------------------------------

  decodeData(data: Buffer, endStream: boolean): FilterDataStatus {
    if (endStream) this.requestEnded = true;
    if (this.conn === null) {
      if (data.length > 0) {
        (this.buffered ??= []).push(data);
        this.bufferedBytes += data.length;
        if (this.bufferedBytes > BUFFER_LIMIT) this.pauseDownstream();
      }
      if (endStream) this.armTimeout();
      return FilterDataStatus.StopIterationNoBuffer;
    }
    let ok = true;
    if (data.length > 0) ok = this.writeBody(data);
    if (endStream) {
      this.writeEnd();
      this.armTimeout();
    }
    if (!ok) this.pauseDownstream();
    return FilterDataStatus.StopIterationNoBuffer;
  }

  decodeTrailers(trailers: string[]): FilterHeadersStatus {
    this.requestEnded = true;
    this.trailers = trailers;
    if (this.conn !== null) this.writeEnd();
    this.armTimeout();
    return FilterHeadersStatus.StopIteration;
  }

  private writeBody(data: Buffer): boolean {
    const conn = this.conn!;
    this.bodyBytesWritten += data.length;
    if (!this.chunked) return conn.write(data);
    conn.write(chunkHeader(data.length));
    conn.write(data);
    return conn.write('\r\n');
  }

  /** Writes the end of the request body: the last chunk (with the trailers, if any) when chunked. */
  private writeEnd(): void {
    if (this.requestEndWritten) return;
    this.requestEndWritten = true;
    if (!this.chunked) return;
    // The upstream codec sends trailers only with the cluster's enable_trailers (Envoy's default drops them).
    const t = this.trailers;
    this.conn!.write(t === null ? LAST_CHUNK : encodeLastChunk(this.cluster!.enableTrailers ? t : null));
  }

  private pauseDownstream(): void {
    if (!this.downstreamDisabled) {
      this.downstreamDisabled = true;
      this.cb.readDisable(true);
    }
  }

  /** Undoes pauseDownstream(). */
  private resumeDownstream(): void {
    if (this.downstreamDisabled) {
      this.downstreamDisabled = false;
      this.cb.readDisable(false);
    }
  }

  onUpstreamDrain(): void {
    if (this.conn !== null) this.resumeDownstream();
  }

  // ---- response -------------------------------------------------------------------------------

  onUpstreamHead(status: number, headers: string[], _keepAlive: boolean, upgrade: boolean): void {
    this.responseStarted = true;
    // The route timeout runs until the response is complete (RouteAction.timeout), except for a
    // tunnel, which has no end to wait for.
    if (upgrade) this.disarmTimeout();
    const info = this.cb.streamInfo;
    info.responseCodeDetails = 'via_upstream';
    info.upstreamHeadersMono = eventNow();
    this.rt!.stats.rqCompleted(status, info.upstreamHeadersMono - info.upstreamStartMono);
    if (status >= 500) this.host!.rqError++;
    else this.host!.rqSuccess++;
    if (!this.cfg.suppressEnvoyHeaders) {
      headers.push('x-envoy-upstream-service-time', String(Math.round(info.upstreamHeadersMono - info.upstreamStartMono)));
    }
    if (this.setCookies !== null) for (const c of this.setCookies) headers.push('set-cookie', c);
    const rh = this.route!.responseHeaders;
    if (!rh.empty) rh.apply(headers, this.headerContext(this.head!));
    if (upgrade) {
      setHeader(headers, 'connection', 'upgrade');
      if (getHeader(headers, 'upgrade') === undefined && this.upgrade !== null) headers.push('upgrade', this.upgrade);
    }
    this.cb.encodeHeaders({ status, headers }, false);
  }

  onUpstreamData(data: Buffer): void {
    if (this.done) return;
    this.cb.encodeData(data, false);
    this.pauseUpstreamIfBackedUp();
  }

  /** A backed-up client pauses the upstream connection (onDownstreamDrain resumes it). */
  private pauseUpstreamIfBackedUp(): void {
    if (!this.cb.downstreamWritable() && !this.upstreamDisabled && this.conn !== null) {
      this.upstreamDisabled = true;
      this.conn.readDisable(true);
    }
  }

  onDownstreamDrain(): void {
    if (this.upstreamDisabled && this.conn !== null) {
      this.upstreamDisabled = false;
      this.conn.readDisable(false);
    }
  }

  onUpstreamComplete(trailers: string[] | null): void {
    this.disarmTimeout();
    // Release first: the pool may hand the connection to a waiting request right away.
    this.releaseConn(this.requestEndWritten || (this.requestEnded && !this.chunked && this.buffered === null));
    if (trailers !== null && trailers.length > 0 && this.cluster!.enableTrailers) this.cb.encodeTrailers(trailers);
    else this.cb.encodeData(EMPTY, true);
  }

  onUpstreamTunnelData(data: Buffer): void {
    this.cb.encodeData(data, false);
    this.pauseUpstreamIfBackedUp();
  }

  onUpstreamTunnelEnd(): void {
    this.cb.encodeData(EMPTY, true);
  }

  onUpstreamReset(err: AttacheError, beforeResponse: boolean): void {
    if (log.debugOn) log.debug(`${this.cb.streamInfo.logPrefix()} upstream reset: ${err.message}`);
    const conn = this.conn;
    this.detachConn();
    if (this.done) return;
    // A keep-alive connection the upstream closed just as we reused it: retry once on a fresh
    // connection when the request can be replayed exactly (no body byte sent) and safely (an
    // idempotent method, RFC 9110 section 9.2.2: the upstream may have acted on the first copy).
    if (beforeResponse && conn !== null && conn.reused && this.bodyBytesWritten === 0 && this.buffered === null && this.retriesLeft > 0 && this.upgrade === null && IDEMPOTENT.has(this.head!.method)) {
      this.retriesLeft--;
      this.rt!.stats.rqRetry();
      // The copy on the new connection is complete: its body end (last chunk, trailers) is
      // written again when the connection is ready.
      this.requestEndWritten = false;
      this.requestUpstream(true);
      return;
    }
    if (this.responseStarted) {
      // Envoy's onUpstreamAbort after the response started: no reply is possible, reset.
      const flag = err.responseFlag ?? 'UC';
      const info = this.cb.streamInfo;
      info.responseCodeDetails = `upstream_reset_after_response_started{${flag === 'UPE' ? 'protocol_error' : 'connection_termination'}}`;
      info.setResponseFlag(flag);
      this.cb.resetStream('upstream reset after response started');
      return;
    }
    // Envoy answers upstream protocol errors with 502, resets with 503.
    const status = err.status ?? 503;
    this.rt!.stats.rqAbort(status);
    this.localFailure(status, err.message, err.responseFlag ?? 'UC');
  }

  private localFailure(status: number, body: string, flag: string, extraHeaders?: string[]): void {
    this.disarmTimeout();
    this.replyLocal(status, body, flag, extraHeaders);
  }

  /**
   * A reply of the router's own once a route matched (503 NC/UH/UF/UC/UO, 504 UT): the route's
   * response_headers_to_add (route, virtual host, route configuration) apply, as Envoy's
   * `modify_headers_` passed to sendLocalReply.
   */
  private replyLocal(status: number, body: string, flag: string, extraHeaders?: string[]): void {
    const route = this.route;
    let extra = extraHeaders;
    if (route !== null && !route.responseHeaders.empty && this.head !== null) {
      extra = extra === undefined ? [] : [...extra];
      route.responseHeaders.apply(extra, this.headerContext(this.head));
    }
    this.cb.sendLocalReply(status, body, flag, extra);
  }

  // ---- timeout --------------------------------------------------------------------------------

  private armTimeout(): void {
    if (this.timeoutMs <= 0 || this.responseStarted || this.done || this.timer !== null) return;
    this.timer = new CoarseTimer(onTimeout, this);
    this.timer.arm(this.timeoutMs);
  }

  private disarmTimeout(): void {
    if (this.timer !== null) {
      this.timer.disarm();
      this.timer = null;
    }
  }

  /** @internal */
  /**
   * The route timeout fired (RouteAction.timeout, counted from the end of the request until the
   * response is complete; Envoy's Filter::onResponseTimeout): 504 `upstream request timeout`
   * (flag UT) before the response started, a reset of the downstream stream after it (details
   * `response_timeout`, as Envoy's onUpstreamAbort). Either way `upstream_rq_timeout` counts it.
   * @internal
   */
  onTimeout(): void {
    this.timer = null;
    if (this.done) return;
    if (log.debugOn) log.debug(`${this.cb.streamInfo.logPrefix()} upstream timeout`);
    const rt = this.rt!;
    rt.stats.rqTimeout();
    if (this.host !== null) {
      this.host.rqTimeout++;
      if (!this.responseStarted) this.host.rqError++;
    }
    if (!this.responseStarted) rt.stats.rqAbort(504);
    const conn = this.conn;
    this.detachConn();
    if (conn !== null) conn.destroy();
    if (this.cancelPool !== null) {
      this.cancelPool();
      this.cancelPool = null;
    }
    if (this.responseStarted) {
      const info = this.cb.streamInfo;
      info.responseCodeDetails = 'response_timeout';
      info.setResponseFlag('UT');
      this.cb.resetStream('upstream request timeout after the response started');
      return;
    }
    this.replyLocal(504, 'upstream request timeout', 'UT');
  }

  // ---- teardown -------------------------------------------------------------------------------

  private releaseConn(reusable: boolean): void {
    const conn = this.conn;
    if (conn === null) return;
    this.detachConn();
    if (this.upstreamDisabled) conn.readDisable(false);
    conn.release(reusable && this.upgrade === null);
  }

  private detachConn(): void {
    if (this.conn !== null) {
      this.host!.activeRequests--;
      this.rt!.stats.rqActive(-1);
      this.conn = null;
    }
  }

  onDestroy(): void {
    if (this.done) return;
    this.done = true;
    if (this.upgrade !== null) this.cfg.stats.downstream_cx_upgrades_active.dec();
    this.disarmTimeout();
    if (this.cancelPool !== null) {
      this.cancelPool();
      this.cancelPool = null;
    }
    const conn = this.conn;
    if (conn !== null) {
      // Stream ended before the upstream exchange finished (downstream reset, local reply):
      // the connection's state is unknown, close it.
      this.detachConn();
      conn.destroy();
    }
    // A client paused for a backed-up upstream is let go: its connection must see its own close
    // (a paused socket reads nothing, not even the FIN) or serve its next request.
    this.resumeDownstream();
    this.cb.takeUpgradeBytes(null);
  }
}

/** Body bytes buffered while waiting for a connection before downstream reads are paused. */
const BUFFER_LIMIT = 1024 * 1024;

function onTimeout(arg: unknown): void {
  (arg as RouterFilter).onTimeout();
}
