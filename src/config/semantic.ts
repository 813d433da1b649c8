/**
 * Checks across messages, after the descriptor walk: names unique, routes naming defined clusters,
 * a terminal HTTP filter last, RE2 regexes that compile, header names that are HTTP tokens
 * (lower-cased here, as Envoy's LowerCaseString does).
 */

import { re2 } from '../common/re2';
import { formatPos, posOf } from './load';
import { childPath, fail, suggest } from './diagnostics';
import type { Seen, SeenByType } from './proto-schema';
import { checkAdminAddress, checkListenerAddresses, checkStaticEndpoints } from './addresses';

type Obj = Record<string, unknown>;

const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
/** Filters Envoy accepts as the last (terminal) HTTP filter. */
const TERMINAL_TYPES = new Set([ROUTER_TYPE]);
const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** RFC 7230 tchar, plus a leading ':' for pseudo-headers. */
const HEADER_NAME_RE = /^:?[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Runs the semantic checks and lower-cases header names in place.
 * @param root the walked bootstrap
 * @param seen message objects by type from the walk
 * @throws ConfigError at the first problem
 */
export function checkSemantics(root: Obj, seen: SeenByType): void {
  const of = (t: string): Seen[] => seen.get(t) ?? [];
  uniqueNames(of('envoy.config.listener.v3.Listener'), 'listener');
  checkListenerAddresses(of('envoy.config.listener.v3.Listener'));
  checkAdminAddress(root);
  for (const c of of('envoy.config.cluster.v3.Cluster')) checkStaticEndpoints(c);
  const clusters = uniqueNames(of('envoy.config.cluster.v3.Cluster').filter((s) => /^static_resources\.clusters\[\d+\]$/.test(s.path)), 'cluster');
  const dyn = root.dynamic_resources as Obj | undefined;
  if (!dyn?.cds_config) {
    // RouteConfiguration.validate_clusters: false lets a route name a cluster that does not exist
    // (it answers 503 NC when used).
    const unchecked = of('envoy.config.route.v3.RouteConfiguration').filter((r) => r.obj.validate_clusters === false).map((r) => `${r.path}.`);
    const checked = (s: Seen) => !unchecked.some((p) => s.path.startsWith(p));
    for (const s of of('envoy.config.route.v3.RouteAction')) if (checked(s)) checkClusterRef(s, 'cluster', clusters);
    for (const s of of('envoy.config.route.v3.WeightedCluster.ClusterWeight')) if (checked(s)) checkClusterRef(s, 'name', clusters);
  }
  for (const s of of(HCM)) checkFilterOrder(s);
  for (const s of of('envoy.type.matcher.v3.RegexMatcher')) checkRegex(s);
  for (const s of of('envoy.config.route.v3.HeaderMatcher')) headerName(s.obj, 'name', s.path);
  for (const s of of('envoy.config.core.v3.HeaderValue')) headerName(s.obj, 'key', s.path);
  for (const t of ['envoy.config.route.v3.RouteConfiguration', 'envoy.config.route.v3.VirtualHost', 'envoy.config.route.v3.Route', 'envoy.config.route.v3.WeightedCluster.ClusterWeight']) {
    for (const s of of(t)) {
      for (const k of ['request_headers_to_remove', 'response_headers_to_remove']) {
        const list = s.obj[k];
        if (Array.isArray(list)) for (let i = 0; i < list.length; i++) headerName(list, i, childPath(s.path, k));
      }
    }
  }
}

function uniqueNames(list: Seen[], what: string): Map<string, Seen> {
  const byName = new Map<string, Seen>();
  for (const s of list) {
    const name = s.obj.name;
    if (typeof name !== 'string') continue;
    const first = byName.get(name);
    if (first) {
      fail(childPath(s.path, 'name'), `duplicate ${what} name "${name}" (first defined at ${formatPos(posOf(first.obj, 'name'))}, ${first.path})`, posOf(s.obj, 'name'));
    }
    byName.set(name, s);
  }
  return byName;
}

function checkClusterRef(s: Seen, key: string, clusters: Map<string, Seen>): void {
  const name = s.obj[key];
  if (typeof name !== 'string' || clusters.has(name)) return;
  const near = suggest(name, clusters.keys());
  const defined = [...clusters.keys()];
  fail(childPath(s.path, key), `unknown cluster "${name}"${near ? `; did you mean ${near}?` : ''}`, posOf(s.obj, key),
    defined.length ? `static clusters: ${defined.join(', ')}` : 'no static clusters are defined (and no cds_config)');
}

/**
 * The last HTTP filter must be terminal (the router), and only the last. An HCM without
 * http_filters (or with an empty list) has no terminal filter and is refused, as attache's
 * connection manager refuses it when it compiles the listener. The filter's `@type` decides which
 * filter it is (Envoy looks extensions up by type URL first), so a filter named
 * envoy.filters.http.router whose @type is another filter is that other filter.
 */
function checkFilterOrder(s: Seen): void {
  const filters = s.obj.http_filters;
  const path = childPath(s.path, 'http_filters');
  const hint = 'add "- name: envoy.filters.http.router" with typed_config @type ' + ROUTER_TYPE + ' at the end';
  if (!Array.isArray(filters) || filters.length === 0) {
    const present = Array.isArray(filters);
    fail(path, `the last HTTP filter must be a terminal filter (envoy.filters.http.router); ${present ? 'http_filters is empty' : 'http_filters is not set'}`,
      present ? posOf(s.obj, 'http_filters', 'key') : posOf(s.obj), hint);
  }
  const typeOf = (f: unknown): string | undefined => ((f as Obj)?.typed_config as Obj | undefined)?.['@type'] as string | undefined;
  for (let i = 0; i < filters.length - 1; i++) {
    const t = typeOf(filters[i]);
    if (t && TERMINAL_TYPES.has(t)) {
      fail(childPath(path, i), `terminal filter "${(filters[i] as Obj).name}" must be the last HTTP filter (found at position ${i + 1} of ${filters.length})`,
        posOf(filters, i), 'move it to the end of http_filters');
    }
  }
  const last = filters[filters.length - 1] as Obj;
  const t = typeOf(last);
  if (!t || !TERMINAL_TYPES.has(t)) {
    if (last.is_optional === true && !t) return;
    const name = String(last.name);
    const misTyped = t !== undefined && name === 'envoy.filters.http.router';
    fail(childPath(path, filters.length - 1),
      `the last HTTP filter must be a terminal filter (envoy.filters.http.router); found "${name}"${misTyped ? ` whose typed_config @type is ${t}, not the router` : ''}`,
      posOf(filters, filters.length - 1),
      misTyped ? `the @type decides which filter runs, not the name: set typed_config "@type" to ${ROUTER_TYPE}` : hint);
  }
}

function checkRegex(s: Seen): void {
  const re = s.obj.regex;
  if (typeof re !== 'string') return;
  try {
    re2().compile(re);
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    fail(childPath(s.path, 'regex'), `invalid RE2 regex ${JSON.stringify(re)}: ${msg}`, posOf(s.obj, 'regex'),
      'Envoy uses RE2 syntax: no backreferences, lookahead or lookbehind');
  }
}

function headerName(container: Obj | unknown[], key: string | number, path: string): void {
  const c = container as Record<string | number, unknown>;
  const v = c[key];
  if (typeof v !== 'string') return;
  const p = typeof key === 'number' ? childPath(path, key) : childPath(path, key);
  if (!HEADER_NAME_RE.test(v)) {
    fail(p, `invalid header name ${JSON.stringify(v)}`, posOf(container, key), 'header names are HTTP tokens: letters, digits and !#$%&\'*+-.^_`|~ (no spaces or colons)');
  }
  c[key] = v.toLowerCase();
}
