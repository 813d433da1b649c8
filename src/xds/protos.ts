/**
 * Envoy's xDS service and resource protos, loaded with @grpc/proto-loader from the copies shipped in
 * `@grpc/grpc-js-xds/deps` (never copied into this repo), once per process (~0.35 s).
 *
 * Decoding options: `keepCase` (snake_case, as the config model), `longs: String`, `enums: String`,
 * `bytes: String` (base64), `defaults: false`, `json: true` (a `google.protobuf.Any` whose type is
 * loaded arrives unpacked as `{'@type', ...fields}`; one whose type is not loaded arrives as
 * `{type_url, value}` and is NACKed by the validator). Objects with `'@type'` are packed when sent.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import type { MethodDefinition } from '@grpc/proto-loader';
import { EXTENSION_PROTOS } from '../config/proto-descriptors';
import { TYPE_URLS, type ResourceTypeUrl } from '../config/resource';

/** envoy.service.discovery.v3.DiscoveryRequest as decoded/encoded here. */
export interface DiscoveryRequest {
  version_info?: string;
  node?: { id?: string; cluster?: string; metadata?: unknown; locality?: unknown; user_agent_name?: string; user_agent_version?: string };
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  /** google.rpc.Status: set on a NACK. */
  error_detail?: { code?: number; message?: string };
}

/** envoy.service.discovery.v3.DiscoveryResponse as decoded/encoded here. */
export interface DiscoveryResponse {
  version_info?: string;
  resources?: unknown[];
  type_url?: string;
  nonce?: string;
}

/** A bidi-streaming method of a discovery service. */
export type StreamMethod = MethodDefinition<DiscoveryRequest, DiscoveryResponse>;

/** The SotW streaming method per service: ADS, and the per-type services. */
export interface XdsMethods {
  ads: StreamMethod;
  /** Per-type service method by (v3) resource type URL. */
  byType: Record<ResourceTypeUrl, StreamMethod>;
}

const SERVICE_PROTOS = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/cluster/v3/cds.proto',
  'envoy/service/endpoint/v3/eds.proto',
  'envoy/service/listener/v3/lds.proto',
  'envoy/service/route/v3/rds.proto',
];
const RESOURCE_PROTOS = [
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
];

let cached: XdsMethods | undefined;

/** The include directories of the shipped protos. */
export function protoIncludeDirs(): string[] {
  const deps = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(deps, d));
}

/**
 * The discovery service methods (loaded on first call).
 * @throws Error when the protos cannot be loaded (a broken install of @grpc/grpc-js-xds).
 */
export function xdsMethods(): XdsMethods {
  if (cached) return cached;
  const inc = protoIncludeDirs();
  // Extension types (typed_config of filters, access logs, ...) are loaded too, so that their Any
  // values arrive unpacked; a file missing from the install only leaves its type unknown.
  const ext = EXTENSION_PROTOS.filter((f) => inc.some((d) => existsSync(path.join(d, f))));
  const def = protoLoader.loadSync([...SERVICE_PROTOS, ...RESOURCE_PROTOS, ...ext], {
    keepCase: true,
    longs: String,
    enums: String,
    bytes: String,
    defaults: false,
    oneofs: false,
    json: true,
    includeDirs: inc,
  });
  const m = (svc: string, method: string): StreamMethod => {
    const s = def[svc] as unknown as Record<string, StreamMethod> | undefined;
    if (!s?.[method]) throw new Error(`xDS proto service ${svc}.${method} not found`);
    return s[method];
  };
  cached = {
    ads: m('envoy.service.discovery.v3.AggregatedDiscoveryService', 'StreamAggregatedResources'),
    byType: {
      [TYPE_URLS.listener]: m('envoy.service.listener.v3.ListenerDiscoveryService', 'StreamListeners'),
      [TYPE_URLS.route]: m('envoy.service.route.v3.RouteDiscoveryService', 'StreamRoutes'),
      [TYPE_URLS.cluster]: m('envoy.service.cluster.v3.ClusterDiscoveryService', 'StreamClusters'),
      [TYPE_URLS.endpoint]: m('envoy.service.endpoint.v3.EndpointDiscoveryService', 'StreamEndpoints'),
    },
  };
  return cached;
}
