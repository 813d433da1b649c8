import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canonicalDuration, loadBootstrap } from '../../../src/config/index';
import { BASE, assertError, variant } from './helpers';
import type { ConfigError } from '../../../src/common/errors';

test('durations become canonical proto3-JSON strings', () => {
  const cases: Array<[unknown, string | undefined]> = [
    ['0.25s', '0.250s'],
    ['100ms', '0.100s'],
    ['1.5s', '1.500s'],
    ['15s', '15s'],
    ['1m', '60s'],
    ['1h', '3600s'],
    ['250us', '0.000250s'],
    ['1.0000001s', '1.000000100s'],
    [{ seconds: 1, nanos: 500000000 }, '1.500s'],
    [{ seconds: '2' }, '2s'],
    [{ nanos: 1 }, '0.000000001s'],
    [0, '0s'],
    [2.5, '2.500s'],
    ['fast', undefined],
    ['5', undefined],
  ];
  for (const [input, want] of cases) assert.equal(canonicalDuration(input), want, JSON.stringify(input));
});

test('wrappers unwrap, enum numbers become names, lowerCamelCase keys become snake_case', () => {
  const yaml = variant('    connect_timeout: 1.5s\n    type: STATIC\n    lb_policy: ROUND_ROBIN\n',
    '    connectTimeout: { seconds: 2, nanos: 250000000 }\n    type: 0\n    lbPolicy: 1\n    per_connection_buffer_limit_bytes: { value: 32768 }\n    respect_dns_ttl: true\n');
  const { bootstrap, warnings } = loadBootstrap({ yaml });
  assert.deepEqual(warnings, []);
  const c = bootstrap.static_resources!.clusters![0];
  assert.equal(c.connect_timeout, '2.250s');
  assert.equal(c.type, 'STATIC');
  assert.equal(c.lb_policy, 'LEAST_REQUEST');
  assert.equal(c.per_connection_buffer_limit_bytes, 32768);
  assert.equal('connectTimeout' in c, false);
});

test('an enum number not in the enum is an error', () => {
  try {
    loadBootstrap({ yaml: variant('lb_policy: ROUND_ROBIN', 'lb_policy: 4') });
    assert.fail('must throw');
  } catch (e) {
    assertError(e as ConfigError, { message: /^unknown value 4 \(valid: ROUND_ROBIN, LEAST_REQUEST/, line: 27, column: 16 });
  }
});

test('a filter named without typed_config gets the @type of its name', () => {
  const yaml = variant('          - name: envoy.filters.http.router\n            typed_config:\n              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n',
    '          - name: envoy.filters.http.cors\n            is_optional: true\n          - name: envoy.filters.http.router\n');
  const { bootstrap, warnings } = loadBootstrap({ yaml });
  // cors is not in attache's filter registry: skipped because it is optional.
  assert.deepEqual(warnings, [
    '--config-yaml:20:13: static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0]: ' +
      'HTTP filter "envoy.filters.http.cors" (type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors) skipped: not implemented by attache',
  ]);
  const hcm = bootstrap.static_resources!.listeners![0].filter_chains[0].filters[0].typed_config as Record<string, any>;
  assert.deepEqual(hcm.http_filters, [
    { name: 'envoy.filters.http.cors', is_optional: true, typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' } },
    { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
  ]);
});

test('v2 HCM idle_timeout and route host_rewrite are moved to their v3 fields with warnings', () => {
  const yaml = variant('stat_prefix: ingress_http', 'stat_prefix: ingress_http\n          idle_timeout: 30s').replace('route: { cluster: c0 }', 'route: { cluster: c0, host_rewrite: example.com }');
  const { bootstrap, warnings } = loadBootstrap({ yaml });
  const hcm = bootstrap.static_resources!.listeners![0].filter_chains[0].filters[0].typed_config as Record<string, any>;
  assert.deepEqual(hcm.common_http_protocol_options, { idle_timeout: '30s' });
  assert.equal(hcm.route_config.virtual_hosts[0].routes[0].route.host_rewrite_literal, 'example.com');
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /^--config-yaml:12:11: .*typed_config\.idle_timeout: v2 field "idle_timeout" is deprecated; converted to common_http_protocol_options\.idle_timeout$/);
  assert.match(warnings[1], /^--config-yaml:19:39: .*routes\[0\]\.route\.host_rewrite: v2 field "host_rewrite" is deprecated; converted to host_rewrite_literal$/);
});

test('--config-yaml is merged over the file: mappings merged, lists appended, scalars replaced', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-config-'));
  const file = path.join(dir, 'base.yaml');
  fs.writeFileSync(file, `${BASE}admin:\n  address:\n    socket_address: { address: 127.0.0.1, port_value: 9901 }\n`);
  try {
    const over = 'admin: { address: { socket_address: { port_value: 9902 } } }\nstatic_resources:\n  clusters:\n  - name: c9\n    connect_timeout: 2s\n';
    const { bootstrap } = loadBootstrap({ path: file, yaml: over });
    assert.deepEqual(bootstrap.admin!.address, { socket_address: { address: '127.0.0.1', port_value: 9902 } });
    assert.deepEqual(bootstrap.static_resources!.clusters!.map((c) => c.name), ['c0', 'c9']);
    assert.equal(bootstrap.static_resources!.listeners!.length, 1);
    // Errors in the inline part name --config-yaml and its own lines.
    try {
      loadBootstrap({ path: file, yaml: 'static_resources:\n  clusters:\n  - name: c9\n    lb_policy: RANDOMM\n' });
      assert.fail('must throw');
    } catch (e) {
      const err = e as ConfigError;
      assert.equal(err.file, '--config-yaml');
      assertError(err, { message: /^unknown value "RANDOMM"; did you mean RANDOM\?/, path: 'static_resources.clusters[1].lb_policy', line: 4, column: 16 });
    }
    // Errors in the file part still name the file.
    fs.writeFileSync(file, variant('lb_policy: ROUND_ROBIN', 'lb_policy: ROUND_ROBN'));
    try {
      loadBootstrap({ path: file, yaml: 'admin: {}\n' });
      assert.fail('must throw');
    } catch (e) {
      assert.equal((e as ConfigError).file, file);
      assert.equal((e as ConfigError).line, 27);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('JSON files are YAML too', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-config-'));
  const file = path.join(dir, 'b.json');
  fs.writeFileSync(file, JSON.stringify({
    static_resources: { clusters: [{ name: 'a', connect_timeout: '0.5s', type: 'STATIC', load_assignment: { cluster_name: 'a', endpoints: [] } }] },
  }, null, '\t'));
  try {
    const { bootstrap, warnings } = loadBootstrap({ path: file });
    assert.deepEqual(warnings, []);
    assert.equal(bootstrap.static_resources!.clusters![0].connect_timeout, '0.500s');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('YAML anchors, aliases and merge keys resolve into independent copies', () => {
  const yaml = `${BASE}  - <<: &tpl { connect_timeout: 2s, type: STATIC }
    name: c1
  - <<: *tpl
    name: c2
    connect_timeout: 3s
`;
  const { bootstrap } = loadBootstrap({ yaml });
  const [, c1, c2] = bootstrap.static_resources!.clusters!;
  assert.deepEqual([c1.name, c1.connect_timeout, c1.type], ['c1', '2s', 'STATIC']);
  assert.deepEqual([c2.name, c2.connect_timeout, c2.type], ['c2', '3s', 'STATIC']);
});
