/**
 * Walks the YAML tree with Envoy's v3 message descriptors: normalises each message
 * (`normalise.ts`), rejects unknown fields, wrong types, unknown enum values, oneof conflicts and
 * violated PGV rules (`message.required`, `string.min_len`, `repeated.min_items`, numeric ranges),
 * resolves `typed_config` Any by `@type`, and turns Durations, wrapper types and enum numbers into
 * their canonical forms in place.
 */

import { enumNames, isDeprecated, lookupTypeUrl, protobuf, rule, typeName } from './proto-descriptors';
import { posOf, type Pos } from './load';
import { childPath, fail, kindOf, suggest, warn, type Diagnostics } from './diagnostics';
import { canonicalDuration, normaliseMessage, normaliseTypeUrl, v2EnumHint, v2FieldHint } from './normalise';
import { isImplemented } from './implemented';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A message object met during the walk, for the semantic checks. */
export interface Seen {
  obj: Obj;
  path: string;
}

/** What the walk leaves behind for `semantic.ts`: message objects by type full name. */
export type SeenByType = Map<string, Seen[]>;

/** Types whose instances the semantic checks look at. */
const TRACKED = new Set([
  'envoy.config.accesslog.v3.AccessLog',
  'envoy.config.listener.v3.Listener',
  'envoy.config.cluster.v3.Cluster',
  'envoy.config.route.v3.RouteAction',
  'envoy.config.route.v3.WeightedCluster.ClusterWeight',
  'envoy.type.matcher.v3.RegexMatcher',
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  'envoy.config.route.v3.HeaderMatcher',
  'envoy.config.core.v3.HeaderValue',
  'envoy.config.route.v3.RouteConfiguration',
  'envoy.config.route.v3.VirtualHost',
  'envoy.config.route.v3.Route',
  'envoy.config.route.v3.WeightedCluster.ClusterWeight',
  'envoy.config.core.v3.ApiConfigSource',
]);

/** Fields that exist in v3 but attache refuses (rather than ignores). */
/** The path of a cluster endpoint's `pipe` address. */
const PIPE_ENDPOINT = /\.lb_endpoints\[\d+\]\.endpoint\.address\.pipe$/;

const REJECTED: Readonly<Record<string, string>> = {
  'envoy.config.core.v3.Address.pipe': 'attache listens and connects on TCP socket addresses only; use socket_address',
  'envoy.config.core.v3.Address.envoy_internal_address': 'attache has no internal listeners; use socket_address',
};

const WRAPPERS = new Set([
  'google.protobuf.DoubleValue', 'google.protobuf.FloatValue', 'google.protobuf.Int64Value', 'google.protobuf.UInt64Value',
  'google.protobuf.Int32Value', 'google.protobuf.UInt32Value', 'google.protobuf.BoolValue', 'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);
const OPAQUE = new Set(['google.protobuf.Struct', 'google.protobuf.Value', 'google.protobuf.ListValue']);

/** Walk state. */
interface Walk extends Diagnostics {
  seen: SeenByType;
  /** Envoy's --allow-unknown-static-fields: unknown fields warn and are dropped. */
  allowUnknown: boolean;
}

/**
 * Validates and canonicalises `root` as message type `type` in place.
 * @returns the message objects of the types semantic checks need, with their paths
 * @throws ConfigError at the first problem, naming file:line:col and the YAML path
 */
export function walkRoot(root: Obj, type: protobuf.Type, d: Diagnostics, allowUnknown = false): SeenByType {
  const w: Walk = { warnings: d.warnings, seen: new Map(), allowUnknown };
  walkMessage(root, type, '', posOf(root), w);
  return w.seen;
}

function walkMessage(obj: Obj, type: protobuf.Type, path: string, pos: Pos | undefined, w: Walk): void {
  const tname = typeName(type);
  normaliseMessage(obj, type, tname, path, w);
  const fields = type.fields;
  const optionalFilter = obj.is_optional === true;
  for (const key of Object.keys(obj)) {
    const f = fields[key];
    const p = childPath(path, key);
    const kpos = posOf(obj, key, 'key') ?? pos;
    if (!f) {
      const hint = v2FieldHint(tname, key);
      if (hint) fail(p, `field "${key}" was removed in the v3 API (${tname})`, kpos, hint);
      const near = suggest(key, Object.keys(fields));
      if (w.allowUnknown) {
        warn(w, p, kpos, `unknown field "${key}" in ${tname} ignored (--allow-unknown-static-fields)`);
        delete obj[key];
        continue;
      }
      fail(p, `unknown field "${key}" in ${tname}${near ? `; did you mean ${near}?` : ''}`, kpos,
        near ? undefined : `valid fields: ${Object.keys(fields).join(', ')}`);
    }
    const rejected = REJECTED[`${tname}.${key}`];
    // The admin listener may be a Unix socket (admin.address.pipe.path), and so may a cluster's
    // endpoint (semantic.ts allows that only for the gRPC xDS cluster); listeners may not.
    const pipeOk = p === 'admin.address.pipe' || PIPE_ENDPOINT.test(p);
    if (rejected && !pipeOk) fail(p, `"${key}" is not supported by attache`, kpos, rejected);
    const v = obj[key];
    if (v === null && f.resolvedType instanceof protobuf.Type && !f.repeated && !f.map && !typeName(f.resolvedType).startsWith('google.protobuf.')) {
      obj[key] = {}; // `http2_protocol_options:` with nothing after it: an empty message.
    } else if (v === null) {
      delete obj[key]; // proto3 JSON: null means "not set".
      continue;
    }
    const ignored = !isImplemented(tname, key) && !pipeOk;
    if (isDeprecated(f)) {
      warn(w, p, kpos, `deprecated field "${key}" of ${tname} ${ignored ? 'is ignored by attache' : '(still accepted by Envoy v3; see its replacement in the API reference)'}`);
    } else if (ignored) warn(w, p, kpos, `field "${key}" of ${tname} is ignored by attache`);
    walkField(obj, key, f, p, posOf(obj, key) ?? pos, w, optionalFilter);
  }
  checkOneofs(obj, type, path, pos);
  checkRequired(obj, type, path, pos);
  if (TRACKED.has(tname)) {
    let list = w.seen.get(tname);
    if (!list) w.seen.set(tname, (list = []));
    list.push({ obj, path });
  }
}

function walkField(container: Obj, key: string, f: protobuf.Field, path: string, pos: Pos | undefined, w: Walk, optional: boolean): void {
  const v = container[key];
  if (f.map) {
    if (!isObj(v)) fail(path, `expected a mapping of ${(f as unknown as protobuf.MapField).keyType} keys, got ${kindOf(v)}`, pos);
    for (const k of Object.keys(v)) {
      v[k] = walkValue(v[k], f, childPath(path, k, true), posOf(v, k) ?? pos, w, optional);
    }
    return;
  }
  if (f.repeated) {
    if (!Array.isArray(v)) fail(path, `expected a list, got ${kindOf(v)}`, pos, `write "${key}: [ ... ]" or one "- item" per line`);
    const min = rule(f, 'repeated.min_items');
    if (typeof min === 'number' && v.length < min) fail(path, `needs at least ${min} item${min > 1 ? 's' : ''}, got ${v.length}`, pos);
    for (let i = 0; i < v.length; i++) v[i] = walkValue(v[i], f, childPath(path, i), posOf(v, i) ?? pos, w, optional);
    return;
  }
  container[key] = walkValue(v, f, path, pos, w, optional);
}

function walkValue(v: unknown, f: protobuf.Field, path: string, pos: Pos | undefined, w: Walk, optional: boolean): unknown {
  const rt = f.resolvedType;
  if (rt instanceof protobuf.Enum) return enumValue(v, rt, path, pos);
  if (rt instanceof protobuf.Type) {
    const tn = typeName(rt);
    if (tn === 'google.protobuf.Duration') {
      const d = canonicalDuration(v);
      if (d === undefined) fail(path, `expected a duration such as "0.250s", "5s" or "100ms", got ${kindOf(v)}`, pos);
      checkDurationRules(d, f, path, pos);
      return d;
    }
    if (WRAPPERS.has(tn)) {
      const inner = isObj(v) && 'value' in v ? v.value : v;
      if (isObj(inner)) fail(path, `expected a ${tn.slice(16, -5).toLowerCase()} value (or {value: ...}), got ${kindOf(v)}`, pos);
      const out = scalar(inner, rt.fields.value, path, pos);
      // PGV rules of a wrapper field sit on the field itself, e.g. LbEndpoint.load_balancing_weight
      // `UInt32Value [(validate.rules).uint32 = {gte: 1}]` (envoy/config/endpoint/v3/endpoint_components.proto).
      if (typeof out === 'number') checkRange(out, f, rt.fields.value.type, path, pos);
      return out;
    }
    if (OPAQUE.has(tn)) return v;
    if (tn === 'google.protobuf.Empty') {
      if (!isObj(v) || Object.keys(v).length > 0) fail(path, `expected an empty mapping {}, got ${kindOf(v)}`, pos);
      return v;
    }
    if (tn === 'google.protobuf.Any') return walkAny(v, path, pos, w, optional, STRICT_ANY.has(`${typeName(f.parent as protobuf.Type)}.${f.name}`));
    if (!isObj(v)) fail(path, `expected a mapping (${tn}), got ${kindOf(v)}`, pos);
    walkMessage(v, rt, path, posOf(v) ?? pos, w);
    return v;
  }
  return scalar(v, f, path, pos);
}

/**
 * Any fields whose unknown `@type` is an error: extensions attache runs (filters, access loggers,
 * transport sockets). Elsewhere (tracers, stats sinks, bootstrap extensions, resource monitors, as in
 * Istio's envoy-rev.json) an unknown type is a warning: attache ignores those extension points.
 */
const STRICT_ANY = new Set([
  'envoy.config.listener.v3.Filter.typed_config',
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter.typed_config',
  'envoy.config.accesslog.v3.AccessLog.typed_config',
  'envoy.config.core.v3.TransportSocket.typed_config',
]);

function walkAny(v: unknown, path: string, pos: Pos | undefined, w: Walk, optional: boolean, strict: boolean): unknown {
  if (!isObj(v)) fail(path, `expected a typed config mapping with "@type", got ${kindOf(v)}`, pos);
  if (typeof v['@type'] !== 'string') {
    fail(path, 'typed config has no "@type"', pos, 'add "@type": type.googleapis.com/<v3 message name> as its first key');
  }
  const url = normaliseTypeUrl(v, path, w);
  const t = lookupTypeUrl(url);
  if (!t) {
    const tp = childPath(path, '@type');
    const tpos = posOf(v, '@type') ?? pos;
    if (optional) {
      warn(w, tp, tpos, `unknown @type "${url}"; the filter is optional (is_optional: true) and is skipped`);
      return v;
    }
    if (!strict) {
      warn(w, tp, tpos, `typed config of unknown @type "${url}" is ignored by attache`);
      return v;
    }
    fail(tp, `unknown @type "${url}"`, tpos,
      'attache knows the v3 types of the bootstrap, HTTP connection manager, tcp_proxy, router, fault, cors, health_check, buffer, rbac, ' +
      'local_ratelimit, ratelimit, lua, grpc_web, ext_authz, compressor, file/stdout access logs and TLS; mark an HTTP filter "is_optional: true" to skip it');
  }
  const type = v['@type'];
  delete v['@type'];
  try {
    walkMessage(v, t, path, posOf(v) ?? pos, w);
  } finally {
    // Put @type back first (config_dump order).
    const rest = { ...v };
    for (const k of Object.keys(v)) delete v[k];
    v['@type'] = type;
    Object.assign(v, rest);
  }
  return v;
}

function enumValue(v: unknown, e: protobuf.Enum, path: string, pos: Pos | undefined): string {
  const names = enumNames(e);
  if (typeof v === 'number') {
    const n = e.valuesById[v];
    if (n !== undefined && names.includes(n)) return n;
    fail(path, `unknown value ${v} (valid: ${names.join(', ')})`, pos);
  }
  if (typeof v !== 'string') fail(path, `expected one of ${names.join(', ')}, got ${kindOf(v)}`, pos);
  if (names.includes(v)) return v;
  // Envoy parses enums case-insensitively (JsonParseOptions.case_insensitive_enum_parsing).
  const upper = v.toUpperCase();
  if (names.includes(upper)) return upper;
  const ename = typeName(e);
  const hint = v2EnumHint(ename, v);
  const near = suggest(v, names);
  fail(path, `unknown value "${v}"${near ? `; did you mean ${near}?` : ''} (valid: ${names.join(', ')})`, pos, hint);
}

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64']);
const UINT64 = new Set(['uint64', 'fixed64']);

function scalar(v: unknown, f: protobuf.Field, path: string, pos: Pos | undefined): unknown {
  const t = f.type;
  if (t === 'string') {
    if (typeof v === 'number' || typeof v === 'boolean') v = String(v);
    if (typeof v !== 'string') fail(path, `expected a string, got ${kindOf(v)}`, pos);
    const min = rule(f, 'string.min_len') ?? rule(f, 'string.min_bytes');
    if (typeof min === 'number' && v.length < min) fail(path, min === 1 ? 'must not be empty' : `must be at least ${min} characters long`, pos);
    const max = rule(f, 'string.max_bytes') ?? rule(f, 'string.max_len');
    if (typeof max === 'number' && Buffer.byteLength(v) > max) fail(path, `must be at most ${max} bytes long`, pos);
    return v;
  }
  if (t === 'bytes') {
    if (typeof v !== 'string') fail(path, `expected base64 bytes (a string), got ${kindOf(v)}`, pos);
    return v;
  }
  if (t === 'bool') {
    if (v === 'true' || v === 'false') return v === 'true';
    if (typeof v !== 'boolean') fail(path, `expected true or false, got ${kindOf(v)}`, pos);
    return v;
  }
  const n = typeof v === 'string' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || Number.isNaN(n)) fail(path, `expected a number, got ${kindOf(v)}`, pos);
  if (t === 'double' || t === 'float') {
    checkRange(n, f, t, path, pos);
    return n;
  }
  if (!Number.isInteger(n)) fail(path, `expected an integer, got ${kindOf(v)}`, pos);
  if (INT32.has(t) && (n < -2147483648 || n > 2147483647)) fail(path, `${n} is out of range for int32`, pos);
  if (UINT32.has(t) && (n < 0 || n > 4294967295)) fail(path, `${n} is out of range for uint32 (0..4294967295)`, pos);
  if (UINT64.has(t) && n < 0) fail(path, `${n} is out of range for uint64 (must not be negative)`, pos);
  if ((INT64.has(t) || UINT64.has(t)) && !Number.isSafeInteger(n)) return typeof v === 'string' ? v.trim() : String(v);
  checkRange(n, f, t, path, pos);
  return n;
}

function checkRange(n: number, f: protobuf.Field, t: string, path: string, pos: Pos | undefined): void {
  const kind = INT32.has(t) ? 'int32' : UINT32.has(t) ? 'uint32' : INT64.has(t) ? 'int64' : UINT64.has(t) ? 'uint64' : t;
  const num = (r: string): number | undefined => {
    const x = rule(f, `${kind}.${r}`);
    return x === undefined ? undefined : Number(x);
  };
  const gt = num('gt');
  const gte = num('gte');
  const lt = num('lt');
  const lte = num('lte');
  const c = num('const');
  if (gt !== undefined && !(n > gt)) fail(path, `${n} must be greater than ${gt}`, pos);
  if (gte !== undefined && !(n >= gte)) fail(path, `${n} must be at least ${gte}`, pos);
  if (lt !== undefined && !(n < lt)) fail(path, `${n} must be less than ${lt}`, pos);
  if (lte !== undefined && !(n <= lte)) fail(path, `${n} must be at most ${lte}`, pos);
  if (c !== undefined && n !== c) fail(path, `must be ${c}`, pos);
}

function durNs(o: unknown): number | undefined {
  if (!isObj(o)) return undefined;
  return Number(o.seconds ?? 0) * 1e9 + Number(o.nanos ?? 0);
}

function checkDurationRules(d: string, f: protobuf.Field, path: string, pos: Pos | undefined): void {
  const ns = Number(d.slice(0, -1)) * 1e9;
  const gt = durNs(rule(f, 'duration.gt'));
  const gte = durNs(rule(f, 'duration.gte'));
  const lt = durNs(rule(f, 'duration.lt'));
  if (gt !== undefined && !(ns > gt)) fail(path, `duration ${d} must be greater than ${gt / 1e9}s`, pos);
  if (gte !== undefined && !(ns >= gte)) fail(path, `duration ${d} must be at least ${gte / 1e9}s`, pos);
  const lte = durNs(rule(f, 'duration.lte'));
  if (lt !== undefined && !(ns < lt)) fail(path, `duration ${d} must be less than ${lt / 1e9}s`, pos);
  if (lte !== undefined && !(ns <= lte)) fail(path, `duration ${d} must be at most ${lte / 1e9}s`, pos);
}

function checkOneofs(obj: Obj, type: protobuf.Type, path: string, pos: Pos | undefined): void {
  for (const o of type.oneofsArray) {
    const set = o.oneof.filter((n) => obj[n] !== undefined);
    if (set.length > 1) {
      fail(childPath(path, set[1]), `only one of ${o.oneof.join(', ')} may be set (oneof ${o.name}); found ${set.join(' and ')}`, posOf(obj, set[1], 'key') ?? pos);
    }
    if (set.length === 0 && o.options?.['(validate.required)'] === true) {
      fail(path, `one of ${o.oneof.join(', ')} is required`, pos);
    }
  }
}

function checkRequired(obj: Obj, type: protobuf.Type, path: string, pos: Pos | undefined): void {
  for (const f of type.fieldsArray) {
    if (obj[f.name] !== undefined || f.partOf) continue;
    const msgReq = rule(f, 'message.required') === true || rule(f, 'duration.required') === true;
    const strMin = rule(f, 'string.min_len') ?? rule(f, 'string.min_bytes');
    const minItems = rule(f, 'repeated.min_items');
    const isStr = f.type === 'string' && !f.repeated;
    if (msgReq || (isStr && typeof strMin === 'number' && strMin > 0) || (f.repeated && typeof minItems === 'number' && minItems > 0)) {
      fail(path, `missing required field "${f.name}" (${typeName(type)})`, pos);
    }
  }
}
