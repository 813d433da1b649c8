/**
 * The one table of v3 fields attache implements, per message type. `model.ts` describing a field does
 * not mean a module reads it: list a field here only once its behaviour exists. A field
 * the proto defines but this table does not list gets a warning "ignored by attache". Message types
 * not listed here are not checked (their owners implement them whole, or they are opaque).
 */

const I: Readonly<Record<string, readonly string[]>> = {
  'envoy.config.bootstrap.v3.Bootstrap': ['node', 'static_resources', 'dynamic_resources', 'admin', 'stats_flush_interval', 'layered_runtime', 'overload_manager'],
  'envoy.config.bootstrap.v3.Bootstrap.StaticResources': ['listeners', 'clusters'],
  'envoy.config.bootstrap.v3.Bootstrap.DynamicResources': ['lds_config', 'cds_config', 'ads_config'],
  // access_log and access_log_path: attache writes no admin access log (warned as ignored).
  'envoy.config.bootstrap.v3.Admin': ['address', 'profile_path'],
  'envoy.config.core.v3.Node': ['id', 'cluster', 'metadata', 'locality'],
  'envoy.config.core.v3.Address': ['socket_address'],
  'envoy.config.core.v3.SocketAddress': ['protocol', 'address', 'port_value', 'named_port', 'ipv4_compat'],
  'envoy.config.core.v3.HeaderValue': ['key', 'value'],
  'envoy.config.core.v3.HeaderValueOption': ['header', 'append', 'append_action', 'keep_empty_value'],
  'envoy.config.core.v3.DataSource': ['inline_string', 'inline_bytes', 'filename'],
  'envoy.config.core.v3.PathConfigSource': ['path', 'watched_directory'],
  'envoy.config.core.v3.WatchedDirectory': ['path'],
  'envoy.config.core.v3.ConfigSource': ['api_config_source', 'ads', 'path', 'path_config_source', 'resource_api_version', 'initial_fetch_timeout'],
  'envoy.config.core.v3.ApiConfigSource': ['api_type', 'transport_api_version', 'cluster_names', 'grpc_services', 'refresh_delay', 'request_timeout', 'set_node_on_first_message_only'],
  'envoy.config.core.v3.GrpcService': ['envoy_grpc', 'timeout'],
  'envoy.config.core.v3.GrpcService.EnvoyGrpc': ['cluster_name'],
  'envoy.config.core.v3.HttpProtocolOptions': ['idle_timeout', 'max_headers_count'],
  'envoy.config.core.v3.Http1ProtocolOptions': ['accept_http_10', 'default_host_for_http_10', 'enable_trailers'],
  'envoy.config.listener.v3.Listener': ['name', 'address', 'filter_chains', 'default_filter_chain', 'enable_reuse_port', 'stat_prefix', 'access_log', 'max_connections_to_accept_per_socket_event', 'traffic_direction'],
  'envoy.config.listener.v3.FilterChain': ['name', 'filter_chain_match', 'filters', 'transport_socket'],
  'envoy.config.listener.v3.FilterChainMatch': ['destination_port', 'server_names', 'transport_protocol'],
  'envoy.config.listener.v3.Filter': ['name', 'typed_config'],
  'envoy.config.accesslog.v3.AccessLog': ['name', 'typed_config', 'filter'],
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager': [
    'stat_prefix', 'codec_type', 'route_config', 'rds', 'http_filters', 'server_name', 'server_header_transformation',
    'max_request_headers_kb', 'common_http_protocol_options', 'http_protocol_options', 'access_log', 'use_remote_address', 'skip_xff_append', 'via',
    'generate_request_id', 'preserve_external_request_id', 'always_set_request_id_in_response',
    'upgrade_configs', 'normalize_path', 'merge_slashes', 'stream_idle_timeout',
  ],
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.UpgradeConfig': ['upgrade_type', 'enabled', 'filters'],
  'envoy.extensions.filters.network.http_connection_manager.v3.Rds': ['route_config_name', 'config_source'],
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter': ['name', 'typed_config', 'is_optional', 'disabled'],
  'envoy.config.route.v3.RouteConfiguration': [
    'name', 'virtual_hosts', 'validate_clusters', 'internal_only_headers', 'request_headers_to_add', 'request_headers_to_remove',
    'response_headers_to_add', 'response_headers_to_remove', 'most_specific_header_mutations_wins',
  ],
  'envoy.config.route.v3.VirtualHost': [
    'name', 'domains', 'routes', 'require_tls', 'request_headers_to_add', 'request_headers_to_remove',
    'response_headers_to_add', 'response_headers_to_remove', 'typed_per_filter_config',
  ],
  'envoy.config.route.v3.Route': [
    'name', 'match', 'route', 'redirect', 'direct_response', 'request_headers_to_add', 'request_headers_to_remove',
    'response_headers_to_add', 'response_headers_to_remove', 'typed_per_filter_config',
  ],
  'envoy.config.route.v3.RouteMatch': ['prefix', 'path', 'safe_regex', 'path_separated_prefix', 'case_sensitive', 'headers', 'query_parameters'],
  'envoy.config.route.v3.HeaderMatcher': [
    'name', 'exact_match', 'safe_regex_match', 'range_match', 'present_match', 'prefix_match', 'suffix_match', 'contains_match',
    'string_match', 'invert_match', 'treat_missing_header_as_empty',
  ],
  'envoy.config.route.v3.QueryParameterMatcher': ['name', 'string_match', 'present_match'],
  'envoy.config.route.v3.RouteAction': [
    'cluster', 'cluster_header', 'cluster_not_found_response_code', 'weighted_clusters', 'prefix_rewrite', 'regex_rewrite', 'host_rewrite_literal', 'auto_host_rewrite',
    'host_rewrite_header', 'append_x_forwarded_host', 'timeout', 'idle_timeout', 'upgrade_configs',
    // hash_policy: warned about in support.ts unless the route's cluster uses RING_HASH or MAGLEV.
    'hash_policy',
  ],
  'envoy.config.route.v3.RouteAction.UpgradeConfig': ['upgrade_type', 'enabled'],
  'envoy.config.route.v3.RouteAction.HashPolicy': ['header', 'connection_properties', 'query_parameter', 'cookie', 'terminal'],
  'envoy.config.route.v3.RouteAction.HashPolicy.Header': ['header_name'],
  'envoy.config.route.v3.RouteAction.HashPolicy.Cookie': ['name', 'ttl', 'path'],
  'envoy.config.route.v3.WeightedCluster': ['clusters', 'total_weight'],
  'envoy.config.route.v3.WeightedCluster.ClusterWeight': [
    'name', 'weight', 'request_headers_to_add', 'request_headers_to_remove', 'response_headers_to_add', 'response_headers_to_remove',
  ],
  'envoy.config.route.v3.RedirectAction': [
    'https_redirect', 'scheme_redirect', 'host_redirect', 'port_redirect', 'path_redirect', 'prefix_rewrite', 'regex_rewrite', 'response_code', 'strip_query',
  ],
  'envoy.config.route.v3.DirectResponseAction': ['status', 'body'],
  'envoy.type.matcher.v3.StringMatcher': ['exact', 'prefix', 'suffix', 'contains', 'safe_regex', 'ignore_case'],
  'envoy.type.matcher.v3.RegexMatcher': ['google_re2', 'regex'],
  'envoy.config.cluster.v3.Cluster': [
    'name', 'type', 'eds_cluster_config', 'connect_timeout', 'lb_policy', 'load_assignment', 'least_request_lb_config', 'ring_hash_lb_config',
    'maglev_lb_config', 'dns_refresh_rate', 'dns_lookup_family', 'respect_dns_ttl', 'per_connection_buffer_limit_bytes', 'circuit_breakers',
    'common_http_protocol_options', 'http_protocol_options', 'typed_extension_protocol_options', 'common_lb_config',
    // Refused (TLS) or warned about (HTTP/2) in support.ts, so no generic warning here.
    'http2_protocol_options', 'transport_socket', 'transport_socket_matches',
  ],
  // healthy_panic_threshold and locality_weighted_lb_config: src/upstream/cluster/common-lb-config.ts;
  // consistent_hashing_lb_config.use_hostname_for_hashing: src/upstream/lb/ring-hash.ts.
  'envoy.config.cluster.v3.Cluster.CommonLbConfig': ['healthy_panic_threshold', 'locality_weighted_lb_config', 'consistent_hashing_lb_config'],
  'envoy.config.cluster.v3.Cluster.CommonLbConfig.ConsistentHashingLbConfig': ['use_hostname_for_hashing'],
  'envoy.config.cluster.v3.CircuitBreakers.Thresholds': ['priority', 'max_connections', 'max_pending_requests', 'max_requests', 'max_retries'],
  'envoy.config.endpoint.v3.ClusterLoadAssignment': ['cluster_name', 'endpoints', 'policy'],
  'envoy.config.endpoint.v3.ClusterLoadAssignment.Policy': ['overprovisioning_factor'],
  'envoy.config.endpoint.v3.LocalityLbEndpoints': ['locality', 'lb_endpoints', 'load_balancing_weight', 'priority'],
  'envoy.config.endpoint.v3.LbEndpoint': ['endpoint', 'health_status', 'load_balancing_weight', 'metadata'],
  'envoy.config.endpoint.v3.Endpoint': ['address', 'hostname'],
  'envoy.extensions.access_loggers.file.v3.FileAccessLog': ['path', 'format', 'log_format'],
};

const TABLE = new Map<string, ReadonlySet<string>>(Object.entries(I).map(([k, v]) => [k, new Set(v)]));

/**
 * Whether attache implements `field` of message type `typeName` (full name, no leading dot).
 * Types absent from the table count as fully implemented.
 */
export function isImplemented(typeName: string, field: string): boolean {
  const s = TABLE.get(typeName);
  return s === undefined || s.has(field);
}
