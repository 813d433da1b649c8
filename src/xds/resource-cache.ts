/**
 * The resources one xDS type has accepted (Envoy's per-type subscription state as /config_dump
 * shows it): each with the version_info it came in and when it was last updated, the type's
 * version_info, and the last rejected update with its error. Validation uses the bootstrap's own
 * walk (`validateResource` in src/config), so dynamic resources get the same canonical forms.
 */
import { ConfigError } from '../common/errors';
import { canonicalResourceType, resourceNameOf, validateResource, type ResourceTypeUrl } from '../config/resource';
import { fromProtoAny } from './proto-json';

/** One accepted resource. */
export interface CachedResource<T> {
  resource: T;
  /** version_info of the response that last changed it. */
  version: string;
  lastUpdatedMs: number;
  /** JSON of `resource`, to tell changes from re-sends. */
  json: string;
  /** JSON of the resource as it arrived (before validation): an identical re-send skips validation. */
  raw?: string;
}

/** The last rejected update (envoy.admin.v3.UpdateFailureState). */
export interface RejectedUpdate {
  version: string;
  error: string;
  timeMs: number;
  /** Names of the resources that failed validation. */
  names: string[];
}

/** What {@link ResourceCache.accept} changed. */
export interface AcceptResult {
  /** Names added or modified. */
  changed: string[];
  /** Names removed (state-of-the-world types only). */
  removed: string[];
  /** Names present in the response. */
  names: string[];
  /**
   * Set when the cache applies responses in part (LDS, CDS): the resources that failed, as the NACK's
   * error_detail; the others were applied.
   */
  error?: string;
}

const RESOURCE_WRAPPER = 'type.googleapis.com/envoy.service.discovery.v3.Resource';

/**
 * The first resource whose Any type is not the response's type (a RouteConfiguration in a CDS
 * response), as Envoy's GrpcMuxImpl::onDiscoveryResponse (source/extensions/config_subscription/
 * grpc/grpc_mux_impl.cc) rejects it: "<resource type> does not match the message-wide type URL
 * <type_url> in DiscoveryResponse <message>". A decoded Any carries its type as `'@type'` (known
 * types) or `type_url` (unknown ones); an envoy.service.discovery.v3.Resource wrapper is not checked
 * (Envoy neither). The message is summarised by its version_info and resource count.
 * @returns the error and the names of the mismatched resources, or undefined when all match
 */
export function typeMismatch(typeUrl: ResourceTypeUrl, resources: readonly unknown[], version: string): { error: string; names: string[] } | undefined {
  for (const raw of resources) {
    if (typeof raw !== 'object' || raw === null) continue;
    const o = raw as Record<string, unknown>;
    const t = typeof o['@type'] === 'string' ? (o['@type'] as string) : typeof o.type_url === 'string' ? (o.type_url as string) : undefined;
    if (t === undefined || t === RESOURCE_WRAPPER || canonicalResourceType(t) === typeUrl) continue;
    const name = typeof o.name === 'string' ? o.name : typeof o.cluster_name === 'string' ? o.cluster_name : '';
    return {
      error: `${t} does not match the message-wide type URL ${typeUrl} in DiscoveryResponse version_info: "${version}" (${resources.length} resource${resources.length === 1 ? '' : 's'})`,
      names: name ? [name] : [],
    };
  }
  return undefined;
}

/**
 * Accepted resources of one type. `wildcard` types (LDS, CDS) replace their whole set with each
 * response (state of the world); named types (EDS, RDS) update the names a response carries.
 */
export class ResourceCache<T> {
  readonly items = new Map<string, CachedResource<T>>();
  version = '';
  lastUpdatedMs: number | undefined;
  rejected: RejectedUpdate | undefined;
  /**
   * Extra per-resource check after the proto walk (e.g. a cluster's LB config). `accepted`: the
   * resources of the same response that passed before this one. @throws ConfigError
   */
  check: ((r: T, name: string, accepted: ReadonlyMap<string, T>) => void) | undefined;

  /**
   * @param partial apply the valid resources of a response that has invalid ones (the failed ones
   *   keep their previous version) and NACK naming the failed ones, as Envoy's LDS and CDS do
   *   (LdsApiImpl/CdsApiHelper::onConfigUpdate); otherwise a response is all or nothing.
   */
  constructor(readonly typeUrl: ResourceTypeUrl, readonly kind: string, readonly wildcard: boolean, readonly partial = false) {}

  /**
   * Validates every resource of a response; all or nothing.
   * @returns what changed, or an error message naming the resource and field (nothing is changed)
   */
  accept(resources: readonly unknown[], version: string, nowMs = Date.now()): AcceptResult | string {
    const mismatch = typeMismatch(this.typeUrl, resources, version);
    if (mismatch !== undefined) {
      this.rejected = { version, error: mismatch.error, timeMs: nowMs, names: mismatch.names };
      return mismatch.error;
    }
    const parsed = new Map<string, T>();
    const raws = new Map<string, string>();
    const errors: string[] = [];
    const failed: string[] = [];
    /** Names a second copy of which was in the response (the first copy stands). */
    const duplicated: string[] = [];
    for (const raw of resources) {
      const name = resourceNameOf(this.typeUrl, raw) ?? '';
      if (name !== '' && parsed.has(name)) {
        // Envoy's CdsApiHelper/LdsApiImpl: "at this point, the first of these duplicates has
        // already been successfully applied"; the duplicate is reported in the NACK.
        duplicated.push(name);
        errors.push(`duplicate ${this.kind} "${name}" in one response`);
        continue;
      }
      // State of the world re-sends every resource: one accepted before, byte for byte the same,
      // is not validated again (validation costs ~0.2 ms per ClusterLoadAssignment).
      const rawJson = JSON.stringify(raw);
      const prev = this.items.get(name);
      if (prev !== undefined && prev.raw === rawJson && name !== '' && !parsed.has(name)) {
        parsed.set(name, prev.resource);
        raws.set(name, rawJson);
        continue;
      }
      raws.set(name, rawJson);
      try {
        if (typeof raw === 'object' && raw !== null && !('@type' in raw)) (raw as Record<string, unknown>)['@type'] = this.typeUrl;
        const { resource } = validateResource<T>(this.typeUrl, fromProtoAny(raw));
        if (name === '') throw new ConfigError(`${this.kind} resource without a name`);
        this.check?.(resource, name, parsed);
        parsed.set(name, resource);
      } catch (e) {
        failed.push(name);
        const msg = e instanceof ConfigError ? e.message : (e as Error)?.message ?? String(e);
        errors.push(msg.includes(`"${name}"`) ? msg : `${this.kind} "${name}": ${msg}`);
      }
    }
    let partialError: string | undefined;
    if (errors.length > 0) {
      const error = errors.join('; ');
      this.rejected = { version, error, timeMs: nowMs, names: [...failed, ...duplicated] };
      if (!this.partial || parsed.size === 0 && this.items.size === 0) return error;
      // Envoy: the failed resources keep their current version (if any); the rest is applied.
      for (const name of failed) {
        const old = this.items.get(name);
        if (old !== undefined) parsed.set(name, old.resource);
      }
      partialError = error;
    }
    const result: AcceptResult = { changed: [], removed: [], names: [...parsed.keys()] };
    if (partialError !== undefined) result.error = partialError;
    for (const [name, resource] of parsed) {
      const old = this.items.get(name);
      const raw = raws.get(name);
      if (old !== undefined && old.resource === resource) continue; // identical re-send
      const json = JSON.stringify(resource);
      if (old?.json === json) {
        old.raw = raw;
        continue;
      }
      this.items.set(name, { resource, version, lastUpdatedMs: nowMs, json, raw });
      result.changed.push(name);
    }
    if (this.wildcard) {
      for (const name of [...this.items.keys()]) {
        if (!parsed.has(name)) {
          this.items.delete(name);
          result.removed.push(name);
        }
      }
    }
    this.lastUpdatedMs = nowMs;
    if (partialError !== undefined) return result; // the accepted version stays the previous one (NACK)
    this.version = version;
    this.rejected = undefined;
    return result;
  }

  /** Forgets resources no longer subscribed (named types). */
  retain(names: ReadonlySet<string>): void {
    for (const n of [...this.items.keys()]) if (!names.has(n)) this.items.delete(n);
  }

  /** The resource called `name`, if accepted. */
  get(name: string): T | undefined {
    return this.items.get(name)?.resource;
  }
}
