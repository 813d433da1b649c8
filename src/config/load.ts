/**
 * YAML (and JSON, which is YAML) text → plain JS tree, with the source position of every node kept
 * in a side table so that any later stage can name `file:line:col` for a YAML path.
 *
 * Positions live in a WeakMap keyed by the containing object or array: for each child key/index we
 * keep where its key and its value start. Values moved or renamed by the normaliser carry their
 * positions with {@link copyPos}; objects the normaliser synthesises get the position of the node
 * they came from with {@link setPos}.
 */

import { readFileSync } from 'node:fs';
import { parseDocument, LineCounter, isMap, isSeq, isScalar, isAlias, type Document, type Node as YNode } from 'yaml';
import { ConfigError } from '../common/errors';

/** A 1-based source position. `file` is the config path, or `--config-yaml` for the inline string. */
export interface Pos {
  file: string;
  line: number;
  col: number;
}

interface PosTable {
  self: Pos;
  keys: Map<string | number, Pos>;
  vals: Map<string | number, Pos>;
}

const positions = new WeakMap<object, PosTable>();

function table(obj: object, fallback?: Pos): PosTable | undefined {
  let t = positions.get(obj);
  if (!t && fallback) positions.set(obj, (t = { self: fallback, keys: new Map(), vals: new Map() }));
  return t;
}

/** Where `container[key]` starts (its value, or its key with `which = 'key'`); the container itself without key. */
export function posOf(container: unknown, key?: string | number, which: 'key' | 'value' = 'value'): Pos | undefined {
  if (typeof container !== 'object' || container === null) return undefined;
  const t = positions.get(container);
  if (!t) return undefined;
  if (key === undefined) return t.self;
  return (which === 'key' ? t.keys.get(key) ?? t.vals.get(key) : t.vals.get(key) ?? t.keys.get(key)) ?? undefined;
}

/** Records `pos` as the position of a (synthesised) object, unless it already has one. */
export function setPos(obj: object, pos: Pos | undefined): void {
  if (pos && !positions.has(obj)) positions.set(obj, { self: pos, keys: new Map(), vals: new Map() });
}

/** Records the key and value position of `container[key]`. */
export function setChildPos(container: object, key: string | number, keyPos: Pos | undefined, valPos: Pos | undefined): void {
  const t = table(container, keyPos ?? valPos);
  if (!t) return;
  if (keyPos) t.keys.set(key, keyPos);
  if (valPos) t.vals.set(key, valPos);
}

/** Copies the positions of `from[fromKey]` to `to[toKey]` (renames and moves in the normaliser). */
export function copyPos(from: object, fromKey: string | number, to: object, toKey: string | number): void {
  setChildPos(to, toKey, posOf(from, fromKey, 'key'), posOf(from, fromKey, 'value'));
}

/** `file:line:col` of a position, or the file alone. */
export function formatPos(p: Pos | undefined): string {
  return p ? `${p.file}:${p.line}:${p.col}` : '<config>';
}

// ---------------------------------------------------------------------------------------------

const TAB_INDENT_RE = /^[ ]*\t/;

/** The 1-based lines whose indentation contains a tab (ignoring blank and comment-only lines). */
function tabIndentedLines(text: string): number[] {
  const out: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (!TAB_INDENT_RE.test(l)) continue;
    const rest = l.trimStart();
    if (rest === '' || rest.startsWith('#')) continue;
    out.push(i + 1);
  }
  return out;
}

function lineRange(lines: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j] + 1) j++;
    parts.push(i === j ? `${lines[i]}` : `${lines[i]}-${lines[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** `key:value` with no space after the colon: YAML reads the whole line as one plain string. */
const NO_SPACE_AFTER_COLON_RE = /^\s*(?:-\s+)?([A-Za-z_][\w.-]*):([^\s:/].*)$/;

const indentOf = (l: string): number => l.length - l.trimStart().length;
const isContent = (l: string | undefined): l is string => l !== undefined && l.trim() !== '' && !l.trimStart().startsWith('#');

/**
 * What usually causes the yaml library's syntax errors, and the line to report: the line a user must
 * edit, where the library points elsewhere (a nested mapping is reported at the value before it).
 * @param line 1-based line of the library's error position
 * @returns undefined when there is nothing more useful to say than the library's message
 */
function syntaxHint(text: string, code: string, msg: string, line: number, col: number): { line: number; col: number; hint: string } | undefined {
  const lines = text.split(/\r?\n/);
  const at = lines[line - 1] ?? '';
  const ns = NO_SPACE_AFTER_COLON_RE.exec(at);
  if (ns && (code === 'MULTILINE_IMPLICIT_KEY' || code === 'MISSING_CHAR' || code === 'BLOCK_AS_IMPLICIT_KEY')) {
    return {
      line,
      col: indentOf(at) + 1,
      hint: `a space is missing after ':' on line ${line}: write "${ns[1]}: ${ns[2].trim()}" (without the space YAML reads "${ns[1]}:${ns[2].trim()}" as one string, not a key and a value)`,
    };
  }
  if (/^Nested mappings are not allowed in compact mappings/.test(msg)) {
    // Reported at the value of `key: value`; the offending line is the next one, indented deeper.
    let n = line;
    while (n < lines.length && !isContent(lines[n])) n++;
    const next = lines[n];
    if (isContent(next) && indentOf(next) > indentOf(at)) {
      return {
        line: n + 1,
        col: indentOf(next) + 1,
        hint: `line ${n + 1} is indented more (column ${indentOf(next) + 1}) than the key on line ${line} (column ${indentOf(at) + 1}) that already has a value on its own line; ` +
          'keys of one mapping must start at the same column: fix the indentation of that line',
      };
    }
    return { line, col, hint: `a key on line ${line} has a value on the same line and more indented lines after it: fix the indentation of the lines below it` };
  }
  if (/^Sequence item without - indicator/.test(msg)) {
    return {
      line,
      col: indentOf(at) + 1,
      hint: `line ${line} is indented like a list item but does not start with "- ": inside a list item, indent each line to the column of the item's first key (just after "- "), or start a new item with "- "`,
    };
  }
  if (/^Implicit keys need to be on a single line/.test(msg) || code === 'BAD_INDENT') {
    return {
      line,
      col,
      hint: `check the indentation of line ${line}: keys of one mapping, and the "- " of items of one list, must start at the same column as the ones before them`,
    };
  }
  return undefined;
}

/**
 * Parses YAML/JSON text into a plain tree with positions.
 * @param text the YAML source
 * @param file the name errors and positions use (a path, or `--config-yaml`)
 * @returns the root value (`undefined` for an empty document)
 * @throws ConfigError on syntax errors: tabs used for indentation (`YAML indentation must use spaces,
 *   not tabs`), duplicate keys, unbalanced brackets, several documents, aliases to nothing.
 */
export function parseYaml(text: string, file: string): unknown {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    const tabs = tabIndentedLines(text);
    const tabErr = doc.errors.find((e) => e.code === 'TAB_AS_INDENT');
    if (tabErr || tabs.length > 0) {
      const line = tabErr ? lc.linePos(tabErr.pos[0]).line : tabs[0];
      const list = tabs.length > 0 ? tabs : [line];
      throw new ConfigError(`YAML indentation must use spaces, not tabs (tab characters indent line${list.length > 1 ? 's' : ''} ${lineRange(list)})`, {
        file,
        line,
        column: 1,
        hint: 'replace each tab at the start of those lines with spaces, aligned with the lines around them',
      });
    }
    const e = doc.errors[0];
    const p = lc.linePos(e.pos[0]);
    const msg = e.message.replace(/ at line \d+, column \d+[\s\S]*$/, '');
    const what = e.code === 'DUPLICATE_KEY' ? 'duplicate key in mapping'
      : e.code === 'MULTIPLE_DOCS' ? 'more than one YAML document (---); a bootstrap is a single document' : msg;
    const h = syntaxHint(text, e.code, msg, p.line, p.col);
    throw new ConfigError(`YAML syntax error: ${what}`, { file, line: h?.line ?? p.line, column: h?.col ?? p.col, hint: h?.hint });
  }
  if (doc.contents === null) return undefined;
  return toPlain(doc, doc.contents as YNode, lc, file, 0);
}

function pos(lc: LineCounter, node: YNode | null | undefined, file: string, fallback: Pos): Pos {
  if (!node || !node.range) return fallback;
  const p = lc.linePos(node.range[0]);
  return { file, line: p.line, col: p.col };
}

function toPlain(doc: Document, node: YNode, lc: LineCounter, file: string, depth: number): unknown {
  if (depth > 200) throw new ConfigError('YAML nesting is too deep (alias cycle?)', { file, ...lineCol(lc, node) });
  if (isAlias(node)) {
    const target = node.resolve(doc);
    if (!target) throw new ConfigError(`YAML alias *${node.source} refers to no anchor`, { file, ...lineCol(lc, node) });
    return toPlain(doc, target as YNode, lc, file, depth + 1);
  }
  const self = pos(lc, node, file, { file, line: 1, col: 1 });
  if (isMap(node)) {
    const obj: Record<string, unknown> = {};
    positions.set(obj, { self, keys: new Map(), vals: new Map() });
    for (const pair of node.items) {
      const k = pair.key as YNode | null;
      if (k && !isScalar(k)) throw new ConfigError('mapping keys must be plain strings', { file, ...lineCol(lc, k) });
      const isMergeKey = k !== null && (typeof k.value === 'symbol' || k.value === '<<');
      const key = k ? (isMergeKey ? '<<' : String(k.value)) : '';
      const kp = pos(lc, k, file, self);
      const v = pair.value as YNode | null;
      if (isMergeKey && v) {
        // YAML 1.1 merge key: copy the referenced mapping's entries that are not set here.
        const merged = toPlain(doc, v, lc, file, depth + 1);
        for (const src of Array.isArray(merged) ? merged : [merged]) {
          if (typeof src !== 'object' || src === null) continue;
          for (const [mk, mv] of Object.entries(src)) {
            if (mk in obj) continue;
            obj[mk] = mv;
            copyPos(src, mk, obj, mk);
          }
        }
        continue;
      }
      obj[key] = v ? toPlain(doc, v, lc, file, depth + 1) : null;
      setChildPos(obj, key, kp, v ? pos(lc, v, file, kp) : kp);
    }
    return obj;
  }
  if (isSeq(node)) {
    const arr: unknown[] = [];
    positions.set(arr, { self, keys: new Map(), vals: new Map() });
    for (const item of node.items) {
      const v = item as YNode | null;
      const i = arr.length;
      arr.push(v ? toPlain(doc, v, lc, file, depth + 1) : null);
      const vp = pos(lc, v, file, self);
      setChildPos(arr, i, vp, vp);
    }
    return arr;
  }
  if (isScalar(node)) return node.value;
  return null;
}

function lineCol(lc: LineCounter, node: YNode): { line?: number; column?: number } {
  if (!node.range) return {};
  const p = lc.linePos(node.range[0]);
  return { line: p.line, column: p.col };
}

/**
 * Reads a config file. @throws ConfigError when it cannot be read.
 */
export function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read config file (${code ?? String(e)})`, { file: path });
  }
}

/**
 * Merges `over` into `base` the way Envoy merges `--config-yaml` over `--config-path`
 * (protobuf `MergeFrom`): mappings merge key by key recursively, lists are appended, scalars are
 * replaced. A `google.protobuf.Any` (a mapping with `@type`) whose type changes is replaced whole.
 * Positions of the merged-in nodes are kept.
 * @returns the merged tree (`base`, mutated)
 */
export function mergeTrees(base: unknown, over: unknown): unknown {
  if (isObj(base) && isObj(over)) {
    if ('@type' in over && base['@type'] !== over['@type']) return over;
    for (const [k, v] of Object.entries(over)) {
      const cur = base[k];
      if (isObj(cur) && isObj(v)) {
        base[k] = mergeTrees(cur, v);
        if (base[k] === v) copyPos(over, k, base, k);
      } else if (Array.isArray(cur) && Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          cur.push(v[i]);
          copyPos(v, i, cur, cur.length - 1);
        }
      } else {
        base[k] = v;
        copyPos(over, k, base, k);
      }
    }
    return base;
  }
  return over === undefined || over === null ? base : over;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
