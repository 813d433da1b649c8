/**
 * Whether a socket's output is really backed up (Envoy's "above high watermark" on a connection's
 * write buffer, per_connection_buffer_limit_bytes), as opposed to what Node's Writable reports.
 *
 * `socket.write()` returns false, and `writableNeedDrain` stays true until the next tick's
 * `'drain'`, when the bytes queued at the time of the write reach the high watermark (16 KiB).
 * Under cork (a response head and its body leave in one writev) the corked bytes count as queued,
 * so every body of 16 KiB or more sets it, even when the kernel then takes every byte at once.
 * Pausing the other side on that signal costs a readStop/readStart pair (two epoll_ctl calls), a
 * `'drain'` event and a tick per response, with nothing buffered (measured: about 4 CPU-µs of a
 * 16 KiB proxied response). Bytes still queued in the Writable (`writableLength > 0`) are the real
 * backlog; `'drain'` fires when they are gone.
 */
import type { Socket } from 'node:net';

/** True when bytes written to `socket` wait in its Writable queue over the high watermark. */
export function writeBacklogged(socket: Socket): boolean {
  return socket.writableNeedDrain && socket.writableLength > 0;
}

/**
 * `socket.write()`'s result made exact: false only when bytes really wait (see {@link writeBacklogged}).
 * Node 20.20 already answers so for a write outside cork; releases that compare against the high
 * watermark before writing (and any write while corked) answer false for bytes the kernel took.
 */
export function writeAccepted(socket: Socket, writeResult: boolean): boolean {
  return writeResult || socket.writableLength === 0;
}
