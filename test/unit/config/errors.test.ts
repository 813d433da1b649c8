import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBootstrap } from '../../../src/config/index';
import { BASE, assertError, loadError, variant } from './helpers';

const HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const ROUTE0 = `${HCM}.route_config.virtual_hosts[0].routes[0]`;

test('BASE itself is valid and loads with no warnings', () => {
  assert.deepEqual(loadBootstrap({ yaml: BASE }).warnings, []);
});

test('unknown enum value: nearest name and the valid list, at the value', () => {
  const e = loadError(variant('lb_policy: ROUND_ROBIN', 'lb_policy: ROUND_ROBN'));
  assertError(e, {
    message: 'unknown value "ROUND_ROBN"; did you mean ROUND_ROBIN? (valid: ROUND_ROBIN, LEAST_REQUEST, RING_HASH, RANDOM, MAGLEV, CLUSTER_PROVIDED, LOAD_BALANCING_POLICY_CONFIG)',
    path: 'static_resources.clusters[0].lb_policy',
    line: 27,
    column: 16,
  });
  assert.equal(e.file, '--config-yaml');
  assert.ok(e.format().startsWith('--config-yaml:27:16: static_resources.clusters[0].lb_policy: unknown value "ROUND_ROBN"; did you mean ROUND_ROBIN?'));
});

test('v2-only enum value gets a hint', () => {
  const e = loadError(variant('lb_policy: ROUND_ROBIN', 'lb_policy: ORIGINAL_DST_LB'));
  assertError(e, { message: /^unknown value "ORIGINAL_DST_LB"/, line: 27, column: 16, hint: /type: ORIGINAL_DST with lb_policy: CLUSTER_PROVIDED/ });
});

test('unknown field: did you mean, at the key', () => {
  const e = loadError(variant('lb_policy: ROUND_ROBIN', 'lb_polcy: ROUND_ROBIN'));
  assertError(e, {
    message: 'unknown field "lb_polcy" in envoy.config.cluster.v3.Cluster; did you mean lb_policy?',
    path: 'static_resources.clusters[0].lb_polcy',
    line: 27,
    column: 5,
  });
});

test('unknown field far from any name lists the valid fields in the hint', () => {
  const e = loadError(variant('      domains: ["*"]', '      domains: ["*"]\n              zzzzzzzzzzzz: 1'));
  assertError(e, { message: 'unknown field "zzzzzzzzzzzz" in envoy.config.route.v3.VirtualHost', line: 16, column: 15, hint: /valid fields: name, domains, routes/ });
});

test('uint32 range from PGV: port_value <= 65535', () => {
  const e = loadError(variant('port_value: 8080', 'port_value: 80800'));
  assertError(e, {
    message: '80800 must be at most 65535',
    path: 'static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value',
    line: 34,
    column: 65,
  });
});

test('wrong scalar type', () => {
  const e = loadError(variant('port_value: 10000', 'port_value: abc'));
  assertError(e, { message: 'expected a number, got the string "abc"', path: 'static_resources.listeners[0].address.socket_address.port_value', line: 5, column: 57 });
  const b = loadError(variant('  - name: envoy.filters.http.router', '  - name: envoy.filters.http.router\n            is_optional: maybe'));
  assertError(b, { message: 'expected true or false, got the string "maybe"', line: 21, column: 26 });
});

test('a list where a mapping is expected, and a scalar where a list is expected', () => {
  const e = loadError(variant('domains: ["*"]', 'domains: "*"'));
  assertError(e, { message: 'expected a list, got the string "*"', path: `${HCM}.route_config.virtual_hosts[0].domains`, line: 15, column: 24 });
  const m = loadError(variant('route: { cluster: c0 }', 'route: [c0]'));
  assertError(m, { message: 'expected a mapping (envoy.config.route.v3.RouteAction), got a list', path: `${ROUTE0}.route`, line: 18, column: 24 });
});

test('required fields from PGV: string.min_len and message.required', () => {
  const e = loadError(variant('- name: c0', '- name: ""'));
  assertError(e, { message: 'must not be empty', path: 'static_resources.clusters[0].name', line: 24, column: 11 });
  const m = loadError(variant('stat_prefix: ingress_http', 'codec_type: AUTO'));
  assertError(m, { message: 'missing required field "stat_prefix" (envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager)', path: HCM, line: 10, column: 11 });
  const r = loadError(variant('- match: { prefix: "/" }', '- name: r0'));
  assertError(r, { message: /^missing required field "match"/, path: ROUTE0, line: 17, column: 17 });
});

test('oneof: two members set, and a required oneof with none', () => {
  const e = loadError(variant('match: { prefix: "/" }', 'match: { prefix: "/", path: "/x" }'));
  assertError(e, {
    message: /^only one of prefix, path, safe_regex, .* may be set \(oneof path_specifier\); found prefix and path$/,
    path: `${ROUTE0}.match.path`,
    line: 17,
    column: 39,
  });
  const n = loadError(variant('match: { prefix: "/" }', 'match: { case_sensitive: false }'));
  assertError(n, { message: /^one of prefix, path, safe_regex, .* is required$/, path: `${ROUTE0}.match`, line: 17, column: 24 });
});

test('unknown @type is an error, or a warning when the filter is_optional', () => {
  const e = loadError(variant('router.v3.Router', 'router.v3.Routr'));
  assertError(e, {
    message: 'unknown @type "type.googleapis.com/envoy.extensions.filters.http.router.v3.Routr"',
    path: `${HCM}.http_filters[0].typed_config["@type"]`,
    line: 22,
    column: 24,
    hint: /is_optional: true/,
  });
  const yaml = variant('          http_filters:\n', '          http_filters:\n          - name: acme.filters.http.magic\n            is_optional: true\n            typed_config: { "@type": type.googleapis.com/acme.Magic }\n');
  const { warnings } = loadBootstrap({ yaml });
  assert.deepEqual(warnings, [
    `--config-yaml:22:38: ${HCM}.http_filters[0].typed_config["@type"]: unknown @type "type.googleapis.com/acme.Magic"; the filter is optional (is_optional: true) and is skipped`,
  ]);
});

test('typed config without @type', () => {
  const e = loadError(variant('              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', '              suppress_envoy_headers: true'));
  assertError(e, { message: 'typed config has no "@type"', path: `${HCM}.http_filters[0].typed_config`, line: 22, column: 15 });
});

test('v2 config: of an extension attache cannot type is an error with a hint', () => {
  const e = loadError(variant('          - name: envoy.filters.http.router\n            typed_config:\n              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
    '          - name: envoy.squash\n            config: { cluster: c0 }\n          - name: envoy.router'));
  assertError(e, {
    message: 'cannot translate v2 "config" of extension "envoy.squash": attache does not know its v3 @type',
    path: `${HCM}.http_filters[0].config`,
    line: 21,
    column: 13,
    hint: /typed_config/,
  });
});

test('v2 regex on a route: removed in v3, with a safe_regex hint', () => {
  const e = loadError(variant('match: { prefix: "/" }', 'match: { regex: "/a.*" }'));
  assertError(e, { message: 'field "regex" was removed in the v3 API (envoy.config.route.v3.RouteMatch)', path: `${ROUTE0}.match.regex`, line: 17, column: 26, hint: /safe_regex: \{regex:/ });
});

test('safe_regex must compile with RE2 semantics', () => {
  const e = loadError(variant('match: { prefix: "/" }', 'match: { safe_regex: { regex: "/a(?=b)" } }'));
  assertError(e, { message: /^invalid RE2 regex "\/a\(\?=b\)": error parsing regexp: invalid or unsupported Perl syntax/, path: `${ROUTE0}.match.safe_regex.regex`, line: 17, column: 47 });
  assert.deepEqual(loadBootstrap({ yaml: variant('match: { prefix: "/" }', 'match: { safe_regex: { regex: "/a[0-9]+" } }') }).warnings, []);
});

test('route to an undefined cluster names the nearest one; skipped when CDS is configured', () => {
  const e = loadError(variant('route: { cluster: c0 }', 'route: { cluster: c1 }'));
  assertError(e, { message: 'unknown cluster "c1"; did you mean c0?', path: `${ROUTE0}.route.cluster`, line: 18, column: 35, hint: /static clusters: c0/ });
  const withCds = `${variant('route: { cluster: c0 }', 'route: { cluster: c1 }')}dynamic_resources:\n  cds_config: { ads: {} }\n  ads_config: { api_type: GRPC, grpc_services: [{ envoy_grpc: { cluster_name: c0 } }] }\n`;
  assert.doesNotThrow(() => loadBootstrap({ yaml: withCds }));
});

test('route_config validate_clusters: false lets a route name a cluster that does not exist', () => {
  const unvalidated = variant('route: { cluster: c0 }', 'route: { cluster: c1 }').replace(/route_config: *\{/, 'route_config: { validate_clusters: false,').replace(/route_config:\n( +)/, 'route_config:\n$1validate_clusters: false\n$1');
  assert.match(unvalidated, /validate_clusters: false/);
  assert.doesNotThrow(() => loadBootstrap({ yaml: unvalidated }));
});

test('duplicate listener and cluster names', () => {
  const dupCluster = `${BASE}  - name: c0\n    type: STATIC\n`;
  assertError(loadError(dupCluster), { message: /^duplicate cluster name "c0" \(first defined at --config-yaml:24:11, static_resources.clusters\[0\]\)$/, path: 'static_resources.clusters[1].name', line: 35, column: 11 });
  const second = BASE.slice(BASE.indexOf('  - name: l0'), BASE.indexOf('  clusters:')).replace('port_value: 10000', 'port_value: 10001');
  const dupListener = BASE.replace('  clusters:', `${second}  clusters:`);
  assertError(loadError(dupListener), { message: /^duplicate listener name "l0"/, path: 'static_resources.listeners[1].name', line: 23, column: 11 });
});

test('the router must be the last HTTP filter', () => {
  const notLast = variant('          http_filters:\n', '          http_filters:\n          - name: envoy.filters.http.router\n');
  assertError(loadError(notLast), { message: 'terminal filter "envoy.filters.http.router" must be the last HTTP filter (found at position 1 of 2)', path: `${HCM}.http_filters[0]`, line: 20, column: 13 });
  const noRouter = variant('"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', '"@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors').replace('- name: envoy.filters.http.router', '- name: envoy.filters.http.cors');
  assertError(loadError(noRouter), { message: 'the last HTTP filter must be a terminal filter (envoy.filters.http.router); found "envoy.filters.http.cors"', line: 20, column: 13 });
});

test('header names must be HTTP tokens; they are lower-cased', () => {
  const bad = loadError(variant('match: { prefix: "/" }', 'match: { prefix: "/", headers: [{ name: "X Bad", exact_match: a }] }'));
  assertError(bad, { message: 'invalid header name "X Bad"', path: `${ROUTE0}.match.headers[0].name`, line: 17, column: 57 });
  const { bootstrap, warnings } = loadBootstrap({ yaml: variant('match: { prefix: "/" }', 'match: { prefix: "/", headers: [{ name: "X-Env", string_match: { exact: a } }] }') });
  assert.deepEqual(warnings, []);
  const hcm = bootstrap.static_resources!.listeners![0].filter_chains[0].filters[0].typed_config as Record<string, any>;
  assert.equal(hcm.route_config.virtual_hosts[0].routes[0].match.headers[0].name, 'x-env');
});

test('exact_match on a HeaderMatcher stays (deprecated in v3) with a warning', () => {
  const { bootstrap, warnings } = loadBootstrap({ yaml: variant('match: { prefix: "/" }', 'match: { prefix: "/", headers: [{ name: x-env, exact_match: a }] }') });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^--config-yaml:17:64: .*headers\[0\]\.exact_match: deprecated field "exact_match" of envoy\.config\.route\.v3\.HeaderMatcher/);
  const hcm = bootstrap.static_resources!.listeners![0].filter_chains[0].filters[0].typed_config as Record<string, any>;
  assert.equal(hcm.route_config.virtual_hosts[0].routes[0].match.headers[0].exact_match, 'a');
});

test('a v3 field attache does not implement is a warning "ignored by attache"', () => {
  const { warnings } = loadBootstrap({ yaml: variant('  - name: l0\n', '  - name: l0\n    tcp_backlog_size: 128\n') });
  assert.deepEqual(warnings, ['--config-yaml:4:5: static_resources.listeners[0].tcp_backlog_size: field "tcp_backlog_size" of envoy.config.listener.v3.Listener is ignored by attache']);
});

test('pipe addresses are refused', () => {
  const e = loadError(variant('socket_address: { address: 127.0.0.1, port_value: 10000 }', 'pipe: { path: /tmp/sock }'));
  assertError(e, { message: '"pipe" is not supported by attache', path: 'static_resources.listeners[0].address.pipe', line: 5, column: 7 });
});

test('YAML syntax errors carry line and column', () => {
  assertError(loadError('admin:\n  address: {}\nadmin: {}\n'), { message: 'YAML syntax error: duplicate key in mapping', line: 3, column: 1 });
  assertError(loadError('static_resources:\n  clusters: [\n    {name: a}\n'), { message: /^YAML syntax error: /, line: 4, column: 1 });
  const tab = loadError('admin:\n\taddress: {}\n');
  assertError(tab, { message: 'YAML indentation must use spaces, not tabs (tab characters indent line 2)', line: 2, column: 1 });
  assertError(loadError('admin: {}\n---\nadmin: {}\n'), { message: 'YAML syntax error: more than one YAML document (---); a bootstrap is a single document', line: 2, column: 1 });
  assertError(loadError('- a\n- b\n'), { message: 'a bootstrap must be a YAML mapping, got a list', line: 1, column: 1 });
  assertError(loadError('# only a comment\n'), { message: /^no configuration given|^configuration is empty$/, line: undefined as unknown as number, column: undefined as unknown as number });
});

test('a missing file is a ConfigError, not an exception with a stack', () => {
  try {
    loadBootstrap({ path: '/nonexistent/attache.yaml' });
    assert.fail('must throw');
  } catch (e) {
    assert.equal((e as Error).name, 'ConfigError');
    assert.equal((e as Error).message, 'cannot read config file (ENOENT)');
  }
});

test('a filter name with no typed_config that attache cannot type is an error (gzip gets its replacement)', () => {
  const e = loadError(variant('          http_filters:\n', '          http_filters:\n          - name: envoy.gzip\n'));
  assertError(e, { message: 'unknown extension "envoy.filters.http.gzip" (no typed_config to tell its @type)', path: `${HCM}.http_filters[0].name`, line: 20, column: 19, hint: /envoy\.filters\.http\.compressor/ });
});

test('max_connections_to_accept_per_socket_event: 0 is refused (UInt32Value gt 0), a positive value loads', () => {
  const zero = BASE.replace('  - name: l0\n', '  - name: l0\n    max_connections_to_accept_per_socket_event: 0\n');
  assert.notEqual(zero, BASE);
  assertError(loadError(zero), { message: '0 must be greater than 0', path: 'static_resources.listeners[0].max_connections_to_accept_per_socket_event', line: 4, column: 49 });
  const ok = BASE.replace('  - name: l0\n', '  - name: l0\n    max_connections_to_accept_per_socket_event: 16\n');
  const b = loadBootstrap({ yaml: ok });
  assert.equal(b.bootstrap.static_resources?.listeners?.[0].max_connections_to_accept_per_socket_event, 16);
});

test('null on a wrapper or duration field means unset (proto3 JSON), not "got a mapping"', () => {
  const y = BASE.replace('  - name: l0\n', '  - name: l0\n    max_connections_to_accept_per_socket_event: null\n    per_connection_buffer_limit_bytes: null\n');
  assert.notEqual(y, BASE);
  const l = loadBootstrap({ yaml: y }).bootstrap.static_resources?.listeners?.[0];
  assert.equal(l?.max_connections_to_accept_per_socket_event, undefined);
  assert.equal(l?.per_connection_buffer_limit_bytes, undefined);
  const withTimeout = BASE.replace('connect_timeout: 1.5s', 'connect_timeout: null');
  assert.notEqual(withTimeout, BASE);
  assert.equal(loadBootstrap({ yaml: withTimeout }).bootstrap.static_resources?.clusters?.[0].connect_timeout, undefined);
});

test('a misspelt extension name gets a did-you-mean', () => {
  const e = loadError(BASE.replace(/- name: envoy\.filters\.http\.router\n\s*typed_config:\n\s*"@type": [^\n]*/, '- name: envoy.routr'));
  assert.match(e.message, /unknown extension "envoy\.routr" .*; did you mean envoy\.router\?/);
});

test('locality_weighted_lb_config on a RING_HASH cluster is warned about as ignored (attache weights localities for RR/LR/RANDOM)', () => {
  const yaml = `static_resources:
  clusters:
  - name: c
    type: STATIC
    lb_policy: RING_HASH
    common_lb_config: { locality_weighted_lb_config: {} }
    load_assignment: { cluster_name: c, endpoints: [{ locality: { zone: a }, load_balancing_weight: 1, lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } }] }] }
`;
  const { warnings } = loadBootstrap({ yaml });
  assert.ok(warnings.some((w) => /locality_weighted_lb_config is ignored by attache for RING_HASH/.test(w)), warnings.join('\n'));
  const rr = loadBootstrap({ yaml: yaml.replace('lb_policy: RING_HASH', 'lb_policy: ROUND_ROBIN') });
  assert.ok(!rr.warnings.some((w) => /locality_weighted_lb_config/.test(w)), rr.warnings.join('\n'));
});
