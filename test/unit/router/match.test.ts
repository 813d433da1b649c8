import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../src/common/errors';
import type { HeaderMatcher } from '../../../src/config/model';
import { req, table, to } from './helpers';

function hit(t: ReturnType<typeof table>, path: string, headers: string[] = [], method = 'GET'): string | null {
  return t.route(req('h', path, headers, method))?.name ?? null;
}

test('prefix: startsWith on the path, query and fragment ignored', () => {
  const t = table([to('a', { prefix: '/api' })]);
  assert.equal(hit(t, '/api'), 'a');
  assert.equal(hit(t, '/apis/x?y=1'), 'a');
  assert.equal(hit(t, '/ap'), null);
  assert.equal(hit(t, '/API'), null);
  const t2 = table([to('a', { prefix: '/a?b' })]);
  assert.equal(hit(t2, '/a?b'), null, 'the query is not part of the matched path');
});

test('path: exact, query ignored', () => {
  const t = table([to('a', { path: '/x' })]);
  assert.equal(hit(t, '/x'), 'a');
  assert.equal(hit(t, '/x?q'), 'a');
  assert.equal(hit(t, '/x#frag'), 'a');
  assert.equal(hit(t, '/x/'), null);
  assert.equal(hit(t, '/X'), null);
});

test('case_sensitive: false for prefix, path and path_separated_prefix', () => {
  const t = table([
    to('p', { prefix: '/Foo', case_sensitive: false }),
    to('x', { path: '/EXACT', case_sensitive: false }),
    to('s', { path_separated_prefix: '/Sep', case_sensitive: false }),
  ]);
  assert.equal(hit(t, '/fOO/bar'), 'p');
  assert.equal(hit(t, '/exact'), 'x');
  assert.equal(hit(t, '/exact/'), null);
  assert.equal(hit(t, '/SEP/x'), 's');
  assert.equal(hit(t, '/sepx'), null);
});

test('path_separated_prefix: equal or followed by /', () => {
  const t = table([to('a', { path_separated_prefix: '/api' })]);
  assert.equal(hit(t, '/api'), 'a');
  assert.equal(hit(t, '/api/'), 'a');
  assert.equal(hit(t, '/api/v1?x'), 'a');
  assert.equal(hit(t, '/api?x'), 'a');
  assert.equal(hit(t, '/apis'), null);
  assert.throws(() => table([to('a', { path_separated_prefix: '/api/' })]), ConfigError);
  assert.throws(() => table([to('a', { path_separated_prefix: '/a?b' })]), ConfigError);
});

test('safe_regex: full match of the path without query, RE2 syntax', () => {
  const t = table([to('a', { safe_regex: { regex: '/v[0-9]+/items' } })]);
  assert.equal(hit(t, '/v12/items'), 'a');
  assert.equal(hit(t, '/v12/items?x=1'), 'a');
  assert.equal(hit(t, '/v12/items/x'), null, 'full match, not search');
  assert.equal(hit(t, 'x/v1/items'), null);
});

test('catastrophic regex finishes (RE2 is linear)', () => {
  const t = table([to('a', { safe_regex: { regex: '(a+)+$' } }), to('b', { prefix: '' })]);
  assert.equal(hit(t, 'a'.repeat(30000) + '!'), 'b');
  assert.equal(hit(t, 'aaaa'), 'a');
});

test('invalid regex and lookahead are config errors with the path', () => {
  assert.throws(() => table([to('a', { prefix: '/' }), to('b', { safe_regex: { regex: '(a' } })]),
    (e: unknown) => e instanceof ConfigError && e.path === 'virtual_hosts[0].routes[1].match.safe_regex.regex');
  assert.throws(() => table([to('a', { safe_regex: { regex: '(?=x)' } })]), ConfigError);
  assert.throws(() => table([to('a', { prefix: '/', headers: [{ name: 'x', safe_regex_match: { regex: '[' } }] })]),
    (e: unknown) => e instanceof ConfigError && e.path === 'virtual_hosts[0].routes[0].match.headers[0].safe_regex_match.regex');
});

test('first match wins in config order', () => {
  const t = table([to('a', { prefix: '/a' }), to('ab', { prefix: '/ab' }), to('all', { prefix: '/' })]);
  assert.equal(hit(t, '/abc'), 'a');
  assert.equal(hit(t, '/z'), 'all');
});

function hm(m: HeaderMatcher, headers: string[], method = 'GET'): boolean {
  return hit(table([to('a', { prefix: '/', headers: [m] })]), '/', headers, method) === 'a';
}

test('header exact_match and negative', () => {
  assert.equal(hm({ name: 'x-a', exact_match: 'v' }, ['x-a', 'v']), true);
  assert.equal(hm({ name: 'x-a', exact_match: 'v' }, ['x-a', 'V']), false);
  assert.equal(hm({ name: 'x-a', exact_match: 'v' }, []), false);
  assert.equal(hm({ name: 'X-A', exact_match: 'v' }, ['x-a', 'v']), true, 'names are case-insensitive');
});

test('multiple header values are joined with ","', () => {
  assert.equal(hm({ name: 'x-a', exact_match: 'v1,v2' }, ['x-a', 'v1', 'x-b', 'z', 'x-a', 'v2']), true);
  assert.equal(hm({ name: 'x-a', exact_match: 'v1' }, ['x-a', 'v1', 'x-a', 'v2']), false);
});

test('header safe_regex_match, range_match, prefix/suffix/contains', () => {
  assert.equal(hm({ name: 'x', safe_regex_match: { regex: 'a.c' } }, ['x', 'abc']), true);
  assert.equal(hm({ name: 'x', safe_regex_match: { regex: 'a.c' } }, ['x', 'abcd']), false);
  assert.equal(hm({ name: 'x', range_match: { start: -10, end: 10 } }, ['x', '-10']), true);
  assert.equal(hm({ name: 'x', range_match: { start: -10, end: 10 } }, ['x', '10']), false, 'end is exclusive');
  assert.equal(hm({ name: 'x', range_match: { start: 0, end: 10 } }, ['x', '5a']), false);
  assert.equal(hm({ name: 'x', prefix_match: 'ab' }, ['x', 'abc']), true);
  assert.equal(hm({ name: 'x', prefix_match: 'ab' }, ['x', 'cab']), false);
  assert.equal(hm({ name: 'x', suffix_match: 'bc' }, ['x', 'abc']), true);
  assert.equal(hm({ name: 'x', suffix_match: 'bc' }, ['x', 'bca']), false);
  assert.equal(hm({ name: 'x', contains_match: 'b' }, ['x', 'abc']), true);
  assert.equal(hm({ name: 'x', contains_match: 'z' }, ['x', 'abc']), false);
});

test('header string_match with ignore_case', () => {
  assert.equal(hm({ name: 'x', string_match: { exact: 'AbC', ignore_case: true } }, ['x', 'aBc']), true);
  assert.equal(hm({ name: 'x', string_match: { exact: 'AbC' } }, ['x', 'aBc']), false);
  assert.equal(hm({ name: 'x', string_match: { prefix: 'AB', ignore_case: true } }, ['x', 'abz']), true);
  assert.equal(hm({ name: 'x', string_match: { suffix: 'Z', ignore_case: true } }, ['x', 'abz']), true);
  assert.equal(hm({ name: 'x', string_match: { contains: 'B', ignore_case: true } }, ['x', 'abz']), true);
  assert.equal(hm({ name: 'x', string_match: { contains: 'q', ignore_case: true } }, ['x', 'abz']), false);
  assert.equal(hm({ name: 'x', string_match: { safe_regex: { regex: 'a+' } } }, ['x', 'aaa']), true);
});

test('present_match, missing headers and invert_match (Envoy semantics)', () => {
  assert.equal(hm({ name: 'x', present_match: true }, ['x', '']), true);
  assert.equal(hm({ name: 'x', present_match: true }, []), false);
  assert.equal(hm({ name: 'x', present_match: false }, []), true);
  assert.equal(hm({ name: 'x', present_match: false }, ['x', '1']), false);
  assert.equal(hm({ name: 'x' }, ['x', '1']), true, 'no specifier = present');
  assert.equal(hm({ name: 'x' }, []), false);
  assert.equal(hm({ name: 'x', present_match: true, invert_match: true }, []), true);
  assert.equal(hm({ name: 'x', present_match: true, invert_match: true }, ['x', '1']), false);
  // A missing header fails inverted value matchers too.
  assert.equal(hm({ name: 'x', exact_match: 'v', invert_match: true }, []), false);
  assert.equal(hm({ name: 'x', exact_match: 'v', invert_match: true }, ['x', 'w']), true);
  assert.equal(hm({ name: 'x', exact_match: 'v', invert_match: true }, ['x', 'v']), false);
});

test('treat_missing_header_as_empty', () => {
  assert.equal(hm({ name: 'x', string_match: { exact: '' }, treat_missing_header_as_empty: true }, []), true);
  assert.equal(hm({ name: 'x', string_match: { exact: '' } }, []), false);
  assert.equal(hm({ name: 'x', exact_match: 'v', invert_match: true, treat_missing_header_as_empty: true }, []), true);
});

test('pseudo-header matchers read the request line', () => {
  assert.equal(hm({ name: ':method', exact_match: 'POST' }, [], 'POST'), true);
  assert.equal(hm({ name: ':method', exact_match: 'POST' }, [], 'GET'), false);
  assert.equal(hit(table([to('a', { prefix: '/', headers: [{ name: ':authority', exact_match: 'h' }] })]), '/'), 'a');
});

test('query_parameters: string_match and present_match', () => {
  const t = table([
    to('q1', { prefix: '/', query_parameters: [{ name: 'debug', string_match: { exact: 'true' } }] }),
    to('q2', { prefix: '/', query_parameters: [{ name: 'v', present_match: true }] }),
    to('q3', { prefix: '/', query_parameters: [{ name: 'a b', string_match: { prefix: 'x y' } }] }),
    to('none', { prefix: '/' }),
  ]);
  assert.equal(hit(t, '/p?debug=true'), 'q1');
  assert.equal(hit(t, '/p?x=1&debug=true'), 'q1');
  assert.equal(hit(t, '/p?debug=false'), 'none');
  assert.equal(hit(t, '/p?debug=false&debug=true'), 'none', 'first value counts');
  assert.equal(hit(t, '/p?v'), 'q2');
  assert.equal(hit(t, '/p?v='), 'q2');
  assert.equal(hit(t, '/p?vv=1'), 'none');
  assert.equal(hit(t, '/p?a%20b=x%20yz'), 'q3', 'names and values are percent-decoded');
  assert.equal(hit(t, '/p#debug=true'), 'none', 'fragment is not the query');
});

test('headers and query must all match (AND)', () => {
  const t = table([to('a', { prefix: '/', headers: [{ name: 'x', exact_match: '1' }, { name: 'y', exact_match: '2' }] })]);
  assert.equal(hit(t, '/', ['x', '1', 'y', '2']), 'a');
  assert.equal(hit(t, '/', ['x', '1']), null);
});
