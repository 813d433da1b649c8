/**
 * Compiled request matchers: RE2 regexes, StringMatcher, HeaderMatcher and QueryParameterMatcher
 * (envoy.type.matcher.v3 / envoy.config.route.v3). Built once at config time; `match()` allocates
 * nothing except when a header occurs several times (values joined with ",").
 */
import type { RE2JS } from 're2js';
import { re2 } from '../common/re2';
import { ConfigError } from '../common/errors';
import type { HeaderMatcher, QueryParameterMatcher, RegexMatcher, StringMatcher } from '../config/model';
import { asciiLower, getJoined } from './headers';
import type { RouteRequest } from './types';

/** Joins a config path segment onto a prefix (`a.b` + `c` → `a.b.c`). */
export function joinPath(prefix: string, seg: string): string {
  if (!prefix) return seg;
  if (seg.startsWith('[')) return prefix + seg;
  return `${prefix}.${seg}`;
}

/**
 * Compiles an RE2 pattern (envoy.type.matcher.v3.RegexMatcher, `google_re2` engine semantics via
 * re2js: linear time, no backreferences or lookaround).
 * @throws ConfigError at `path` when the pattern is missing or invalid.
 */
export function compileRegex(rm: RegexMatcher | undefined, path: string): RE2JS {
  if (!rm || typeof rm.regex !== 'string') throw new ConfigError('regex is required', { path });
  try {
    return re2().compile(rm.regex);
  } catch (e) {
    throw new ConfigError(`invalid RE2 regex ${JSON.stringify(rm.regex)}: ${(e as Error).message}`, { path: joinPath(path, 'regex') });
  }
}

const enum SKind { Exact, Prefix, Suffix, Contains, Regex }

/** A compiled envoy.type.matcher.v3.StringMatcher. */
export class CompiledStringMatcher {
  private readonly kind: SKind;
  private readonly value: string;
  private readonly ignoreCase: boolean;
  private readonly re: RE2JS | null;
  /** @throws ConfigError when no matcher kind is set or the regex is invalid. */
  constructor(sm: StringMatcher, path: string) {
    this.ignoreCase = sm.ignore_case === true;
    this.re = null;
    if (sm.exact !== undefined) { this.kind = SKind.Exact; this.value = sm.exact; }
    else if (sm.prefix !== undefined) { this.kind = SKind.Prefix; this.value = sm.prefix; }
    else if (sm.suffix !== undefined) { this.kind = SKind.Suffix; this.value = sm.suffix; }
    else if (sm.contains !== undefined) { this.kind = SKind.Contains; this.value = sm.contains; }
    else if (sm.safe_regex !== undefined) {
      this.kind = SKind.Regex;
      this.value = '';
      this.re = compileRegex(sm.safe_regex, joinPath(path, 'safe_regex'));
      this.ignoreCase = false; // ignore_case has no effect for safe_regex (string.proto)
    } else {
      throw new ConfigError('StringMatcher needs one of exact, prefix, suffix, contains, safe_regex', { path });
    }
    if (this.ignoreCase) this.value = asciiLower(this.value);
  }
  /** True when `v` matches. */
  match(v: string): boolean {
    if (this.kind === SKind.Regex) return this.re!.testExact(v);
    if (this.ignoreCase) v = asciiLower(v);
    switch (this.kind) {
      case SKind.Exact: return v === this.value;
      case SKind.Prefix: return v.startsWith(this.value);
      case SKind.Suffix: return v.endsWith(this.value);
      default: return v.includes(this.value);
    }
  }
}

const enum HKind { Exact, Regex, Range, Present, Prefix, Suffix, Contains, String }
const enum HSource { Header, Method, Authority, Path }

/** Parses like absl::SimpleAtoi into int64: optional surrounding whitespace and sign. */
function parseInt64(v: string): number | undefined {
  const m = /^\s*([+-]?\d+)\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * A compiled envoy.config.route.v3.HeaderMatcher with Envoy's semantics
 * (source/common/http/header_utility.cc `matchHeaders`): several values of one header are joined
 * with ","; a missing header fails every matcher except `present_match: false` (or, inverted,
 * `present_match: true`) unless `treat_missing_header_as_empty`; `exact_match: ""` matches any
 * value; no specifier means "present". `:method`, `:path`, `:authority`/`host` read the request line.
 */
export class CompiledHeaderMatcher {
  private readonly name: string;
  private readonly source: HSource;
  private readonly kind: HKind;
  private readonly value: string = '';
  private readonly present: boolean = true;
  private readonly start: number = 0;
  private readonly end: number = 0;
  private readonly re: RE2JS | null = null;
  private readonly sm: CompiledStringMatcher | null = null;
  private readonly invert: boolean;
  private readonly missingAsEmpty: boolean;
  /** @throws ConfigError on a missing name or an invalid regex. */
  constructor(hm: HeaderMatcher, path: string) {
    if (!hm || typeof hm.name !== 'string' || hm.name.length === 0) throw new ConfigError('header matcher name is required', { path: joinPath(path, 'name') });
    this.name = asciiLower(hm.name);
    this.source = this.name === ':method' ? HSource.Method
      : this.name === ':path' ? HSource.Path
        : this.name === ':authority' || this.name === 'host' ? HSource.Authority : HSource.Header;
    this.invert = hm.invert_match === true;
    this.missingAsEmpty = hm.treat_missing_header_as_empty === true;
    if (hm.exact_match !== undefined) { this.kind = HKind.Exact; this.value = hm.exact_match; }
    else if (hm.safe_regex_match !== undefined) { this.kind = HKind.Regex; this.re = compileRegex(hm.safe_regex_match, joinPath(path, 'safe_regex_match')); }
    else if (hm.range_match !== undefined) {
      this.kind = HKind.Range;
      this.start = Number(hm.range_match.start);
      this.end = Number(hm.range_match.end);
      if (!Number.isFinite(this.start) || !Number.isFinite(this.end)) throw new ConfigError('range_match needs numeric start and end', { path: joinPath(path, 'range_match') });
    } else if (hm.present_match !== undefined) { this.kind = HKind.Present; this.present = hm.present_match === true; }
    else if (hm.prefix_match !== undefined) { this.kind = HKind.Prefix; this.value = hm.prefix_match; }
    else if (hm.suffix_match !== undefined) { this.kind = HKind.Suffix; this.value = hm.suffix_match; }
    else if (hm.contains_match !== undefined) { this.kind = HKind.Contains; this.value = hm.contains_match; }
    else if (hm.string_match !== undefined) { this.kind = HKind.String; this.sm = new CompiledStringMatcher(hm.string_match, joinPath(path, 'string_match')); }
    else { this.kind = HKind.Present; this.present = true; }
  }

  /** True when the request satisfies this matcher. */
  match(req: RouteRequest): boolean {
    let v: string | undefined;
    switch (this.source) {
      case HSource.Header: v = getJoined(req.headers, this.name); break;
      case HSource.Method: v = req.method; break;
      case HSource.Authority: v = req.authority.length !== 0 ? req.authority : undefined; break;
      default: v = req.path;
    }
    if (v === undefined) {
      if (!this.missingAsEmpty) {
        return this.kind === HKind.Present && (this.invert ? this.present : !this.present);
      }
      v = '';
    }
    let m: boolean;
    switch (this.kind) {
      case HKind.Exact: m = this.value.length === 0 || v === this.value; break;
      case HKind.Regex: m = this.re!.testExact(v); break;
      case HKind.Range: {
        const n = parseInt64(v);
        m = n !== undefined && n >= this.start && n < this.end;
        break;
      }
      case HKind.Present: m = this.present; break;
      case HKind.Prefix: m = v.startsWith(this.value); break;
      case HKind.Suffix: m = v.endsWith(this.value); break;
      case HKind.Contains: m = v.includes(this.value); break;
      default: m = this.sm!.match(v);
    }
    return m !== this.invert;
  }
}

/** Percent-decodes `%XX` sequences; invalid sequences are kept as is (Envoy's PercentEncoding::decode). */
export function percentDecode(s: string): string {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/**
 * Parses the query of a request target into name → first value, both percent-decoded
 * (Envoy's `QueryParamsMulti::parseAndDecodeQueryString` + `getFirstValue`). A key without `=`
 * has the value "".
 */
export function parseQuery(target: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = target.indexOf('?');
  if (q < 0) return out;
  let end = target.indexOf('#', q + 1);
  if (end < 0) end = target.length;
  let i = q + 1;
  while (i < end) {
    let amp = target.indexOf('&', i);
    if (amp < 0 || amp > end) amp = end;
    if (amp > i) {
      const seg = target.slice(i, amp);
      const eq = seg.indexOf('=');
      const k = percentDecode(eq < 0 ? seg : seg.slice(0, eq));
      const v = eq < 0 ? '' : percentDecode(seg.slice(eq + 1));
      if (!out.has(k)) out.set(k, v);
    }
    i = amp + 1;
  }
  return out;
}

/**
 * A compiled envoy.config.route.v3.QueryParameterMatcher: the parameter must be present; with
 * `string_match` its (first, decoded) value must match; `present_match` or no specifier only
 * needs presence.
 */
export class CompiledQueryMatcher {
  private readonly name: string;
  private readonly sm: CompiledStringMatcher | null;
  /** @throws ConfigError on a missing name or an invalid string matcher. */
  constructor(qm: QueryParameterMatcher, path: string) {
    if (!qm || typeof qm.name !== 'string' || qm.name.length === 0) throw new ConfigError('query parameter matcher name is required', { path: joinPath(path, 'name') });
    this.name = qm.name;
    this.sm = qm.string_match !== undefined ? new CompiledStringMatcher(qm.string_match, joinPath(path, 'string_match')) : null;
  }
  /** True when the parsed query satisfies this matcher. */
  match(query: Map<string, string>): boolean {
    const v = query.get(this.name);
    if (v === undefined) return false;
    return this.sm === null || this.sm.match(v);
  }
}
