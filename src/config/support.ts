/**
 * Checks that what the config asks for is something attache does, after the descriptor walk and the
 * semantic checks, so `--mode validate` rejects what startup would reject (or would silently do
 * differently): TLS (refused rather than served in plaintext), network filters other than the HTTP
 * connection manager, HTTP filters not in attache's registry, route configurations the router cannot
 * compile; and warnings for upstream HTTP/2 and route hash policies attache does not apply.
 */

import { ConfigError } from '../common/errors';
import { checkAccessLogConfig } from '../http/access-log';
import { httpFilterRegistry } from '../filters/http';
import { compileRouteTable } from '../router';
import type { AccessLog, RouteConfiguration } from './model';
import { posOf, type Pos } from './load';
import { childPath, fail, suggest, warn, type Diagnostics } from './diagnostics';
import type { Seen, SeenByType } from './proto-schema';
import { lookupTypeUrl } from './proto-descriptors';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const HCM_NAME = 'envoy.filters.network.http_connection_manager';
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const RAW_BUFFER_NAME = 'envoy.transport_sockets.raw_buffer';
const RAW_BUFFER_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';
const HASHING_LB = new Set(['RING_HASH', 'MAGLEV']);

/** The error message for any TLS setting (Envoy's `transport_socket` envoy.transport_sockets.tls). */
export const TLS_MESSAGE =
  'TLS (transport_socket envoy.transport_sockets.tls) is not implemented by attache; refusing to serve plaintext where the config asks for TLS';
const TLS_HINT = 'terminate TLS in front of attache (or upstream of it) and remove the TLS settings, or use Envoy for this listener/cluster';

/**
 * Runs the checks on the walked config.
 * @param seen message objects by type from the walk (Listener, Cluster, HCM, RouteConfiguration,
 *   RouteAction, ApiConfigSource)
 * @param d receives the warnings
 * @throws ConfigError at the first unsupported setting, naming its YAML path and position
 */
export function checkSupport(seen: SeenByType, d: Diagnostics): void {
  const of = (t: string): Seen[] => seen.get(t) ?? [];
  for (const s of of('envoy.config.listener.v3.Listener')) checkListener(s);
  const xdsClusters = new Set<string>();
  for (const s of of('envoy.config.core.v3.ApiConfigSource')) {
    const services = s.obj.grpc_services;
    if (!Array.isArray(services)) continue;
    for (const g of services) {
      const name = isObj(g) && isObj(g.envoy_grpc) ? g.envoy_grpc.cluster_name : undefined;
      if (typeof name === 'string') xdsClusters.add(name);
    }
  }
  const clusters = new Map<string, Obj>();
  for (const s of of('envoy.config.cluster.v3.Cluster')) {
    checkCluster(s, xdsClusters, d);
    if (typeof s.obj.name === 'string') clusters.set(s.obj.name, s.obj);
  }
  for (const s of of('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager')) checkHttpFilters(s, d);
  for (const s of of('envoy.config.route.v3.RouteAction')) checkHashPolicy(s, clusters, d);
  for (const s of of('envoy.config.route.v3.RouteConfiguration')) checkRouteTable(s);
  for (const s of of('envoy.config.accesslog.v3.AccessLog')) checkAccessLogFormat(s);
}

/** Access-log formats compile at validate time exactly as the workers compile them. */
function checkAccessLogFormat(s: Seen): void {
  try {
    checkAccessLogConfig(s.obj as unknown as AccessLog, s.path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    fail(err.path ?? s.path, err.message, posOf(s.obj, 'typed_config'));
  }
}

function failTls(path: string, pos: Pos | undefined): never {
  fail(path, TLS_MESSAGE, pos, TLS_HINT);
}

/** A `transport_socket` other than raw_buffer (plaintext) is refused. */
function checkTransportSocket(container: Obj, path: string): void {
  const ts = container.transport_socket;
  if (!isObj(ts)) return;
  const name = ts.name;
  const type = isObj(ts.typed_config) ? ts.typed_config['@type'] : undefined;
  if (name === RAW_BUFFER_NAME || type === RAW_BUFFER_TYPE) return;
  const p = childPath(path, 'transport_socket');
  const pos = posOf(container, 'transport_socket', 'key');
  const tls = name === 'envoy.transport_sockets.tls' || (typeof type === 'string' && /TlsContext$/.test(type));
  if (tls) failTls(p, pos);
  fail(p, `transport socket "${String(name ?? type)}" is not implemented by attache (only plaintext: ${RAW_BUFFER_NAME})`, pos);
}

function checkListener(s: Seen): void {
  const chains: Array<[Obj, string]> = [];
  if (Array.isArray(s.obj.filter_chains)) {
    s.obj.filter_chains.forEach((fc, i) => { if (isObj(fc)) chains.push([fc, childPath(childPath(s.path, 'filter_chains'), i)]); });
  }
  if (isObj(s.obj.default_filter_chain)) chains.push([s.obj.default_filter_chain, childPath(s.path, 'default_filter_chain')]);
  for (const [fc, path] of chains) {
    checkTransportSocket(fc, path);
    const m = fc.filter_chain_match;
    if (isObj(m)) {
      const mp = childPath(path, 'filter_chain_match');
      if (m.transport_protocol === 'tls') failTls(childPath(mp, 'transport_protocol'), posOf(m, 'transport_protocol'));
      if (Array.isArray(m.server_names) && m.server_names.length > 0) failTls(childPath(mp, 'server_names'), posOf(m, 'server_names', 'key'));
    }
    const filters = fc.filters;
    if (!Array.isArray(filters)) continue;
    filters.forEach((f, i) => {
      if (!isObj(f)) return;
      const type = isObj(f.typed_config) ? f.typed_config['@type'] : undefined;
      if (type === HCM_TYPE || (type === undefined && f.name === HCM_NAME)) return;
      const near = type === undefined && typeof f.name === 'string' ? suggest(f.name, [HCM_NAME, 'envoy.http_connection_manager']) : undefined;
      fail(childPath(childPath(path, 'filters'), i), `network filter "${String(f.name ?? type)}" is not implemented by attache${near ? `; did you mean ${near}?` : ''}`, posOf(filters, i),
        `attache implements one network filter: ${HCM_NAME} (HTTP/1.1)`);
    });
  }
}

/** Whether a cluster asks for HTTP/2 to its upstreams. */
function wantsHttp2(c: Obj): boolean {
  if (c.http2_protocol_options !== undefined) return true;
  const ext = c.typed_extension_protocol_options;
  if (!isObj(ext)) return false;
  return Object.values(ext).some((o) => isObj(o) && isObj(o.explicit_http_config) && o.explicit_http_config.http2_protocol_options !== undefined);
}

function checkCluster(s: Seen, xdsClusters: ReadonlySet<string>, d: Diagnostics): void {
  const c = s.obj;
  checkTransportSocket(c, s.path);
  if (Array.isArray(c.transport_socket_matches) && c.transport_socket_matches.length > 0) {
    failTls(childPath(s.path, 'transport_socket_matches'), posOf(c, 'transport_socket_matches', 'key'));
  }
  if (!(typeof c.name === 'string' && xdsClusters.has(c.name))) warnPipeEndpoints(s, d);
  const lbc = c.common_lb_config;
  if ((c.lb_policy === 'RING_HASH' || c.lb_policy === 'MAGLEV') && isObj(lbc) && lbc.locality_weighted_lb_config !== undefined) {
    warn(d, childPath(childPath(s.path, 'common_lb_config'), 'locality_weighted_lb_config'), posOf(lbc, 'locality_weighted_lb_config', 'key'),
      `locality_weighted_lb_config is ignored by attache for ${c.lb_policy} (it weights localities for ROUND_ROBIN, LEAST_REQUEST and RANDOM only)`);
  }
  if (wantsHttp2(c) && !(typeof c.name === 'string' && xdsClusters.has(c.name))) {
    const key = c.http2_protocol_options !== undefined ? 'http2_protocol_options' : 'typed_extension_protocol_options';
    warn(d, childPath(s.path, key), posOf(c, key, 'key'), 'attache speaks HTTP/1.1 to upstreams; http2_protocol_options ignored');
  }
}

/**
 * A `pipe` (Unix socket) endpoint is used only by a gRPC xDS cluster (Istio's xds-grpc); in any other
 * cluster (Istio's sds-grpc, an HTTP upstream) it is skipped with a warning: attache connects to
 * upstreams over TCP.
 */
function warnPipeEndpoints(s: Seen, d: Diagnostics): void {
  const la = s.obj.load_assignment;
  if (!isObj(la) || !Array.isArray(la.endpoints)) return;
  la.endpoints.forEach((loc, i) => {
    if (!isObj(loc) || !Array.isArray(loc.lb_endpoints)) return;
    loc.lb_endpoints.forEach((lbe, j) => {
      const addr = isObj(lbe) && isObj(lbe.endpoint) ? lbe.endpoint.address : undefined;
      if (!isObj(addr) || addr.pipe === undefined) return;
      warn(d, `${s.path}.load_assignment.endpoints[${i}].lb_endpoints[${j}].endpoint.address.pipe`, posOf(addr, 'pipe', 'key'),
        `pipe endpoint of cluster '${String(s.obj.name)}' skipped: attache reaches upstreams over TCP (only a gRPC xDS cluster may use a Unix socket)`);
    });
  });
}

function checkHttpFilters(s: Seen, d: Diagnostics): void {
  const filters = s.obj.http_filters;
  if (!Array.isArray(filters)) return;
  const path = childPath(s.path, 'http_filters');
  filters.forEach((f, i) => {
    if (!isObj(f) || f.disabled === true) return;
    const type = isObj(f.typed_config) ? f.typed_config['@type'] : undefined;
    const name = typeof f.name === 'string' ? f.name : undefined;
    if (httpFilterRegistry.lookup(typeof type === 'string' ? type : undefined, name)) return;
    const p = childPath(path, i);
    const what = `HTTP filter "${name ?? '?'}"${typeof type === 'string' ? ` (${type})` : ''}`;
    if (f.is_optional === true) {
      // An unknown proto @type was already reported by the walk as skipped.
      if (typeof type === 'string' && !lookupTypeUrl(type)) return;
      warn(d, p, posOf(filters, i), `${what} skipped: not implemented by attache`);
      return;
    }
    const near = name !== undefined && type === undefined ? suggest(name, httpFilterRegistry.names()) : undefined;
    fail(p, `${what} is not implemented by attache${near ? `; did you mean ${near}?` : ''}`, posOf(filters, i),
      `attache implements: ${httpFilterRegistry.names().join(', ')}; set is_optional: true to skip a filter attache lacks`);
  });
}

/** hash_policy only matters to hashing load balancers (RING_HASH, MAGLEV). */
function checkHashPolicy(s: Seen, clusters: ReadonlyMap<string, Obj>, d: Diagnostics): void {
  const hp = s.obj.hash_policy;
  if (!Array.isArray(hp) || hp.length === 0) return;
  const targets: string[] = [];
  if (typeof s.obj.cluster === 'string') targets.push(s.obj.cluster);
  const wc = s.obj.weighted_clusters;
  if (isObj(wc) && Array.isArray(wc.clusters)) for (const c of wc.clusters) if (isObj(c) && typeof c.name === 'string') targets.push(c.name);
  const known = targets.map((t) => clusters.get(t)).filter((c): c is Obj => c !== undefined);
  // Clusters from CDS or cluster_header: unknown here, no warning.
  if (known.length === 0 || known.some((c) => HASHING_LB.has(String(c.lb_policy)))) return;
  warn(d, childPath(s.path, 'hash_policy'), posOf(s.obj, 'hash_policy', 'key'),
    `field "hash_policy" of envoy.config.route.v3.RouteAction is ignored by attache (the route's cluster uses lb_policy ${String(known[0].lb_policy ?? 'ROUND_ROBIN')}; only RING_HASH and MAGLEV hash)`);
}

/** The position of `path` (relative: `.a[0]["b"]`) inside `obj`, or of its deepest ancestor found. */
function posAt(obj: Obj, rel: string): Pos | undefined {
  let cur: unknown = obj;
  let best = posOf(obj);
  const re = /\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  const r = rel.startsWith('.') || rel.startsWith('[') ? rel : '.' + rel;
  let m: RegExpExecArray | null;
  while ((m = re.exec(r)) !== null) {
    const key: string | number = m[1] ?? (m[2] !== undefined ? Number(m[2]) : (JSON.parse(m[3]) as string));
    const p = posOf(cur, key);
    if (p) best = p;
    cur = (cur as Record<string | number, unknown>)?.[key];
    if (typeof cur !== 'object' || cur === null) break;
  }
  return best;
}

/** Compiles the route configuration as workers will, so its errors surface at validate time. */
function checkRouteTable(s: Seen): void {
  try {
    compileRouteTable(s.obj as unknown as RouteConfiguration, { pathPrefix: s.path });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const path = err.path ?? s.path;
    const rel = path.startsWith(s.path) ? path.slice(s.path.length) : '';
    fail(path, err.message, rel ? posAt(s.obj, rel) : posOf(s.obj), err.hint);
  }
}
