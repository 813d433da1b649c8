/**
 * Reads the `attache xds-server --dir DIR` resource directory.
 *
 * Layout: every `*.yaml`, `*.yml` or `*.json` file under DIR (one level of folders) holds one
 * resource, a list of resources, or a DiscoveryResponse-like `{resources: [...]}`. A resource's type
 * comes from its `@type` (a full type URL, the message name `envoy.config.cluster.v3.Cluster`, or
 * the short `Cluster`, `ClusterLoadAssignment`, `Listener`, `RouteConfiguration`), else from the
 * folder it is in: `clusters/` (or `cds/`), `endpoints/` (`eds/`), `listeners/` (`lds/`),
 * `routes/` (`rds/`). Files directly in DIR need `@type`.
 *
 * Resources are normalised with the bootstrap's validator when they pass it (so v2 forms and
 * durations such as `0.25s` work); a resource that fails validation is served as written, so that
 * clients can be shown a bad resource (they NACK it). Its problem is reported as a warning.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { TYPE_URLS, validateResource, type ResourceTypeUrl } from '../config/resource';

const FOLDER_TYPES: Readonly<Record<string, ResourceTypeUrl>> = {
  clusters: TYPE_URLS.cluster,
  cds: TYPE_URLS.cluster,
  endpoints: TYPE_URLS.endpoint,
  eds: TYPE_URLS.endpoint,
  listeners: TYPE_URLS.listener,
  lds: TYPE_URLS.listener,
  routes: TYPE_URLS.route,
  rds: TYPE_URLS.route,
};
const SHORT_TYPES: Readonly<Record<string, ResourceTypeUrl>> = {
  Cluster: TYPE_URLS.cluster,
  ClusterLoadAssignment: TYPE_URLS.endpoint,
  Listener: TYPE_URLS.listener,
  RouteConfiguration: TYPE_URLS.route,
};

/** What {@link loadResourceDir} found. */
export interface ResourceDir {
  /** Resources by type URL (all four keys present). */
  byType: Record<ResourceTypeUrl, unknown[]>;
  /** One line per file or resource that could not be used or did not validate. */
  warnings: string[];
}

function typeOf(at: unknown): ResourceTypeUrl | undefined {
  if (typeof at !== 'string') return undefined;
  const short = at.slice(at.lastIndexOf('.') + 1).replace(/^.*\//, '');
  const full = at.includes('/') ? at : `type.googleapis.com/${at}`;
  if ((Object.values(TYPE_URLS) as string[]).includes(full)) return full as ResourceTypeUrl;
  return at.includes('.') ? undefined : SHORT_TYPES[short];
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      for (const f of readdirSync(p, { withFileTypes: true })) if (f.isFile()) out.push(path.join(p, f.name));
    } else if (e.isFile()) out.push(p);
  }
  return out.filter((f) => /\.(ya?ml|json)$/.test(f) && !path.basename(f).startsWith('.')).sort();
}

/**
 * Loads every resource file of `dir`.
 * @throws Error when `dir` is not a readable directory
 */
export function loadResourceDir(dir: string): ResourceDir {
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  const byType: Record<ResourceTypeUrl, unknown[]> = { [TYPE_URLS.listener]: [], [TYPE_URLS.route]: [], [TYPE_URLS.cluster]: [], [TYPE_URLS.endpoint]: [] };
  const warnings: string[] = [];
  for (const file of files(dir)) {
    const rel = path.relative(dir, file);
    const folder = rel.includes(path.sep) ? rel.split(path.sep)[0] : '';
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, 'utf8'));
    } catch (e) {
      warnings.push(`${rel}: ${(e as Error).message}`);
      continue;
    }
    if (doc === null || doc === undefined) continue;
    const list = Array.isArray(doc) ? doc : typeof doc === 'object' && Array.isArray((doc as { resources?: unknown }).resources) ? (doc as { resources: unknown[] }).resources : [doc];
    list.forEach((r, i) => {
      if (typeof r !== 'object' || r === null) return void warnings.push(`${rel}[${i}]: not a mapping`);
      const at = (r as Record<string, unknown>)['@type'];
      const t = at !== undefined ? typeOf(at) : FOLDER_TYPES[folder];
      if (!t) return void warnings.push(`${rel}[${i}]: unknown resource type ${at !== undefined ? String(at) : `(no @type, folder "${folder}")`}`);
      const raw = { ...(r as Record<string, unknown>) };
      delete raw['@type'];
      try {
        byType[t].push(validateResource(t, structuredClone(raw)).resource);
      } catch (e) {
        warnings.push(`${rel}[${i}]: ${(e as Error).message} (served as written)`);
        byType[t].push(raw);
      }
    });
  }
  return { byType, warnings };
}
