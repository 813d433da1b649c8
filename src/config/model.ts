/**
 * The normalised bootstrap model: the contract between the main thread (which parses and validates
 * YAML, or receives xDS resources) and the workers (which compile it into runtime objects).
 *
 * Shape: Envoy's v3 protos in proto3-JSON form with the proto's own snake_case field names, so that
 * `/config_dump` can print it as is and xDS resources (decoded by @grpc/proto-loader with
 * `keepCase: true`) go through the same compile path. Only the fields attache implements are typed
 * here; the validator accepts any field the real v3 protos define and warns about ignored ones.
 *
 * Canonical forms produced by the normaliser (`src/config/normalise.ts`):
 * - `google.protobuf.Duration` → a string in proto3-JSON form, e.g. `"0.250s"` (see {@link Duration}).
 * - wrapper types (`UInt32Value`, `BoolValue`) → the bare value.
 * - enums → their name (`"ROUND_ROBIN"`), never the number.
 * - `google.protobuf.Any` (`typed_config`) → `{ '@type': 'type.googleapis.com/<full name>', ...fields }`.
 * - v2 forms are rewritten to v3: `config:` → `typed_config` with the v3 `@type`, `hosts:` →
 *   `load_assignment`, legacy filter names (`envoy.router`) → v3 names (`envoy.filters.http.router`).
 *
 * The snapshot sent to workers is this object (structured clone) frozen on arrival.
 */

/** proto3-JSON Duration string, e.g. `"0.250s"`, `"15s"`. Convert with `durationToMs()` in src/common/duration. */
export type Duration = string;

/** envoy.config.core.v3.SocketAddress */
export interface SocketAddress {
  protocol?: 'TCP' | 'UDP';
  address: string;
  port_value?: number;
  named_port?: string;
  ipv4_compat?: boolean;
}

/** envoy.config.core.v3.Address (socket_address; `pipe` only for the admin listener). */
export interface Address {
  socket_address: SocketAddress;
  /** Unix domain socket (admin only). */
  pipe?: { path: string; mode?: number };
}

/** envoy.config.core.v3.HeaderValue */
export interface HeaderValue {
  key: string;
  value?: string;
}

/** envoy.config.core.v3.HeaderValueOption */
export interface HeaderValueOption {
  header: HeaderValue;
  /** Deprecated in v3 in favour of append_action but still common. Default true. */
  append?: boolean;
  append_action?: 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
  keep_empty_value?: boolean;
}

/** envoy.config.core.v3.DataSource (only inline forms are read by direct_response). */
export interface DataSource {
  inline_string?: string;
  inline_bytes?: string; // base64
  filename?: string;
}

// ---------------------------------------------------------------------------------------------
// Matchers (envoy.type.matcher.v3)

/** envoy.type.matcher.v3.RegexMatcher. Only google_re2 (RE2 semantics) exists in v3. */
export interface RegexMatcher {
  google_re2?: { max_program_size?: number };
  regex: string;
}

/** envoy.type.matcher.v3.StringMatcher */
export interface StringMatcher {
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  safe_regex?: RegexMatcher;
  ignore_case?: boolean;
}

/** envoy.type.v3.Int64Range: [start, end) */
export interface Int64Range {
  start: number;
  end: number;
}

/** envoy.config.route.v3.HeaderMatcher */
export interface HeaderMatcher {
  name: string;
  exact_match?: string;
  safe_regex_match?: RegexMatcher;
  range_match?: Int64Range;
  present_match?: boolean;
  prefix_match?: string;
  suffix_match?: string;
  contains_match?: string;
  string_match?: StringMatcher;
  invert_match?: boolean;
  treat_missing_header_as_empty?: boolean;
}

/** envoy.config.route.v3.QueryParameterMatcher */
export interface QueryParameterMatcher {
  name: string;
  string_match?: StringMatcher;
  present_match?: boolean;
}

/** envoy.config.route.v3.RouteMatch */
export interface RouteMatch {
  prefix?: string;
  path?: string;
  safe_regex?: RegexMatcher;
  path_separated_prefix?: string;
  /** Default true. */
  case_sensitive?: boolean;
  headers?: HeaderMatcher[];
  query_parameters?: QueryParameterMatcher[];
}

// ---------------------------------------------------------------------------------------------
// Routes (envoy.config.route.v3)

/** envoy.type.matcher.v3.RegexMatchAndSubstitute */
export interface RegexMatchAndSubstitute {
  pattern: RegexMatcher;
  substitution: string;
}

/** envoy.config.route.v3.WeightedCluster */
export interface WeightedCluster {
  clusters: Array<{
    name: string;
    weight: number;
    request_headers_to_add?: HeaderValueOption[];
    request_headers_to_remove?: string[];
    response_headers_to_add?: HeaderValueOption[];
    response_headers_to_remove?: string[];
  }>;
  total_weight?: number;
}

/** envoy.config.route.v3.RouteAction */
export interface RouteAction {
  cluster?: string;
  /** With a Host rewrite, send the original Host in `x-forwarded-host` (default false). */
  append_x_forwarded_host?: boolean;
  /** Default SERVICE_UNAVAILABLE (503). */
  cluster_not_found_response_code?: 'SERVICE_UNAVAILABLE' | 'NOT_FOUND' | 'INTERNAL_SERVER_ERROR';
  cluster_header?: string;
  weighted_clusters?: WeightedCluster;
  prefix_rewrite?: string;
  regex_rewrite?: RegexMatchAndSubstitute;
  host_rewrite_literal?: string;
  auto_host_rewrite?: boolean;
  host_rewrite_header?: string;
  /** Default "15s"; "0s" disables. */
  timeout?: Duration;
  idle_timeout?: Duration;
  /** Upgrades allowed or disallowed on this route, overriding the HCM's upgrade_configs. */
  upgrade_configs?: Array<{ upgrade_type: string; enabled?: boolean }>;
  retry_policy?: {
    retry_on?: string;
    num_retries?: number;
    per_try_timeout?: Duration;
  };
  hash_policy?: Array<{
    header?: { header_name: string };
    connection_properties?: { source_ip: boolean };
    query_parameter?: { name: string };
    cookie?: { name: string; ttl?: Duration; path?: string };
    terminal?: boolean;
  }>;
}

/** envoy.config.route.v3.DirectResponseAction */
export interface DirectResponseAction {
  status: number;
  body?: DataSource;
}

/** envoy.config.route.v3.RedirectAction */
export interface RedirectAction {
  https_redirect?: boolean;
  scheme_redirect?: string;
  host_redirect?: string;
  port_redirect?: number;
  path_redirect?: string;
  prefix_rewrite?: string;
  regex_rewrite?: RegexMatchAndSubstitute;
  /** Default MOVED_PERMANENTLY (301). */
  response_code?: 'MOVED_PERMANENTLY' | 'FOUND' | 'SEE_OTHER' | 'TEMPORARY_REDIRECT' | 'PERMANENT_REDIRECT';
  strip_query?: boolean;
}

/** envoy.config.route.v3.Route. Exactly one of route / redirect / direct_response. */
export interface Route {
  name?: string;
  match: RouteMatch;
  route?: RouteAction;
  redirect?: RedirectAction;
  direct_response?: DirectResponseAction;
  request_headers_to_add?: HeaderValueOption[];
  request_headers_to_remove?: string[];
  response_headers_to_add?: HeaderValueOption[];
  response_headers_to_remove?: string[];
  /** Per-filter config keyed by filter name; values are Any (`{'@type', ...}`). */
  typed_per_filter_config?: Record<string, TypedConfig>;
}

/** envoy.config.route.v3.VirtualHost */
export interface VirtualHost {
  name: string;
  domains: string[];
  routes?: Route[];
  require_tls?: 'NONE' | 'EXTERNAL_ONLY' | 'ALL';
  request_headers_to_add?: HeaderValueOption[];
  request_headers_to_remove?: string[];
  response_headers_to_add?: HeaderValueOption[];
  response_headers_to_remove?: string[];
  typed_per_filter_config?: Record<string, TypedConfig>;
}

/** envoy.config.route.v3.RouteConfiguration */
export interface RouteConfiguration {
  name?: string;
  ignore_port_in_host_matching?: boolean;
  max_direct_response_body_size_bytes?: number;
  typed_per_filter_config?: Record<string, TypedConfig>;
  virtual_hosts?: VirtualHost[];
  internal_only_headers?: string[];
  request_headers_to_add?: HeaderValueOption[];
  request_headers_to_remove?: string[];
  response_headers_to_add?: HeaderValueOption[];
  response_headers_to_remove?: string[];
  most_specific_header_mutations_wins?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Filters

/** A `google.protobuf.Any` after normalisation: the type URL plus the message's own fields. */
export interface TypedConfig {
  '@type': string;
  [field: string]: unknown;
}

/** envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter */
export interface HttpFilter {
  /** Name as written by the user (v3 names after normalisation, e.g. `envoy.filters.http.router`). */
  name: string;
  typed_config?: TypedConfig;
  is_optional?: boolean;
  disabled?: boolean;
}

/** envoy.config.core.v3.Http1ProtocolOptions */
export interface Http1ProtocolOptions {
  accept_http_10?: boolean;
  default_host_for_http_10?: string;
  allow_absolute_url?: boolean;
  /** Forward HTTP/1 trailers (default false: the codec drops them). */
  enable_trailers?: boolean;
}

/** envoy.config.core.v3.HttpProtocolOptions */
export interface HttpProtocolOptions {
  idle_timeout?: Duration;
  max_requests_per_connection?: number;
  max_connection_duration?: Duration;
  /** Default 60 (KiB) per Envoy: max_request_headers_kb on the HCM; this is the header count limit. */
  max_headers_count?: number;
  max_stream_duration?: Duration;
  headers_with_underscores_action?: 'ALLOW' | 'REJECT_REQUEST' | 'DROP_HEADER';
}

/** envoy.config.accesslog.v3.AccessLog (file sink only, format strings in Envoy's command-operator syntax). */
export interface AccessLog {
  name: string;
  /** envoy.config.accesslog.v3.AccessLogFilter (status_code, duration, not_health_check, response_flag, header, and, or). */
  filter?: Record<string, unknown>;
  typed_config?: TypedConfig & {
    path?: string;
    /** Legacy `format` of FileAccessLog; v3 uses log_format.text_format_source / json_format. */
    format?: string;
    log_format?: {
      text_format?: string;
      text_format_source?: DataSource;
      json_format?: Record<string, unknown>;
    };
  };
}

/** envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager (`@type` omitted). */
export interface HttpConnectionManager {
  stat_prefix: string;
  codec_type?: 'AUTO' | 'HTTP1' | 'HTTP2' | 'HTTP3';
  route_config?: RouteConfiguration;
  rds?: { route_config_name: string; config_source: ConfigSource };
  http_filters?: HttpFilter[];
  server_name?: string;
  server_header_transformation?: 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH';
  /** KiB, default 60, max 8192. */
  max_request_headers_kb?: number;
  common_http_protocol_options?: HttpProtocolOptions;
  http_protocol_options?: Http1ProtocolOptions;
  /** Default "300s" per Envoy; "0s" disables. */
  stream_idle_timeout?: Duration;
  /** Default "0s" (disabled). */
  request_timeout?: Duration;
  request_headers_timeout?: Duration;
  drain_timeout?: Duration;
  access_log?: AccessLog[];
  use_remote_address?: boolean;
  xff_num_trusted_hops?: number;
  skip_xff_append?: boolean;
  via?: string;
  generate_request_id?: boolean;
  preserve_external_request_id?: boolean;
  always_set_request_id_in_response?: boolean;
  forward_client_cert_details?: string;
  upgrade_configs?: Array<{ upgrade_type: string; enabled?: boolean; filters?: HttpFilter[] }>;
  normalize_path?: boolean;
  merge_slashes?: boolean;
  path_with_escaped_slashes_action?: string;
  strip_matching_host_port?: boolean;
  strip_any_host_port?: boolean;
}

/** envoy.config.listener.v3.Filter */
export interface NetworkFilter {
  name: string;
  /** For `envoy.filters.network.http_connection_manager` this is the HCM plus its `@type`. */
  typed_config?: TypedConfig;
}

/** envoy.config.listener.v3.FilterChainMatch (only the fields attache matches on). */
export interface FilterChainMatch {
  destination_port?: number;
  server_names?: string[];
  transport_protocol?: string;
  application_protocols?: string[];
  source_prefix_ranges?: Array<{ address_prefix: string; prefix_len?: number }>;
}

/** envoy.config.listener.v3.FilterChain */
export interface FilterChain {
  name?: string;
  filter_chain_match?: FilterChainMatch;
  filters: NetworkFilter[];
  transport_socket?: { name: string; typed_config?: TypedConfig };
}

/** envoy.config.listener.v3.Listener */
export interface Listener {
  /** Optional in the v3 proto; attache names unnamed listeners by address. */
  name: string;
  listener_filters?: Array<{ name: string; typed_config?: TypedConfig }>;
  address: Address;
  filter_chains: FilterChain[];
  default_filter_chain?: FilterChain;
  per_connection_buffer_limit_bytes?: number;
  /** Ignored by attache (each worker has its own SO_REUSEPORT socket regardless); default true in Envoy. */
  enable_reuse_port?: boolean;
  stat_prefix?: string;
  access_log?: AccessLog[];
  /** Which way the listener's traffic flows (admin `/drain_listeners?inboundonly` picks INBOUND). */
  traffic_direction?: 'UNSPECIFIED' | 'INBOUND' | 'OUTBOUND';
  /** Connections accepted per listen-socket event (UInt32Value); unset: all that are waiting. */
  max_connections_to_accept_per_socket_event?: number;
}

// ---------------------------------------------------------------------------------------------
// Clusters and endpoints

/** envoy.config.core.v3.Locality */
export interface Locality {
  region?: string;
  zone?: string;
  sub_zone?: string;
}

/** envoy.config.endpoint.v3.LbEndpoint */
export interface LbEndpoint {
  endpoint: {
    address: Address;
    hostname?: string;
    health_check_config?: { port_value?: number };
  };
  health_status?: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED';
  /** 1..; default 1. */
  load_balancing_weight?: number;
  metadata?: Record<string, unknown>;
}

/** envoy.config.endpoint.v3.LocalityLbEndpoints */
export interface LocalityLbEndpoints {
  locality?: Locality;
  lb_endpoints?: LbEndpoint[];
  load_balancing_weight?: number;
  priority?: number;
}

/** envoy.config.endpoint.v3.ClusterLoadAssignment */
export interface ClusterLoadAssignment {
  cluster_name: string;
  endpoints?: LocalityLbEndpoints[];
  policy?: { overprovisioning_factor?: number };
}

/** envoy.config.core.v3.ApiConfigSource */
export interface ApiConfigSource {
  api_type: 'GRPC' | 'DELTA_GRPC' | 'REST' | 'AGGREGATED_GRPC' | 'AGGREGATED_DELTA_GRPC';
  transport_api_version?: 'AUTO' | 'V2' | 'V3';
  /** v2-era form; normalised into grpc_services[].envoy_grpc.cluster_name. */
  cluster_names?: string[];
  grpc_services?: Array<{ envoy_grpc?: { cluster_name: string }; timeout?: Duration }>;
  refresh_delay?: Duration;
  request_timeout?: Duration;
  /** Send `node` only on a stream's first DiscoveryRequest (default false: on every request). */
  set_node_on_first_message_only?: boolean;
}

/** envoy.config.core.v3.ConfigSource */
export interface ConfigSource {
  api_config_source?: ApiConfigSource;
  ads?: Record<string, never>;
  path?: string;
  resource_api_version?: 'AUTO' | 'V2' | 'V3';
  initial_fetch_timeout?: Duration;
}

/** envoy.config.cluster.v3.Cluster */
export interface Cluster {
  name: string;
  /** Default STATIC (Envoy's default when unset). */
  type?: 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS' | 'ORIGINAL_DST';
  eds_cluster_config?: { eds_config?: ConfigSource; service_name?: string };
  /** Default "5s". */
  connect_timeout?: Duration;
  /** Default ROUND_ROBIN. */
  lb_policy?: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'MAGLEV' | 'CLUSTER_PROVIDED' | 'LOAD_BALANCING_POLICY_CONFIG';
  load_assignment?: ClusterLoadAssignment;
  least_request_lb_config?: { choice_count?: number; active_request_bias?: { default_value: number } };
  ring_hash_lb_config?: { minimum_ring_size?: number; maximum_ring_size?: number; hash_function?: 'XX_HASH' | 'MURMUR_HASH_2' };
  maglev_lb_config?: { table_size?: number };
  /** Default "5s". */
  dns_refresh_rate?: Duration;
  dns_lookup_family?: 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL';
  respect_dns_ttl?: boolean;
  per_connection_buffer_limit_bytes?: number;
  circuit_breakers?: {
    thresholds?: Array<{
      priority?: 'DEFAULT' | 'HIGH';
      max_connections?: number;
      max_pending_requests?: number;
      max_requests?: number;
      max_retries?: number;
    }>;
  };
  /** Legacy field on Cluster (v2); v3 puts it in typed_extension_protocol_options. */
  common_http_protocol_options?: HttpProtocolOptions;
  http_protocol_options?: Http1ProtocolOptions;
  http2_protocol_options?: Record<string, unknown>;
  typed_extension_protocol_options?: Record<string, TypedConfig>;
  health_checks?: unknown[];
  outlier_detection?: Record<string, unknown>;
  transport_socket?: { name: string; typed_config?: TypedConfig };
  upstream_connection_options?: Record<string, unknown>;
  close_connections_on_host_health_failure?: boolean;
  ignore_health_on_host_removal?: boolean;
  common_lb_config?: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Bootstrap

/** envoy.config.bootstrap.v3.Admin */
export interface Admin {
  /** v2-era; normalised into access_log with a file sink. */
  access_log_path?: string;
  access_log?: AccessLog[];
  address?: Address;
  profile_path?: string;
}

/** envoy.config.core.v3.Node */
export interface Node {
  id?: string;
  cluster?: string;
  metadata?: Record<string, unknown>;
  locality?: Locality;
}

/** envoy.config.bootstrap.v3.Bootstrap */
export interface Bootstrap {
  node?: Node;
  static_resources?: {
    listeners?: Listener[];
    clusters?: Cluster[];
  };
  dynamic_resources?: {
    lds_config?: ConfigSource;
    cds_config?: ConfigSource;
    ads_config?: ApiConfigSource;
  };
  admin?: Admin;
  stats_flush_interval?: Duration;
  layered_runtime?: Record<string, unknown>;
  overload_manager?: Record<string, unknown>;
}

/**
 * What the main thread sends to each worker: a versioned, validated snapshot of what workers need.
 * Workers compile it once (router tables, LB tables, filter factories) and swap one reference.
 */
export interface ConfigSnapshot {
  /** Monotonic per process; a worker ignores a snapshot older than the one it runs. */
  version: number;
  listeners: Listener[];
  clusters: Cluster[];
  /**
   * Resolved endpoints per cluster name, for EDS/DNS clusters whose hosts the main thread resolved.
   * STATIC clusters carry their own `load_assignment`; workers prefer this map when a key is present.
   */
  endpoints: Record<string, ClusterLoadAssignment>;
  /** Route configurations delivered by RDS, keyed by name (HCMs with `rds` look them up here). */
  routes: Record<string, RouteConfiguration>;
}
