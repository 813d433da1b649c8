/**
 * RouteConfiguration → immutable RouteTable (Envoy's RouteMatcher in
 * source/common/router/config_impl.cc).
 *
 * Virtual host selection (`findVirtualHost`), on the Host value lowercased (ASCII):
 * 1. exact domain (Map);
 * 2. longest suffix wildcard `*.foo.com` / `*-bar.foo.com` (per-length Maps, longest first; the
 *    wildcard must match at least one character);
 * 3. longest prefix wildcard `foo.*`;
 * 4. the `*` virtual host.
 * The port is part of the Host value: `example.com:8080` matches only a domain written with that
 * port (or a wildcard covering it). Envoy does not retry without the port; stripping is the HCM's
 * job before routing (`strip_matching_host_port`, `strip_any_host_port`), except that a
 * RouteConfiguration with `ignore_port_in_host_matching: true` drops the port here.
 * A request without Host ("" authority) gets no virtual host unless the table has only `*`.
 * Duplicate domains (after lowercasing) and a second `*` are config errors.
 */
import { ConfigError } from '../common/errors';
import type { RouteConfiguration, VirtualHost } from '../config/model';
import { asciiLower, getFirst, pathOnly, stripHostPort } from './headers';
import { compileLevel, type LevelParsers } from './header-mutation';
import { joinPath } from './matchers';
import { MatchContext, RouteEntry, type RouteParents } from './route-entry';
import { RouteIndex } from './route-index';
import type { CompiledRoute, HeaderMutation, RouteRequest, RouteTable } from './types';

const kNoMutation: HeaderMutation = Object.freeze({ empty: true, apply(): void {} });
const kNoFilterConfig: ReadonlyMap<string, unknown> = new Map();

/** The route Envoy answers with when a vhost's `require_tls` is not met: 301 to https://host/path. */
class SslRedirectRoute implements CompiledRoute {
  readonly name = undefined;
  readonly kind = 'redirect' as const;
  readonly hostRewriteLiteral = null;
  readonly autoHostRewrite = false;
  readonly hostRewriteHeader = null;
  readonly appendXForwardedHost = false;
  readonly timeoutMs = 0;
  readonly timeoutHeaderValue = '0';
  readonly idleTimeoutMs = undefined;
  readonly clusterNotFoundStatus = 503;
  readonly requestHeaders = kNoMutation;
  readonly responseHeaders = kNoMutation;
  readonly directResponse = null;
  readonly perFilterConfig = kNoFilterConfig;
  readonly hashPolicy = undefined;
  readonly retryPolicy = undefined;
  constructor(readonly virtualHostName: string) {}
  clusterName(): string | null { return null; }
  rewritePath(): string | null { return null; }
  redirect(req: RouteRequest): { status: number; location: string } {
    return { status: 301, location: `https://${req.authority}${req.path}` };
  }
  upgradeAllowed(_t: string, hcmDefault: boolean): boolean { return hcmDefault; }
}

const enum Tls { None, ExternalOnly, All }

interface CompiledVhost {
  readonly name: string;
  readonly index: RouteIndex;
  readonly tls: Tls;
  readonly sslRedirect: SslRedirectRoute;
}

interface WildcardBucket {
  readonly len: number;
  readonly map: Map<string, CompiledVhost>;
}

function toBuckets(m: Map<number, Map<string, CompiledVhost>>): WildcardBucket[] {
  return [...m.entries()].sort((a, b) => b[0] - a[0]).map(([len, map]) => ({ len, map }));
}

function findWildcard(host: string, buckets: WildcardBucket[], suffix: boolean): CompiledVhost | undefined {
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    // >= because *.foo.com must not match .foo.com.
    if (b.len >= host.length) continue;
    const v = b.map.get(suffix ? host.slice(host.length - b.len) : host.slice(0, b.len));
    if (v !== undefined) return v;
  }
  return undefined;
}

class CompiledRouteTable implements RouteTable {
  readonly name: string | undefined;
  readonly internalOnlyHeaders: readonly string[];
  private readonly exact = new Map<string, CompiledVhost>();
  private readonly suffixes: WildcardBucket[];
  private readonly prefixes: WildcardBucket[];
  private readonly dflt: CompiledVhost | null;
  private readonly onlyDefault: boolean;
  private readonly ignorePort: boolean;
  private readonly ctx = new MatchContext();

  constructor(rc: RouteConfiguration, base: string) {
    this.name = rc.name;
    this.internalOnlyHeaders = Object.freeze((rc.internal_only_headers ?? []).map((h) => asciiLower(String(h))));
    const ext = rc as RouteConfiguration & {
      ignore_port_in_host_matching?: boolean;
      max_direct_response_body_size_bytes?: number;
      typed_per_filter_config?: Record<string, unknown>;
    };
    this.ignorePort = ext.ignore_port_in_host_matching === true;
    const rcHeaders = compileLevel(rc, base);
    const maxBody = ext.max_direct_response_body_size_bytes ?? 4096;
    const rcFilters = Object.entries(ext.typed_per_filter_config ?? {});
    const suffixes = new Map<number, Map<string, CompiledVhost>>();
    const prefixes = new Map<number, Map<string, CompiledVhost>>();
    let dflt: CompiledVhost | null = null;
    const vhNames = new Set<string>();
    (rc.virtual_hosts ?? []).forEach((vh: VirtualHost, vi) => {
      const vPath = joinPath(base, `virtual_hosts[${vi}]`);
      if (!vh || typeof vh.name !== 'string' || vh.name.length === 0) throw new ConfigError('virtual host name is required', { path: joinPath(vPath, 'name') });
      if (vhNames.has(vh.name)) throw new ConfigError(`virtual host name ${JSON.stringify(vh.name)} is not unique`, { path: joinPath(vPath, 'name') });
      vhNames.add(vh.name);
      if (!Array.isArray(vh.domains) || vh.domains.length === 0) throw new ConfigError('virtual host needs at least one domain', { path: joinPath(vPath, 'domains') });
      const vhHeaders: LevelParsers = compileLevel(vh, vPath);
      const perFilter = new Map<string, unknown>(rcFilters);
      for (const [k, v] of Object.entries(vh.typed_per_filter_config ?? {})) perFilter.set(k, v);
      const parents: RouteParents = {
        vhostName: vh.name, vhostHeaders: vhHeaders, rcHeaders, maxDirectBodyBytes: maxBody,
        mostSpecificWins: rc.most_specific_header_mutations_wins === true, perFilter,
      };
      const routes = (vh.routes ?? []).map((r, ri) => {
        const rPath = joinPath(vPath, `routes[${ri}]`);
        return new RouteEntry(r, rPath, parents, compileLevel(r ?? {}, rPath));
      });
      const tls = vh.require_tls === 'ALL' ? Tls.All : vh.require_tls === 'EXTERNAL_ONLY' ? Tls.ExternalOnly : Tls.None;
      const cv: CompiledVhost = { name: vh.name, index: new RouteIndex(routes), tls, sslRedirect: new SslRedirectRoute(vh.name) };
      vh.domains.forEach((d, di) => {
        const dPath = joinPath(vPath, `domains[${di}]`);
        if (typeof d !== 'string' || d.length === 0) throw new ConfigError('domain must be a non-empty string', { path: dPath });
        const domain = asciiLower(d);
        const dup = () => new ConfigError(`Only unique values for domains are permitted. Duplicate entry of domain ${domain} in route ${rc.name ?? ''}`, { path: dPath });
        if (domain === '*') {
          if (dflt !== null) throw new ConfigError(`Only a single wildcard domain is permitted in route ${rc.name ?? ''}`, { path: dPath });
          dflt = cv;
        } else if (domain[0] === '*') {
          const key = domain.slice(1);
          let m = suffixes.get(key.length);
          if (!m) suffixes.set(key.length, (m = new Map()));
          if (m.has(key)) throw dup();
          m.set(key, cv);
        } else if (domain[domain.length - 1] === '*') {
          const key = domain.slice(0, -1);
          let m = prefixes.get(key.length);
          if (!m) prefixes.set(key.length, (m = new Map()));
          if (m.has(key)) throw dup();
          m.set(key, cv);
        } else {
          if (this.exact.has(domain)) throw dup();
          this.exact.set(domain, cv);
        }
      });
    });
    this.suffixes = toBuckets(suffixes);
    this.prefixes = toBuckets(prefixes);
    this.dflt = dflt;
    this.onlyDefault = this.exact.size === 0 && this.suffixes.length === 0 && this.prefixes.length === 0;
  }

  private vhost(authority: string): CompiledVhost | null {
    if (this.onlyDefault) return this.dflt;
    if (authority.length === 0) return null;
    const host = asciiLower(this.ignorePort ? stripHostPort(authority) : authority);
    return this.exact.get(host)
      ?? (this.suffixes.length !== 0 ? findWildcard(host, this.suffixes, true) : undefined)
      ?? (this.prefixes.length !== 0 ? findWildcard(host, this.prefixes, false) : undefined)
      ?? this.dflt;
  }

  route(req: RouteRequest): CompiledRoute | null {
    const vh = this.vhost(req.authority);
    if (vh === null) return null;
    if (vh.tls !== Tls.None) {
      const xfp = getFirst(req.headers, 'x-forwarded-proto');
      if (xfp !== 'https' && (vh.tls === Tls.All || getFirst(req.headers, 'x-envoy-internal') !== 'true')) return vh.sslRedirect;
    }
    const ctx = this.ctx;
    ctx.reset(req, pathOnly(req.path));
    const r = vh.index.first(ctx);
    ctx.reset(undefined as unknown as RouteRequest, ''); // do not retain the request
    return r;
  }
}

/**
 * Compiles a RouteConfiguration into an immutable RouteTable.
 * @param opts.pathPrefix prefix for error paths (e.g. `static_resources.listeners[0]...route_config`).
 * @throws ConfigError (path like `virtual_hosts[0].routes[2].match.safe_regex`) for an invalid
 *   regex, duplicate domain, forbidden header mutation, missing or conflicting action fields.
 */
export function compileRouteTable(rc: RouteConfiguration, opts: { pathPrefix?: string } = {}): RouteTable {
  if (!rc || typeof rc !== 'object') throw new ConfigError('route configuration must be an object', { path: opts.pathPrefix });
  return new CompiledRouteTable(rc, opts.pathPrefix ?? '');
}
