/**
 * Validation of single xDS resources (a Listener, Cluster, RouteConfiguration or
 * ClusterLoadAssignment received over LDS/CDS/RDS/EDS or read from a filesystem subscription) with
 * the same descriptor walk, v2 → v3 normalisation and canonical forms as the bootstrap YAML, so that
 * workers compile dynamic resources exactly like static ones.
 *
 * Differences from the bootstrap: a route naming a cluster that does not exist is accepted (with CDS
 * the cluster may come later; the router answers 503 NC meanwhile), and there are no file positions:
 * errors name the resource and the field path inside it.
 */

import { ConfigError } from '../common/errors';
import { lookupMessage } from './proto-descriptors';
import { walkRoot } from './proto-schema';
import { checkSemantics } from './semantic';
import { checkSupport } from './support';

/** Type URLs of the four SotW resource types (v3). */
export const TYPE_URLS = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;

/** One of {@link TYPE_URLS}. */
export type ResourceTypeUrl = (typeof TYPE_URLS)[keyof typeof TYPE_URLS];

const V2_TO_V3: Readonly<Record<string, ResourceTypeUrl>> = {
  'type.googleapis.com/envoy.api.v2.Listener': TYPE_URLS.listener,
  'type.googleapis.com/envoy.api.v2.RouteConfiguration': TYPE_URLS.route,
  'type.googleapis.com/envoy.api.v2.Cluster': TYPE_URLS.cluster,
  'type.googleapis.com/envoy.api.v2.ClusterLoadAssignment': TYPE_URLS.endpoint,
};

/**
 * The v3 resource type URL for a type URL (v3 as is; v2 `envoy.api.v2.*` mapped to v3), or
 * undefined for a type that is not one of the four.
 */
export function canonicalResourceType(typeUrl: string): ResourceTypeUrl | undefined {
  if ((Object.values(TYPE_URLS) as string[]).includes(typeUrl)) return typeUrl as ResourceTypeUrl;
  return V2_TO_V3[typeUrl];
}

/** The name of a resource: `name`, or `cluster_name` for a ClusterLoadAssignment. */
export function resourceNameOf(typeUrl: string, obj: unknown): string | undefined {
  if (typeof obj !== 'object' || obj === null) return undefined;
  const o = obj as Record<string, unknown>;
  const n = canonicalResourceType(typeUrl) === TYPE_URLS.endpoint ? o.cluster_name : o.name;
  return typeof n === 'string' ? n : undefined;
}

/** The result of {@link validateResource}. */
export interface ValidatedResource<T = unknown> {
  /** The resource in canonical form (the input object, rewritten in place, without `@type`). */
  resource: T;
  /** Fields attache ignores, deprecated v2 forms: `name: path: message`. */
  warnings: string[];
}

/**
 * Validates and canonicalises one xDS resource against Envoy's v3 proto of `typeUrl`
 * (durations → `"0.250s"`, wrappers → bare values, enums → names, v2 forms → v3, header names
 * lower-cased), as {@link loadBootstrap} does for static resources.
 *
 * Accepts proto3 JSON (YAML files) and @grpc/proto-loader objects (`keepCase`, `json: true`:
 * Durations as `{seconds, nanos}`, wrappers as `{value}`, int64 as strings). An Any that the
 * decoder could not unpack (`{type_url, value}`) is rejected as an unknown type.
 * @param typeUrl the resource type URL (v3, or v2 `envoy.api.v2.*`)
 * @param obj the resource; mutated in place (a `'@type'` key is removed)
 * @throws ConfigError naming the resource (`cluster "x"`) and the field path inside it, e.g.
 *   `cluster "x": load_assignment.endpoints[0]...port_value: 70000 must be at most 65535`
 */
export function validateResource<T = unknown>(typeUrl: string, obj: unknown): ValidatedResource<T> {
  const url = canonicalResourceType(typeUrl);
  if (url === undefined) throw new ConfigError(`unsupported resource type ${typeUrl}`);
  const kind = url === TYPE_URLS.endpoint ? 'cluster load assignment' : url === TYPE_URLS.route ? 'route configuration' : url === TYPE_URLS.cluster ? 'cluster' : 'listener';
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new ConfigError(`${kind} resource is not a message`);
  const o = obj as Record<string, unknown>;
  if ('@type' in o) delete o['@type'];
  const name = resourceNameOf(url, o);
  const label = name === undefined ? kind : `${kind} "${name}"`;
  const type = lookupMessage(url.slice(url.lastIndexOf('/') + 1));
  if (!type) throw new ConfigError(`cannot load the proto of ${url}`);
  const warnings: string[] = [];
  try {
    const seen = walkRoot(o, type, { warnings });
    // As with a bootstrap that has cds_config: route → cluster references are not checked.
    checkSemantics({ dynamic_resources: { cds_config: {} } }, seen);
    checkSupport(seen, { warnings });
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new ConfigError(`${label}: ${err.path ? `${err.path}: ` : ''}${err.message}`, { hint: err.hint });
    }
    throw err;
  }
  return { resource: o as T, warnings: warnings.map((w) => `${label}: ${w.replace(/^<config>: /, '')}`) };
}
