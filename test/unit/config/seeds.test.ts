import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadBootstrap, snapshotFromBootstrap, validateOnly } from '../../../src/config/index';
import type { ConfigError } from '../../../src/common/errors';
import type { HttpConnectionManager } from '../../../src/config/model';
import { FIXTURES } from './helpers';

const fx = (name: string): string => path.join(FIXTURES, name);

test('seed-static.yaml (tabs on lines 34-38) fails at line 34 saying indentation must use spaces', () => {
  const file = fx('seed-static.yaml');
  let err: ConfigError | undefined;
  try {
    loadBootstrap({ path: file });
  } catch (e) {
    err = e as ConfigError;
  }
  assert.ok(err, 'must throw');
  assert.equal(err.name, 'ConfigError');
  assert.equal(err.code, 'ATTACHE_ERR_CONFIG_INVALID');
  assert.equal(err.file, file);
  assert.equal(err.line, 34);
  assert.equal(err.column, 1);
  assert.equal(err.message, 'YAML indentation must use spaces, not tabs (tab characters indent lines 34-38)');
  const printed = err.format();
  assert.ok(printed.startsWith(`${file}:34:1: YAML indentation must use spaces, not tabs`), printed);
  assert.doesNotMatch(printed, /\n\s+at /, 'no stack trace in the printed form');
});

test('seed-static-fixed.yaml (v2 forms) loads into the v3 model with one warning per v2 form', () => {
  const file = fx('seed-static-fixed.yaml');
  const { bootstrap, warnings } = loadBootstrap({ path: file });
  assert.deepEqual(warnings, [
    // attache writes no admin access log: the v2 (deprecated v3) field is warned about, not converted.
    `${file}:3:3: admin.access_log_path: deprecated field "access_log_path" of envoy.config.bootstrap.v3.Admin is ignored by attache`,
    `${file}:16:15: static_resources.listeners[0].filter_chains[0].filters[0].name: deprecated extension name "envoy.http_connection_manager"; using "envoy.filters.network.http_connection_manager"`,
    `${file}:17:9: static_resources.listeners[0].filter_chains[0].filters[0].config: v2 field "config" is deprecated; converted to typed_config with @type type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
    `${file}:30:19: static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].name: deprecated extension name "envoy.router"; using "envoy.filters.http.router"`,
    `${file}:37:7: static_resources.clusters[0].hosts: v2 field "hosts" is deprecated; converted to load_assignment`,
  ]);
  const l = bootstrap.static_resources!.listeners![0];
  assert.equal(l.address.socket_address.port_value, 10000);
  const f = l.filter_chains[0].filters[0];
  assert.equal(f.name, 'envoy.filters.network.http_connection_manager');
  const hcm = f.typed_config as unknown as HttpConnectionManager & { '@type': string };
  assert.equal(hcm['@type'], 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
  assert.equal(hcm.stat_prefix, 'ingress_http');
  assert.equal(hcm.route_config!.virtual_hosts![0].routes![0].route!.cluster, 'docker-project-service');
  assert.deepEqual(hcm.http_filters, [
    { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
  ]);
  const c = bootstrap.static_resources!.clusters![0];
  assert.equal(c.connect_timeout, '0.250s');
  assert.equal(c.type, 'STATIC');
  assert.equal('hosts' in c, false);
  assert.deepEqual(c.load_assignment, {
    cluster_name: 'docker-project-service',
    endpoints: [{
      lb_endpoints: [
        { endpoint: { address: { socket_address: { address: '10.244.2.107', port_value: 8080 } } } },
        { endpoint: { address: { socket_address: { address: '10.244.2.115', port_value: 8080 } } } },
      ],
    }],
  });
  assert.deepEqual(bootstrap.admin, {
    address: { socket_address: { address: '0.0.0.0', port_value: 9901 } },
    access_log_path: '/tmp/admin_access.log',
  });
});

test('seed-eds.yaml: v2 api_config_source cluster_names becomes grpc_services', () => {
  const file = fx('seed-eds.yaml');
  const { bootstrap, warnings } = loadBootstrap({ path: file });
  const [eds, xds] = bootstrap.static_resources!.clusters!;
  assert.equal(eds.type, 'EDS');
  assert.deepEqual(eds.eds_cluster_config, {
    eds_config: { api_config_source: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'xds_cluster' } }] } },
  });
  assert.equal(xds.load_assignment!.endpoints![0].lb_endpoints![0].endpoint.address.socket_address.port_value, 6443);
  assert.ok(warnings.includes(
    `${file}:42:11: static_resources.clusters[0].eds_cluster_config.eds_config.api_config_source.cluster_names: v2 form "cluster_names" with api_type GRPC is deprecated; converted to grpc_services[].envoy_grpc.cluster_name`,
  ), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.startsWith(`${file}:47:5: static_resources.clusters[1].http2_protocol_options: deprecated field`)), warnings.join('\n'));
  assert.equal(warnings.length, 7);
});

test('a v3 front-proxy config in the style of Envoy docs loads with no warnings', () => {
  const { bootstrap, warnings } = loadBootstrap({ path: fx('front-proxy-v3.yaml') });
  assert.deepEqual(warnings, []);
  assert.deepEqual(bootstrap.static_resources!.clusters!.map((c) => [c.name, c.type, c.lb_policy, c.connect_timeout]), [
    ['service1', 'STRICT_DNS', 'ROUND_ROBIN', '0.250s'],
    ['service2', 'STRICT_DNS', 'LEAST_REQUEST', '0.250s'],
  ]);
  const hcm = bootstrap.static_resources!.listeners![0].filter_chains[0].filters[0].typed_config as unknown as HttpConnectionManager;
  assert.equal(hcm.route_config!.virtual_hosts![0].routes![0].route!.timeout, '5s');
  assert.deepEqual(validateOnly({ path: fx('front-proxy-v3.yaml') }), []);
});

test('a v2 blog front proxy: v2 @type upgraded, lower-case enums accepted, typed_config: {} on the router', () => {
  const file = fx('front-proxy-v2-blog.yaml');
  const { bootstrap, warnings } = loadBootstrap({ path: file });
  assert.ok(warnings.includes(
    `${file}:11:20: static_resources.listeners[0].filter_chains[0].filters[0].typed_config["@type"]: v2 @type "type.googleapis.com/envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager" is deprecated; using "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"`,
  ), warnings.join('\n'));
  assert.equal(warnings.length, 4);
  const hcm = bootstrap.static_resources!.listeners![0].filter_chains[0].filters[0].typed_config as unknown as HttpConnectionManager & { '@type': string };
  assert.equal(hcm['@type'], 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
  assert.equal(hcm.codec_type, 'AUTO');
  assert.equal(hcm.http_filters![0].typed_config!['@type'], 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router');
  const c = bootstrap.static_resources!.clusters![0];
  assert.equal(c.type, 'STRICT_DNS');
  assert.equal(c.lb_policy, 'ROUND_ROBIN');
});

test('snapshotFromBootstrap copies static listeners and clusters', () => {
  const { bootstrap } = loadBootstrap({ path: fx('front-proxy-v3.yaml') });
  const snap = snapshotFromBootstrap(bootstrap, 7);
  assert.equal(snap.version, 7);
  assert.deepEqual(snap.listeners, bootstrap.static_resources!.listeners);
  assert.notEqual(snap.listeners, bootstrap.static_resources!.listeners);
  assert.deepEqual(snap.clusters.map((c) => c.name), ['service1', 'service2']);
  assert.deepEqual(snap.endpoints, {});
  assert.deepEqual(snap.routes, {});
});
