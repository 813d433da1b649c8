/**
 * Extension names and type URLs: v2-era (deprecated) filter names → v3 names, v3 names → the
 * `@type` of their config, v2 `@type` URLs → v3. From Envoy's `source/extensions/extensions_build_config.bzl`
 * and the v2→v3 API migration (`api/API_VERSIONING.md`).
 */

const T = 'type.googleapis.com/';

/** Legacy (deprecated in v2, removed in v3) extension names → v3 names. */
export const LEGACY_NAMES: Readonly<Record<string, string>> = {
  'envoy.http_connection_manager': 'envoy.filters.network.http_connection_manager',
  'envoy.tcp_proxy': 'envoy.filters.network.tcp_proxy',
  'envoy.ext_authz': 'envoy.filters.http.ext_authz',
  'envoy.router': 'envoy.filters.http.router',
  'envoy.fault': 'envoy.filters.http.fault',
  'envoy.cors': 'envoy.filters.http.cors',
  'envoy.lua': 'envoy.filters.http.lua',
  'envoy.health_check': 'envoy.filters.http.health_check',
  'envoy.buffer': 'envoy.filters.http.buffer',
  'envoy.grpc_web': 'envoy.filters.http.grpc_web',
  'envoy.gzip': 'envoy.filters.http.gzip',
  'envoy.rate_limit': 'envoy.filters.http.ratelimit',
  'envoy.rbac': 'envoy.filters.http.rbac',
  'envoy.ip_tagging': 'envoy.filters.http.ip_tagging',
  'envoy.grpc_json_transcoder': 'envoy.filters.http.grpc_json_transcoder',
  'envoy.grpc_http1_bridge': 'envoy.filters.http.grpc_http1_bridge',
  'envoy.csrf': 'envoy.filters.http.csrf',
  'envoy.file_access_log': 'envoy.access_loggers.file',
  'envoy.http_grpc_access_log': 'envoy.access_loggers.http_grpc',
  'envoy.tcp_grpc_access_log': 'envoy.access_loggers.tcp_grpc',
  'envoy.listener.tls_inspector': 'envoy.filters.listener.tls_inspector',
  'envoy.listener.original_dst': 'envoy.filters.listener.original_dst',
  'envoy.listener.proxy_protocol': 'envoy.filters.listener.proxy_protocol',
  'envoy.listener.http_inspector': 'envoy.filters.listener.http_inspector',
  'envoy.transport_sockets.tls': 'envoy.transport_sockets.tls',
  tls: 'envoy.transport_sockets.tls',
};

/** v3 extension names → the `@type` of their config (used when a filter has a name but no typed_config). */
export const NAME_TO_TYPE: Readonly<Record<string, string>> = {
  'envoy.filters.network.http_connection_manager': T + 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  'envoy.filters.network.tcp_proxy': T + 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  'envoy.filters.http.router': T + 'envoy.extensions.filters.http.router.v3.Router',
  'envoy.filters.http.fault': T + 'envoy.extensions.filters.http.fault.v3.HTTPFault',
  'envoy.filters.http.cors': T + 'envoy.extensions.filters.http.cors.v3.Cors',
  'envoy.filters.http.lua': T + 'envoy.extensions.filters.http.lua.v3.Lua',
  'envoy.filters.http.health_check': T + 'envoy.extensions.filters.http.health_check.v3.HealthCheck',
  'envoy.filters.http.buffer': T + 'envoy.extensions.filters.http.buffer.v3.Buffer',
  'envoy.filters.http.grpc_web': T + 'envoy.extensions.filters.http.grpc_web.v3.GrpcWeb',
  'envoy.filters.http.ratelimit': T + 'envoy.extensions.filters.http.ratelimit.v3.RateLimit',
  'envoy.filters.http.local_ratelimit': T + 'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
  'envoy.filters.http.ext_authz': T + 'envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
  'envoy.filters.http.rbac': T + 'envoy.extensions.filters.http.rbac.v3.RBAC',
  'envoy.filters.http.compressor': T + 'envoy.extensions.filters.http.compressor.v3.Compressor',
  'envoy.access_loggers.file': T + 'envoy.extensions.access_loggers.file.v3.FileAccessLog',
  'envoy.access_loggers.stdout': T + 'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
  'envoy.access_loggers.stderr': T + 'envoy.extensions.access_loggers.stream.v3.StderrAccessLog',
  'envoy.filters.listener.tls_inspector': T + 'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
  'envoy.filters.listener.original_dst': T + 'envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
  'envoy.filters.listener.proxy_protocol': T + 'envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol',
  'envoy.transport_sockets.raw_buffer': T + 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer',
};

/** Hints for extension names attache cannot type (removed from Envoy or not supported). */
export const NAME_HINTS: Readonly<Record<string, string>> = {
  'envoy.filters.http.gzip': 'Envoy removed the gzip filter: use envoy.filters.http.compressor with compressor_library envoy.compression.gzip.compressor',
};

/** Exact v2 type URLs whose v3 name does not follow the generic rules below. */
const V2_TYPES: Readonly<Record<string, string>> = {
  'envoy.config.accesslog.v2.FileAccessLog': 'envoy.extensions.access_loggers.file.v3.FileAccessLog',
  'envoy.config.filter.http.rate_limit.v2.RateLimit': 'envoy.extensions.filters.http.ratelimit.v3.RateLimit',
  'envoy.api.v2.auth.UpstreamTlsContext': 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  'envoy.api.v2.auth.DownstreamTlsContext': 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
};

/**
 * The v3 type URL for a v2 one, or undefined when `url` is not a v2 type URL.
 * `envoy.config.filter.<kind>.<name>.v2[alpha].<Msg>` → `envoy.extensions.filters.<kind>.<name>.v3.<Msg>`;
 * `envoy.api.v2.<Msg>` → `envoy.config.<area>.v3.<Msg>` is not attempted (xDS resources are not typed_config).
 */
export function upgradeTypeUrl(url: string): string | undefined {
  const slash = url.lastIndexOf('/');
  const prefix = url.slice(0, slash + 1) || T;
  const name = url.slice(slash + 1);
  const exact = V2_TYPES[name];
  if (exact) return prefix + exact;
  const m = /^envoy\.config\.filter\.(network|http|listener|udp|thrift)\.([a-z0-9_]+)\.v2(?:alpha\d*)?\.([A-Za-z0-9_]+)$/.exec(name);
  if (m) return `${prefix}envoy.extensions.filters.${m[1]}.${m[2]}.v3.${m[3]}`;
  return undefined;
}
