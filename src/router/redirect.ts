/**
 * RedirectAction → status + Location, built as Envoy's Http::Utility::newUri
 * (source/common/http/utility.cc) after the route's rewritePathHeader:
 * - scheme: `scheme_redirect`, else `https` for `https_redirect`, else the request's
 *   (x-forwarded-proto, else the connection scheme);
 * - host: `host_redirect`, else the request Host, whose port is dropped when `port_redirect` is set,
 *   or when the scheme changes and the port is the default of the request's protocol (`:80` for
 *   http, `:443` for https);
 * - port: `:port_redirect` when set;
 * - path: `path_redirect` (its own query wins; else the request's query is appended), else the
 *   request target after `prefix_rewrite` / `regex_rewrite`; a leading `/` is added when missing;
 * - `strip_query` drops the query unless `path_redirect` carries one.
 */
import { ConfigError } from '../common/errors';
import type { RedirectAction } from '../config/model';
import { configHeaderValue, getFirst } from './headers';
import { joinPath } from './matchers';
import { compilePathRewriter, PathKind, type PathRewriter } from './rewrite';
import type { RouteRequest } from './types';

const CODES: Record<string, number> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

/** A compiled RedirectAction. */
export interface RedirectSpec {
  readonly status: number;
  /** Target scheme or null to keep the request's. */
  readonly scheme: string | null;
  readonly host: string | null;
  /** `":8443"` or "". */
  readonly port: string;
  readonly path: string | null;
  readonly pathHasQuery: boolean;
  readonly stripQuery: boolean;
  readonly rewriter: PathRewriter | null;
}

/**
 * Compiles a RedirectAction.
 * @throws ConfigError for more than one of path_redirect / prefix_rewrite / regex_rewrite, both
 *   https_redirect and scheme_redirect, an unknown response_code or an invalid regex.
 */
export function compileRedirect(r: RedirectAction, path: string, kind: PathKind, matchedLen: number): RedirectSpec {
  if (r.https_redirect === true && r.scheme_redirect !== undefined) throw new ConfigError('only one of https_redirect, scheme_redirect may be set', { path });
  let n = 0;
  if (r.path_redirect !== undefined) n++;
  if (r.prefix_rewrite !== undefined) n++;
  if (r.regex_rewrite !== undefined) n++;
  if (n > 1) throw new ConfigError('only one of path_redirect, prefix_rewrite, regex_rewrite may be set', { path });
  const status = CODES[r.response_code ?? 'MOVED_PERMANENTLY'];
  if (status === undefined) throw new ConfigError(`unknown response_code ${JSON.stringify(r.response_code)}`, { path: joinPath(path, 'response_code') });
  const port = r.port_redirect ? Number(r.port_redirect) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('port_redirect must be a port number', { path: joinPath(path, 'port_redirect') });
  // Text that ends up in the location header: UTF-8 bytes, CR/LF/NUL refused (configHeaderValue).
  const text = (v: string | undefined, field: string): string | null => (v ? configHeaderValue(v, joinPath(path, field)) : null);
  const scheme = r.scheme_redirect ? text(r.scheme_redirect, 'scheme_redirect') : r.https_redirect === true ? 'https' : null;
  const rewriter = compilePathRewriter(r.prefix_rewrite, r.regex_rewrite, path, kind, matchedLen);
  return {
    status,
    scheme,
    host: text(r.host_redirect, 'host_redirect'),
    port: port ? `:${port}` : '',
    path: text(r.path_redirect, 'path_redirect'),
    pathHasQuery: r.path_redirect ? r.path_redirect.includes('?') : false,
    stripQuery: r.strip_query === true,
    rewriter,
  };
}

/** Request Host with its port dropped per Envoy's processRequestHost. */
function requestHost(host: string, newScheme: string, reqProto: string, newPort: string): string {
  if (host.length === 0) return host;
  let end: number;
  if (host[0] === '[') {
    end = host.lastIndexOf(']:');
    if (end >= 0) end += 1;
  } else {
    end = host.lastIndexOf(':');
  }
  if (end < 0) return host;
  const reqPort = host.slice(end);
  let remove = newPort.length !== 0;
  if (newScheme !== reqProto) {
    remove ||= reqProto === 'https' && reqPort === ':443';
    remove ||= reqProto === 'http' && reqPort === ':80';
  }
  return remove ? host.slice(0, end) : host;
}

/**
 * Builds the redirect for a request.
 * @param scheme the scheme the request arrived with (`http`/`https`), used when it has no
 *   x-forwarded-proto.
 */
export function buildRedirect(s: RedirectSpec, req: RouteRequest, scheme: string): { status: number; location: string } {
  const reqProto = getFirst(req.headers, 'x-forwarded-proto') || scheme;
  const finalScheme = s.scheme ?? reqProto;
  const host = s.host ?? requestHost(req.authority, finalScheme, reqProto, s.port);
  let target = req.path;
  if (s.rewriter !== null) target = s.rewriter.apply(target) ?? target;
  let path: string;
  if (s.path !== null) {
    if (s.pathHasQuery) path = s.path;
    else {
      const q = target.indexOf('?');
      path = q >= 0 ? s.path + target.slice(q) : s.path;
    }
  } else {
    path = target;
  }
  if (!path.startsWith('/')) path = '/' + path;
  if (!s.pathHasQuery && s.stripQuery) {
    const q = path.indexOf('?');
    if (q >= 0) path = path.slice(0, q);
  }
  return { status: s.status, location: `${finalScheme}://${host}${s.port}${path}` };
}
