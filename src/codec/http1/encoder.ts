/**
 * HTTP/1.1 head encoding. Heads are built as latin1 strings (write them with
 * `socket.write(head, 'latin1')`, so header bytes 0x80-0xFF round-trip exactly as parsed).
 *
 * The only validation is the one that prevents request/response splitting: a header value (or
 * the request path) containing CR, LF or NUL makes the encoder return null, and the caller fails
 * the stream. Envoy rejects such values too (HeaderUtility / HeaderString validity checks refuse
 * CR, LF and NUL). Names are written as given: they come from llhttp (validated tokens) or from
 * config validated at load time.
 */

/** Characters that must never reach the wire inside a header value or the request target. */
const kForbidden = /[\r\n\0]/;

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

/** Appends `name: value\r\n` lines; returns null when a value contains CR, LF or NUL. */
function appendHeaders(head: string, headers: string[]): string | null {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const v = headers[i + 1];
    if (kForbidden.test(v)) return null;
    head += headers[i] + ': ' + v + '\r\n';
  }
  return head + '\r\n';
}

/**
 * Serialises a request head: `${method} ${path} HTTP/1.1\r\n` + `name: value\r\n`... + `\r\n`.
 * @param headers flat [name, value, ...]; names are written as given.
 * @param host when given, written first as `host: <host>` (the proxy's :authority).
 * @param extra more headers written after `headers` (framing/upgrade headers the proxy adds).
 * @returns a latin1 string, or null when `path` or a header value contains CR, LF or NUL.
 */
export function encodeRequestHead(method: string, path: string, headers: string[], host?: string, extra?: string[]): string | null {
  if (kForbidden.test(path)) return null;
  let head = method + ' ' + path + ' HTTP/1.1\r\n';
  if (host !== undefined) {
    if (kForbidden.test(host)) return null;
    head += 'host: ' + host + '\r\n';
  }
  if (extra !== undefined && extra.length > 0) {
    const h = appendHeaders(head, headers);
    return h === null ? null : appendHeaders(h.slice(0, -2), extra);
  }
  return appendHeaders(head, headers);
}

/**
 * Serialises a response head: `HTTP/1.1 ${status} ${reason}\r\n` + headers + `\r\n`.
 * @param reason the reason phrase; when undefined, the standard one for `status` ('Unknown' if none).
 * @returns a latin1 string, or null when `reason` or a header value contains CR, LF or NUL.
 */
export function encodeResponseHead(status: number, reason: string | undefined, headers: string[]): string | null {
  let line: string | undefined;
  if (reason === undefined) {
    line = kStatusLines[status] ?? `HTTP/1.1 ${status} Unknown\r\n`;
  } else {
    if (kForbidden.test(reason)) return null;
    line = `HTTP/1.1 ${status} ${reason}\r\n`;
  }
  return appendHeaders(line, headers);
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
