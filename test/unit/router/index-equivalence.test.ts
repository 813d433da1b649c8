/**
 * The indexed first-match lookup must give exactly what a naive linear scan gives. The reference
 * below is written from the spec, independently of src/router (JS RegExp for the simple patterns
 * used here, which RE2 and JS agree on).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from '../../../src/config/model';
import { regexLiteralPrefix } from '../../../src/router/route-index';
import { req, table } from './helpers';
import { seededRandom as rng } from '../seeded-random';


const SEGS = ['a', 'b', 'ab', 'A', 'api', 'v1'];

function randPath(r: () => number): string {
  const n = 1 + Math.floor(r() * 3);
  let p = '';
  for (let i = 0; i < n; i++) p += '/' + SEGS[Math.floor(r() * SEGS.length)];
  if (r() < 0.2) p += '/';
  return p;
}

function randRoute(r: () => number, i: number): Route {
  const name = `r${i}`;
  let p = randPath(r);
  const kind = r();
  const cs = r() < 0.8 ? undefined : false;
  let match: Route['match'];
  if (kind < 0.4) match = { prefix: r() < 0.5 ? p.slice(0, 1 + Math.floor(r() * p.length)) : p, case_sensitive: cs };
  else if (kind < 0.7) match = { path: p, case_sensitive: cs };
  else if (kind < 0.85) {
    if (p.endsWith('/')) p = p.slice(0, -1);
    match = { path_separated_prefix: p, case_sensitive: cs };
  } else if (kind < 0.95) {
    const q = p.replace(/\/$/, '');
    const forms = [`${q}(/[a-z]+)?`, `^${q}.*`, `${q}|/b.*`, `${q.replace(/\//g, '\\/')}x?`, `${q}[a-z]*`, `.*${q}`, `${q}+`];
    match = { safe_regex: { regex: forms[Math.floor(r() * forms.length)] } };
  }
  else match = { prefix: '' };
  if (r() < 0.15) match.headers = [{ name: 'x-h', exact_match: r() < 0.5 ? '1' : '2' }];
  if (r() < 0.1) match.query_parameters = [{ name: 'q', present_match: true }];
  return { name, match, route: { cluster: name } };
}

function naive(routes: Route[], path: string, headers: string[]): string | null {
  const cut = path.search(/[?#]/);
  const p = cut < 0 ? path : path.slice(0, cut);
  const query = path.includes('?') ? path.slice(path.indexOf('?') + 1).split('#')[0].split('&').map((kv) => kv.split('=')[0]) : [];
  for (const r of routes) {
    const m = r.match;
    const ci = m.case_sensitive === false;
    const pp = ci ? p.toLowerCase() : p;
    let ok: boolean;
    if (m.prefix !== undefined) ok = pp.startsWith(ci ? m.prefix.toLowerCase() : m.prefix);
    else if (m.path !== undefined) ok = pp === (ci ? m.path.toLowerCase() : m.path);
    else if (m.path_separated_prefix !== undefined) {
      const s = ci ? m.path_separated_prefix.toLowerCase() : m.path_separated_prefix;
      ok = pp === s || pp.startsWith(s + '/');
    } else ok = new RegExp(`^(?:${m.safe_regex!.regex})$`).test(p);
    if (!ok) continue;
    if (m.headers) {
      const vals: string[] = [];
      for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'x-h') vals.push(headers[i + 1]);
      if (vals.length === 0 || vals.join(',') !== m.headers[0].exact_match) continue;
    }
    if (m.query_parameters && !query.includes('q')) continue;
    return r.name!;
  }
  return null;
}

function check(seed: number, nRoutes: number, nReqs: number): void {
  const r = rng(seed);
  const routes = Array.from({ length: nRoutes }, (_, i) => randRoute(r, i));
  const t = table(routes);
  for (let i = 0; i < nReqs; i++) {
    let path = randPath(r);
    if (r() < 0.3) path += '?q=1';
    else if (r() < 0.1) path += '#q';
    const headers = r() < 0.5 ? ['x-h', r() < 0.5 ? '1' : '2'] : [];
    const got = t.route(req('h', path, headers))?.name ?? null;
    assert.equal(got, naive(routes, path, headers), `seed ${seed} path ${path} headers ${headers}`);
  }
}

test('indexed lookup equals a naive scan: many small tables', () => {
  for (let seed = 1; seed <= 200; seed++) check(seed, 1 + (seed % 40), 50);
});

test('indexed lookup equals a naive scan: 10,000 routes', () => {
  check(4242, 10_000, 3000);
});

test('10,000 routes: the last route is still found', () => {
  const routes: Route[] = [];
  for (let i = 0; i < 9999; i++) routes.push({ name: `r${i}`, match: { path: `/p/${i}` }, route: { cluster: 'c' } });
  routes.push({ name: 'last', match: { prefix: '/last' }, route: { cluster: 'c' } });
  const t = table(routes);
  assert.equal(t.route(req('h', '/last/x'))?.name, 'last');
  assert.equal(t.route(req('h', '/p/5000'))?.name, 'r5000');
  assert.equal(t.route(req('h', '/p/10000')), null);
});

test('regexLiteralPrefix is conservative', () => {
  assert.equal(regexLiteralPrefix('/api/v[0-9]+'), '/api/v');
  assert.equal(regexLiteralPrefix('^/a\\.b/c'), '/a.b/c');
  assert.equal(regexLiteralPrefix('/abc?'), '/ab');
  assert.equal(regexLiteralPrefix('/ab*'), '/a');
  assert.equal(regexLiteralPrefix('/ab{0,2}'), '/a');
  assert.equal(regexLiteralPrefix('/ab+'), '/ab');
  assert.equal(regexLiteralPrefix('/a|/b'), '');
  assert.equal(regexLiteralPrefix('(?i)/abc'), '');
  assert.equal(regexLiteralPrefix('/a\\d'), '/a');
  assert.equal(regexLiteralPrefix('.*'), '');
});
