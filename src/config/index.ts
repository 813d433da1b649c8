/**
 * The bootstrap config loader: YAML (or JSON) text → validated, normalised {@link Bootstrap}.
 *
 * Stages: `load.ts` (YAML → plain tree with positions; `--config-yaml` merged over the file),
 * `proto-schema.ts` (descriptor walk over Envoy's real v3 protos, calling `normalise.ts` for v2 → v3
 * rewrites on each message), `semantic.ts` (cross-references), `support.ts` (TLS refused, filters and
 * route tables checked as workers will compile them). Every error is a ConfigError naming
 * `file:line:col` and the YAML path; warnings come back as one-line strings.
 */

import { ConfigError } from '../common/errors';
import type { Bootstrap } from './model';
import { mergeTrees, parseYaml, posOf, readConfigFile } from './load';
import { lookupMessage } from './proto-descriptors';
import { walkRoot } from './proto-schema';
import { checkSemantics } from './semantic';
import { checkSupport } from './support';
import { kindOf } from './diagnostics';

export { canonicalDuration } from './normalise';
export { posOf, formatPos, type Pos } from './load';
/** Throws a ConfigError for `path` at `pos` (for later, main-thread checks on the loaded objects: `fail(path, msg, posOf(obj, key))`). */
export { fail } from './diagnostics';

/** Options of {@link loadBootstrap}; Envoy's `--config-path` and `--config-yaml`. */
export interface LoadOptions {
  /** Path of a YAML or JSON bootstrap file (`--config-path`). */
  path?: string;
  /** Inline YAML/JSON (`--config-yaml`); merged over the file when both are given. */
  yaml?: string;
  /** Envoy's `--allow-unknown-static-fields`: unknown fields are warnings (and dropped), not errors. */
  allowUnknownStaticFields?: boolean;
}

/** The result of {@link loadBootstrap}. */
export interface LoadResult {
  bootstrap: Bootstrap;
  /** One line each, `file:line:col: path: message` (deprecated v2 forms, fields attache ignores). */
  warnings: string[];
}

/** The file name used in positions for the inline `--config-yaml` string. */
export const CONFIG_YAML_NAME = '--config-yaml';

/**
 * Loads, normalises (v2 → v3, canonical durations/enums/wrappers) and validates a bootstrap against
 * Envoy's v3 protos (envoy.config.bootstrap.v3.Bootstrap).
 *
 * With both `path` and `yaml`, the YAML is merged over the file as Envoy merges `--config-yaml`
 * over `--config-path` (protobuf MergeFrom: mappings merged recursively, lists appended, scalars
 * replaced).
 * @throws ConfigError (never another error) naming file:line:col and the YAML path of the first problem
 */
export function loadBootstrap(opts: LoadOptions): LoadResult {
  if (opts.path === undefined && (opts.yaml === undefined || opts.yaml.trim() === '')) {
    throw new ConfigError('no configuration given: pass a config file (--config-path) or inline YAML (--config-yaml)');
  }
  let tree: unknown = opts.path !== undefined ? parseYaml(readConfigFile(opts.path), opts.path) : undefined;
  if (opts.yaml !== undefined && opts.yaml.trim() !== '') {
    const over = parseYaml(opts.yaml, CONFIG_YAML_NAME);
    checkRoot(over, CONFIG_YAML_NAME);
    tree = tree === undefined || tree === null ? over : mergeTrees(tree, over);
  }
  const file = opts.path ?? CONFIG_YAML_NAME;
  checkRoot(tree, file);
  const root = tree as Record<string, unknown>;
  const type = lookupMessage('envoy.config.bootstrap.v3.Bootstrap');
  if (!type) throw new ConfigError('cannot load Envoy\'s bootstrap proto (is @grpc/grpc-js-xds installed?)');
  const warnings: string[] = [];
  const seen = walkRoot(root, type, { warnings }, opts.allowUnknownStaticFields === true);
  checkSemantics(root, seen);
  checkSupport(seen, { warnings });
  return { bootstrap: root as Bootstrap, warnings: sortByPosition(warnings, file) };
}

const WARN_POS_RE = /^(.+?):(\d+):(\d+): /;

/** Warnings in source order: the file's first, then --config-yaml's, each by line and column. */
function sortByPosition(warnings: string[], file: string): string[] {
  const key = (w: string): [number, number, number] => {
    const m = WARN_POS_RE.exec(w);
    if (!m) return [2, 0, 0];
    return [m[1] === file ? 0 : 1, Number(m[2]), Number(m[3])];
  };
  return warnings
    .map((w) => ({ w, k: key(w) }))
    .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.k[2] - b.k[2])
    .map((x) => x.w);
}

function checkRoot(tree: unknown, file: string): void {
  if (tree === undefined || tree === null) throw new ConfigError('configuration is empty', { file });
  if (typeof tree !== 'object' || Array.isArray(tree)) {
    const p = posOf(tree);
    throw new ConfigError(`a bootstrap must be a YAML mapping, got ${kindOf(tree)}`, { file, line: p?.line ?? 1, column: p?.col ?? 1 });
  }
}

/**
 * Validates without keeping the result (the CLI's `--mode validate`): the same call as
 * {@link loadBootstrap}.
 * @returns the warnings
 * @throws ConfigError as loadBootstrap does
 */
export function validateOnly(opts: LoadOptions): string[] {
  return loadBootstrap(opts).warnings;
}

/**
 * The snapshot workers compile: the static listeners and clusters of a loaded bootstrap (deep
 * copies), no resolved endpoints and no RDS routes yet.
 * @param version monotonic config version
 */
export { snapshotFromBootstrap, needsDynamicConfig } from './snapshot';

/** A listener's `ip:port` for duplicate-address checks across LDS resources (see ./addresses). */
export { listenerAddressKey } from './addresses';

/** Validation of single xDS resources with the bootstrap's walk (see ./resource). */
export { validateResource, canonicalResourceType, resourceNameOf, TYPE_URLS, type ResourceTypeUrl, type ValidatedResource } from './resource';
