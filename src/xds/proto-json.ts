/**
 * proto3 JSON (the config model's canonical form: `"0.250s"` durations, bare wrapper values, plain
 * JSON for `google.protobuf.Struct`) → the object form protobufjs' `fromObject` encodes
 * (`{seconds, nanos}`, `{value}`, `{fields: {k: {stringValue}}}`; protobufjs' built-in struct.proto uses camelCase names), walking Envoy's descriptors.
 * The control plane uses it to send resources read from YAML.
 */
import { lookupTypeUrl, protobuf, typeName } from '../config/proto-descriptors';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const WRAPPERS = new Set([
  'google.protobuf.DoubleValue', 'google.protobuf.FloatValue', 'google.protobuf.Int64Value', 'google.protobuf.UInt64Value',
  'google.protobuf.Int32Value', 'google.protobuf.UInt32Value', 'google.protobuf.BoolValue', 'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);

const DUR_RE = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

function duration(v: unknown): unknown {
  if (typeof v === 'number') v = `${v}s`;
  if (typeof v !== 'string') return v;
  const m = DUR_RE.exec(v.trim());
  if (!m) return v;
  const sign = m[1] ? -1 : 1;
  return { seconds: String(sign * Number(m[2])), nanos: sign * Number((m[3] ?? '').padEnd(9, '0') || 0) };
}

function value(v: unknown): Obj {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(value) } };
  return { structValue: struct(v) };
}

function struct(v: unknown): Obj {
  if (!isObj(v) || 'fields' in v) return v as Obj;
  const fields: Obj = {};
  for (const [k, x] of Object.entries(v)) fields[k] = value(x);
  return { fields };
}

function convertValue(v: unknown, f: protobuf.Field): unknown {
  const rt = f.resolvedType;
  if (!(rt instanceof protobuf.Type)) return v;
  const tn = typeName(rt);
  if (tn === 'google.protobuf.Duration') return duration(v);
  if (WRAPPERS.has(tn)) return isObj(v) ? v : { value: v };
  if (tn === 'google.protobuf.Struct') return struct(v);
  if (tn === 'google.protobuf.Value') return value(v);
  if (tn === 'google.protobuf.ListValue') return Array.isArray(v) ? { values: v.map(value) } : v;
  if (tn === 'google.protobuf.Any') return toProtoAny(v);
  return isObj(v) ? convertMessage(v, rt) : v;
}

function convertMessage(obj: Obj, type: protobuf.Type): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(obj)) {
    const f = type.fields[k];
    if (!f || v === null || v === undefined) {
      out[k] = v;
      continue;
    }
    if (f.map && isObj(v)) {
      const m: Obj = {};
      for (const [mk, mv] of Object.entries(v)) m[mk] = convertValue(mv, f);
      out[k] = m;
    } else if (f.repeated && Array.isArray(v)) {
      out[k] = v.map((x) => convertValue(x, f));
    } else {
      out[k] = convertValue(v, f);
    }
  }
  return out;
}

/**
 * Converts an Any in proto3 JSON (`{'@type': url, ...fields}`) for protobufjs; unknown types are
 * returned unchanged.
 */
export function toProtoAny(v: unknown): unknown {
  if (!isObj(v) || typeof v['@type'] !== 'string') return v;
  const t = lookupTypeUrl(v['@type']);
  if (!t) return v;
  return { ...convertMessage(v, t), '@type': v['@type'] };
}

/**
 * Converts a resource of type `typeUrl` from proto3 JSON to protobufjs' object form, packed as an
 * Any (`'@type'` set to `typeUrl`).
 */
export function toProtoResource(typeUrl: string, resource: unknown): unknown {
  return toProtoAny({ ...(resource as Obj), '@type': typeUrl });
}

/** Converts a message of full type name `fullName` (e.g. `envoy.config.core.v3.Node`) from proto3 JSON. */
export function toProtoMessage(fullName: string, obj: unknown): unknown {
  const t = lookupTypeUrl(`type.googleapis.com/${fullName}`);
  return t && isObj(obj) ? convertMessage(obj, t) : obj;
}

// ---------------------------------------------------------------------------------------------
// Decoding direction: google.protobuf.Struct/Value/ListValue as protobufjs decodes them
// (`{fields: {k: {stringValue}}}`) → plain JSON, as proto3 JSON (and the YAML model) writes them.
// Everything else (durations, wrappers, int64 strings) is canonicalised by validateResource.

function jsonValue(v: unknown): unknown {
  if (!isObj(v)) return v;
  if ('nullValue' in v) return null;
  if ('numberValue' in v) return v.numberValue;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('structValue' in v) return jsonStruct(v.structValue);
  if ('listValue' in v) return ((v.listValue as Obj | undefined)?.values as unknown[] | undefined ?? []).map(jsonValue);
  return v;
}

function jsonStruct(v: unknown): unknown {
  if (!isObj(v) || !isObj(v.fields) || Object.keys(v).length !== 1) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v.fields)) out[k] = jsonValue(x);
  return out;
}

function decodeValue(v: unknown, f: protobuf.Field, depth: number): unknown {
  const rt = f.resolvedType;
  if (!(rt instanceof protobuf.Type) || !isObj(v)) return v;
  const tn = typeName(rt);
  if (tn === 'google.protobuf.Struct') return jsonStruct(v);
  if (tn === 'google.protobuf.Value') return jsonValue(v);
  if (tn === 'google.protobuf.Any') return fromProtoAny(v, depth + 1);
  return decodeMessage(v, rt, depth + 1);
}

function decodeMessage(obj: Obj, type: protobuf.Type, depth: number): Obj {
  if (depth > 64) return obj;
  for (const [k, v] of Object.entries(obj)) {
    const f = type.fields[k];
    if (!f || v === null || v === undefined) continue;
    if (f.map && isObj(v)) for (const mk of Object.keys(v)) v[mk] = decodeValue(v[mk], f, depth);
    else if (f.repeated && Array.isArray(v)) for (let i = 0; i < v.length; i++) v[i] = decodeValue(v[i], f, depth);
    else obj[k] = decodeValue(v, f, depth);
  }
  return obj;
}

/**
 * Turns the Structs inside a decoded Any (`{'@type', ...}`) into plain JSON, in place.
 * @returns the same object
 */
export function fromProtoAny(v: unknown, depth = 0): unknown {
  if (!isObj(v) || typeof v['@type'] !== 'string') return v;
  const t = lookupTypeUrl(v['@type']);
  return t ? decodeMessage(v, t, depth) : v;
}
