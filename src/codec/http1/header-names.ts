/**
 * Header-name lowercasing with interning of well-known names (the idea of undici's header tree):
 * a name whose bytes match a well-known name case-insensitively returns the one shared lowercase
 * string, so the common headers cost no string allocation at all. Other names are sliced as latin1
 * and lowercased only when they contain an uppercase ASCII letter.
 *
 * Input bytes are already validated as RFC 9110 tokens by llhttp, so `byte | 0x20` folds case
 * exactly (no token character other than an uppercase letter maps onto a lowercase letter, digit
 * or `-`).
 */

/** Well-known request and response header names (lowercase). */
export const WELL_KNOWN_HEADERS: readonly string[] = [
  'host', 'user-agent', 'accept', 'accept-encoding', 'accept-language', 'accept-charset',
  'accept-ranges', 'connection', 'keep-alive', 'proxy-connection', 'content-length', 'content-type',
  'content-encoding', 'content-language', 'content-range', 'content-disposition',
  'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'cookie', 'set-cookie', 'authorization',
  'proxy-authorization', 'cache-control', 'pragma', 'date', 'server', 'location', 'etag',
  'last-modified', 'expires', 'age', 'vary', 'via', 'origin', 'referer', 'range', 'if-match',
  'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range', 'x-forwarded-for',
  'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'x-request-id',
  'x-envoy-expected-rq-timeout-ms', 'x-envoy-upstream-service-time', 'x-envoy-original-path',
  'x-envoy-external-address', 'x-envoy-internal', 'x-envoy-decorator-operation',
  'x-envoy-attempt-count', 'x-envoy-retry-on', 'x-envoy-max-retries', 'x-envoy-upstream-rq-timeout-ms',
  'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'b3',
  'traceparent', 'tracestate', 'x-ot-span-context', 'x-client-trace-id', 'x-requested-with',
  'strict-transport-security', 'x-content-type-options', 'x-frame-options', 'x-xss-protection',
  'content-security-policy', 'access-control-allow-origin', 'access-control-allow-methods',
  'access-control-allow-headers', 'access-control-allow-credentials', 'access-control-expose-headers',
  'access-control-max-age', 'access-control-request-method', 'access-control-request-headers',
  'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-accept', 'sec-websocket-protocol',
  'sec-websocket-extensions', 'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-user',
  'sec-ch-ua', 'sec-ch-ua-mobile', 'sec-ch-ua-platform', 'upgrade-insecure-requests', 'dnt',
  'www-authenticate', 'retry-after', 'link', 'forwarded', 'grpc-status', 'grpc-message',
  'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'alt-svc', 'x-powered-by',
];

interface Entry {
  readonly bytes: Uint8Array;
  readonly name: string;
}

const kBuckets: (Entry[] | undefined)[] = [];
for (const name of WELL_KNOWN_HEADERS) {
  const bucket = kBuckets[name.length] ?? (kBuckets[name.length] = []);
  if (!bucket.some((e) => e.name === name)) bucket.push({ bytes: Buffer.from(name, 'latin1'), name });
}
// Holes become `undefined` explicitly so the array stays packed-ish and lookups stay monomorphic.
for (let i = 0; i < kBuckets.length; i++) if (kBuckets[i] === undefined) kBuckets[i] = undefined;
const kMaxLen = kBuckets.length;

interface Latin1Buffer {
  latin1Slice(start: number, end: number): string;
}

/** `buf.toString('latin1', start, end)` without the encoding dispatch (Buffer's internal fast slice). */
export function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as Latin1Buffer).latin1Slice(start, end);
}

/**
 * The interned lowercase string when bytes `buf[start, start + len)` are a well-known header name
 * (case-insensitively), else undefined. Allocates nothing.
 */
export function wellKnownName(buf: Buffer, start: number, len: number): string | undefined {
  if (len >= kMaxLen) return undefined;
  const bucket = kBuckets[len];
  if (bucket === undefined) return undefined;
  const first = buf[start] | 0x20;
  const last = buf[start + len - 1] | 0x20;
  outer: for (let i = 0; i < bucket.length; i++) {
    const b = bucket[i].bytes;
    if (b[0] !== first || b[len - 1] !== last) continue;
    for (let j = 1; j < len - 1; j++) if ((buf[start + j] | 0x20) !== b[j]) continue outer;
    return bucket[i].name;
  }
  return undefined;
}

/** True when bytes `buf[start, start + len)` contain an uppercase ASCII letter. */
export function hasUpper(buf: Buffer, start: number, len: number): boolean {
  const end = start + len;
  for (let j = start; j < end; j++) {
    const c = buf[j];
    if (c >= 0x41 && c <= 0x5a) return true;
  }
  return false;
}

/**
 * Lowercase header name for bytes `buf[start, start + len)` (token characters).
 * Returns an interned string for well-known names.
 */
export function headerName(buf: Buffer, start: number, len: number): string {
  const known = wellKnownName(buf, start, len);
  if (known !== undefined) return known;
  const s = latin1(buf, start, start + len);
  return hasUpper(buf, start, len) ? s.toLowerCase() : s;
}
