/**
 * Public shapes of the router (src/router/index.ts re-exports them). A RouteTable is compiled once
 * per RouteConfiguration version and is immutable; everything here is safe to share across streams.
 */

/** What the router needs from a request. */
export interface RouteRequest {
  /** Host header value as received (may include a port); "" when the request has no Host. */
  authority: string;
  /** Request target path including the query, origin-form (`/a/b?x=1`). */
  path: string;
  method: string;
  /** Flat `[lowercased name, value, ...]`. */
  headers: string[];
}

/** Values the header command operators (`%DOWNSTREAM_REMOTE_ADDRESS%` ...) read. */
export interface HeaderContext {
  /** Peer IP (no port; IPv6 without brackets). */
  downstreamRemoteAddress: string;
  downstreamRemotePort: number;
  /** Local address as Envoy prints it, `ip:port` (`[::1]:port` for IPv6). */
  downstreamLocalAddress: string;
  /** `HTTP/1.1`, `HTTP/1.0`. */
  protocol: string;
  /** Epoch milliseconds of the first request byte. */
  startTimeMs: number;
  /** `ip:port` of the upstream host once chosen. */
  upstreamRemoteAddress?: string;
  /** Request headers `%REQ(x)%` reads (flat, lowercased names). */
  requestHeaders: string[];
  /** `%REQ(:method)%`, `%REQ(:path)%` (as received, before a rewrite), `%REQ(:authority)%`/`%REQ(host)%`, `%REQ(:scheme)%`. */
  method?: string;
  path?: string;
  authority?: string;
  scheme?: string;
}

/** A composed list of header additions/removals. */
export interface HeaderMutation {
  /** Applies the mutation to the flat header array, in place. Never throws. */
  apply(headers: string[], ctx: HeaderContext): void;
  /** True when apply() is a no-op (callers may skip building a context). */
  readonly empty: boolean;
}

/** A matched route with everything precomputed. */
export interface CompiledRoute {
  readonly name: string | undefined;
  readonly virtualHostName: string;
  readonly kind: 'cluster' | 'direct_response' | 'redirect';
  /**
   * Target cluster for `cluster`, `cluster_header` (first value of the header; null when absent or
   * empty: the caller answers 503 with response flag NC, Envoy's cluster_not_found_response_code
   * default) or `weighted_clusters` (picked with `rand` in [0,1)). Null for non-cluster routes.
   */
  clusterName(headers: string[], rand: number): string | null;
  /** New request target for prefix_rewrite / regex_rewrite (query kept), or null when unchanged. */
  rewritePath(path: string): string | null;
  readonly hostRewriteLiteral: string | null;
  readonly autoHostRewrite: boolean;
  readonly hostRewriteHeader: string | null;
  /** RouteAction.append_x_forwarded_host: on a Host rewrite, send the original in `x-forwarded-host`. */
  readonly appendXForwardedHost: boolean;
  /** RouteAction.timeout in ms; default 15000; 0 = disabled. */
  readonly timeoutMs: number;
  /** `String(timeoutMs)`, the x-envoy-expected-rq-timeout-ms value (built once per config). */
  readonly timeoutHeaderValue: string;
  /** RouteAction.idle_timeout in ms, or undefined when unset. */
  readonly idleTimeoutMs: number | undefined;
  /** HTTP status for a cluster that does not exist (RouteAction.cluster_not_found_response_code): 503 or 404. */
  readonly clusterNotFoundStatus: number;
  /** route + vhost + route_config request header mutations, composed in Envoy's order. */
  readonly requestHeaders: HeaderMutation;
  /** route + vhost + route_config response header mutations, composed in Envoy's order. */
  readonly responseHeaders: HeaderMutation;
  readonly directResponse: { status: number; body: Buffer | null } | null;
  /** For redirect routes: status and Location (built as Envoy's Http::Utility::newUri). Null otherwise. */
  redirect(req: RouteRequest, scheme: string): { status: number; location: string } | null;
  /** Whether `upgradeType` (case-insensitive) is allowed: the route's upgrade_configs entry, else `hcmDefault`. */
  upgradeAllowed(upgradeType: string, hcmDefault: boolean): boolean;
  /** typed_per_filter_config merged route_config → vhost → route (most specific wins per filter name). */
  readonly perFilterConfig: ReadonlyMap<string, unknown>;
  /** Raw RouteAction.hash_policy (undefined when unset). */
  readonly hashPolicy: unknown;
  /** Raw RouteAction.retry_policy (undefined when unset). */
  readonly retryPolicy: unknown;
}

/** A compiled RouteConfiguration. */
export interface RouteTable {
  readonly name: string | undefined;
  /**
   * RouteConfiguration.internal_only_headers, lowercased: the HCM removes them from requests that
   * are not internal (no `x-envoy-internal: true`) before routing.
   */
  readonly internalOnlyHeaders: readonly string[];
  /** The first matching route, or null (caller answers 404, response flag NR). */
  route(req: RouteRequest): CompiledRoute | null;
}
