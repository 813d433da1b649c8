/**
 * v2 → v3 rewrites and canonical scalar forms. Called by the descriptor walk
 * (`proto-schema.ts`) on each message before its fields are checked, so every rewrite knows the
 * v3 message type it applies to. Each v2 form rewritten adds one deprecation warning; v2 forms that
 * cannot be translated safely are errors with a hint.
 */

import type { protobuf } from './proto-descriptors';
import { copyPos, posOf, setChildPos, setPos, type Pos } from './load';
import { childPath, editDistance, fail, suggest, warn, type Diagnostics } from './diagnostics';
import { LEGACY_NAMES, NAME_HINTS, NAME_TO_TYPE, upgradeTypeUrl } from './names';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Copies `src`'s entries into a new object that starts with `@type`, keeping positions. */
function withType(url: string, src: unknown, fallback: Pos | undefined): Obj {
  const out: Obj = { '@type': url };
  setPos(out, posOf(src) ?? fallback);
  if (isObj(src)) {
    for (const [k, v] of Object.entries(src)) {
      if (k === '@type') continue;
      out[k] = v;
      copyPos(src, k, out, k);
    }
  }
  return out;
}

function rename(obj: Obj, from: string, to: string): void {
  obj[to] = obj[from];
  copyPos(obj, from, obj, to);
  delete obj[from];
}

const camelToSnake = (k: string): string => k.replace(/[A-Z]/g, (m) => '_' + m.toLowerCase());

const GRPC_API_TYPES = new Set(['GRPC', 'DELTA_GRPC', 'AGGREGATED_GRPC', 'AGGREGATED_DELTA_GRPC', 2, 3, 5, 6]);

/** Plain renames of v2 fields whose v3 replacement has the same shape: type → old → new. */
const RENAMED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'envoy.config.route.v3.RouteAction': { host_rewrite: 'host_rewrite_literal' },
};

/**
 * Rewrites one message object in place from v2 forms and proto-JSON lowerCamelCase keys to v3
 * snake_case forms. `path` and `pos` locate the object for messages.
 * @throws ConfigError for v2 forms that cannot be translated (`config:` of an extension whose v3
 *   type attache does not know, `config` together with `typed_config`, `hosts` with `load_assignment`).
 */
export function normaliseMessage(obj: Obj, type: protobuf.Type, tname: string, path: string, d: Diagnostics): void {
  const fields = type.fields;
  // proto3 JSON accepts lowerCamelCase names; the model uses the proto's snake_case names.
  for (const k of Object.keys(obj)) {
    if (k in fields || k === '@type' || !/[A-Z]/.test(k)) continue;
    const s = camelToSnake(k);
    if (s in fields && !(s in obj)) rename(obj, k, s);
  }
  const renames = RENAMED[tname];
  if (renames) {
    for (const [from, to] of Object.entries(renames)) {
      if (from in obj && !(to in obj)) {
        warn(d, childPath(path, from), posOf(obj, from, 'key'), `v2 field "${from}" is deprecated; converted to ${to}`);
        rename(obj, from, to);
      }
    }
  }
  if ('name' in fields && 'typed_config' in fields) normaliseExtension(obj, path, d);
  switch (tname) {
    case 'envoy.config.listener.v3.Listener':
      return nameListener(obj);
    case 'envoy.config.cluster.v3.Cluster':
      return normaliseClusterHosts(obj, path, d);
    case 'envoy.config.core.v3.ApiConfigSource':
      return normaliseClusterNames(obj, path, d);
    case 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager':
      if ('idle_timeout' in obj && !('idle_timeout' in fields)) {
        const cho = isObj(obj.common_http_protocol_options) ? obj.common_http_protocol_options : {};
        setPos(cho, posOf(obj, 'idle_timeout'));
        if (!('idle_timeout' in cho)) {
          cho.idle_timeout = obj.idle_timeout;
          copyPos(obj, 'idle_timeout', cho, 'idle_timeout');
        }
        warn(d, childPath(path, 'idle_timeout'), posOf(obj, 'idle_timeout', 'key'), 'v2 field "idle_timeout" is deprecated; converted to common_http_protocol_options.idle_timeout');
        delete obj.idle_timeout;
        if (!('common_http_protocol_options' in obj)) setChildPos(obj, 'common_http_protocol_options', posOf(cho), posOf(cho));
        obj.common_http_protocol_options = cho;
      }
      return;
  }
}

/** Filter/access-log/transport-socket shapes `{name, config | typed_config}`. */
/**
 * `; did you mean envoy.router?` for a misspelt extension name (v3 or legacy), else ''. Names share
 * long `envoy.` prefixes, so only a typo of at most two characters counts.
 */
function didYouMean(name: string | undefined): string {
  const near = name === undefined ? undefined : suggest(name, [...Object.keys(NAME_TO_TYPE), ...Object.keys(LEGACY_NAMES)]);
  return near && editDistance(name!.toLowerCase(), near.toLowerCase()) <= 2 ? `; did you mean ${near}?` : '';
}

function normaliseExtension(obj: Obj, path: string, d: Diagnostics): void {
  if (typeof obj.name === 'string') {
    const v3 = LEGACY_NAMES[obj.name];
    if (v3 && v3 !== obj.name) {
      warn(d, childPath(path, 'name'), posOf(obj, 'name'), `deprecated extension name "${obj.name}"; using "${v3}"`);
      obj.name = v3;
    }
  }
  const name = typeof obj.name === 'string' ? obj.name : undefined;
  const tc = obj.typed_config;
  // v2-era examples write `typed_config: {}` for "no config": the same as no typed_config.
  if (isObj(tc) && Object.keys(tc).length === 0) delete obj.typed_config;
  if ('config' in obj) {
    const where = posOf(obj, 'config', 'key');
    if ('typed_config' in obj) fail(childPath(path, 'config'), 'both v2 "config" and "typed_config" are set', where, 'remove "config"');
    const url = name ? NAME_TO_TYPE[name] : undefined;
    if (!url) {
      fail(childPath(path, 'config'), `cannot translate v2 "config" of extension "${name ?? '?'}": attache does not know its v3 @type${didYouMean(name)}`, where,
        (name && NAME_HINTS[name]) ?? 'write "typed_config:" with the v3 "@type" of this extension (see its page in Envoy\'s API reference)');
    }
    obj.typed_config = withType(url, obj.config, where);
    copyPos(obj, 'config', obj, 'typed_config');
    delete obj.config;
    warn(d, childPath(path, 'config'), where, `v2 field "config" is deprecated; converted to typed_config with @type ${url}`);
    return;
  }
  if (!('typed_config' in obj) && !('config_discovery' in obj) && name) {
    const url = NAME_TO_TYPE[name];
    if (!url) {
      if (obj.is_optional === true) return;
      fail(childPath(path, 'name'), `unknown extension "${name}" (no typed_config to tell its @type)${didYouMean(name)}`, posOf(obj, 'name'),
        NAME_HINTS[name] ?? 'add typed_config with the "@type" of the extension, or "is_optional: true" on an HTTP filter attache may skip');
    }
    obj.typed_config = withType(url, undefined, posOf(obj, 'name'));
    setChildPos(obj, 'typed_config', posOf(obj, 'name'), posOf(obj, 'name'));
  }
}

/** Cluster `hosts: [Address]` (v2) → `load_assignment`. */
function normaliseClusterHosts(obj: Obj, path: string, d: Diagnostics): void {
  if (!('hosts' in obj)) return;
  const where = posOf(obj, 'hosts', 'key');
  const p = childPath(path, 'hosts');
  if ('load_assignment' in obj) fail(p, 'both v2 "hosts" and "load_assignment" are set', where, 'move the hosts into load_assignment and remove "hosts"');
  const hosts = obj.hosts;
  if (!Array.isArray(hosts)) fail(p, 'expected a list of addresses', posOf(obj, 'hosts'));
  const lbEndpoints = hosts.map((h, i) => {
    const endpoint = { address: h };
    copyPos(hosts, i, endpoint, 'address');
    setPos(endpoint, posOf(hosts, i));
    const lbe = { endpoint };
    setPos(lbe, posOf(hosts, i));
    setChildPos(lbe, 'endpoint', posOf(hosts, i), posOf(hosts, i));
    return lbe;
  });
  setPos(lbEndpoints, posOf(hosts));
  hosts.forEach((_, i) => copyPos(hosts, i, lbEndpoints, i));
  const locality = { lb_endpoints: lbEndpoints };
  setPos(locality, posOf(hosts));
  setChildPos(locality, 'lb_endpoints', where, posOf(hosts));
  const endpoints = [locality];
  setPos(endpoints, posOf(hosts));
  const la = { cluster_name: obj.name, endpoints };
  setPos(la, posOf(hosts));
  setChildPos(la, 'cluster_name', posOf(obj, 'name'), posOf(obj, 'name'));
  setChildPos(la, 'endpoints', where, posOf(hosts));
  obj.load_assignment = la;
  copyPos(obj, 'hosts', obj, 'load_assignment');
  delete obj.hosts;
  warn(d, p, where, 'v2 field "hosts" is deprecated; converted to load_assignment');
}

/** ApiConfigSource `cluster_names` with a gRPC api_type (v2) → `grpc_services[].envoy_grpc`. */
function normaliseClusterNames(obj: Obj, path: string, d: Diagnostics): void {
  if (!('cluster_names' in obj) || !GRPC_API_TYPES.has(obj.api_type as string)) return;
  const p = childPath(path, 'cluster_names');
  const where = posOf(obj, 'cluster_names', 'key');
  if ('grpc_services' in obj) fail(p, 'both "cluster_names" and "grpc_services" are set', where, 'a gRPC api_type takes grpc_services only');
  const names = obj.cluster_names;
  if (!Array.isArray(names)) fail(p, 'expected a list of cluster names', posOf(obj, 'cluster_names'));
  const services = names.map((n, i) => {
    const envoy_grpc = { cluster_name: n };
    copyPos(names, i, envoy_grpc, 'cluster_name');
    setPos(envoy_grpc, posOf(names, i));
    const s = { envoy_grpc };
    setPos(s, posOf(names, i));
    return s;
  });
  setPos(services, posOf(names));
  obj.grpc_services = services;
  copyPos(obj, 'cluster_names', obj, 'grpc_services');
  delete obj.cluster_names;
  warn(d, p, where, `v2 form "cluster_names" with api_type ${String(obj.api_type)} is deprecated; converted to grpc_services[].envoy_grpc.cluster_name`);
}

/**
 * Rewrites a v2 `@type` URL to its v3 equivalent, with a warning.
 * @returns the URL to resolve (unchanged when it is not a v2 URL)
 */
export function normaliseTypeUrl(any: Obj, path: string, d: Diagnostics): string {
  const url = String(any['@type']);
  const v3 = upgradeTypeUrl(url);
  if (!v3) return url;
  warn(d, childPath(path, '@type'), posOf(any, '@type'), `v2 @type "${url}" is deprecated; using "${v3}"`);
  any['@type'] = v3;
  return v3;
}

// ---------------------------------------------------------------------------------------------
// v2-only fields (removed in v3) that cannot be translated: hints for the unknown-field error.

const V2_ONLY: Readonly<Record<string, string>> = {
  'envoy.config.route.v3.RouteMatch.regex':
    'v2 "regex" used ECMAScript syntax and cannot be translated safely; write safe_regex: {regex: "<RE2 pattern>"} (RE2 syntax: no backreferences or lookaround)',
  'envoy.config.route.v3.HeaderMatcher.regex_match':
    'v2 "regex_match" cannot be translated safely; write safe_regex_match: {regex: "<RE2 pattern>"} or string_match',
  'envoy.config.cluster.v3.Cluster.tls_context':
    'v3 moved it to transport_socket: {name: envoy.transport_sockets.tls, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext, ...}}',
  'envoy.config.listener.v3.FilterChain.tls_context':
    'v3 moved it to transport_socket: {name: envoy.transport_sockets.tls, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, ...}}',
  'envoy.config.route.v3.Route.per_filter_config': 'v3 uses typed_per_filter_config with a typed config ("@type") per filter name',
  'envoy.config.route.v3.VirtualHost.per_filter_config': 'v3 uses typed_per_filter_config with a typed config ("@type") per filter name',
  'envoy.config.bootstrap.v3.Bootstrap.runtime': 'v3 uses layered_runtime: {layers: [{name: static, static_layer: {...}}]}',
  'envoy.config.listener.v3.Listener.use_original_dst': 'v3 uses listener_filters: [{name: envoy.filters.listener.original_dst}]',
  'envoy.config.route.v3.RouteAction.request_mirror_policy': 'v3 uses request_mirror_policies: [ ... ] (a list)',
  'envoy.config.cluster.v3.Cluster.hosts': 'v3 uses load_assignment: {cluster_name, endpoints: [{lb_endpoints: [{endpoint: {address}}]}]}',
};

/** A hint for a field v2 had and v3 removed, or undefined. */
export function v2FieldHint(tname: string, key: string): string | undefined {
  return V2_ONLY[`${tname}.${key}`];
}

/** Hints for enum values v2 had and v3 removed: `Enum.VALUE` → hint. */
const V2_ENUM_VALUES: Readonly<Record<string, string>> = {
  'envoy.config.cluster.v3.Cluster.LbPolicy.ORIGINAL_DST_LB': 'v3 removed ORIGINAL_DST_LB: use type: ORIGINAL_DST with lb_policy: CLUSTER_PROVIDED',
};

/** A hint for an enum value v2 had and v3 removed, or undefined. */
export function v2EnumHint(enumName: string, value: string): string | undefined {
  return V2_ENUM_VALUES[`${enumName}.${value}`];
}

// ---------------------------------------------------------------------------------------------
// Canonical scalars

const DUR_RE = /^(-?)(\d+)(?:\.(\d+))?(s|ms|us|ns|m|h)$/;
const UNIT_NS: Record<string, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n, m: 60_000_000_000n, h: 3_600_000_000_000n };

/**
 * Canonical proto3-JSON form of a google.protobuf.Duration: `"0.250s"`, `"15s"`, `"1.000000100s"`
 * (0, 3, 6 or 9 fractional digits). Accepts `"0.25s"`, `"100ms"`, `"1m"`, `{seconds, nanos}` and a
 * bare number of seconds. @returns undefined if `v` is not a duration.
 */
export function canonicalDuration(v: unknown): string | undefined {
  let ns: bigint;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    return canonicalDuration(`${v}s`);
  } else if (typeof v === 'string') {
    const m = DUR_RE.exec(v.trim());
    if (!m) return undefined;
    const frac = m[3] ?? '';
    const digits = BigInt(m[2] + frac);
    const scale = 10n ** BigInt(frac.length);
    ns = (digits * UNIT_NS[m[4]] + scale / 2n) / scale;
    if (m[1]) ns = -ns;
  } else if (isObj(v)) {
    const s = v.seconds ?? 0;
    const n = v.nanos ?? 0;
    if (!/^-?\d+$/.test(String(s)) || !/^-?\d+$/.test(String(n))) return undefined;
    ns = BigInt(String(s)) * 1_000_000_000n + BigInt(String(n));
  } else {
    return undefined;
  }
  const neg = ns < 0n;
  if (neg) ns = -ns;
  const sec = ns / 1_000_000_000n;
  const rem = ns % 1_000_000_000n;
  let out = `${sec}`;
  if (rem !== 0n) {
    const f = rem.toString().padStart(9, '0');
    out += '.' + (rem % 1_000_000n === 0n ? f.slice(0, 3) : rem % 1_000n === 0n ? f.slice(0, 6) : f);
  }
  return `${neg ? '-' : ''}${out}s`;
}

/**
 * An unnamed listener (allowed by v3, common in v2-era configs) is named `<address>_<port>`
 * (`0.0.0.0_10000`), so logs, stats and /listeners show a readable name; Envoy generates a UUID.
 */
function nameListener(obj: Obj): void {
  if (typeof obj.name === 'string' && obj.name !== '') return;
  const addr = isObj(obj.address) ? obj.address : undefined;
  const sa = addr && isObj(addr.socket_address) ? addr.socket_address : addr && isObj(addr.socketAddress) ? addr.socketAddress : undefined;
  if (!sa) return;
  const host = sa.address;
  const port = sa.port_value ?? sa.portValue ?? sa.named_port ?? sa.namedPort;
  if ((typeof host !== 'string' && typeof host !== 'number') || (typeof port !== 'string' && typeof port !== 'number')) return;
  obj.name = `${host}_${port}`;
}
