/**
 * Path rewrites shared by RouteAction and RedirectAction: `prefix_rewrite` (replaces the matched
 * prefix / path) and `regex_rewrite` (RE2 GlobalReplace over the path without query; the query and
 * fragment are kept). Substitutions use RE2's syntax: `\0`..`\9` for groups, `\\` for a backslash.
 */
import type { RE2JS } from 're2js';
import { ConfigError } from '../common/errors';
import type { RegexMatchAndSubstitute } from '../config/model';
import { configHeaderValue, pathOnly } from './headers';
import { compileRegex, joinPath } from './matchers';

/** How the route matched the path: decides how much of it prefix_rewrite replaces. */
export const enum PathKind { Prefix, Path, Regex, Separated }

/** A compiled RE2 replace-all with precompiled substitution parts (string literal or group index). */
export class RegexRewrite {
  private readonly re: RE2JS;
  private readonly parts: Array<string | number>;
  /** @throws ConfigError for an invalid regex or substitution (bad escape, group out of range). */
  constructor(spec: RegexMatchAndSubstitute, path: string) {
    if (!spec || typeof spec.substitution !== 'string') throw new ConfigError('regex_rewrite needs pattern and substitution', { path });
    this.re = compileRegex(spec.pattern, joinPath(path, 'pattern'));
    this.parts = [];
    const s = spec.substitution;
    const groups = this.re.groupCount();
    let lit = '';
    for (let i = 0; i < s.length; i++) {
      if (s[i] !== '\\') { lit += s[i]; continue; }
      const n = s[i + 1];
      if (n === '\\') { lit += '\\'; i++; continue; }
      if (n !== undefined && n >= '0' && n <= '9') {
        const g = n.charCodeAt(0) - 48;
        if (g > groups) throw new ConfigError(`substitution ${JSON.stringify(s)} refers to group \\${g} but the pattern has ${groups}`, { path: joinPath(path, 'substitution') });
        if (lit) { this.parts.push(lit); lit = ''; }
        this.parts.push(g);
        i++;
        continue;
      }
      throw new ConfigError(`invalid rewrite pattern ${JSON.stringify(s)}: bad escape at ${i}`, { path: joinPath(path, 'substitution') });
    }
    if (lit) this.parts.push(lit);
  }

  /** RE2::GlobalReplace semantics (an empty match right after the previous match is skipped). */
  replaceAll(input: string): string {
    const m = this.re.matcher(input);
    let out = '';
    let pos = 0;
    let lastEnd = -1;
    let count = 0;
    while (pos <= input.length && m.find(pos)) {
      const start = m.start();
      const end = m.end();
      if (start === end && start === lastEnd) {
        // Disallowed empty match at the end of the previous one: copy one char and move on.
        if (start >= input.length) break;
        out += input.slice(pos, start + 1);
        pos = start + 1;
        continue;
      }
      out += input.slice(pos, start);
      for (let i = 0; i < this.parts.length; i++) {
        const p = this.parts[i];
        out += typeof p === 'string' ? p : (m.group(p) ?? '');
      }
      count++;
      lastEnd = end;
      if (end === start) {
        if (start < input.length) out += input[start];
        pos = start + 1;
      } else {
        pos = end;
      }
    }
    if (count === 0) return input;
    if (pos < input.length) out += input.slice(pos);
    return out;
  }
}

/**
 * The rewriter for an action's `prefix_rewrite` / `regex_rewrite` (RouteAction or
 * RedirectAction at config path `path`), or null when neither is set. The prefix is config text
 * sent in the request line or a location header: its UTF-8 bytes, CR/LF/NUL refused
 * (configHeaderValue).
 * @throws ConfigError for such a prefix, or an invalid regex or substitution.
 */
export function compilePathRewriter(prefix: string | undefined, regex: RegexMatchAndSubstitute | undefined, path: string, kind: PathKind, matchedLen: number): PathRewriter | null {
  if (prefix === undefined && regex === undefined) return null;
  const rx = regex !== undefined ? new RegexRewrite(regex, joinPath(path, 'regex_rewrite')) : null;
  return new PathRewriter(prefix !== undefined ? configHeaderValue(prefix, joinPath(path, 'prefix_rewrite')) : null, rx, kind, matchedLen);
}

/** prefix_rewrite or regex_rewrite of one action, bound to how its route matched. */
export class PathRewriter {
  private readonly prefix: string | null;
  private readonly regex: RegexRewrite | null;
  private readonly kind: PathKind;
  private readonly matchedLen: number;
  constructor(prefix: string | null, regex: RegexRewrite | null, kind: PathKind, matchedLen: number) {
    this.prefix = prefix;
    this.regex = regex;
    this.kind = kind;
    this.matchedLen = matchedLen;
  }
  get active(): boolean {
    return this.prefix !== null || this.regex !== null;
  }
  /** The rewritten target (query kept), or null when this rewriter does nothing. */
  apply(target: string): string | null {
    if (this.prefix !== null) {
      const len = this.kind === PathKind.Regex ? pathOnly(target).length : this.matchedLen;
      return this.prefix + target.slice(len);
    }
    if (this.regex !== null) {
      const p = pathOnly(target);
      return this.regex.replaceAll(p) + target.slice(p.length);
    }
    return null;
  }
}
