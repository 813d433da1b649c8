/**
 * HTTP/1.1 head encoding. Heads are written straight into a Buffer sized for them (the header
 * strings are latin1, one byte per char, so header bytes 0x80-0xFF round-trip exactly as parsed):
 * no intermediate strings to concatenate and flatten, and a response head can share its Buffer
 * with the body bytes that follow it.
 *
 * The only validation is the one that prevents request/response splitting: a header name or
 * value, the method or the request path containing CR, LF or NUL, or a char above 0xFF (header
 * strings are latin1 byte strings; a wider char's low byte could be CR or LF: config text is
 * converted to UTF-8 bytes when compiled, see router/headers.ts configHeaderValue), makes the
 * encoder return null, and the caller fails the stream. Envoy rejects such values too
 * (HeaderUtility / HeaderString validity checks refuse CR, LF and NUL).
 */
import { Buffer } from 'node:buffer';

/** `\r\n` written after each chunk's data. */
export const CHUNK_END = '\r\n';
/** The last chunk with no trailers: `0\r\n\r\n`. */
export const LAST_CHUNK = '0\r\n\r\n';

/**
 * Reason phrases by status code: the same table as Node's `http.STATUS_CODES` (a unit test keeps
 * them equal), kept here so workers need not load `node:http`; 'Unknown' otherwise, like Envoy's
 * CodeUtility.
 */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-Status', 208: 'Already Reported', 226: 'IM Used',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Payload Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed',
  418: "I'm a Teapot", 421: 'Misdirected Request', 422: 'Unprocessable Entity', 423: 'Locked',
  424: 'Failed Dependency', 425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 506: 'Variant Also Negotiates',
  507: 'Insufficient Storage', 508: 'Loop Detected', 509: 'Bandwidth Limit Exceeded', 510: 'Not Extended',
  511: 'Network Authentication Required',
};
const kReasons: string[] = [];
for (const [code, text] of Object.entries(REASON_PHRASES)) kReasons[Number(code)] = text;

/** Precomputed `HTTP/1.1 <code> <reason>\r\n` status lines for the known codes. */
const kStatusLines: string[] = [];
for (let code = 100; code < 600; code++) {
  const r = kReasons[code];
  if (r !== undefined) kStatusLines[code] = `HTTP/1.1 ${code} ${r}\r\n`;
}

/** Reason phrase for `status` ('Unknown' when not in the table). */
export function reasonPhrase(status: number): string {
  return kReasons[status] ?? 'Unknown';
}

/**
 * Bytes of `name: value\r\n` lines for `headers` (flat [name, value, ...]); strings are latin1,
 * one byte per char.
 */
function linesLength(headers: readonly string[]): number {
  let n = 0;
  for (let i = 0; i + 1 < headers.length; i += 2) n += headers[i].length + headers[i + 1].length + 4;
  return n;
}

/** Writes `s` (fixed text of this module) at `o` as latin1; returns the offset after it. */
function put(buf: Buffer, o: number, s: string): number {
  for (let k = 0; k < s.length; k++) buf[o++] = s.charCodeAt(k);
  return o;
}

/**
 * As put(), for a name or value that may come from outside: -1 when it holds CR, LF or NUL, or a
 * char above 0xFF (not a latin1 byte string: its low byte could be CR or LF), and nothing usable
 * is written.
 */
function putValue(buf: Buffer, o: number, s: string): number {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 13 || c === 10 || c === 0 || c > 0xff) return -1;
    buf[o++] = c;
  }
  return o;
}

/** Writes one `name: value\r\n` line at `o`; returns the offset after it, or -1 (see putValue). */
function putLine(buf: Buffer, o: number, name: string, value: string): number {
  o = putValue(buf, o, name);
  if (o < 0) return -1;
  buf[o++] = 58; // ':'
  buf[o++] = 32; // ' '
  o = putValue(buf, o, value);
  if (o < 0) return -1;
  buf[o++] = 13;
  buf[o++] = 10;
  return o;
}

/** Writes `name: value\r\n` lines at `o`; returns the offset after them, or -1 (see putValue). */
function putLines(buf: Buffer, o: number, headers: readonly string[]): number {
  for (let i = 0; i + 1 < headers.length && o >= 0; i += 2) o = putLine(buf, o, headers[i], headers[i + 1]);
  return o;
}

/**
 * Serialises a request head: `${method} ${path} HTTP/1.1\r\n` + `name: value\r\n`... + `\r\n`,
 * straight into a Buffer (one allocation, no intermediate strings).
 * @param headers flat [name, value, ...]; names are written as given.
 * @param host when given, written first as `host: <host>` (the proxy's :authority).
 * @param extra more headers written after `headers` (framing/upgrade headers the proxy adds).
 * @returns the bytes (latin1), or null when `path` or a header value contains CR, LF or NUL.
 */
export function encodeRequestHead(method: string, path: string, headers: readonly string[], host?: string, extra?: readonly string[]): Buffer | null {
  let n = method.length + path.length + 12 + linesLength(headers) + 2; // ' ' + ' HTTP/1.1\r\n' + final '\r\n'
  if (host !== undefined) n += host.length + 8; // 'host: ' + '\r\n'
  if (extra !== undefined) n += linesLength(extra);
  const buf = Buffer.allocUnsafe(n);
  let o = putValue(buf, 0, method);
  if (o < 0) return null;
  buf[o++] = 32;
  o = putValue(buf, o, path);
  if (o < 0) return null;
  o = put(buf, o, ' HTTP/1.1\r\n');
  if (host !== undefined) o = putLine(buf, o, 'host', host);
  if (o >= 0) o = putLines(buf, o, headers);
  if (o >= 0 && extra !== undefined) o = putLines(buf, o, extra);
  if (o < 0) return null;
  buf[o++] = 13;
  buf[o] = 10;
  return buf;
}

/**
 * Serialises a response head: `HTTP/1.1 ${status} ${reason}\r\n` + headers + `\r\n`, straight
 * into a Buffer, followed by `tail` bytes left for the caller (the body or chunk framing that
 * leaves in the same write): they start at `buf.length - tail`.
 * @param reason the reason phrase; when undefined, the standard one for `status` ('Unknown' if none).
 * @returns the bytes (latin1), or null when `reason` or a header value contains CR, LF or NUL.
 */
export function encodeResponseHead(status: number, reason: string | undefined, headers: readonly string[], tail = 0): Buffer | null {
  const line = reason === undefined ? kStatusLines[status] ?? `HTTP/1.1 ${status} Unknown\r\n` : `HTTP/1.1 ${status} ${reason}\r\n`;
  const buf = Buffer.allocUnsafe(line.length + linesLength(headers) + 2 + tail);
  let o: number;
  if (reason === undefined) o = put(buf, 0, line);
  else {
    // A reason of our own callers' choosing: checked like a value (the status line's CRLF after it).
    o = putValue(buf, 0, line.slice(0, -2));
    if (o < 0) return null;
    buf[o++] = 13;
    buf[o++] = 10;
  }
  o = putLines(buf, o, headers);
  if (o < 0) return null;
  buf[o++] = 13;
  buf[o] = 10;
  return buf;
}

/** Chunk-size line for a chunk of `len` bytes: `${len.toString(16)}\r\n` (len > 0). */
export function chunkHeader(len: number): string {
  return len.toString(16) + '\r\n';
}

/**
 * The end of a chunked body: `0\r\n`, the trailers (flat [name, value, ...]) and `\r\n`.
 * Trailer values come from llhttp (validated), so they are not checked again.
 */
export function encodeLastChunk(trailers: readonly string[] | null): string {
  if (trailers === null || trailers.length === 0) return LAST_CHUNK;
  let t = '0\r\n';
  for (let i = 0; i < trailers.length; i += 2) t += `${trailers[i]}: ${trailers[i + 1]}\r\n`;
  return `${t}\r\n`;
}
