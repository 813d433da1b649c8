/**
 * Socket writes for the proxy path: straight to the socket's libuv stream when nothing is queued,
 * through `socket.write()` otherwise; and whether a socket's output is really backed up (Envoy's
 * "above high watermark" on a connection's write buffer, per_connection_buffer_limit_bytes).
 * Connections write through a SocketWriter (common/socket-writer.ts), which calls these at the end
 * of the event loop's poll phase.
 *
 * **Why not just `socket.write()`.** Node's Writable wraps each write in its state machine
 * (write → _write → writeGeneric → afterWriteDispatched → onwrite → afterWrite bookkeeping, a
 * callback and, for sockets, timer refreshes) before and after the one thing that matters, the
 * stream handle's `writeBuffer()` (libuv's uv_try_write, then uv_write for a remainder). A proxy
 * writes twice per request, and that machinery measured ~0.75 CPU-µs per write on this project's
 * bench machine (a blind `net` forwarder: 19.5 → 17.9 µs per request). When the Writable holds
 * nothing (not corked, no bytes queued, connected, not ended), {@link socketWrite} calls the
 * handle itself, exactly as Node's own stream adapters do (lib/internal/webstreams/adapters.js:
 * a `WriteWrap` from the `stream_wrap` binding, `writeBuffer`/`writeLatin1String`, keep the
 * buffer while the write is in flight). Everything else (cork/uncork, pending bytes, a connecting
 * socket, `end()`, `destroy()`) keeps going through the Writable, and ordering holds because both
 * paths end in the same libuv write queue: a direct write happens only when the Writable has
 * nothing of its own waiting, and whatever the Writable writes later queues behind it.
 *
 * `process.binding('stream_wrap')` is Node's legacy binding accessor (DEP0111, a documentation-only
 * deprecation; `--pending-deprecation` prints a warning once). If it is missing or has no
 * `WriteWrap`, every write takes the `socket.write()` path: same bytes, same answers.
 *
 * **Backpressure.** Bytes the kernel did not take wait in libuv's queue (`handle.writeQueueSize`)
 * or in the Writable (`writableLength`); the socket counts as backed up when they reach its
 * high watermark (`writableHighWaterMark`, 16 KiB). A direct write that leaves bytes queued
 * emits the socket's `'drain'` when libuv's queue empties, as the Writable does for its own.
 */
import type { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';

/** The libuv stream handle under a net.Socket (`socket._handle`, a TCPWrap/PipeWrap). */
interface StreamHandle {
  writeBuffer(req: WriteReq, data: Buffer): number;
  writev(req: WriteReq, chunks: Buffer[], allBuffers: true): number;
  writeLatin1String(req: WriteReq, data: string): number;
  /** Bytes waiting in libuv's write queue. */
  readonly writeQueueSize: number;
}

/** A WriteWrap request object, with the fields Node's stream code gives it. */
interface WriteReq {
  handle: StreamHandle;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
  bytes: number;
  /** Keeps the Buffer(s) alive while libuv still writes from them. */
  buffer: Buffer | Buffer[] | null;
  socket: Socket;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

function loadBinding(): StreamWrapBinding | null {
  try {
    const b = (process as unknown as { binding(name: string): Partial<StreamWrapBinding> }).binding('stream_wrap');
    if (typeof b.WriteWrap !== 'function' || !(b.streamBaseState instanceof Int32Array) || typeof b.kLastWriteWasAsync !== 'number') return null;
    return b as StreamWrapBinding;
  } catch {
    return null;
  }
}

const binding = loadBinding();
const WriteWrap = binding?.WriteWrap;
const baseState = binding?.streamBaseState;
const kAsync = binding?.kLastWriteWasAsync ?? 0;

/** Whether {@link socketWrite} can write to stream handles directly (false: socket.write() only). */
export const directWrites = binding !== null;

function handleOf(socket: Socket): StreamHandle | null {
  return (socket as unknown as { _handle: StreamHandle | null })._handle;
}

/**
 * Writes `data` to `socket` (a string as latin1: one byte per char, chars ≤ 0xFF).
 * @returns false only when bytes really wait over the high watermark: wait for `'drain'`.
 * A write error destroys the socket with an errno Error (`code`, `errno`, `syscall: 'write'`),
 * as the Writable does; the socket then emits `'error'` and `'close'`.
 */
export function socketWrite(socket: Socket, data: Buffer | string): boolean {
  const h = directHandle(socket);
  if (h === null) return writeAccepted(socket, typeof data === 'string' ? socket.write(data, 'latin1') : socket.write(data));
  const req = newReq(h, socket, data.length);
  return afterDirectWrite(socket, h, req, typeof data === 'string' ? h.writeLatin1String(req, data) : h.writeBuffer(req, data), data);
}

/**
 * Writes `chunks` to `socket` as one gather write (writev: one syscall for a head, chunk framing
 * and a large body, none of them copied). Answers and errors as {@link socketWrite}.
 */
export function socketWritev(socket: Socket, chunks: Buffer[]): boolean {
  const h = directHandle(socket);
  if (h === null) {
    socket.cork();
    for (const c of chunks) socket.write(c);
    socket.uncork();
    return !writeBacklogged(socket); // under cork, write()'s answers count the corked bytes as queued
  }
  let n = 0;
  for (const c of chunks) n += c.length;
  const req = newReq(h, socket, n);
  return afterDirectWrite(socket, h, req, h.writev(req, chunks, true), chunks);
}

/** The Writable's state (`socket._writableState`): read once instead of four getters per write. */
interface WritableStateFields {
  length: number;
  corked: number;
  ending: boolean;
}

/** The handle to write to directly, or null when the write must go through the Writable. */
function directHandle(socket: Socket): StreamHandle | null {
  if (WriteWrap === undefined) return null;
  const h = handleOf(socket);
  if (h === null || socket.connecting) return null;
  const ws = (socket as unknown as { _writableState: WritableStateFields })._writableState;
  return ws.length === 0 && ws.corked === 0 && !ws.ending ? h : null;
}

/**
 * A request object for the next write. A write the kernel takes whole leaves its request
 * untouched on the native side (StreamBase::Write creates the native WriteWrap only for a write
 * that goes on asynchronously), so that request serves the next write too; one that goes
 * async stays with libuv until afterAsyncWrite.
 */
let spare: WriteReq | null = null;

function newReq(h: StreamHandle, socket: Socket, bytes: number): WriteReq {
  let req = spare;
  if (req === null) {
    req = new WriteWrap!();
    req.oncomplete = afterAsyncWrite;
    req.async = false;
    req.buffer = null;
  } else spare = null;
  req.handle = h;
  req.bytes = bytes;
  req.socket = socket;
  return req;
}

function afterDirectWrite(socket: Socket, h: StreamHandle, req: WriteReq, err: number, data: Buffer | Buffer[] | string): boolean {
  if (err !== 0) {
    socket.destroy(writeError(err));
    return true;
  }
  if (baseState![kAsync] === 0) {
    spare = req;
    return true;
  }
  req.async = true;
  if (typeof data !== 'string') req.buffer = data; // libuv writes the rest from these bytes later
  return h.writeQueueSize < socket.writableHighWaterMark;
}

/** A direct write that libuv finished later (called with the request as `this`). */
function afterAsyncWrite(this: WriteReq, status: number): void {
  const socket = this.socket;
  this.buffer = null;
  if (socket.destroyed) return;
  if (status < 0) {
    socket.destroy(writeError(status));
    return;
  }
  if (this.handle.writeQueueSize === 0) socket.emit('drain');
}

function writeError(status: number): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(status);
  } catch {
    code = `E${-status}`;
  }
  const e: NodeJS.ErrnoException = new Error(`write ${code}`);
  e.code = code;
  e.errno = status;
  e.syscall = 'write';
  return e;
}

/**
 * True when bytes written to `socket` wait over its high watermark, in libuv's queue or the
 * Writable's.
 *
 * For the Writable, `socket.write()` returns false, and `writableNeedDrain` stays true until the
 * next tick's `'drain'`, when the bytes queued at the time of the write reach the high watermark.
 * Under cork (a response head and its body leave in one writev) the corked bytes count as queued,
 * so every body of 16 KiB or more sets it, even when the kernel then takes every byte at once.
 * Pausing the other side on that signal costs a readStop/readStart pair (two epoll_ctl calls), a
 * `'drain'` event and a tick per response, with nothing buffered (measured: about 4 CPU-µs of a
 * 16 KiB proxied response). Bytes still queued in the Writable (`writableLength > 0`) are the real
 * backlog; `'drain'` fires when they are gone.
 */
export function writeBacklogged(socket: Socket): boolean {
  if (socket.writableLength > 0) return socket.writableNeedDrain;
  const h = handleOf(socket);
  return h !== null && h.writeQueueSize >= socket.writableHighWaterMark;
}

/**
 * `socket.write()`'s result made exact: false only when bytes really wait (see {@link writeBacklogged}).
 * Node 20.20 already answers so for a write outside cork; releases that compare against the high
 * watermark before writing (and any write while corked) answer false for bytes the kernel took.
 */
function writeAccepted(socket: Socket, writeResult: boolean): boolean {
  return writeResult || socket.writableLength === 0;
}
