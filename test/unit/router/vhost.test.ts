import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteTable } from '../../../src/router';
import { ConfigError } from '../../../src/common/errors';
import type { VirtualHost } from '../../../src/config/model';
import { req } from './helpers';

function vh(name: string, domains: string[]): VirtualHost {
  return { name, domains, routes: [{ match: { prefix: '/' }, route: { cluster: name } }] };
}

const t = compileRouteTable({
  name: 'rc',
  virtual_hosts: [
    vh('exact', ['foo.com', 'Mixed.Example.COM', 'ported.com:8080']),
    vh('suffix-foo', ['*.foo.com']),
    vh('suffix-bar-foo', ['*-bar.foo.com']),
    vh('suffix-com', ['*.com']),
    vh('prefix-foo', ['foo.*']),
    vh('prefix-foobar', ['foo.bar.*']),
    vh('default', ['*']),
  ],
});

function pick(authority: string): string | undefined {
  return t.route(req(authority, '/'))?.virtualHostName;
}

test('exact domain wins over every wildcard', () => {
  assert.equal(pick('foo.com'), 'exact');
});

test('host matching is case-insensitive on both sides', () => {
  assert.equal(pick('FOO.com'), 'exact');
  assert.equal(pick('mixed.example.com'), 'exact');
  assert.equal(pick('WWW.FOO.COM'), 'suffix-foo');
});

test('longest suffix wildcard wins', () => {
  assert.equal(pick('a.foo.com'), 'suffix-foo');
  assert.equal(pick('x-bar.foo.com'), 'suffix-bar-foo');
  assert.equal(pick('a.b.com'), 'suffix-com');
});

test('a wildcard must cover at least one character', () => {
  // "*.foo.com" does not match ".foo.com"; "*.com" does (the wildcard covers ".foo").
  assert.equal(pick('.foo.com'), 'suffix-com');
  assert.equal(pick('.com'), 'default');
});

test('suffix wildcards are tried before prefix wildcards', () => {
  // foo.x.com matches both *.com and foo.*; suffix wins.
  assert.equal(pick('foo.x.com'), 'suffix-com');
  assert.equal(pick('foo.org'), 'prefix-foo');
  assert.equal(pick('foo.bar.org'), 'prefix-foobar');
});

test('anything else falls to *', () => {
  assert.equal(pick('example.org'), 'default');
  assert.equal(pick('localhost'), 'default');
});

test('the port is part of the host: no retry without it', () => {
  assert.equal(pick('ported.com:8080'), 'exact');
  assert.equal(pick('ported.com'), 'suffix-com', 'not the exact ported.com:8080 vhost');
  // "foo.com:80" is not "foo.com" and does not end with ".com"; it does start with "foo.".
  assert.equal(pick('foo.com:80'), 'prefix-foo');
});

test('wildcards see the port too', () => {
  // "a.foo.com:80" ends with ":80", not ".foo.com", and no prefix wildcard matches.
  assert.equal(pick('a.foo.com:80'), 'default');
  assert.equal(pick('foo.org:80'), 'prefix-foo');
});

test('ignore_port_in_host_matching strips the port before lookup', () => {
  const t2 = compileRouteTable({
    virtual_hosts: [vh('a', ['a.com']), vh('d', ['*'])],
    ignore_port_in_host_matching: true,
  } as never);
  assert.equal(t2.route(req('a.com:9999', '/'))?.virtualHostName, 'a');
  assert.equal(t2.route(req('A.COM', '/'))?.virtualHostName, 'a');
});

test('no Host: no vhost unless the table only has *', () => {
  assert.equal(t.route(req('', '/')), null);
  const only = compileRouteTable({ virtual_hosts: [vh('d', ['*'])] });
  assert.equal(only.route(req('', '/'))?.virtualHostName, 'd');
});

test('no matching vhost and no * → null', () => {
  const t2 = compileRouteTable({ virtual_hosts: [vh('a', ['a.com'])] });
  assert.equal(t2.route(req('b.com', '/')), null);
  assert.equal(t2.route(req('a.com', '/'))?.virtualHostName, 'a');
});

test('IPv6 host with port', () => {
  const t2 = compileRouteTable({ virtual_hosts: [vh('v6', ['[::1]:8080']), vh('d', ['*'])] });
  assert.equal(t2.route(req('[::1]:8080', '/'))?.virtualHostName, 'v6');
  assert.equal(t2.route(req('[::1]', '/'))?.virtualHostName, 'd');
});

test('duplicate domains are config errors (case-insensitive), with path', () => {
  assert.throws(() => compileRouteTable({ virtual_hosts: [vh('a', ['x.com']), vh('b', ['X.com'])] }),
    (e: unknown) => e instanceof ConfigError && e.path === 'virtual_hosts[1].domains[0]' && /Duplicate entry of domain x.com/.test(e.message));
  assert.throws(() => compileRouteTable({ virtual_hosts: [vh('a', ['*.x.com', '*.x.com'])] }), ConfigError);
  assert.throws(() => compileRouteTable({ virtual_hosts: [vh('a', ['x.*']), vh('b', ['x.*'])] }), ConfigError);
  assert.throws(() => compileRouteTable({ virtual_hosts: [vh('a', ['*']), vh('b', ['*'])] }), /single wildcard/);
  // The same text as suffix and prefix wildcard is not a duplicate.
  assert.doesNotThrow(() => compileRouteTable({ virtual_hosts: [vh('a', ['*.x']), vh('b', ['x.*']), vh('c', ['x'])] }));
});

test('require_tls ALL redirects plain requests to https, keeps host and path', () => {
  const t2 = compileRouteTable({ virtual_hosts: [{ ...vh('s', ['*']), require_tls: 'ALL' }] });
  const r = t2.route(req('a.com:8080', '/p?q=1', ['x-forwarded-proto', 'http']))!;
  assert.equal(r.kind, 'redirect');
  assert.deepEqual(r.redirect(req('a.com:8080', '/p?q=1'), 'http'), { status: 301, location: 'https://a.com:8080/p?q=1' });
  assert.equal(t2.route(req('a.com', '/', ['x-forwarded-proto', 'https']))!.kind, 'cluster');
  const t3 = compileRouteTable({ virtual_hosts: [{ ...vh('s', ['*']), require_tls: 'EXTERNAL_ONLY' }] });
  assert.equal(t3.route(req('a.com', '/', ['x-forwarded-proto', 'http', 'x-envoy-internal', 'true']))!.kind, 'cluster');
  assert.equal(t3.route(req('a.com', '/', ['x-forwarded-proto', 'http']))!.kind, 'redirect');
});

test('internal_only_headers are exposed lowercased for the HCM', () => {
  const t2 = compileRouteTable({ internal_only_headers: ['X-Internal-Secret'], virtual_hosts: [vh('d', ['*'])] });
  assert.deepEqual(t2.internalOnlyHeaders, ['x-internal-secret']);
  assert.equal(t2.name, undefined);
  assert.equal(t.name, 'rc');
});
