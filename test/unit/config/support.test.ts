import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBootstrap, validateResource, TYPE_URLS } from '../../../src/config/index';
import { TLS_MESSAGE } from '../../../src/config/support';
import { assertError, loadError, variant } from './helpers';

const HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const ROUTE0 = `${HCM}.route_config.virtual_hosts[0].routes[0]`;

test('TLS on a listener filter chain is refused, not served in plaintext', () => {
  const e = loadError(variant('    - filters:',
    '    - transport_socket:\n        name: envoy.transport_sockets.tls\n' +
    '        typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext }\n      filters:'));
  assert.match(TLS_MESSAGE, /^TLS \(transport_socket envoy\.transport_sockets\.tls\) is not implemented by attache; refusing to serve plaintext/);
  assertError(e, { message: TLS_MESSAGE, path: 'static_resources.listeners[0].filter_chains[0].transport_socket', line: 7, column: 7, hint: /terminate TLS/ });
});

test('filter_chain_match on SNI or transport_protocol tls is refused', () => {
  const sni = loadError(variant('    - filters:', '    - filter_chain_match: { server_names: [a.example.com] }\n      filters:'));
  assertError(sni, { message: TLS_MESSAGE, path: 'static_resources.listeners[0].filter_chains[0].filter_chain_match.server_names', line: 7, column: 29 });
  const tp = loadError(variant('    - filters:', '    - filter_chain_match: { transport_protocol: tls }\n      filters:'));
  assertError(tp, { message: TLS_MESSAGE, path: 'static_resources.listeners[0].filter_chains[0].filter_chain_match.transport_protocol', line: 7, column: 49 });
});

test('TLS to an upstream cluster is refused; raw_buffer (plaintext) is accepted', () => {
  const e = loadError(variant('    type: STATIC',
    '    type: STATIC\n    transport_socket:\n      name: envoy.transport_sockets.tls\n' +
    '      typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext, sni: x.example }'));
  assertError(e, { message: TLS_MESSAGE, path: 'static_resources.clusters[0].transport_socket', line: 27, column: 5 });
  const { warnings } = loadBootstrap({ yaml: variant('    type: STATIC', '    type: STATIC\n    transport_socket: { name: envoy.transport_sockets.raw_buffer }') });
  assert.deepEqual(warnings, []);
});

test('a TLS cluster received over CDS is refused too', () => {
  const cluster = { name: 'x', connect_timeout: '1s', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } },
    transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext' } } };
  assert.throws(() => validateResource(TYPE_URLS.cluster, cluster), (e: Error) => e.message === `cluster "x": transport_socket: ${TLS_MESSAGE}`);
});

test('upstream HTTP/2 is a warning, except on the xDS gRPC cluster', () => {
  const h2 = variant('    type: STATIC', '    type: STATIC\n    typed_extension_protocol_options:\n      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n' +
    '        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n        explicit_http_config: { http2_protocol_options: {} }');
  assert.deepEqual(loadBootstrap({ yaml: h2 }).warnings, [
    '--config-yaml:27:5: static_resources.clusters[0].typed_extension_protocol_options: attache speaks HTTP/1.1 to upstreams; http2_protocol_options ignored',
  ]);
  const xds = `${h2}dynamic_resources:\n  cds_config:\n    api_config_source:\n      api_type: GRPC\n      transport_api_version: V3\n` +
    '      grpc_services: [{ envoy_grpc: { cluster_name: c0 } }]\n';
  assert.deepEqual(loadBootstrap({ yaml: xds }).warnings, []);
});

test('fields attache does not implement are warned about as ignored', () => {
  const yaml = variant('    type: STATIC', '    type: STATIC\n    health_checks: [{ timeout: 1s, interval: 5s, unhealthy_threshold: 2, healthy_threshold: 1, http_health_check: { path: /hc } }]\n    outlier_detection: {}')
    .replace('route: { cluster: c0 }', 'route: { cluster: c0, retry_policy: { retry_on: 5xx }, hash_policy: [{ header: { header_name: x-user } }], request_mirror_policies: [{ cluster: c0 }] }')
    .replace('          stat_prefix: ingress_http', '          stat_prefix: ingress_http\n          tracing: {}')
    .replace('    filter_chains:', '    listener_filters: [{ name: envoy.filters.listener.tls_inspector }]\n    filter_chains:')
    .replace('              domains: ["*"]', '              domains: ["*"]\n              cors: { allow_origin_string_match: [{ exact: "*" }] }');
  const { warnings } = loadBootstrap({ yaml });
  const ignored = warnings.filter((w) => w.includes('ignored by attache')).map((w) => w.replace(/^--config-yaml:\d+:\d+: /, '').replace(/:.*/, ''));
  assert.deepEqual(ignored, [
    'static_resources.listeners[0].listener_filters',
    `${HCM}.tracing`,
    `${HCM}.route_config.virtual_hosts[0].cors`,
    `${ROUTE0}.route.retry_policy`,
    `${ROUTE0}.route.hash_policy`,
    `${ROUTE0}.route.request_mirror_policies`,
    'static_resources.clusters[0].health_checks',
    'static_resources.clusters[0].outlier_detection',
  ]);
  assert.equal(warnings.length, ignored.length);
});

test('hash_policy is not warned about when the route\'s cluster uses RING_HASH', () => {
  const yaml = variant('lb_policy: ROUND_ROBIN', 'lb_policy: RING_HASH').replace('route: { cluster: c0 }', 'route: { cluster: c0, hash_policy: [{ header: { header_name: x-user } }] }');
  assert.deepEqual(loadBootstrap({ yaml }).warnings, []);
});

test('an HTTP filter not in attache\'s registry is an error at validate time, a warning when optional', () => {
  const cors = '          - name: envoy.filters.http.cors\n            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors }\n';
  const e = loadError(variant('          http_filters:\n', `          http_filters:\n${cors}`));
  assertError(e, {
    message: 'HTTP filter "envoy.filters.http.cors" (type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors) is not implemented by attache',
    path: `${HCM}.http_filters[0]`, line: 20, column: 13, hint: /envoy\.filters\.http\.router.*is_optional: true/,
  });
  const { warnings } = loadBootstrap({ yaml: variant('          http_filters:\n', `          http_filters:\n${cors}            is_optional: true\n`) });
  assert.deepEqual(warnings, [
    `--config-yaml:20:13: ${HCM}.http_filters[0]: HTTP filter "envoy.filters.http.cors" (type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors) skipped: not implemented by attache`,
  ]);
});

test('a network filter other than the HTTP connection manager is an error', () => {
  const e = loadError(variant('      - name: envoy.filters.network.http_connection_manager',
    '      - name: envoy.filters.network.tcp_proxy\n        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: c0 }\n' +
    '      - name: envoy.filters.network.http_connection_manager'));
  assertError(e, { message: 'network filter "envoy.filters.network.tcp_proxy" is not implemented by attache',
    path: 'static_resources.listeners[0].filter_chains[0].filters[0]', line: 8, column: 9 });
});

test('route configuration errors the router finds are reported at validate time with their position', () => {
  const dup = loadError(variant('domains: ["*"]', 'domains: ["a.example", "a.example"]'));
  assert.equal(dup.path, `${HCM}.route_config.virtual_hosts[0].domains[1]`);
  assert.equal(dup.line, 15);
  assert.equal(dup.column, 38);
  const op = loadError(variant('route: { cluster: c0 }', 'route: { cluster: c0 }\n                request_headers_to_add: [{ header: { key: x-a, value: "%NOPE%" } }]'));
  assertError(op, { message: /unsupported command operator %NOPE%/, path: `${ROUTE0}.request_headers_to_add[0].header.value`, line: 19, column: 71 });
});

test('connect_timeout must be greater than zero (PGV duration.gt)', () => {
  const e = loadError(variant('connect_timeout: 1.5s', 'connect_timeout: 0s'));
  assertError(e, { message: 'duration 0s must be greater than 0s', path: 'static_resources.clusters[0].connect_timeout', line: 25, column: 22 });
});

test('an unnamed listener is named <address>_<port>', () => {
  const { bootstrap } = loadBootstrap({ yaml: variant('  - name: l0\n    address:', '  - address:') });
  assert.equal(bootstrap.static_resources!.listeners![0].name, '127.0.0.1_10000');
});

/** The shape of Istio's envoy-rev.json (pilot-agent's bootstrap), trimmed; xds-grpc on TCP here. */
const ISTIO = JSON.stringify({
  node: { id: 'sidecar~10.0.0.1~app.default~default.svc.cluster.local', cluster: 'app.default', metadata: { ISTIO_VERSION: '1.20.0' } },
  layered_runtime: { layers: [{ name: 'global config', static_layer: { 'overload.global_downstream_max_connections': 2147483647 } }, { name: 'admin', admin_layer: {} }] },
  bootstrap_extensions: [{ name: 'envoy.bootstrap.internal_listener', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener', value: { buffer_size_kb: 64 } } }],
  stats_config: { use_all_default_tags: false, stats_tags: [{ tag_name: 'cluster_name', regex: '^cluster\\.((.+?(\\..+?\\.svc\\.cluster\\.local)?)\\.)' }], stats_matcher: { inclusion_list: { patterns: [{ prefix: 'cluster_manager' }] } } },
  stats_sinks: [{ name: 'envoy.stat_sinks.metrics_service', typed_config: { '@type': 'type.googleapis.com/envoy.config.metrics.v3.MetricsServiceConfig', transport_api_version: 'V3', grpc_service: { envoy_grpc: { cluster_name: 'xds-grpc' } } } }],
  admin: { access_log: [{ name: 'envoy.access_loggers.file', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path: '/dev/null' } }], profile_path: '/var/lib/istio/data/envoy.prof', address: { socket_address: { address: '127.0.0.1', port_value: 15000 } } },
  dynamic_resources: { lds_config: { ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3' }, cds_config: { ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3' },
    ads_config: { api_type: 'GRPC', set_node_on_first_message_only: true, transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds-grpc' } }] } },
  static_resources: {
    clusters: [
      { name: 'xds-grpc', type: 'STATIC', connect_timeout: '1s', lb_policy: 'ROUND_ROBIN', load_assignment: { cluster_name: 'xds-grpc', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 15010 } } } }] }] },
        typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: { max_concurrent_streams: 1073741824 } } } } },
      { name: 'zipkin', type: 'STRICT_DNS', connect_timeout: '1s', dns_lookup_family: 'V4_ONLY', dns_refresh_rate: '30s', lb_policy: 'ROUND_ROBIN', load_assignment: { cluster_name: 'zipkin', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'zipkin.istio-system', port_value: 9411 } } } }] }] } },
    ],
    listeners: [{ address: { socket_address: { protocol: 'TCP', address: '0.0.0.0', port_value: 15090 } }, filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', codec_type: 'AUTO', stat_prefix: 'stats',
      route_config: { virtual_hosts: [{ name: 'backend', domains: ['*'], routes: [{ match: { prefix: '/stats/prometheus' }, route: { cluster: 'zipkin' } }] }] },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }] } }] }] }],
  },
  tracing: { http: { name: 'envoy.tracers.zipkin', typed_config: { '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig', collector_cluster: 'zipkin', collector_endpoint: '/api/v2/spans', collector_endpoint_version: 'HTTP_JSON', trace_id_128bit: true, shared_span_context: false } } },
  overload_manager: { refresh_interval: '0.25s', resource_monitors: [{ name: 'envoy.resource_monitors.fixed_heap', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig', max_heap_size_bytes: 1073741824 } }] },
});

test('Istio\'s envoy-rev.json shape loads: unknown typed configs outside filters are warnings', () => {
  const { bootstrap, warnings } = loadBootstrap({ yaml: ISTIO });
  assert.equal(bootstrap.static_resources!.listeners![0].name, '0.0.0.0_15090');
  const text = warnings.join('\n');
  for (const p of ['bootstrap_extensions[0].typed_config["@type"]', 'stats_sinks[0].typed_config["@type"]', 'tracing.http.typed_config["@type"]', 'overload_manager.resource_monitors[0].typed_config["@type"]']) {
    assert.ok(warnings.some((w) => w.includes(`: ${p}: typed config of unknown @type`) && w.endsWith('is ignored by attache')), `no warning for ${p} in:\n${text}`);
  }
  // xds-grpc speaks HTTP/2 (gRPC): no HTTP/2 warning for it.
  assert.ok(!text.includes('HTTP/1.1 to upstreams'), text);
});

test('an unknown @type of an HTTP filter stays an error', () => {
  const e = loadError(variant('router.v3.Router', 'router.v3.Routr'));
  assert.equal(e.message, 'unknown @type "type.googleapis.com/envoy.extensions.filters.http.router.v3.Routr"');
});
