/**
 * The router: RouteConfiguration (src/config/model.ts) compiled once per config version into an
 * immutable RouteTable, plus the per-request helpers the connection manager calls on the matched
 * CompiledRoute (cluster pick, path/host rewrite, redirect Location, header mutations, upgrades).
 * See route-table.ts (virtual host selection), route-index.ts (first-match lookup),
 * route-entry.ts (matchers and actions), header-mutation.ts (headers_to_add/remove).
 */
export type { CompiledRoute, HeaderContext, HeaderMutation, RouteRequest, RouteTable } from './types';
export { compileRouteTable } from './route-table';
export { hostPortStart, stripHostPort, pathOnly } from './headers';
