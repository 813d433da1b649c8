/**
 * Loads Envoy's real v3 protos (shipped in `@grpc/grpc-js-xds/deps`) with protobufjs, once per
 * process, and answers descriptor questions: which message a `@type` URL names, a field's PGV
 * (protoc-gen-validate) rules, enum value names. Only the bootstrap and the extension types attache
 * accepts in `typed_config` are loaded (~0.1-0.2 s).
 */

import * as path from 'node:path';
import { existsSync } from 'node:fs';
import * as protobuf from 'protobufjs';

/** Proto files loaded besides the bootstrap: the extensions accepted in `typed_config`. */
export const EXTENSION_PROTOS: readonly string[] = [
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/health_check/v3/health_check.proto',
  'envoy/extensions/filters/http/buffer/v3/buffer.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/http/lua/v3/lua.proto',
  'envoy/extensions/filters/http/grpc_web/v3/grpc_web.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/http/compressor/v3/compressor.proto',
  'envoy/extensions/filters/http/ratelimit/v3/rate_limit.proto',
  'envoy/extensions/compression/gzip/compressor/v3/gzip.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/filters/listener/proxy_protocol/v3/proxy_protocol.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
];

const BOOTSTRAP_PROTO = 'envoy/config/bootstrap/v3/bootstrap.proto';

let cached: protobuf.Root | undefined;

function depsDir(): string {
  const pkg = require.resolve('@grpc/grpc-js-xds/package.json');
  return path.join(path.dirname(pkg), 'deps');
}

/**
 * The loaded proto root (cached after the first call).
 * @throws Error if the bootstrap proto cannot be loaded (a broken install); extension protos that
 *   fail to load are skipped (their `@type` is then reported as unknown).
 */
export function protoRoot(): protobuf.Root {
  if (cached) return cached;
  const deps = depsDir();
  const includes = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(deps, d));
  // descriptor.proto (custom option extensions) as protobufjs ships it, like @grpc/proto-loader does.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const descriptor = require('protobufjs/google/protobuf/descriptor.json');
  protobuf.common('descriptor', descriptor.nested.google.nested.protobuf.nested);
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string | null => {
    if (path.isAbsolute(target)) return target;
    for (const inc of includes) {
      const p = path.join(inc, target);
      if (existsSync(p)) return p;
    }
    return null;
  };
  root.loadSync(BOOTSTRAP_PROTO, { keepCase: true });
  for (const f of EXTENSION_PROTOS) {
    try {
      root.loadSync(f, { keepCase: true });
    } catch {
      // Skipped: its types stay unknown.
    }
  }
  root.resolveAll();
  cached = root;
  return root;
}

/** The message type a full name (`envoy.config.cluster.v3.Cluster`) names, or undefined. */
export function lookupMessage(fullName: string): protobuf.Type | undefined {
  try {
    const t = protoRoot().lookup(fullName.startsWith('.') ? fullName : '.' + fullName);
    return t instanceof protobuf.Type ? t : undefined;
  } catch {
    return undefined;
  }
}

/** The message type of an Any type URL (`type.googleapis.com/<full name>`), or undefined. */
export function lookupTypeUrl(url: string): protobuf.Type | undefined {
  const name = url.slice(url.lastIndexOf('/') + 1);
  return name ? lookupMessage(name) : undefined;
}

/** A type's full name without the leading dot. */
export function typeName(t: protobuf.Type | protobuf.Enum): string {
  return t.fullName.startsWith('.') ? t.fullName.slice(1) : t.fullName;
}

/**
 * The value of one PGV option on a field (`'string.min_len'` → `(validate.rules).string.min_len`).
 * protobufjs flattens options into `options` but drops empty messages (`duration = {gt: {}}`, i.e.
 * "greater than zero"), so those are read from `parsedOptions`.
 */
export function rule(f: protobuf.Field, name: string): unknown {
  const flat = f.options?.[`(validate.rules).${name}`];
  if (flat !== undefined) return flat;
  const parsed = (f as unknown as { parsedOptions?: Array<Record<string, unknown>> | null }).parsedOptions;
  if (!parsed) return undefined;
  for (const o of parsed) {
    let v: unknown = o['(validate.rules)'];
    for (const part of name.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined;
    if (v !== undefined) return v;
  }
  return undefined;
}

/** True when the field or enum value is marked `deprecated = true` in the proto. */
export function isDeprecated(f: protobuf.Field): boolean {
  return f.options?.deprecated === true;
}

/** Enum value names users may write (deprecated and placeholder values left out). */
export function enumNames(e: protobuf.Enum): string[] {
  const opts = (e as unknown as { valuesOptions?: Record<string, Record<string, unknown>> }).valuesOptions ?? {};
  return Object.keys(e.values).filter((n) => opts[n]?.deprecated !== true && !n.startsWith('DEPRECATED_AND_UNAVAILABLE'));
}

export { protobuf };
