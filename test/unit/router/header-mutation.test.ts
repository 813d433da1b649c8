import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { ConfigError } from '../../../src/common/errors';
import { compileRouteTable } from '../../../src/router';
import type { HeaderContext } from '../../../src/router';
import type { HeaderValueOption, RouteConfiguration } from '../../../src/config/model';
import { req } from './helpers';

const ctx: HeaderContext = {
  downstreamRemoteAddress: '10.1.2.3',
  downstreamRemotePort: 5555,
  downstreamLocalAddress: '127.0.0.1:10000',
  protocol: 'HTTP/1.1',
  startTimeMs: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
  requestHeaders: ['user-agent', 'curl/8', 'x-a', 'A1', 'x-a', 'A2'],
};

function hvo(key: string, value: string, more: Partial<HeaderValueOption> = {}): HeaderValueOption {
  return { header: { key, value }, ...more };
}

/** Table whose single route has `route`/`vh`/`rc` request header lists. */
function mk(route: HeaderValueOption[], vh: HeaderValueOption[] = [], rc: HeaderValueOption[] = [], extra: Partial<RouteConfiguration> = {}) {
  return compileRouteTable({
    request_headers_to_add: rc,
    response_headers_to_add: rc,
    ...extra,
    virtual_hosts: [{
      name: 'v', domains: ['*'], request_headers_to_add: vh, response_headers_to_add: vh,
      routes: [{ match: { prefix: '/' }, route: { cluster: 'c' }, request_headers_to_add: route, response_headers_to_add: route }],
    }],
  }).route(req('h', '/'))!;
}

function run(r: ReturnType<typeof mk>, headers: string[], which: 'request' | 'response' = 'request'): string[] {
  const h = headers.slice();
  (which === 'request' ? r.requestHeaders : r.responseHeaders).apply(h, ctx);
  return h;
}

test('default order: route, then vhost, then route_config (least specific overwrite wins)', () => {
  const r = mk([hvo('x', 'route', { append: false })], [hvo('x', 'vh', { append: false })], [hvo('x', 'rc', { append: false })]);
  assert.deepEqual(run(r, ['x', 'orig']), ['x', 'rc']);
  assert.deepEqual(run(r, ['x', 'orig'], 'response'), ['x', 'rc']);
});

test('most_specific_header_mutations_wins reverses the order', () => {
  const r = mk([hvo('x', 'route', { append: false })], [hvo('x', 'vh', { append: false })], [hvo('x', 'rc', { append: false })], { most_specific_header_mutations_wins: true });
  assert.deepEqual(run(r, ['x', 'orig']), ['x', 'route']);
});

test('append (default true) adds values in level order', () => {
  const r = mk([hvo('X-Y', 'route')], [hvo('x-y', 'vh')], [hvo('x-y', 'rc')]);
  assert.deepEqual(run(r, ['x-y', 'orig', 'z', '1']), ['x-y', 'orig', 'z', '1', 'x-y', 'route', 'x-y', 'vh', 'x-y', 'rc']);
});

test('append_action: ADD_IF_ABSENT, OVERWRITE_IF_EXISTS, OVERWRITE_IF_EXISTS_OR_ADD', () => {
  const absent = mk([hvo('x', 'new', { append_action: 'ADD_IF_ABSENT' })]);
  assert.deepEqual(run(absent, ['x', 'old']), ['x', 'old']);
  assert.deepEqual(run(absent, []), ['x', 'new']);
  const ifExists = mk([hvo('x', 'new', { append_action: 'OVERWRITE_IF_EXISTS' })]);
  assert.deepEqual(run(ifExists, []), []);
  assert.deepEqual(run(ifExists, ['x', 'a', 'y', '1', 'x', 'b']), ['y', '1', 'x', 'new']);
  const orAdd = mk([hvo('x', 'new', { append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })]);
  assert.deepEqual(run(orAdd, []), ['x', 'new']);
  assert.deepEqual(run(orAdd, ['x', 'a', 'x', 'b']), ['x', 'new']);
});

test('within one level: overwrites go before appends; conditions see the headers before this level adds', () => {
  const r = mk([hvo('x', 'appended'), hvo('x', 'set', { append: false })]);
  assert.deepEqual(run(r, ['x', 'orig']), ['x', 'set', 'x', 'appended']);
  const twice = mk([hvo('x', '1', { append_action: 'ADD_IF_ABSENT' }), hvo('x', '2', { append_action: 'ADD_IF_ABSENT' })]);
  assert.deepEqual(run(twice, []), ['x', '1', 'x', '2']);
});

test('empty values are skipped unless keep_empty_value', () => {
  const r = mk([hvo('a', ''), hvo('b', '', { keep_empty_value: true }), hvo('c', '%UPSTREAM_REMOTE_ADDRESS%')]);
  assert.deepEqual(run(r, []), ['b', '']);
});

test('removals happen before additions of the same level', () => {
  const t = compileRouteTable({
    request_headers_to_remove: ['x-route'],
    virtual_hosts: [{
      name: 'v', domains: ['*'],
      routes: [{ match: { prefix: '/' }, route: { cluster: 'c' }, request_headers_to_add: [hvo('x-route', 'r')], request_headers_to_remove: ['X-Gone', 'x-route'] }],
    }],
  }).route(req('h', '/'))!;
  // Route level removes then adds x-route; route_config level (after it) removes it again.
  assert.deepEqual(run(t, ['x-gone', '1', 'x-route', 'old', 'keep', 'k']), ['keep', 'k']);
});

test('command operators', () => {
  const r = mk([
    hvo('a', '%DOWNSTREAM_REMOTE_ADDRESS%'),
    hvo('b', '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%'),
    hvo('c', '%DOWNSTREAM_LOCAL_ADDRESS%'),
    hvo('d', '%PROTOCOL%'),
    hvo('e', '%START_TIME%'),
    hvo('f', 'ua=%REQ(User-Agent)% 100%%'),
    hvo('g', '%REQ(x-missing?x-a)%'),
    hvo('h', '%REQ(user-agent):3%'),
    hvo('i', '%HOSTNAME%'),
    hvo('j', '%START_TIME(%Y/%m/%d %H:%M:%E3S %s)%'),
    hvo('k', '%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%'),
    hvo('l', '%START_TIME(%s.%3f)%'),
  ]);
  assert.deepEqual(run(r, []), [
    'a', '10.1.2.3:5555',
    'b', '10.1.2.3',
    'c', '127.0.0.1:10000',
    'd', 'HTTP/1.1',
    'e', '2024-01-02T03:04:05.678Z',
    'f', 'ua=curl/8 100%',
    'g', 'A1',
    'h', 'cur',
    'i', hostname(),
    'j', `2024/01/02 03:04:05.678 ${Math.floor(ctx.startTimeMs / 1000)}`,
    'k', '127.0.0.1',
    'l', `${Math.floor(ctx.startTimeMs / 1000)}.678`,
  ]);
  const h: string[] = [];
  mk([hvo('a', '%DOWNSTREAM_REMOTE_ADDRESS%'), hvo('u', '%UPSTREAM_REMOTE_ADDRESS%')]).requestHeaders.apply(h, { ...ctx, downstreamRemoteAddress: '::1', upstreamRemoteAddress: '10.0.0.9:80' });
  assert.deepEqual(h, ['a', '[::1]:5555', 'u', '10.0.0.9:80']);
});

test('%REQ(...)% reads the pseudo-headers from the request head: :path, :method, :authority (and host), :scheme', () => {
  const h: string[] = [];
  const r = mk([hvo('p', '%REQ(:path)%'), hvo('m', '%REQ(:METHOD)%'), hvo('a', '%REQ(:authority)%'), hvo('x-host', '%REQ(host)%'), hvo('s', '%REQ(:scheme)%')]);
  r.requestHeaders.apply(h, { ...ctx, method: 'GET', path: '/a/b?c=d', authority: 'orig.host', scheme: 'http' });
  assert.deepEqual(h, ['p', '/a/b?c=d', 'm', 'GET', 'a', 'orig.host', 'x-host', 'orig.host', 's', 'http']);
});

test('forbidden and invalid header mutations are config errors with paths', () => {
  const bad = (route: Record<string, unknown>) => () => compileRouteTable({ virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' }, ...route }] }] });
  assert.throws(bad({ request_headers_to_add: [hvo(':path', '/x')] }),
    (e: unknown) => e instanceof ConfigError && e.path === 'virtual_hosts[0].routes[0].request_headers_to_add[0].header.key' && /may not be modified/.test(e.message));
  assert.throws(bad({ request_headers_to_add: [hvo('Host', 'x')] }), /may not be modified/);
  assert.throws(bad({ response_headers_to_remove: ['x', ':status'] }),
    (e: unknown) => e instanceof ConfigError && e.path === 'virtual_hosts[0].routes[0].response_headers_to_remove[1]');
  assert.throws(bad({ request_headers_to_remove: ['HOST'] }), /may not be removed/);
  assert.throws(bad({ request_headers_to_add: [hvo('x', 'v', { append: true, append_action: 'ADD_IF_ABSENT' })] }), /Both append and append_action/);
  assert.throws(bad({ request_headers_to_add: [hvo('x', '%NOPE%')] }), /unsupported command operator/);
  assert.throws(bad({ request_headers_to_add: [hvo('x', 'a%b')] }), /unterminated/);
  assert.throws(bad({ request_headers_to_add: [hvo('bad name', 'v')] }), /invalid header name/);
  assert.throws(() => compileRouteTable({ request_headers_to_remove: [':authority'], virtual_hosts: [] }),
    (e: unknown) => e instanceof ConfigError && e.path === 'request_headers_to_remove[0]');
  assert.throws(() => compileRouteTable({ request_headers_to_remove: [':authority'] }, { pathPrefix: 'listeners[0].route_config' }),
    (e: unknown) => e instanceof ConfigError && e.path === 'listeners[0].route_config.request_headers_to_remove[0]');
});

test('a route with no mutations anywhere reports empty', () => {
  const r = mk([]);
  assert.equal(r.requestHeaders.empty, true);
  assert.equal(run(r, ['a', 'b']).length, 2);
  assert.equal(mk([hvo('a', 'b')]).requestHeaders.empty, false);
});
