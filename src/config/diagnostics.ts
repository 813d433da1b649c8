/**
 * Building errors and warnings that name `file:line:col` and a YAML path
 * (`static_resources.clusters[0].lb_policy`), plus the "did you mean" suggestion.
 */

import { ConfigError } from '../common/errors';
import { formatPos, type Pos } from './load';

/** Collected while a config is loaded; returned to the caller, never printed here. */
export interface Diagnostics {
  /** One line each: `file:line:col: path: message`. */
  warnings: string[];
}

/** Throws a ConfigError at `pos` for `path`. */
export function fail(path: string, message: string, pos: Pos | undefined, hint?: string): never {
  throw new ConfigError(message, { file: pos?.file, line: pos?.line, column: pos?.col, path: path || undefined, hint });
}

/** Adds a one-line warning `file:line:col: path: message`. */
export function warn(d: Diagnostics, path: string, pos: Pos | undefined, message: string): void {
  d.warnings.push(`${formatPos(pos)}: ${path ? path + ': ' : ''}${message}`);
}

/** YAML path of a child: `a.b`, `a[0]`, `a["x.y"]` for map keys that are not identifiers. */
export function childPath(parent: string, key: string | number, mapKey = false): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (mapKey || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent ? `${parent}.${key}` : key;
}

/** Levenshtein distance (small strings only). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = new Array<number>(n + 1);
  let cur = new Array<number>(n + 1);
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[n];
}

/**
 * The closest candidate to `word`, if close enough to be a typo: case-insensitive equality, or an
 * edit distance of at most max(2, a third of the word's length).
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const lw = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === lw ? 0 : editDistance(lw, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** A short description of a YAML value's kind, for type errors. */
export function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `the boolean ${v}`;
  return typeof v;
}
