import type { RouteConfiguration, Route } from '../../../src/config/model';
import { compileRouteTable } from '../../../src/router';
import type { RouteRequest, RouteTable } from '../../../src/router';

export function req(authority: string, path: string, headers: string[] = [], method = 'GET'): RouteRequest {
  return { authority, path, method, headers };
}

/** A one-vhost (`*`) table over `routes`. */
export function table(routes: Route[], extra: Partial<RouteConfiguration> = {}): RouteTable {
  return compileRouteTable({ name: 'rc', virtual_hosts: [{ name: 'vh', domains: ['*'], routes }], ...extra });
}

/** Route to cluster `c` with the given match. */
export function to(c: string, match: Route['match'], more: Partial<Route> = {}): Route {
  return { name: c, match, route: { cluster: c }, ...more };
}
