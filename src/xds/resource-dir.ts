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
 * durations such as `0.25s` work). A resource that fails validation:
 * - is served as written when the protobuf wire form carries what is wrong with it (a port of
 *   70000, a missing field, a bad regex...), so that clients are shown the bad resource and NACK
 *   it; reported as a warning `... (served as written): clients will NACK it ...`;
 * - is refused when the wire form cannot carry it (an enum name that is not in the enum, such as
 *   `lb_policy: ROUND_ROBN`, an unknown field, an unknown `@type`): protobuf would silently drop or
 *   default the field and clients would ACK something else than what the file says. Reported as an
 *   error; the resource's last good version from the same file (same type and name) stays served.
 *
 * A file that does not parse (YAML/JSON syntax) is reported as an error with `file:line:column`,
 * and the resources it last yielded stay served until it parses again (a half-written or mistyped
 * file never removes listeners or routes). A file that is deleted removes its resources.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { lookupTypeUrl, protobuf, typeName } from '../config/proto-descriptors';
import { resourceNameOf, TYPE_URLS, validateResource, type ResourceTypeUrl } from '../config/resource';
import { toProtoResource } from './proto-json';

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

/** One resource a file yielded, as served. */
export interface FileResource {
  typeUrl: ResourceTypeUrl;
  /** Resource name (`name` or `cluster_name`); undefined when it has none. */
  name: string | undefined;
  resource: unknown;
}

/**
 * What the previous loads served, per file (path relative to DIR): pass the same map to every
 * {@link loadResourceDir} call of a directory so that a file with a syntax error, or a refused
 * resource, keeps its last good version. The loader updates it.
 */
export type ResourceDirMemory = Map<string, FileResource[]>;

/** What {@link loadResourceDir} found. */
export interface ResourceDir {
  /** Resources by type URL (all four keys present). */
  byType: Record<ResourceTypeUrl, unknown[]>;
  /** Served resources that did not validate (clients will NACK them), ignored list items. */
  warnings: string[];
  /** Files that do not parse and resources that were refused (what is served instead is said). */
  errors: string[];
}

function typeOf(at: unknown): ResourceTypeUrl | undefined {
  if (typeof at !== 'string') return undefined;
  const short = at.slice(at.lastIndexOf('.') + 1).replace(/^.*\//, '');
  const full = at.includes('/') ? at : `type.googleapis.com/${at}`;
  if ((Object.values(TYPE_URLS) as string[]).includes(full)) return full as ResourceTypeUrl;
  return at.includes('.') ? undefined : SHORT_TYPES[short];
}

/** DIR and its direct subfolders (the folders a watcher must watch). */
export function resourceFolders(dir: string): string[] {
  const out = [dir];
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory() && !e.name.startsWith('.')) out.push(path.join(dir, e.name));
  return out;
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
 * A cheap summary of the resource files (path, inode, size, mtime): it changes when a file is
 * written, replaced by rename, added or removed. Used to poll when file events are missed.
 * @throws Error when `dir` cannot be read
 */
export function dirFingerprint(dir: string): string {
  const parts: string[] = [];
  for (const f of files(dir)) {
    try {
      const st = statSync(f);
      parts.push(`${f}\0${st.ino}\0${st.size}\0${st.mtimeMs}`);
    } catch {
      parts.push(`${f}\0gone`);
    }
  }
  return parts.join('\n');
}

/** `file:line:col: message` for a YAML/JSON syntax error (the first line of the yaml message). */
function parseErrorText(file: string, e: unknown): string {
  const msg = (e as Error).message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  const pos = e instanceof YAMLParseError ? e.linePos?.[0] : undefined;
  return `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${msg}`;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects what protobuf encoding would drop or change in `obj` (a message of `type`, proto3 JSON). */
function wireLosses(type: protobuf.Type, obj: Record<string, unknown>, at: string, out: string[], depth: number): void {
  if (depth > 32 || out.length > 4) return;
  for (const [k, v] of Object.entries(obj)) {
    if (k === '@type' || v === null || v === undefined) continue;
    const p = at ? `${at}.${k}` : k;
    const f = type.fields[k];
    if (!f) {
      out.push(`${p}: no such field in ${typeName(type)}`);
      continue;
    }
    const items: Array<[string, unknown]> = f.map && isObj(v) ? Object.entries(v).map(([mk, mv]) => [`${p}.${mk}`, mv]) : f.repeated && Array.isArray(v) ? v.map((x, i) => [`${p}[${i}]`, x]) : [[p, v]];
    for (const [ip, x] of items) {
      const rt = f.resolvedType;
      if (rt instanceof protobuf.Enum) {
        const ok = typeof x === 'string' ? x in rt.values : typeof x === 'number' && x in rt.valuesById;
        if (!ok) out.push(`${ip}: ${JSON.stringify(x)} is not a value of ${typeName(rt)}`);
      } else if (rt instanceof protobuf.Type && isObj(x)) {
        const tn = typeName(rt);
        if (tn === 'google.protobuf.Any') {
          const inner = typeof x['@type'] === 'string' ? lookupTypeUrl(x['@type']) : undefined;
          if (!inner) out.push(`${ip}: unknown @type ${JSON.stringify(x['@type'])}`);
          else wireLosses(inner, x, ip, out, depth + 1);
        } else if (!tn.startsWith('google.protobuf.')) wireLosses(rt, x, ip, out, depth + 1);
      }
    }
  }
}

/** Why `raw` (which did not validate) cannot be sent as written, or undefined when it can. */
function unsendable(t: ResourceTypeUrl, raw: Record<string, unknown>): string | undefined {
  const type = lookupTypeUrl(t);
  if (!type) return undefined;
  const out: string[] = [];
  wireLosses(type, raw, '', out, 0);
  if (out.length === 0) {
    try {
      const { '@type': _, ...fields } = toProtoResource(t, raw) as Record<string, unknown>;
      type.encode(type.fromObject(fields)).finish();
    } catch (e) {
      out.push((e as Error).message);
    }
  }
  return out.length ? out.join('; ') : undefined;
}

/** The resources of one parsed file, with their warnings and errors. */
function fileResources(file: string, folder: string, doc: unknown, previous: FileResource[] | undefined, warnings: string[], errors: string[]): FileResource[] {
  const list = Array.isArray(doc) ? doc : isObj(doc) && Array.isArray(doc.resources) ? (doc.resources as unknown[]) : [doc];
  const out: FileResource[] = [];
  list.forEach((r, i) => {
    const where = `${file}[${i}]`;
    if (!isObj(r)) return void warnings.push(`${where}: not a mapping (ignored)`);
    const at = r['@type'];
    const t = at !== undefined ? typeOf(at) : FOLDER_TYPES[folder];
    if (!t) return void warnings.push(`${where}: unknown resource type ${at !== undefined ? String(at) : `(no @type, folder "${folder}")`} (ignored)`);
    const raw = { ...r };
    delete raw['@type'];
    const name = resourceNameOf(t, raw);
    try {
      out.push({ typeUrl: t, name, resource: validateResource(t, structuredClone(raw)).resource });
      return;
    } catch (e) {
      const why = unsendable(t, raw);
      if (why === undefined) {
        warnings.push(`${where}: ${(e as Error).message} (served as written): clients will NACK it and keep their previous version`);
        out.push({ typeUrl: t, name, resource: raw });
        return;
      }
      const old = name === undefined ? undefined : previous?.find((p) => p.typeUrl === t && p.name === name);
      if (old) out.push(old);
      errors.push(`${where}: ${(e as Error).message}; NOT served: the xDS wire (protobuf) cannot carry it as written (${why}); ${old ? 'still serving its last good version' : 'nothing served for it'}`);
    }
  });
  return out;
}

/**
 * Loads every resource file of `dir`.
 * @param memory what previous loads of `dir` served per file (updated): a file that does not parse
 *   keeps what it last yielded; without it such a file yields nothing
 * @throws Error when `dir` is not a readable directory
 */
export function loadResourceDir(dir: string, memory: ResourceDirMemory = new Map()): ResourceDir {
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  const byType: Record<ResourceTypeUrl, unknown[]> = { [TYPE_URLS.listener]: [], [TYPE_URLS.route]: [], [TYPE_URLS.cluster]: [], [TYPE_URLS.endpoint]: [] };
  const warnings: string[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const file of files(dir)) {
    const rel = path.relative(dir, file);
    const folder = rel.includes(path.sep) ? rel.split(path.sep)[0] : '';
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // removed since the listing: as if absent
    }
    seen.add(rel);
    let got: FileResource[];
    try {
      const doc: unknown = parseYaml(text);
      got = doc === null || doc === undefined ? [] : fileResources(file, folder, doc, memory.get(rel), warnings, errors);
    } catch (e) {
      got = memory.get(rel) ?? [];
      errors.push(`${parseErrorText(file, e)} (${got.length ? `still serving the ${got.length} resource(s) it last had` : 'nothing served from it'} until it parses)`);
    }
    memory.set(rel, got);
    for (const r of got) byType[r.typeUrl].push(r.resource);
  }
  for (const rel of [...memory.keys()]) if (!seen.has(rel)) memory.delete(rel);
  return { byType, warnings, errors };
}
