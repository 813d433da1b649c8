/**
 * HTTP/1.1 parser: our own binding over llhttp's WebAssembly (requests from downstream, responses
 * from upstream), driven the way undici's lib/dispatcher/client-h1.js drives its llhttp:
 *
 * - ONE wasm instance per thread; its imports dispatch to a module-level "current parser" that is
 *   set around `llhttp_execute` / `llhttp_finish`.
 * - ONE reused input buffer in wasm memory (grown when a bigger chunk arrives): each socket chunk is
 *   copied once; callback offsets `at` become positions `at - inputPtr` in the caller's Buffer, so
 *   body slices are zero-copy `subarray`s and strings are sliced straight from the JS Buffer.
 * - Strings are latin1 (0x80-0xFF survive byte for byte), never UTF-8. Head callbacks only record
 *   (kind, offset, length) into a shared Int32Array; at headers-complete (or at the end of a chunk
 *   that cut the head) the records are turned into strings with ONE latin1 slice of the head plus
 *   `substring`s, which avoids a C++ call per header. Well-known names are interned from the bytes.
 * - A URL, reason, header name or value cut by a chunk boundary arrives as two callbacks and is
 *   appended, not pushed as a new entry. Headers are a flat [name, value, ...] array with
 *   lowercased names (well-known names interned, see header-names.ts).
 * - Strict parsing: no `llhttp_set_lenient_*` flag is ever set (request-smuggling defence; Envoy's
 *   codec is equally strict by default).
 * - Nothing throws out of `execute`: handler exceptions become ExecStatus.Error / 'HANDLER_ERROR'.
 *
 * Limits (Envoy HttpConnectionManager `max_request_headers_kb`, default 60, and
 * `common_http_protocol_options.max_headers_count`, default 100): bytes of URL + header names and
 * values, and the header count, are checked as the callbacks arrive; exceeding either fails with
 * errorCode 'HEADERS_TOO_LARGE' (the caller answers 431). Trailers are checked separately against
 * the same limits.
 */

import { hasUpper, headerName, latin1, wellKnownName } from './header-names';
import {
  ERRNO_NAMES, HPE_OK, HPE_PAUSED, HPE_PAUSED_UPGRADE, LLHTTP_TYPE_REQUEST, LLHTTP_TYPE_RESPONSE,
  METHOD_NAMES, instantiateLlhttp, readCString, type LlhttpExports,
} from './llhttp';

/** Which side of the exchange the parser reads (llhttp's HTTP_REQUEST / HTTP_RESPONSE). */
export const enum ParserKind { Request = 1, Response = 2 }

/** Result of {@link Http1Parser.execute} and {@link Http1Parser.finish}. */
export const enum ExecStatus {
  /** The whole chunk was consumed. */
  Ok = 0,
  /** onMessageComplete asked to pause: `consumed` bytes were parsed; call resume() then execute the rest. */
  Paused = 1,
  /** An Upgrade / CONNECT message (or a 101 response) completed: bytes from `consumed` on are the tunnel's. */
  Upgrade = 2,
  /** Protocol error, size limit or handler exception: see `errorCode` / `errorReason`. */
  Error = 3,
}

/** Receives the parsed messages. Methods are called synchronously from inside execute()/finish(). */
export interface Http1Handler {
  /** Request head. headers: flat [name, value, name, value...], names LOWERCASED, values latin1 as received (leading and trailing OWS trimmed). */
  onRequestHead(method: string, url: string, versionMinor: number, headers: string[], keepAlive: boolean, upgrade: boolean): void;
  /** Response head. Return true to tell the parser the response has no body (e.g. the request was HEAD; 1xx/204/304 are handled by llhttp itself). */
  onResponseHead(status: number, reason: string, versionMinor: number, headers: string[], keepAlive: boolean, upgrade: boolean): boolean;
  /** A body slice (never empty): a subarray of the chunk passed to execute() (zero copy; decoded from chunked framing). Copy it to keep it past the call if the chunk is reused. */
  onBody(data: Buffer): void;
  /** End of message. trailers: flat array (lowercased names) or null. Return true to PAUSE the parser right after this message. */
  onMessageComplete(trailers: string[] | null): boolean;
}

/** Options of {@link Http1Parser}. */
export interface Http1ParserOptions {
  /** Max bytes of URL + header names + values (default 61440: Envoy `max_request_headers_kb` 60). */
  maxHeaderBytes?: number;
  /** Max number of headers (default 100: Envoy `max_headers_count`). */
  maxHeaderCount?: number;
}

// ---- the per-thread wasm instance and the "current parser" it calls back into -------------------

let cur: Http1Parser | null = null;
let curChunk: Buffer = Buffer.alloc(0);
let curPtr = 0;

const ll: LlhttpExports = instantiateLlhttp({
  wasm_on_message_begin: (_p) => (cur as Http1Parser).kOnMessageBegin(),
  wasm_on_url: (_p, at, len) => (cur as Http1Parser).kOnUrl(at - curPtr, len),
  wasm_on_status: (_p, at, len) => (cur as Http1Parser).kOnStatus(at - curPtr, len),
  wasm_on_header_field: (_p, at, len) => (cur as Http1Parser).kOnHeaderField(at - curPtr, len),
  wasm_on_header_value: (_p, at, len) => (cur as Http1Parser).kOnHeaderValue(at - curPtr, len),
  wasm_on_headers_complete: (_p) => (cur as Http1Parser).kOnHeadersComplete(),
  wasm_on_body: (_p, at, len) => (cur as Http1Parser).kOnBody(at - curPtr, len),
  wasm_on_message_complete: (_p) => (cur as Http1Parser).kOnMessageComplete(),
});

/** The shared input buffer in wasm memory. */
let inPtr = 0;
let inSize = 0;
let heap = new Uint8Array(ll.memory.buffer);

/**
 * Copies `chunk` into wasm memory (the shared buffer, or a private one when nested) and returns its
 * address. The first `skip` bytes are not copied: they are the rest of a Content-Length body, which
 * llhttp consumes by count without reading them (callbacks map offsets back to `chunk`).
 */
function copyIn(chunk: Buffer, nested: boolean, skip: number): number {
  const len = chunk.length;
  let ptr: number;
  if (nested) {
    ptr = ll.malloc(len > 0 ? len : 1);
  } else {
    if (len > inSize) {
      if (inPtr !== 0) ll.free(inPtr);
      inSize = Math.max(len, 16384, Math.ceil(len / 4096) * 4096);
      inPtr = ll.malloc(inSize);
    }
    ptr = inPtr;
  }
  if (heap.byteLength === 0) heap = new Uint8Array(ll.memory.buffer); // memory grew: old view detached
  if (skip === 0) heap.set(chunk, ptr);
  else if (skip < len) heap.set(chunk.subarray(skip), ptr + skip);
  return ptr;
}

// ---- Content-Length bodies: not copied into wasm memory ----------------------------------------
// A body framed by Content-Length is consumed by llhttp by count (llhttp__internal__n_consume_
// content_length): its bytes are never read, only passed back as spans. So once a message's head
// is parsed, the body bytes of the following chunks need not be copied into wasm memory (a 1 MiB
// upload arrives in 16 reads of 64 KiB). How much body is left is read from llhttp_t's
// `content_length` and `flags` fields at headers-complete; their offsets are checked once against
// real parses (selfCheckBodySkip), and the copy is always made when they do not match.

/** llhttp_t field offsets (wasm32 layout of llhttp 9.x: llhttp.h `struct llhttp__internal_s`). */
const OFF_CONTENT_LENGTH = 32; // uint64_t
const OFF_FLAGS = 50; // uint16_t
/** llhttp_flags: F_CHUNKED, F_CONTENT_LENGTH, F_TRANSFER_ENCODING. */
const F_CHUNKED = 0x8;
const F_CONTENT_LENGTH = 0x20;
const F_TRANSFER_ENCODING = 0x200;

/** llhttp_t `flags` of the parser at `p`. */
function flagsOf(p: number): number {
  if (heap.byteLength === 0) heap = new Uint8Array(ll.memory.buffer);
  return heap[p + OFF_FLAGS] | (heap[p + OFF_FLAGS + 1] << 8);
}

/** Bytes of Content-Length body left after the head of the message being parsed by parser `p` (0: none, or unknown). */
function contentLengthLeft(p: number): number {
  if (!bodySkip) return 0;
  const flags = flagsOf(p);
  if ((flags & F_CONTENT_LENGTH) === 0 || (flags & (F_CHUNKED | F_TRANSFER_ENCODING)) !== 0) return 0;
  let lo = 0;
  for (let i = 3; i >= 0; i--) lo = lo * 256 + heap[p + OFF_CONTENT_LENGTH + i];
  let hi = 0;
  for (let i = 7; i >= 4; i--) hi = hi * 256 + heap[p + OFF_CONTENT_LENGTH + i];
  return hi >= 0x200000 ? 0 : hi * 0x100000000 + lo; // past 2^53: copy as usual
}

/** Whether the field offsets above are llhttp's (set by selfCheckBodySkip() once the class exists). */
let bodySkip = false;

/** Whether Content-Length body bytes skip the copy into wasm memory in this thread (see above). */
export function bodyCopySkipped(): boolean {
  return bodySkip;
}

/** Pending head spans: [kind, offset in curChunk, length] triples; see Http1Parser.flush(). */
const K_URL = 0;
const K_STATUS = 1;
const K_FIELD = 2;
const K_VALUE = 3;
const kSpanCap = 256;
const spans = new Int32Array(kSpanCap * 3);
let nSpans = 0;

const freeParser = new FinalizationRegistry<number>((p) => ll.llhttp_free(p));

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Trims trailing SP/HTAB (llhttp drops leading OWS but keeps trailing OWS in the value span). */
function trimEnd(v: string): string {
  const n = v.length;
  if (n === 0 || !isOws(v.charCodeAt(n - 1))) return v;
  let e = n - 1;
  while (e > 0 && isOws(v.charCodeAt(e - 1))) e--;
  return v.slice(0, e);
}

/** True when a `connection` header lists `token` (case-insensitive). */
function connectionHas(headers: string[], token: string): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'connection') continue;
    for (const t of headers[i + 1].split(',')) if (t.trim().toLowerCase() === token) return true;
  }
  return false;
}

// ---- the parser ---------------------------------------------------------------------------------

/**
 * One HTTP/1.x parser (one per connection and direction). Not re-entrant on itself; another
 * parser may be executed from inside a handler callback.
 */
export class Http1Parser {
  /** After Paused/Upgrade: bytes of the last chunk consumed (the rest is the next message / tunnel data). After Ok: the chunk's length. */
  consumed = 0;
  /** After Error: 'HEADERS_TOO_LARGE', 'HANDLER_ERROR' or llhttp's errno name ('HPE_INVALID_METHOD', ...). */
  errorCode = '';
  /** After Error: a human-readable reason (llhttp's, or the handler exception's message). */
  errorReason = '';
  /** The exception a handler threw (when errorCode is 'HANDLER_ERROR'). */
  handlerError: unknown = undefined;
  /**
   * Response parsers: whether the matching request was HEAD (or CONNECT), so no body is expected.
   * Set before each response; not cleared by the parser (reset() clears it).
   */
  expectNoBody = false;

  private ptr: number;
  private readonly kind: ParserKind;
  private readonly handler: Http1Handler;
  private readonly maxBytes: number;
  private readonly maxCount: number;

  // per-message state
  private url = '';
  private reason = '';
  private headers: string[] = [];
  private trailers: string[] | null = null;
  private inTrailers = false;
  private bytes = 0;
  private lastKind = K_URL;
  private count = 0;
  private inMessage = false;
  /** Content-Length body bytes llhttp has yet to consume (0: none, unknown, or not a CL body). */
  private bodyLeft = 0;
  /** The last Host value made (see hostValue()). */
  private lastHost = '';

  // per-connection state
  private state: 0 | 1 | 2 | 3 = 0; // 0 running, 1 paused, 2 upgraded, 3 failed
  private executing = false;
  /** reset() (1) or destroy() (2) called by a handler during execute()/finish(): done when it returns. */
  private deferred: 0 | 1 | 2 = 0;
  private failCode: string | null = null;

  constructor(kind: ParserKind, handler: Http1Handler, opts?: Http1ParserOptions) {
    if (kind !== ParserKind.Request && kind !== ParserKind.Response) throw new TypeError(`invalid ParserKind ${kind}`);
    this.kind = kind;
    this.handler = handler;
    this.maxBytes = opts?.maxHeaderBytes ?? 60 * 1024;
    this.maxCount = opts?.maxHeaderCount ?? 100;
    this.ptr = ll.llhttp_alloc(kind === ParserKind.Request ? LLHTTP_TYPE_REQUEST : LLHTTP_TYPE_RESPONSE);
    freeParser.register(this, this.ptr, this);
  }

  /** @internal The llhttp_t address in wasm memory (for the layout self-check). */
  get llhttpPtr(): number {
    return this.ptr;
  }

  /** True while between messages (no partial message buffered). */
  get idle(): boolean {
    return !this.inMessage;
  }

  /**
   * Parses one chunk (copied once into wasm memory; callbacks get views of `chunk`).
   * Returns Ok, Paused (see `consumed`, then resume()), Upgrade (see `consumed`) or Error
   * (see `errorCode`). Never throws. Calling it while paused or upgraded returns that status with
   * consumed = 0; after Error it returns Error until reset().
   */
  execute(chunk: Buffer): ExecStatus {
    const st = this.state;
    if (st !== 0 || this.executing) return this.blocked();
    const prev = cur;
    const prevChunk = curChunk;
    const prevPtr = curPtr;
    const nested = prev !== null;
    const bodyLeft = this.bodyLeft;
    const ptr = copyIn(chunk, nested, bodyLeft === 0 ? 0 : bodyLeft < chunk.length ? bodyLeft : chunk.length);
    cur = this;
    curChunk = chunk;
    curPtr = ptr;
    this.executing = true;
    let rc: number;
    try {
      rc = ll.llhttp_execute(this.ptr, ptr, chunk.length);
      // a head cut by the end of this chunk: materialise its strings while the chunk is current
      if (nSpans !== 0 && rc === HPE_OK && this.failCode === null) this.flush();
    } finally {
      nSpans = 0;
      this.executing = false;
      cur = prev;
      curChunk = prevChunk;
      curPtr = prevPtr;
    }
    if (this.deferred !== 0) {
      if (nested) ll.free(ptr);
      return this.runDeferred();
    }
    if (rc === HPE_OK && this.failCode === null) {
      if (nested) ll.free(ptr);
      this.consumed = chunk.length;
      return ExecStatus.Ok;
    }
    const status = this.status(rc, ptr);
    if (nested) ll.free(ptr);
    return status;
  }

  /** Resumes after Paused (or continues as HTTP after Upgrade); then execute() the remaining bytes. */
  resume(): void {
    if (this.state === 1) {
      ll.llhttp_resume(this.ptr);
      this.state = 0;
    } else if (this.state === 2) {
      ll.llhttp_resume_after_upgrade(this.ptr);
      this.state = 0;
    }
  }

  /**
   * Signals EOF: completes a close-delimited response. Returns Ok, or Error
   * ('HPE_INVALID_EOF_STATE') if a message was cut short.
   */
  finish(): ExecStatus {
    if (this.state === 3) return ExecStatus.Error;
    if (this.executing) return this.blocked();
    const prev = cur;
    cur = this;
    this.executing = true;
    let rc: number;
    try {
      rc = ll.llhttp_finish(this.ptr);
    } finally {
      this.executing = false;
      cur = prev;
    }
    if (this.deferred !== 0) return this.runDeferred();
    if (this.failCode !== null) return this.fail(this.failCode);
    if (rc === HPE_OK || rc === HPE_PAUSED) {
      this.inMessage = false;
      return ExecStatus.Ok;
    }
    this.state = 3;
    this.errorCode = ERRNO_NAMES[rc] ?? `HPE_${rc}`;
    this.errorReason = readCString(ll, ll.llhttp_get_error_reason(this.ptr));
    return ExecStatus.Error;
  }

  /**
   * Makes the parser ready for a new connection (clears errors, pause and upgrade state). Called
   * from a handler during execute(), it stops parsing: execute() then returns Ok (the rest of the
   * chunk is dropped) and the parser is reset.
   */
  reset(): void {
    if (this.ptr === 0) return;
    if (this.executing) {
      if (this.deferred === 0) this.deferred = 1; // llhttp is on the stack: stop it, reset on return
      return;
    }
    ll.llhttp_reset(this.ptr);
    this.state = 0;
    this.failCode = null;
    this.errorCode = '';
    this.errorReason = '';
    this.handlerError = undefined;
    this.consumed = 0;
    this.expectNoBody = false;
    this.inMessage = false;
    this.bodyLeft = 0;
    this.headers = [];
    this.trailers = null;
    this.inTrailers = false;
  }

  /**
   * Frees the wasm-side parser; the object is unusable afterwards (execute returns Error with
   * errorCode 'DESTROYED'). Safe to call from a handler: parsing stops and the free happens when
   * execute() returns (which then returns Error / 'DESTROYED').
   */
  destroy(): void {
    if (this.ptr === 0) return;
    if (this.executing) {
      this.deferred = 2; // never free the llhttp_t while llhttp_execute runs on it
      return;
    }
    freeParser.unregister(this);
    ll.llhttp_free(this.ptr);
    this.ptr = 0;
    this.state = 3;
    this.errorCode = 'DESTROYED';
    this.errorReason = 'parser destroyed';
  }

  /** Performs a reset()/destroy() a handler asked for during execute()/finish(). */
  private runDeferred(): ExecStatus {
    const d = this.deferred;
    this.deferred = 0;
    if (d === 2) {
      this.destroy();
      return ExecStatus.Error;
    }
    this.reset();
    return ExecStatus.Ok;
  }

  private blocked(): ExecStatus {
    this.consumed = 0;
    if (this.state === 1) return ExecStatus.Paused;
    if (this.state === 2) return ExecStatus.Upgrade;
    if (this.state === 0) {
      // re-entrant call on the same parser from its own handler
      this.errorCode = 'HANDLER_ERROR';
      this.errorReason = 'Http1Parser.execute re-entered from a handler';
    }
    return ExecStatus.Error;
  }

  private status(rc: number, ptr: number): ExecStatus {
    if (this.failCode !== null) return this.fail(this.failCode);
    if (rc === HPE_PAUSED) {
      this.state = 1;
      this.consumed = ll.llhttp_get_error_pos(this.ptr) - ptr;
      return ExecStatus.Paused;
    }
    if (rc === HPE_PAUSED_UPGRADE) {
      this.state = 2;
      this.consumed = ll.llhttp_get_error_pos(this.ptr) - ptr;
      return ExecStatus.Upgrade;
    }
    this.state = 3;
    this.consumed = ll.llhttp_get_error_pos(this.ptr) - ptr;
    this.errorCode = ERRNO_NAMES[rc] ?? `HPE_${rc}`;
    this.errorReason = readCString(ll, ll.llhttp_get_error_reason(this.ptr));
    return ExecStatus.Error;
  }

  private fail(code: string): ExecStatus {
    this.state = 3;
    this.errorCode = code;
    this.consumed = 0;
    return ExecStatus.Error;
  }

  /** Records a failure from inside a callback; returns the value that makes llhttp stop. */
  private stop(code: string, reason: string): number {
    if (this.failCode === null) {
      this.failCode = code;
      this.errorReason = reason;
    }
    return -1;
  }

  private thrown(err: unknown): number {
    this.handlerError = err;
    return this.stop('HANDLER_ERROR', err instanceof Error ? err.message : String(err));
  }

  private tooLarge(): number {
    return this.stop('HEADERS_TOO_LARGE', `headers exceed ${this.maxBytes} bytes or ${this.maxCount} entries`);
  }

  // ---- callbacks (called by the wasm through the module-level dispatchers) ----------------------

  /** Records a head span; flushes first when the record buffer is full. */
  private record(kind: number, off: number, len: number): void {
    if (nSpans === kSpanCap) this.flush();
    const i = nSpans++ * 3;
    spans[i] = kind;
    spans[i + 1] = off;
    spans[i + 2] = len;
  }

  /**
   * Turns the pending span records (all in curChunk, in increasing offset order) into strings:
   * one latin1 slice covering them, then substrings. A record continuing the previous one (cut by
   * a chunk boundary) is appended: a name right after a name, a value right after a value.
   */
  private flush(): void {
    const n = nSpans * 3;
    nSpans = 0;
    if (n === 0) return;
    const chunk = curChunk;
    const lo = spans[1];
    const big = latin1(chunk, lo, spans[n - 2] + spans[n - 1]);
    const h = this.headers;
    for (let i = 0; i < n; i += 3) {
      const kind = spans[i];
      const off = spans[i + 1];
      const len = spans[i + 2];
      const a = off - lo;
      const m = h.length;
      if (kind === K_VALUE) {
        if ((m & 1) === 1) h.push(h[m - 1] === 'host' ? this.hostValue(chunk, off, len) : big.substring(a, a + len));
        else h[m - 1] += big.substring(a, a + len);
      } else if (kind === K_FIELD) {
        let name = wellKnownName(chunk, off, len);
        if (name === undefined) {
          name = big.substring(a, a + len);
          if (hasUpper(chunk, off, len)) name = name.toLowerCase();
        }
        if ((m & 1) === 1) {
          h[m - 1] += name;
        } else {
          if (m > 0) h[m - 1] = trimEnd(h[m - 1]);
          h.push(name);
        }
      } else if (kind === K_URL) {
        const u = big.substring(a, a + len);
        this.url = this.url.length === 0 ? u : this.url + u;
      } else {
        const r = big.substring(a, a + len);
        this.reason = this.reason.length === 0 ? r : this.reason + r;
      }
    }
  }

  /**
   * The Host value at `off` (`len` bytes): the previous request's string when the bytes are the
   * same (a keep-alive client repeats its Host), so the connection manager's check against the
   * last authority is a pointer compare and no string is made. Kept flat (latin1Slice), so the
   * byte compare reads it directly.
   */
  private hostValue(chunk: Buffer, off: number, len: number): string {
    const last = this.lastHost;
    if (last.length === len) {
      let i = 0;
      while (i < len && chunk[off + i] === last.charCodeAt(i)) i++;
      if (i === len) return last;
    }
    return (this.lastHost = latin1(chunk, off, off + len));
  }

  /** @internal */
  kOnMessageBegin(): number {
    this.inMessage = true;
    this.url = '';
    this.reason = '';
    this.headers = [];
    this.trailers = null;
    this.inTrailers = false;
    this.bytes = 0;
    this.count = 0;
    this.lastKind = K_URL;
    return 0;
  }

  /** @internal */
  kOnUrl(off: number, len: number): number {
    if ((this.bytes += len) > this.maxBytes) return this.tooLarge();
    this.record(K_URL, off, len);
    return 0;
  }

  /** @internal */
  kOnStatus(off: number, len: number): number {
    if ((this.bytes += len) > this.maxBytes) return this.tooLarge();
    this.record(K_STATUS, off, len);
    return 0;
  }

  /** @internal */
  kOnHeaderField(off: number, len: number): number {
    if ((this.bytes += len) > this.maxBytes) return this.tooLarge();
    if (this.lastKind !== K_FIELD) {
      // a new header (a name right after a name is the rest of one cut by a chunk boundary)
      if (++this.count > this.maxCount) return this.tooLarge();
      this.lastKind = K_FIELD;
    }
    if (!this.inTrailers) {
      this.record(K_FIELD, off, len);
      return 0;
    }
    const t = this.trailers ?? (this.trailers = []);
    const n = t.length;
    const name = headerName(curChunk, off, len);
    if ((n & 1) === 1) {
      t[n - 1] += name;
    } else {
      if (n > 0) t[n - 1] = trimEnd(t[n - 1]);
      t.push(name);
    }
    return 0;
  }

  /** @internal */
  kOnHeaderValue(off: number, len: number): number {
    if ((this.bytes += len) > this.maxBytes) return this.tooLarge();
    this.lastKind = K_VALUE;
    if (!this.inTrailers) {
      this.record(K_VALUE, off, len);
      return 0;
    }
    const t = this.trailers as string[];
    const n = t.length;
    const v = latin1(curChunk, off, off + len);
    if ((n & 1) === 1) t.push(v);
    else t[n - 1] += v;
    return 0;
  }

  /** @internal */
  kOnHeadersComplete(): number {
    this.flush();
    const p = this.ptr;
    const h = this.headers;
    const n = h.length;
    if ((n & 1) === 1) h.push('');
    else if (n > 0) h[n - 1] = trimEnd(h[n - 1]);
    if (ll.llhttp_get_http_major(p) !== 1) return this.stop('HPE_INVALID_VERSION', 'Unsupported HTTP version');
    const minor = ll.llhttp_get_http_minor(p);
    const upgrade = ll.llhttp_get_upgrade(p) === 1;
    let keepAlive = ll.llhttp_should_keep_alive(p) === 1;
    this.inTrailers = true;
    this.bytes = 0;
    this.count = 0;
    this.lastKind = K_VALUE;
    try {
      if (this.kind === ParserKind.Request) {
        this.handler.onRequestHead(METHOD_NAMES[ll.llhttp_get_method(p)] ?? 'UNKNOWN', this.url, minor, h, keepAlive, upgrade);
        if (this.deferred !== 0) return -1;
        if (!upgrade) this.bodyLeft = contentLengthLeft(p);
        return 0;
      }
      const status = ll.llhttp_get_status_code(p);
      if (this.expectNoBody && !keepAlive && ll.llhttp_message_needs_eof(p) === 1) {
        // llhttp thinks the body runs to EOF because it does not know yet that there is none.
        keepAlive = minor >= 1 ? !connectionHas(h, 'close') : connectionHas(h, 'keep-alive');
      }
      const noBody = this.handler.onResponseHead(status, this.reason, minor, h, keepAlive, upgrade);
      if (this.deferred !== 0) return -1;
      if (noBody === true || this.expectNoBody) return 1;
      if (!upgrade && status >= 200 && status !== 204 && status !== 304) this.bodyLeft = contentLengthLeft(p);
      return 0;
    } catch (err) {
      return this.thrown(err);
    }
  }

  /** @internal */
  kOnBody(off: number, len: number): number {
    if (len === 0) return 0; // llhttp flushes an empty span when a chunk ends where the body starts
    if (this.bodyLeft !== 0) this.bodyLeft -= len;
    try {
      this.handler.onBody(curChunk.subarray(off, off + len));
    } catch (err) {
      return this.thrown(err);
    }
    if (this.deferred !== 0) return -1;
    return 0;
  }

  /** @internal */
  kOnMessageComplete(): number {
    this.inMessage = false;
    this.bodyLeft = 0;
    const t = this.trailers;
    if (t !== null) {
      const n = t.length;
      if ((n & 1) === 1) t.push('');
      else if (n > 0) t[n - 1] = trimEnd(t[n - 1]);
    }
    this.trailers = null;
    this.inTrailers = false;
    try {
      const pause = this.handler.onMessageComplete(t);
      if (this.deferred !== 0) return -1;
      return pause === true ? HPE_PAUSED : 0;
    } catch (err) {
      return this.thrown(err);
    }
  }
}

/**
 * Checks the llhttp_t offsets used by contentLengthLeft() against real parses, once per thread: a
 * Content-Length request must read back its length and flag, a chunked one its flag. When they do
 * not match (another llhttp build), body bytes are copied into wasm memory as before.
 */
function selfCheckBodySkip(): boolean {
  const noop: Http1Handler = { onRequestHead() {}, onResponseHead: () => false, onBody() {}, onMessageComplete: () => false };
  const afterHead = (head: string): { left: number; flags: number } => {
    const parser = new Http1Parser(ParserKind.Request, noop);
    try {
      parser.execute(Buffer.from(head, 'latin1'));
      return { left: contentLengthLeft(parser.llhttpPtr), flags: flagsOf(parser.llhttpPtr) };
    } finally {
      parser.destroy();
    }
  };
  bodySkip = true; // contentLengthLeft() reads the fields only when enabled
  try {
    const a = afterHead('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 305419896\r\n\r\n');
    const c = afterHead('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    return a.left === 305419896 && (c.flags & F_CHUNKED) !== 0 && (c.flags & F_CONTENT_LENGTH) === 0 && c.left === 0;
  } catch {
    return false;
  } finally {
    bodySkip = false;
  }
}
bodySkip = selfCheckBodySkip();
