/**
 * `--mode validate` must refuse what serving refuses (and Envoy refuses at load), with file:line and
 * the field path: non-IP listener/admin/STATIC endpoint addresses, HCMs without a terminal filter,
 * load_balancing_weight 0, duplicate listener addresses; and the same checks on xDS resources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBootstrap, validateResource, TYPE_URLS } from '../../../src/config/index';
import { BASE, assertError, loadError, variant } from './helpers';

const HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const EP0 = 'static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0]';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

/** The ConfigError message validateResource throws for `obj` (it must throw). */
function resourceError(typeUrl: string, obj: unknown): string {
  assert.throws(() => validateResource(typeUrl, obj), (e: Error) => e.name === 'ConfigError');
  try {
    validateResource(typeUrl, obj);
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

test('a listener address that is not an IP literal is refused at its position (Envoy: malformed IP address)', () => {
  for (const bad of ['256.0.0.1', 'localhost']) {
    const e = loadError(variant('address: 127.0.0.1, port_value: 10000', `address: ${bad}, port_value: 10000`));
    assertError(e, { message: `malformed IP address: ${bad}`, path: 'static_resources.listeners[0].address.socket_address.address', line: 5, column: 34 });
  }
  // IPv6 literals are IP addresses.
  assert.deepEqual(loadBootstrap({ yaml: variant('address: 127.0.0.1, port_value: 10000', 'address: "::1", port_value: 10000') }).warnings, []);
});

test('the admin address must be an IP literal; an admin pipe is still accepted', () => {
  const e = loadError(`${BASE}admin:\n  address:\n    socket_address: { address: 256.1.1.1, port_value: 9901 }\n`);
  assertError(e, { message: 'malformed IP address: 256.1.1.1', path: 'admin.address.socket_address.address', line: 37, column: 32 });
  assert.ok(e.format().includes('admin.address.socket_address.address'), e.format());
  loadBootstrap({ yaml: `${BASE}admin:\n  address:\n    pipe: { path: /tmp/attache-admin.sock }\n` });
});

test('STATIC cluster endpoints must be IP literals; STRICT_DNS and LOGICAL_DNS take hostnames', () => {
  for (const bad of ['localhost', '127.0.0.300']) {
    const e = loadError(variant('address: 127.0.0.1, port_value: 8080', `address: ${bad}, port_value: 8080`));
    assertError(e, {
      message: `malformed IP address: ${bad}. Consider setting cluster type to 'STRICT_DNS' or 'LOGICAL_DNS'`,
      path: `${EP0}.endpoint.address.socket_address.address`,
      line: 34,
      column: 42,
      hint: /STRICT_DNS/,
    });
  }
  // type unset is STATIC.
  const unset = loadError(variant('address: 127.0.0.1, port_value: 8080', 'address: localhost, port_value: 8080').replace('    type: STATIC\n', ''));
  assert.match(unset.message, /^malformed IP address: localhost/);
  for (const t of ['STRICT_DNS', 'LOGICAL_DNS']) {
    loadBootstrap({ yaml: variant('address: 127.0.0.1, port_value: 8080', 'address: localhost, port_value: 8080').replace('type: STATIC', `type: ${t}`) });
  }
});

test('v2 hosts of a STATIC cluster are checked at the host\'s line', () => {
  const y = BASE.slice(0, BASE.indexOf('    load_assignment:')) + '    hosts:\n    - socket_address: { address: localhost, port_value: 8080 }\n';
  const e = loadError(y);
  assertError(e, { message: /^malformed IP address: localhost/, path: `${EP0}.endpoint.address.socket_address.address`, line: 29, column: 34 });
});

test('a STATIC cluster received over CDS with a hostname endpoint is refused (NACK message)', () => {
  const msg = resourceError(TYPE_URLS.cluster, {
    name: 'c1', type: 'STATIC', connect_timeout: '1s',
    load_assignment: { cluster_name: 'c1', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'localhost', port_value: 80 } } } }] }] },
  });
  assert.match(msg, /^cluster "c1": load_assignment\.endpoints\[0\]\.lb_endpoints\[0\]\.endpoint\.address\.socket_address\.address: malformed IP address: localhost/);
});

test('an HCM with no http_filters, an empty list, or a non-terminal last filter is refused with its position', () => {
  const empty = loadError(BASE.replace(/          http_filters:\n[\s\S]*?\.Router\n/, '          http_filters: []\n'));
  assertError(empty, { message: 'the last HTTP filter must be a terminal filter (envoy.filters.http.router); http_filters is empty', path: `${HCM}.http_filters`, line: 19, column: 11, hint: /envoy\.filters\.http\.router/ });
  const none = loadError(BASE.replace(/          http_filters:\n[\s\S]*?\.Router\n/, ''));
  assertError(none, { message: 'the last HTTP filter must be a terminal filter (envoy.filters.http.router); http_filters is not set', path: `${HCM}.http_filters`, line: 10, column: 11 });
});

test('a filter named envoy.filters.http.router whose @type is another filter: the message names the @type', () => {
  const e = loadError(variant(ROUTER, FAULT));
  assertError(e, {
    message: `the last HTTP filter must be a terminal filter (envoy.filters.http.router); found "envoy.filters.http.router" whose typed_config @type is ${FAULT}, not the router`,
    path: `${HCM}.http_filters[0]`,
    line: 20,
    column: 13,
    hint: /the @type decides which filter runs/,
  });
});

test('an LDS listener whose HCM has no http_filters is refused (NACK message)', () => {
  const msg = resourceError(TYPE_URLS.listener, {
    name: 'l1', address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: 's', http_filters: [], route_config: { virtual_hosts: [] },
    } }] }],
  });
  assert.match(msg, /^listener "l1": filter_chains\[0\]\.filters\[0\]\.typed_config\.http_filters: the last HTTP filter must be a terminal filter/);
  const badAddr = resourceError(TYPE_URLS.listener, { name: 'l2', address: { socket_address: { address: 'localhost', port_value: 0 } } });
  assert.equal(badAddr, 'listener "l2": address.socket_address.address: malformed IP address: localhost');
});

test('load_balancing_weight: 0 on an lb_endpoint or a locality is refused (PGV uint32 gte 1)', () => {
  const ep = loadError(variant('      - lb_endpoints:\n        - endpoint:', '      - lb_endpoints:\n        - load_balancing_weight: 0\n          endpoint:'));
  assertError(ep, { message: '0 must be at least 1', path: `${EP0}.load_balancing_weight`, line: 32, column: 34 });
  const loc = loadError(variant('      - lb_endpoints:\n', '      - load_balancing_weight: 0\n        lb_endpoints:\n'));
  assertError(loc, { message: '0 must be at least 1', path: 'static_resources.clusters[0].load_assignment.endpoints[0].load_balancing_weight', line: 31, column: 32 });
  loadBootstrap({ yaml: variant('      - lb_endpoints:\n        - endpoint:', '      - lb_endpoints:\n        - load_balancing_weight: 1\n          endpoint:') });
  const eds = resourceError(TYPE_URLS.endpoint, {
    cluster_name: 'c1',
    endpoints: [{ lb_endpoints: [{ load_balancing_weight: { value: 0 }, endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 80 } } } }] }],
  });
  assert.equal(eds, 'cluster load assignment "c1": endpoints[0].lb_endpoints[0].load_balancing_weight: 0 must be at least 1');
});

test('two static listeners on the same address:port are refused at the second; port 0 is never a duplicate', () => {
  const second = BASE.slice(BASE.indexOf('  - name: l0'), BASE.indexOf('  clusters:')).replace('name: l0', 'name: l1');
  const dup = BASE.replace('  clusters:', `${second}  clusters:`);
  const e = loadError(dup);
  assertError(e, {
    message: /^error adding listener: 'l1' has duplicate address '127\.0\.0\.1:10000' as existing listener 'l0' \(--config-yaml:4:5, static_resources\.listeners\[0\]\)$/,
    path: 'static_resources.listeners[1].address',
    line: 24,
    column: 5,
  });
  // IPv6 spellings of one address collide too.
  const v6 = dup.replace('address: 127.0.0.1, port_value: 10000', 'address: "::1", port_value: 10000').replace('address: 127.0.0.1, port_value: 10000', 'address: "0:0:0:0:0:0:0:1", port_value: 10000');
  assert.match(loadError(v6).message, /duplicate address '\[::1\]:10000'/);
  loadBootstrap({ yaml: dup.replace('port_value: 10000', 'port_value: 10001') });
  loadBootstrap({ yaml: dup.replace(/port_value: 10000/g, 'port_value: 0') });
});

test('admin.access_log and v2 admin.access_log_path are warned about as ignored by attache', () => {
  const v3 = loadBootstrap({ yaml: `${BASE}admin:\n  access_log:\n  - name: envoy.access_loggers.file\n    typed_config: { "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog, path: /dev/null }\n  address:\n    socket_address: { address: 127.0.0.1, port_value: 9901 }\n` });
  assert.deepEqual(v3.warnings, ['--config-yaml:36:3: admin.access_log: field "access_log" of envoy.config.bootstrap.v3.Admin is ignored by attache']);
  const v2 = loadBootstrap({ yaml: `${BASE}admin:\n  access_log_path: /dev/null\n  address:\n    socket_address: { address: 127.0.0.1, port_value: 9901 }\n` });
  assert.deepEqual(v2.warnings, ['--config-yaml:36:3: admin.access_log_path: deprecated field "access_log_path" of envoy.config.bootstrap.v3.Admin is ignored by attache']);
});

test('YAML syntax errors: over-indented key, list item line one space short, no space after ":" get a hint at the offending line', () => {
  const over = loadError(variant('    lb_policy: ROUND_ROBIN', '      lb_policy: ROUND_ROBIN'));
  assertError(over, { message: 'YAML syntax error: Nested mappings are not allowed in compact mappings', line: 27, column: 7, hint: /line 27 is indented more .* than the key on line 26/ });
  const short = loadError(variant('                route: { cluster: c0 }', '               route: { cluster: c0 }'));
  assertError(short, { message: 'YAML syntax error: Sequence item without - indicator', line: 18, column: 16, hint: /line 18 is indented like a list item but does not start with "- "/ });
  const colon = loadError(variant('connect_timeout: 1.5s', 'connect_timeout:0.25s'));
  assertError(colon, { message: 'YAML syntax error: Implicit keys need to be on a single line', line: 25, column: 5, hint: /a space is missing after ':' on line 25: write "connect_timeout: 0.25s"/ });
});
