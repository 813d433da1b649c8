/**
 * Micro-benchmark: RouteTable.route() at 1 / 100 / 10,000 routes, the request matching the LAST
 * route (the worst case for a linear scan). Variants: prefix routes, exact-path routes, prefix
 * routes that also match a header, and safe_regex routes (indexed by their literal prefix).
 * Run: `npx tsc -p tsconfig.json && node dist/bench/micro/route-match.js` → one JSON line per case.
 */
import { compileRouteTable } from '../../src/router';
import type { Route } from '../../src/config/model';
import type { RouteRequest } from '../../src/router';

type Kind = 'prefix' | 'path' | 'prefix+header' | 'regex';

function routesFor(kind: Kind, n: number): Route[] {
  const out: Route[] = [];
  for (let i = 0; i < n; i++) {
    const seg = `/svc${i}/`;
    const match: Route['match'] =
      kind === 'path' ? { path: `${seg}items` }
        : kind === 'regex' ? { safe_regex: { regex: `/svc${i}/[a-z]+` } }
          : { prefix: seg };
    if (kind === 'prefix+header') match.headers = [{ name: 'x-tenant', exact_match: 'blue' }];
    out.push({ name: `r${i}`, match, route: { cluster: `c${i % 10}` } });
  }
  return out;
}

/** Runs one case and returns matches per second. */
export function bench(kind: Kind, n: number, minMs = 400): { kind: Kind; routes: number; opsPerSec: number; nsPerOp: number } {
  const table = compileRouteTable({
    name: 'bench',
    virtual_hosts: [
      { name: 'other', domains: ['other.example.com', '*.other.com'], routes: [{ match: { prefix: '/' }, route: { cluster: 'x' } }] },
      { name: 'main', domains: ['api.example.com', '*'], routes: routesFor(kind, n) },
    ],
  });
  const req: RouteRequest = {
    authority: 'api.example.com',
    path: `/svc${n - 1}/items?limit=10`,
    method: 'GET',
    headers: ['host', 'api.example.com', 'user-agent', 'bench', 'accept', '*/*', 'x-tenant', 'blue'],
  };
  const expect = `r${n - 1}`;
  if (table.route(req)?.name !== expect) throw new Error(`${kind}/${n}: wrong route`);
  let iters = 1000;
  let sink = 0;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) if (table.route(req) !== null) sink++;
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns >= minMs * 1e6) {
      if (sink === 0) throw new Error('unreachable');
      return { kind, routes: n, opsPerSec: Math.round((iters / ns) * 1e9), nsPerOp: Math.round(ns / iters) };
    }
    iters *= 2;
  }
}

if (require.main === module) {
  const cases: Array<[Kind, number]> = [
    ['prefix', 1], ['prefix', 100], ['prefix', 10_000],
    ['path', 1], ['path', 100], ['path', 10_000],
    ['prefix+header', 1], ['prefix+header', 100], ['prefix+header', 10_000],
    ['regex', 1], ['regex', 100], ['regex', 10_000],
  ];
  for (const [kind, n] of cases) console.log(JSON.stringify({ bench: 'route-match', ...bench(kind, n) }));
}
