/**
 * Helpers over the flat raw header array the codec hands around: `[name0, value0, name1, value1, ...]`
 * with names already lowercased. Plain loops, no allocation unless a value must be joined.
 */

import { Buffer } from 'node:buffer';
import { ConfigError } from '../common/errors';
import { truncate } from '../http/headers';

const kForbidden = /[\r\n\0]/;
const kNonAscii = /[^\x00-\x7f]/;

/**
 * A header value (or other text sent in a head: server_name, via, host_rewrite_literal) written in
 * config, as the latin1 byte string attache's header arrays hold: the UTF-8 bytes of the text, as
 * Envoy sends config strings.
 * @throws ConfigError when it contains CR, LF or NUL (Envoy's HeaderValue.value rule,
 *   `well_known_regex: HTTP_HEADER_VALUE`), which would split the head.
 */
export function configHeaderValue(value: string, path: string): string {
  if (kForbidden.test(value)) {
    throw new ConfigError(`invalid header value ${JSON.stringify(value)}: CR, LF and NUL are not allowed in a header value`, { path });
  }
  return kNonAscii.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

/** First value of `name` (lowercase), or `undefined`. */
export function getFirst(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) return headers[i + 1];
  }
  return undefined;
}

/**
 * All values of `name` joined with `","` (Envoy's `HeaderUtility::getAllOfHeaderAsString`), or
 * `undefined` when the header is absent.
 */
export function getJoined(headers: readonly string[], name: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) out = out === undefined ? headers[i + 1] : out + ',' + headers[i + 1];
  }
  return out;
}

/** True when `name` occurs at least once. */
export function has(headers: readonly string[], name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) return true;
  }
  return false;
}

/** Removes every entry named `name`, in place, keeping the order of the others. */
export function removeAll(headers: string[], name: string): void {
  let w = 0;
  const n = headers.length;
  for (let r = 0; r < n; r += 2) {
    if (headers[r] !== name) {
      if (w !== r) {
        headers[w] = headers[r];
        headers[w + 1] = headers[r + 1];
      }
      w += 2;
    }
  }
  truncate(headers, w);
}

/** ASCII-only lowercasing (Envoy's `absl::AsciiStrToLower`): never changes the length. */
export function asciiLower(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(s)) return s.toLowerCase();
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i];
  }
  return out;
}

/**
 * Index of the `:` that starts the port in a Host value, or -1 (Envoy's
 * `HeaderUtility::getPortStart`: the last `:` not inside `[...]` of an IPv6 literal).
 */
export function hostPortStart(host: string): number {
  const colon = host.lastIndexOf(':');
  if (colon < 0) return -1;
  const v6End = host.lastIndexOf(']');
  if (v6End < 0 || v6End < colon) return colon + 1 > host.length ? -1 : colon;
  return -1;
}

/** Host value without its port (`"a.com:80"` → `"a.com"`, `"[::1]:80"` → `"[::1]"`). */
export function stripHostPort(host: string): string {
  const p = hostPortStart(host);
  return p < 0 ? host : host.slice(0, p);
}

/** Path without `?query` and `#fragment` (Envoy's `PathUtil::removeQueryAndFragment`). */
export function pathOnly(path: string): string {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) return path.slice(0, i);
  }
  return path;
}
