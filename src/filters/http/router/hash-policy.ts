/**
 * Route `hash_policy` (envoy.config.route.v3.RouteAction.HashPolicy) for RING_HASH and MAGLEV
 * clusters: each policy that finds its input hashes it with xxHash64 (seed 0), and the hashes are
 * combined as Envoy's HashPolicyImpl does: `hash = rotl64(hash, 1) ^ next`; a `terminal` policy
 * that produced a hash stops the evaluation. No input at all → no hash (the LB picks at random).
 */
import { durationMs } from '../../../common/duration';
import { xxhash64 } from '../../../native';

/**
 * A generated cookie's value as Envoy makes it: the hex xxHash64 of the downstream connection's
 * remote and local addresses (`ip:port` each), so that concurrent requests on one connection get
 * the same cookie.
 */
export function generatedCookieValue(remote: string, local: string): string {
  return xxhash64(remote + local).toString(16).padStart(16, '0');
}

/** Envoy's Http::Utility::makeSetCookieValue (HttpOnly, as the router sets it). */
export function setCookieValue(name: string, value: string, path: string, maxAgeS: number): string {
  let c = `${name}="${value}"`;
  if (maxAgeS > 0) c += `; Max-Age=${maxAgeS}`;
  if (path !== '') c += `; Path=${path}`;
  return `${c}; HttpOnly`;
}

/** One policy of `hash_policy`, as the model carries it. */
export interface HashPolicyConfig {
  header?: { header_name: string };
  connection_properties?: { source_ip: boolean };
  query_parameter?: { name: string };
  /** `ttl` set: a request without the cookie gets one generated (and a Set-Cookie on its response). */
  cookie?: { name: string; ttl?: string; path?: string };
  terminal?: boolean;
}

/** Where a cookie policy with a `ttl` generates its cookie (the router: Envoy's Filter::addDownstreamSetCookie). */
export interface CookieSetter {
  /** @returns the cookie value set on the response (and hashed) */
  addDownstreamSetCookie(name: string, path: string, maxAgeS: number): string;
}

const MASK = (1n << 64n) - 1n;

/**
 * @param path the request path (with query)
 * @returns the combined 64-bit hash, or undefined when no policy found its input
 */
export function computeHash(policies: readonly HashPolicyConfig[], headers: readonly string[], path: string, remoteAddress: string, cookies?: CookieSetter): bigint | undefined {
  let hash: bigint | undefined;
  for (const p of policies) {
    let h: bigint | undefined;
    if (p.header) h = headerHash(headers, p.header.header_name.toLowerCase());
    else {
      let input: string | undefined;
      if (p.connection_properties?.source_ip) input = remoteAddress || undefined;
      else if (p.query_parameter) input = queryParam(path, p.query_parameter.name);
      else if (p.cookie) {
        input = cookie(headers, p.cookie.name);
        // Envoy's CookieHashMethod: no cookie and a ttl → generate one (a ttl of 0: a session cookie).
        if ((input === undefined || input === '') && p.cookie.ttl !== undefined && cookies !== undefined) {
          input = cookies.addDownstreamSetCookie(p.cookie.name, p.cookie.path ?? '', Math.floor(durationMs(p.cookie.ttl, 0) / 1000));
        }
        if (input === '') input = undefined;
      }
      if (input !== undefined) h = xxhash64(input);
    }
    if (h === undefined) continue;
    hash = hash === undefined ? h : (((hash << 1n) | (hash >> 63n)) & MASK) ^ h;
    if (p.terminal) break;
  }
  return hash;
}

/**
 * Envoy's HeaderHashMethod: every value of the header, sorted (so that the order they arrive in does
 * not matter), hashed in a chain (HashUtil::xxHash64 over a span: each value's hash seeds the next).
 * One value: xxHash64(value, 0).
 */
function headerHash(headers: readonly string[], name: string): bigint | undefined {
  let values: string[] | undefined;
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) (values ??= []).push(headers[i + 1]);
  if (values === undefined) return undefined;
  if (values.length === 1) return xxhash64(values[0]);
  values.sort();
  let h = 0n;
  for (const v of values) h = xxhash64(v, h);
  return h;
}

function queryParam(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  if (q === -1) return undefined;
  for (const part of path.slice(q + 1).split('&')) {
    const eq = part.indexOf('=');
    const k = eq === -1 ? part : part.slice(0, eq);
    if (k === name) return eq === -1 ? '' : part.slice(eq + 1);
  }
  return undefined;
}

function cookie(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'cookie') continue;
    for (const c of headers[i + 1].split(';')) {
      const eq = c.indexOf('=');
      if (eq !== -1 && c.slice(0, eq).trim() === name) return c.slice(eq + 1).trim();
    }
  }
  return undefined;
}
