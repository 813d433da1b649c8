/**
 * One compiled envoy.config.route.v3.Route: its matcher (path + headers + query parameters) and
 * its action (RouteAction, RedirectAction or DirectResponseAction), following Envoy's
 * source/common/router/config_impl.cc (RouteEntryImplBase and its Prefix/Path/Regex/
 * PathSeparatedPrefix subclasses).
 */
import { readFileSync } from 'node:fs';
import type { RE2JS } from 're2js';
import { durationMs } from '../common/duration';
import { ConfigError } from '../common/errors';
import type { Route, RouteAction } from '../config/model';
import { asciiLower, configHeaderValue, getFirst } from './headers';
import type { LevelParsers } from './header-mutation';
import { composeMutations } from './header-mutation';
import { CompiledHeaderMatcher, CompiledQueryMatcher, compileRegex, joinPath, parseQuery } from './matchers';
import { buildRedirect, compileRedirect, type RedirectSpec } from './redirect';
import { compilePathRewriter, PathKind, type PathRewriter } from './rewrite';
import type { CompiledRoute, HeaderMutation, RouteRequest } from './types';

/** Per-request matching state, reused across routes of one lookup (lazy lowercasing/query parsing). */
export class MatchContext {
  req!: RouteRequest;
  /** Path without query and fragment. */
  path = '';
  private lowerCache: string | null = null;
  private queryCache: Map<string, string> | null = null;
  reset(req: RouteRequest, path: string): void {
    this.req = req;
    this.path = path;
    this.lowerCache = null;
    this.queryCache = null;
  }
  lower(): string {
    return this.lowerCache ??= asciiLower(this.path);
  }
  query(): Map<string, string> {
    return this.queryCache ??= parseQuery(this.req.path);
  }
}

/** Shared, already-compiled pieces a route needs from its virtual host and route config. */
export interface RouteParents {
  vhostName: string;
  vhostHeaders: LevelParsers;
  rcHeaders: LevelParsers;
  mostSpecificWins: boolean;
  /** route_config → vhost typed_per_filter_config, merged. */
  perFilter: ReadonlyMap<string, unknown>;
  maxDirectBodyBytes: number;
}

const EMPTY_MAP: ReadonlyMap<string, unknown> = new Map();

const enum Cluster { None, Fixed, Header, Weighted }

function countSet(o: object, keys: string[]): number {
  let n = 0;
  for (const k of keys) if ((o as Record<string, unknown>)[k] !== undefined) n++;
  return n;
}

/** A compiled Route. Implements {@link CompiledRoute} plus `matches()` for the table. */
export class RouteEntry implements CompiledRoute {
  readonly name: string | undefined;
  readonly virtualHostName: string;
  readonly kind: 'cluster' | 'direct_response' | 'redirect';
  readonly hostRewriteLiteral: string | null = null;
  readonly autoHostRewrite: boolean = false;
  readonly hostRewriteHeader: string | null = null;
  /** `append_x_forwarded_host`: add `x-forwarded-host` with the original Host when the Host is rewritten (default false). */
  readonly appendXForwardedHost: boolean = false;
  readonly timeoutMs: number = 15000;
  readonly timeoutHeaderValue: string;
  readonly idleTimeoutMs: number | undefined = undefined;
  readonly clusterNotFoundStatus: number = 503;
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
  readonly directResponse: { status: number; body: Buffer | null } | null = null;
  readonly perFilterConfig: ReadonlyMap<string, unknown>;
  readonly hashPolicy: unknown = undefined;
  readonly retryPolicy: unknown = undefined;

  // Matcher.
  readonly pathKind: PathKind;
  /** prefix / path / path_separated_prefix value (lowercased when !caseSensitive). */
  readonly pathValue: string;
  readonly caseSensitive: boolean;
  /** safe_regex pattern source (for the index's literal-prefix prefilter), else null. */
  readonly regexSource: string | null = null;
  private readonly re: RE2JS | null = null;
  private readonly headerMatchers: CompiledHeaderMatcher[];
  private readonly queryMatchers: CompiledQueryMatcher[];
  /** True when only the path decides (no header/query matchers). */
  readonly pathOnly: boolean;

  // Action.
  private readonly clusterKind: Cluster = Cluster.None;
  private readonly cluster: string = '';
  private readonly weightedNames: string[] = [];
  private readonly weightedEnds: number[] = [];
  private readonly weightedTotal: number = 0;
  private readonly rewriter: PathRewriter | null = null;
  private readonly upgrades: Map<string, boolean> | null = null;
  private readonly redirectSpec: RedirectSpec | null = null;

  /** @throws ConfigError with the path of the offending field. */
  constructor(r: Route, path: string, parents: RouteParents, ownHeaders: LevelParsers) {
    this.name = r.name;
    this.virtualHostName = parents.vhostName;
    const mPath = joinPath(path, 'match');
    const m = r.match;
    if (!m || typeof m !== 'object') throw new ConfigError('match is required', { path: mPath });
    this.caseSensitive = m.case_sensitive !== false;
    const specifiers = countSet(m, ['prefix', 'path', 'safe_regex', 'path_separated_prefix']);
    if (specifiers !== 1) throw new ConfigError('match needs exactly one of prefix, path, safe_regex, path_separated_prefix', { path: mPath });
    let value = '';
    if (m.prefix !== undefined) { this.pathKind = PathKind.Prefix; value = String(m.prefix); }
    else if (m.path !== undefined) { this.pathKind = PathKind.Path; value = String(m.path); }
    else if (m.path_separated_prefix !== undefined) {
      this.pathKind = PathKind.Separated;
      value = String(m.path_separated_prefix);
      if (!/^[^?#]+[^?#/]$/.test(value)) throw new ConfigError('path_separated_prefix must not contain ? or # and must not end with /', { path: joinPath(mPath, 'path_separated_prefix') });
    } else {
      this.pathKind = PathKind.Regex;
      this.re = compileRegex(m.safe_regex, joinPath(mPath, 'safe_regex'));
      this.regexSource = m.safe_regex!.regex;
    }
    this.pathValue = this.caseSensitive ? value : asciiLower(value);
    this.headerMatchers = (m.headers ?? []).map((h, i) => new CompiledHeaderMatcher(h, joinPath(mPath, `headers[${i}]`)));
    this.queryMatchers = (m.query_parameters ?? []).map((q, i) => new CompiledQueryMatcher(q, joinPath(mPath, `query_parameters[${i}]`)));
    this.pathOnly = this.headerMatchers.length === 0 && this.queryMatchers.length === 0;

    const actions = countSet(r, ['route', 'redirect', 'direct_response']);
    if (actions !== 1) throw new ConfigError('route needs exactly one of route, redirect, direct_response', { path });
    const muts = composeMutations(ownHeaders, parents.vhostHeaders, parents.rcHeaders, parents.mostSpecificWins);
    this.requestHeaders = muts.request;
    this.responseHeaders = muts.response;

    const merged = new Map(parents.perFilter);
    for (const [k, v] of Object.entries(r.typed_per_filter_config ?? {})) merged.set(k, v);
    this.perFilterConfig = merged.size === 0 ? EMPTY_MAP : merged;

    const matchedLen = value.length;
    if (r.route !== undefined) {
      this.kind = 'cluster';
      const a: RouteAction = r.route;
      const aPath = joinPath(path, 'route');
      const specs = countSet(a, ['cluster', 'cluster_header', 'weighted_clusters']);
      if (specs !== 1) throw new ConfigError('route needs exactly one of cluster, cluster_header, weighted_clusters', { path: aPath });
      if (a.cluster !== undefined) {
        if (typeof a.cluster !== 'string' || a.cluster.length === 0) throw new ConfigError('cluster must be a non-empty string', { path: joinPath(aPath, 'cluster') });
        this.clusterKind = Cluster.Fixed;
        this.cluster = a.cluster;
      } else if (a.cluster_header !== undefined) {
        if (typeof a.cluster_header !== 'string' || a.cluster_header.length === 0) throw new ConfigError('cluster_header must be a non-empty header name', { path: joinPath(aPath, 'cluster_header') });
        this.clusterKind = Cluster.Header;
        this.cluster = asciiLower(a.cluster_header);
      } else {
        const wPath = joinPath(aPath, 'weighted_clusters');
        const wc = a.weighted_clusters!;
        if (!wc || !Array.isArray(wc.clusters) || wc.clusters.length === 0) throw new ConfigError('weighted_clusters needs at least one cluster', { path: wPath });
        let sum = 0;
        wc.clusters.forEach((c, i) => {
          const w = Number(c.weight ?? 0);
          if (typeof c.name !== 'string' || c.name.length === 0) throw new ConfigError('cluster name is required', { path: joinPath(wPath, `clusters[${i}].name`) });
          if (!Number.isInteger(w) || w < 0) throw new ConfigError('weight must be a non-negative integer', { path: joinPath(wPath, `clusters[${i}].weight`) });
          sum += w;
          this.weightedNames.push(c.name);
          this.weightedEnds.push(sum);
        });
        if (sum <= 0) throw new ConfigError('Sum of weights in the weighted_cluster should be greater than 0', { path: wPath });
        if (wc.total_weight !== undefined && Number(wc.total_weight) !== sum) throw new ConfigError(`Sum of weights in the weighted_cluster must add up to total_weight (${sum} != ${wc.total_weight})`, { path: joinPath(wPath, 'total_weight') });
        this.clusterKind = Cluster.Weighted;
        this.weightedTotal = sum;
      }
      if (a.prefix_rewrite !== undefined && a.regex_rewrite !== undefined) throw new ConfigError('Cannot specify both prefix_rewrite and regex_rewrite', { path: aPath });
      this.rewriter = compilePathRewriter(a.prefix_rewrite, a.regex_rewrite, aPath, this.pathKind, matchedLen);
      if (countSet(a, ['host_rewrite_literal', 'auto_host_rewrite', 'host_rewrite_header']) > 1) throw new ConfigError('only one of host_rewrite_literal, auto_host_rewrite, host_rewrite_header may be set', { path: aPath });
      if (a.host_rewrite_literal !== undefined) this.hostRewriteLiteral = configHeaderValue(a.host_rewrite_literal, joinPath(aPath, 'host_rewrite_literal'));
      this.autoHostRewrite = a.auto_host_rewrite === true;
      if (a.host_rewrite_header !== undefined) this.hostRewriteHeader = asciiLower(a.host_rewrite_header);
      this.appendXForwardedHost = a.append_x_forwarded_host === true;
      try {
        this.timeoutMs = durationMs(a.timeout, 15000);
        this.idleTimeoutMs = a.idle_timeout !== undefined ? durationMs(a.idle_timeout, 0) : undefined;
      } catch (e) {
        throw new ConfigError((e as Error).message, { path: aPath });
      }
      const cnf = a.cluster_not_found_response_code;
      this.clusterNotFoundStatus = cnf === 'NOT_FOUND' ? 404 : cnf === 'INTERNAL_SERVER_ERROR' ? 500 : 503;
      if (a.upgrade_configs !== undefined) {
        this.upgrades = new Map();
        a.upgrade_configs.forEach((u, i) => {
          const t = asciiLower(String(u.upgrade_type ?? ''));
          if (!t) throw new ConfigError('upgrade_type is required', { path: joinPath(aPath, `upgrade_configs[${i}].upgrade_type`) });
          if (this.upgrades!.has(t)) throw new ConfigError(`Duplicate upgrade ${u.upgrade_type}`, { path: joinPath(aPath, `upgrade_configs[${i}]`) });
          this.upgrades!.set(t, u.enabled !== false);
        });
      }
      this.hashPolicy = a.hash_policy;
      this.retryPolicy = a.retry_policy;
    } else if (r.redirect !== undefined) {
      this.kind = 'redirect';
      this.redirectSpec = compileRedirect(r.redirect, joinPath(path, 'redirect'), this.pathKind, matchedLen);
    } else {
      this.kind = 'direct_response';
      const dPath = joinPath(path, 'direct_response');
      const d = r.direct_response!;
      const status = Number(d?.status);
      if (!Number.isInteger(status) || status < 200 || status >= 600) throw new ConfigError('direct_response.status must be in [200, 600)', { path: joinPath(dPath, 'status') });
      this.directResponse = { status, body: readBody(d.body, joinPath(dPath, 'body'), parents.maxDirectBodyBytes) };
    }
    this.timeoutHeaderValue = String(this.timeoutMs);
  }

  /** Full match of this route against the request (path, headers, query parameters). */
  matches(ctx: MatchContext): boolean {
    const p = ctx.path;
    switch (this.pathKind) {
      case PathKind.Prefix:
        if (!(this.caseSensitive ? p : ctx.lower()).startsWith(this.pathValue)) return false;
        break;
      case PathKind.Path:
        if ((this.caseSensitive ? p : ctx.lower()) !== this.pathValue) return false;
        break;
      case PathKind.Separated: {
        const s = this.caseSensitive ? p : ctx.lower();
        const n = this.pathValue.length;
        if (!s.startsWith(this.pathValue) || (s.length !== n && s.charCodeAt(n) !== 47 /* / */)) return false;
        break;
      }
      default:
        if (!this.re!.testExact(p)) return false;
    }
    if (this.pathOnly) return true;
    for (let i = 0; i < this.headerMatchers.length; i++) if (!this.headerMatchers[i].match(ctx.req)) return false;
    if (this.queryMatchers.length !== 0) {
      const q = ctx.query();
      for (let i = 0; i < this.queryMatchers.length; i++) if (!this.queryMatchers[i].match(q)) return false;
    }
    return true;
  }

  clusterName(headers: string[], rand: number): string | null {
    switch (this.clusterKind) {
      case Cluster.Fixed: return this.cluster;
      case Cluster.Header: {
        const v = getFirst(headers, this.cluster);
        return v === undefined || v.length === 0 ? null : v;
      }
      case Cluster.Weighted: {
        let x = Math.floor(rand * this.weightedTotal);
        if (!(x >= 0)) x = 0;
        if (x >= this.weightedTotal) x = this.weightedTotal - 1;
        const ends = this.weightedEnds;
        for (let i = 0; i < ends.length; i++) if (x < ends[i]) return this.weightedNames[i];
        return this.weightedNames[ends.length - 1];
      }
      default: return null;
    }
  }

  rewritePath(path: string): string | null {
    return this.rewriter === null ? null : this.rewriter.apply(path);
  }

  redirect(req: RouteRequest, scheme: string): { status: number; location: string } | null {
    return this.redirectSpec === null ? null : buildRedirect(this.redirectSpec, req, scheme);
  }

  upgradeAllowed(upgradeType: string, hcmDefault: boolean): boolean {
    if (this.upgrades !== null) {
      const v = this.upgrades.get(asciiLower(upgradeType));
      if (v !== undefined) return v;
    }
    return hcmDefault;
  }
}

/** direct_response body: inline_string, inline_bytes (base64) or filename, at most `max` bytes. */
function readBody(body: { inline_string?: string; inline_bytes?: string; filename?: string } | undefined, path: string, max: number): Buffer | null {
  if (!body) return null;
  let buf: Buffer;
  if (body.filename !== undefined) {
    try {
      buf = readFileSync(body.filename);
    } catch (e) {
      throw new ConfigError(`response body file ${body.filename} cannot be read: ${(e as Error).message}`, { path: joinPath(path, 'filename') });
    }
  } else if (body.inline_bytes !== undefined) {
    buf = Buffer.from(body.inline_bytes, 'base64');
  } else if (body.inline_string !== undefined) {
    buf = Buffer.from(body.inline_string, 'utf8');
  } else {
    return null;
  }
  if (buf.length > max) throw new ConfigError(`response body size is ${buf.length} bytes; maximum is ${max}`, { path });
  return buf;
}
