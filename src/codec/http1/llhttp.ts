/**
 * Loader for llhttp's WebAssembly, as shipped (base64-embedded) by the `llhttp-wasm` package.
 *
 * The package's JavaScript wrapper is not used (see NOTES.md "llhttp-wasm"): we read its
 * `out/index.js`, extract the `binaryString` constant, compile it once per thread, and instantiate
 * it once per thread with imports that dispatch to whichever parser is currently executing
 * (see parser.ts). Constants below are llhttp's (`llhttp-wasm/out/constants.js`); a unit test
 * checks them against that file.
 */

import { readFileSync } from 'node:fs';

/** The slice of the WebAssembly JS API we use (@types/node 20 and lib es2023 do not declare it). */
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
};

/** llhttp parser types (`llhttp_type_t`). */
export const LLHTTP_TYPE_BOTH = 0;
export const LLHTTP_TYPE_REQUEST = 1;
export const LLHTTP_TYPE_RESPONSE = 2;

/** llhttp error numbers we branch on (`llhttp_errno_t`). */
export const HPE_OK = 0;
export const HPE_PAUSED = 21;
export const HPE_PAUSED_UPGRADE = 22;
export const HPE_PAUSED_H2_UPGRADE = 23;
export const HPE_USER = 24;

/** `llhttp_errno_t` number → stable name (`HPE_*`), as `llhttp_errno_name` returns it. */
export const ERRNO_NAMES: readonly string[] = (() => {
  const e: Record<string, number> = {
    OK: 0, INTERNAL: 1, STRICT: 2, CR_EXPECTED: 25, LF_EXPECTED: 3, UNEXPECTED_CONTENT_LENGTH: 4,
    UNEXPECTED_SPACE: 30, CLOSED_CONNECTION: 5, INVALID_METHOD: 6, INVALID_URL: 7, INVALID_CONSTANT: 8,
    INVALID_VERSION: 9, INVALID_HEADER_TOKEN: 10, INVALID_CONTENT_LENGTH: 11, INVALID_CHUNK_SIZE: 12,
    INVALID_STATUS: 13, INVALID_EOF_STATE: 14, INVALID_TRANSFER_ENCODING: 15, CB_MESSAGE_BEGIN: 16,
    CB_HEADERS_COMPLETE: 17, CB_MESSAGE_COMPLETE: 18, CB_CHUNK_HEADER: 19, CB_CHUNK_COMPLETE: 20,
    PAUSED: 21, PAUSED_UPGRADE: 22, PAUSED_H2_UPGRADE: 23, USER: 24, CB_URL_COMPLETE: 26,
    CB_STATUS_COMPLETE: 27, CB_HEADER_FIELD_COMPLETE: 28, CB_HEADER_VALUE_COMPLETE: 29, CB_RESET: 31,
    CB_METHOD_COMPLETE: 32, CB_VERSION_COMPLETE: 33, CB_CHUNK_EXTENSION_NAME_COMPLETE: 34,
    CB_CHUNK_EXTENSION_VALUE_COMPLETE: 35, CB_PROTOCOL_COMPLETE: 38,
  };
  const out: string[] = [];
  for (const k of Object.keys(e)) out[e[k]] = 'HPE_' + k;
  return out;
})();

/** `llhttp_method_t` number → method token (index = llhttp's method number). */
export const METHOD_NAMES: readonly string[] = [
  'DELETE', 'GET', 'HEAD', 'POST', 'PUT', 'CONNECT', 'OPTIONS', 'TRACE', 'COPY', 'LOCK', 'MKCOL',
  'MOVE', 'PROPFIND', 'PROPPATCH', 'SEARCH', 'UNLOCK', 'BIND', 'REBIND', 'UNBIND', 'ACL', 'REPORT',
  'MKACTIVITY', 'CHECKOUT', 'MERGE', 'M-SEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PATCH',
  'PURGE', 'MKCALENDAR', 'LINK', 'UNLINK', 'SOURCE', 'PRI', 'DESCRIBE', 'ANNOUNCE', 'SETUP', 'PLAY',
  'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER', 'REDIRECT', 'RECORD', 'FLUSH', 'QUERY',
];

/** The wasm exports we use (pointers and sizes are i32 byte offsets into `memory`). */
export interface LlhttpExports {
  memory: WasmMemory;
  _initialize?: () => void;
  llhttp_alloc(type: number): number;
  llhttp_free(p: number): void;
  llhttp_reset(p: number): void;
  llhttp_execute(p: number, data: number, len: number): number;
  llhttp_finish(p: number): number;
  llhttp_resume(p: number): void;
  llhttp_resume_after_upgrade(p: number): void;
  llhttp_get_errno(p: number): number;
  llhttp_get_error_reason(p: number): number;
  llhttp_get_error_pos(p: number): number;
  llhttp_errno_name(errno: number): number;
  llhttp_get_method(p: number): number;
  llhttp_get_status_code(p: number): number;
  llhttp_get_http_major(p: number): number;
  llhttp_get_http_minor(p: number): number;
  llhttp_should_keep_alive(p: number): number;
  llhttp_get_upgrade(p: number): number;
  llhttp_message_needs_eof(p: number): number;
  malloc(size: number): number;
  free(ptr: number): void;
}

/** The callbacks the wasm imports (`env.wasm_on_*`); return 0 to continue, see llhttp docs. */
export interface LlhttpImports {
  wasm_on_message_begin(p: number): number;
  wasm_on_url(p: number, at: number, len: number): number;
  wasm_on_status(p: number, at: number, len: number): number;
  wasm_on_header_field(p: number, at: number, len: number): number;
  wasm_on_header_value(p: number, at: number, len: number): number;
  wasm_on_headers_complete(p: number): number;
  wasm_on_body(p: number, at: number, len: number): number;
  wasm_on_message_complete(p: number): number;
}

let compiled: WasmModule | undefined;

/**
 * Compiles llhttp's WebAssembly (once per thread) from the `llhttp-wasm` package.
 * @throws Error when the package or its embedded `binaryString` cannot be found.
 */
export function llhttpModule(): WasmModule {
  if (compiled !== undefined) return compiled;
  const file = require.resolve('llhttp-wasm');
  const src = readFileSync(file, 'latin1');
  const m = /binaryString\s*=\s*["']([A-Za-z0-9+/=]+)["']/.exec(src);
  if (m === null) throw new Error(`llhttp-wasm: no embedded binaryString in ${file}`);
  compiled = new WebAssembly.Module(Buffer.from(m[1], 'base64'));
  return compiled;
}

/** Instantiates the module with the given callbacks and runs its `_initialize` (WASI reactor). */
export function instantiateLlhttp(imports: LlhttpImports): LlhttpExports {
  const inst = new WebAssembly.Instance(llhttpModule(), { env: imports as unknown as Record<string, unknown> });
  const ex = inst.exports as unknown as LlhttpExports;
  if (typeof ex._initialize === 'function') ex._initialize();
  return ex;
}

/** Reads a NUL-terminated C string at `ptr` from wasm memory (latin1). */
export function readCString(ex: LlhttpExports, ptr: number): string {
  if (ptr === 0) return '';
  const u8 = new Uint8Array(ex.memory.buffer);
  let end = ptr;
  while (end < u8.length && u8[end] !== 0) end++;
  return Buffer.from(u8.buffer, ptr, end - ptr).toString('latin1');
}
