/**
 * Request/response heads as the connection manager and filters see them. Headers are a flat array
 * `[name, value, name, value, ...]` with names lowercased (Envoy's HTTP/1 codec lowercases header
 * keys by default), in received order, duplicates kept. Pseudo-headers live in fields:
 * `:method` → method, `:path` → path, `:authority` → authority (from Host), `:scheme` → scheme.
 */

/** A request head. `headers` never contains `host` (it is `authority`). */
export interface RequestHead {
  method: string;
  /** Origin-form target including the query string (`/a/b?c=d`). */
  path: string;
  /** `:authority`: the Host header (or the absolute-form URL's host), as received. */
  authority: string;
  scheme: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  versionMinor: number;
  headers: string[];
}

/** A response head. */
export interface ResponseHead {
  status: number;
  headers: string[];
}

/**
 * Shortens `headers` to `n` entries (n <= length). Pops instead of assigning `length`: in
 * optimised code an assignment to an array's length is a runtime call (~40 ns), a pop is inline;
 * heads are compacted this way on every request and response.
 */
export function truncate(headers: string[], n: number): void {
  while (headers.length > n) headers.pop();
}

/** First value of `name` (lowercase) or undefined. */
export function getHeader(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

/** All values of `name` joined with "," (Envoy's rule for matching multi-valued headers), or undefined. */
export function getHeaderJoined(headers: readonly string[], name: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) out = out === undefined ? headers[i + 1] : `${out},${headers[i + 1]}`;
  }
  return out;
}

/** Removes every `name` entry. @returns how many were removed. */
export function removeHeader(headers: string[], name: string): number {
  let w = 0;
  let removed = 0;
  for (let r = 0; r < headers.length; r += 2) {
    if (headers[r] === name) {
      removed++;
      continue;
    }
    if (w !== r) {
      headers[w] = headers[r];
      headers[w + 1] = headers[r + 1];
    }
    w += 2;
  }
  truncate(headers, w);
  return removed;
}

/** Replaces every `name` entry with one `name: value` (kept at the first one's position). */
export function setHeader(headers: string[], name: string, value: string): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) {
      headers[i + 1] = value;
      // drop later duplicates
      for (let j = i + 2; j < headers.length; j += 2) {
        if (headers[j] === name) {
          headers.splice(j, 2);
          j -= 2;
        }
      }
      return;
    }
  }
  headers.push(name, value);
}

/** True when a comma-separated header value contains `token` (case-insensitive). */
export function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const v = value.toLowerCase();
  if (v === token) return true;
  for (const part of v.split(',')) if (part.trim() === token) return true;
  return false;
}

/** Hop-by-hop response headers removed before forwarding to downstream. */
export const HOP_BY_HOP_RESPONSE: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade',
]);

/**
 * Appends `via` (HCM `via`) to the `via` header, its values joined first (Envoy's
 * Utility::appendVia, used on requests and responses).
 */
export function appendVia(headers: string[], via: string): void {
  const v = getHeaderJoined(headers, 'via');
  setHeader(headers, 'via', v === undefined ? via : `${v}, ${via}`);
}
