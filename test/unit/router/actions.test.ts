import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/common/errors';
import { compileRouteTable } from '../../../src/router';
import type { RedirectAction, Route, RouteAction } from '../../../src/config/model';
import { req, table } from './helpers';

function only(r: Route) {
  const route = table([r]).route(req('a.com', r.match.path ?? r.match.prefix ?? r.match.path_separated_prefix ?? '/x'));
  assert.ok(route, 'route matched');
  return route;
}
function action(a: RouteAction, match: Route['match'] = { prefix: '/' }) {
  return only({ match, route: a });
}

test('cluster: fixed name, ignores headers and rand', () => {
  const r = action({ cluster: 'c1' });
  assert.equal(r.kind, 'cluster');
  assert.equal(r.clusterName([], 0.7), 'c1');
});

test('cluster_header: first value; missing or empty → null (caller answers 503 NC)', () => {
  const r = action({ cluster_header: 'X-Cluster' });
  assert.equal(r.clusterName(['x-cluster', 'blue', 'x-cluster', 'green'], 0), 'blue');
  assert.equal(r.clusterName(['other', 'x'], 0), null);
  assert.equal(r.clusterName(['x-cluster', ''], 0), null);
  assert.equal(r.clusterNotFoundStatus, 503);
});

test('weighted_clusters: picks by cumulative weight with the given random number', () => {
  const r = action({ weighted_clusters: { clusters: [{ name: 'a', weight: 25 }, { name: 'z', weight: 0 }, { name: 'b', weight: 75 }] } });
  assert.equal(r.clusterName([], 0), 'a');
  assert.equal(r.clusterName([], 0.2499), 'a');
  assert.equal(r.clusterName([], 0.25), 'b');
  assert.equal(r.clusterName([], 0.99999), 'b');
  const counts: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) { const c = r.clusterName([], i / 1000)!; counts[c] = (counts[c] ?? 0) + 1; }
  assert.deepEqual(counts, { a: 250, b: 750 });
});

test('weighted_clusters validation', () => {
  assert.throws(() => action({ weighted_clusters: { clusters: [{ name: 'a', weight: 0 }] } }), /greater than 0/);
  assert.throws(() => action({ weighted_clusters: { clusters: [{ name: 'a', weight: 1 }], total_weight: 100 } }), /total_weight/);
  assert.throws(() => action({ weighted_clusters: { clusters: [] } }), ConfigError);
});

test('route needs exactly one cluster specifier and one action', () => {
  assert.throws(() => action({}), (e: unknown) => e instanceof ConfigError && e.path === 'virtual_hosts[0].routes[0].route');
  assert.throws(() => action({ cluster: 'a', cluster_header: 'x' }), ConfigError);
  assert.throws(() => table([{ match: { prefix: '/' } }]), ConfigError);
  assert.throws(() => table([{ match: { prefix: '/' }, route: { cluster: 'a' }, direct_response: { status: 200 } }]), ConfigError);
  assert.throws(() => table([{ match: { prefix: '/', path: '/' }, route: { cluster: 'a' } }]), ConfigError);
});

test('prefix_rewrite replaces the matched prefix and keeps the query', () => {
  assert.equal(action({ cluster: 'c', prefix_rewrite: '/v2' }, { prefix: '/v1' }).rewritePath('/v1/items?x=1'), '/v2/items?x=1');
  assert.equal(action({ cluster: 'c', prefix_rewrite: '/' }, { prefix: '/api/' }).rewritePath('/api/a'), '/a');
  assert.equal(action({ cluster: 'c', prefix_rewrite: '/new' }, { path: '/old' }).rewritePath('/old?q'), '/new?q');
  assert.equal(action({ cluster: 'c', prefix_rewrite: '/b' }, { path_separated_prefix: '/a' }).rewritePath('/a/x'), '/b/x');
  const ci = table([{ match: { prefix: '/API', case_sensitive: false }, route: { cluster: 'c', prefix_rewrite: '/v' } }]).route(req('h', '/api/x'))!;
  assert.equal(ci.rewritePath('/api/x'), '/v/x');
  const rx = table([{ match: { safe_regex: { regex: '/r/.*' } }, route: { cluster: 'c', prefix_rewrite: '/whole' } }]).route(req('h', '/r/x?q=1'))!;
  assert.equal(rx.rewritePath('/r/x?q=1'), '/whole?q=1', 'regex routes: the whole path is the matched part');
  assert.equal(action({ cluster: 'c' }).rewritePath('/x'), null);
});

test('regex_rewrite: RE2 replace-all on the path, \\N groups, query kept', () => {
  const r = action({ cluster: 'c', regex_rewrite: { pattern: { regex: '^/service/([^/]+)(/.*)$' }, substitution: '\\2/instance/\\1' } });
  assert.equal(r.rewritePath('/service/foo/v1/api?x=/service/a/b'), '/v1/api/instance/foo?x=/service/a/b');
  const all = action({ cluster: 'c', regex_rewrite: { pattern: { regex: 'one' }, substitution: 'two' } });
  assert.equal(all.rewritePath('/xxx/one/yyy/one/zzz'), '/xxx/two/yyy/two/zzz');
  assert.equal(all.rewritePath('/nothing'), '/nothing');
  const bs = action({ cluster: 'c', regex_rewrite: { pattern: { regex: '/a' }, substitution: '\\\\x' } });
  assert.equal(bs.rewritePath('/a'), '\\x');
  const empty = action({ cluster: 'c', regex_rewrite: { pattern: { regex: 'a*' }, substitution: '-' } });
  assert.equal(empty.rewritePath('baaac'), '-b-c-', 'RE2 GlobalReplace skips an empty match right after a match');
});

test('regex_rewrite errors', () => {
  assert.throws(() => action({ cluster: 'c', regex_rewrite: { pattern: { regex: '(a)' }, substitution: '\\2' } }), /group/);
  assert.throws(() => action({ cluster: 'c', regex_rewrite: { pattern: { regex: 'a' }, substitution: '\\q' } }), ConfigError);
  assert.throws(() => action({ cluster: 'c', prefix_rewrite: '/', regex_rewrite: { pattern: { regex: 'a' }, substitution: 'b' } }), /both prefix_rewrite and regex_rewrite/);
});

test('host rewrites and timeouts', () => {
  const lit = action({ cluster: 'c', host_rewrite_literal: 'up.internal' });
  assert.equal(lit.hostRewriteLiteral, 'up.internal');
  assert.equal(lit.autoHostRewrite, false);
  assert.equal(action({ cluster: 'c', auto_host_rewrite: true }).autoHostRewrite, true);
  assert.equal(action({ cluster: 'c', host_rewrite_header: 'X-Host' }).hostRewriteHeader, 'x-host');
  assert.throws(() => action({ cluster: 'c', host_rewrite_literal: 'a', auto_host_rewrite: true }), ConfigError);
  assert.equal(lit.timeoutMs, 15000);
  assert.equal(action({ cluster: 'c', timeout: '0s' }).timeoutMs, 0);
  assert.equal(action({ cluster: 'c', timeout: '2.500s' }).timeoutMs, 2500);
  assert.equal(action({ cluster: 'c', idle_timeout: '1s' }).idleTimeoutMs, 1000);
});

test('upgrade_configs per route override the HCM default', () => {
  const r = action({ cluster: 'c', upgrade_configs: [{ upgrade_type: 'WebSocket' }, { upgrade_type: 'h2c', enabled: false }] });
  assert.equal(r.upgradeAllowed('websocket', false), true);
  assert.equal(r.upgradeAllowed('H2C', true), false);
  assert.equal(r.upgradeAllowed('other', true), true);
  assert.equal(r.upgradeAllowed('other', false), false);
  assert.throws(() => action({ cluster: 'c', upgrade_configs: [{ upgrade_type: 'a' }, { upgrade_type: 'A' }] }), /Duplicate upgrade/);
});

test('direct_response: status and inline body', () => {
  const r = only({ match: { prefix: '/' }, direct_response: { status: 418, body: { inline_string: 'teapot' } } });
  assert.equal(r.kind, 'direct_response');
  assert.equal(r.directResponse!.status, 418);
  assert.equal(r.directResponse!.body!.toString(), 'teapot');
  assert.equal(r.clusterName([], 0), null);
  assert.equal(r.redirect(req('a', '/'), 'http'), null);
  const b = only({ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_bytes: Buffer.from([0, 255]).toString('base64') } } });
  assert.deepEqual([...b.directResponse!.body!], [0, 255]);
  assert.equal(only({ match: { prefix: '/' }, direct_response: { status: 204 } }).directResponse!.body, null);
  assert.throws(() => only({ match: { prefix: '/' }, direct_response: { status: 600 } }), ConfigError);
  assert.throws(() => only({ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'x'.repeat(4097) } } }), /maximum is 4096/);
});

function loc(r: RedirectAction, authority: string, path: string, headers: string[] = [], scheme = 'http', match: Route['match'] = { prefix: '/' }) {
  const t = table([{ match, redirect: r }]);
  const route = t.route(req(authority, path, headers))!;
  assert.equal(route.kind, 'redirect');
  return route.redirect(req(authority, path, headers), scheme);
}

test('redirect Location as Envoy builds it', () => {
  assert.deepEqual(loc({ https_redirect: true }, 'a.com', '/p?q=1'), { status: 301, location: 'https://a.com/p?q=1' });
  assert.equal(loc({ https_redirect: true }, 'a.com:80', '/p')!.location, 'https://a.com/p', ':80 dropped when switching http→https');
  assert.equal(loc({ https_redirect: true }, 'a.com:8080', '/p')!.location, 'https://a.com:8080/p');
  assert.equal(loc({ https_redirect: true }, '[::1]:80', '/p')!.location, 'https://[::1]/p');
  assert.equal(loc({ scheme_redirect: 'http' }, 'a.com:443', '/p', ['x-forwarded-proto', 'https'])!.location, 'http://a.com/p');
  assert.equal(loc({ host_redirect: 'b.com' }, 'a.com:8080', '/p')!.location, 'http://b.com/p');
  assert.equal(loc({ port_redirect: 8443 }, 'a.com:80', '/p')!.location, 'http://a.com:8443/p');
  assert.equal(loc({ host_redirect: 'b.com', port_redirect: 81 }, 'a.com', '/p')!.location, 'http://b.com:81/p');
  assert.equal(loc({ path_redirect: '/new' }, 'a.com', '/old?x=1')!.location, 'http://a.com/new?x=1');
  assert.equal(loc({ path_redirect: '/new', strip_query: true }, 'a.com', '/old?x=1')!.location, 'http://a.com/new');
  assert.equal(loc({ path_redirect: '/new?y=2', strip_query: true }, 'a.com', '/old?x=1')!.location, 'http://a.com/new?y=2');
  assert.equal(loc({ path_redirect: 'rel' }, 'a.com', '/old')!.location, 'http://a.com/rel');
  assert.equal(loc({ prefix_rewrite: '/v2' }, 'a.com', '/v1/a?z', [], 'http', { prefix: '/v1' })!.location, 'http://a.com/v2/a?z');
  assert.equal(loc({ regex_rewrite: { pattern: { regex: '^/u/([^/]+)$' }, substitution: '/users/\\1' } }, 'a.com', '/u/bob?x')!.location, 'http://a.com/users/bob?x');
  assert.equal(loc({ strip_query: true }, 'a.com', '/p?x')!.location, 'http://a.com/p');
  assert.equal(loc({}, 'a.com', '/p', [], 'https')!.location, 'https://a.com/p', 'keeps the request scheme');
});

test('redirect response codes', () => {
  const codes = { MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308 } as const;
  for (const [k, v] of Object.entries(codes)) {
    assert.equal(loc({ response_code: k as RedirectAction['response_code'] }, 'a', '/')!.status, v);
  }
  assert.throws(() => loc({ path_redirect: '/a', prefix_rewrite: '/b' }, 'a', '/'), ConfigError);
  assert.throws(() => loc({ https_redirect: true, scheme_redirect: 'http' }, 'a', '/'), ConfigError);
});

test('typed_per_filter_config merges route_config → vhost → route', () => {
  const t = compileRouteTable({
    typed_per_filter_config: { f0: { '@type': 'rc' } },
    virtual_hosts: [{
      name: 'v', domains: ['*'],
      typed_per_filter_config: { f1: { '@type': 'vh' }, f2: { '@type': 'vh' } },
      routes: [{ match: { prefix: '/' }, route: { cluster: 'c', hash_policy: [{ header: { header_name: 'x' } }] }, typed_per_filter_config: { f2: { '@type': 'route' } } }],
    }],
  } as never);
  const r = t.route(req('a', '/'))!;
  assert.deepEqual(Object.fromEntries(r.perFilterConfig), { f0: { '@type': 'rc' }, f1: { '@type': 'vh' }, f2: { '@type': 'route' } });
  assert.deepEqual(r.hashPolicy, [{ header: { header_name: 'x' } }]);
  assert.equal(r.virtualHostName, 'v');
});
