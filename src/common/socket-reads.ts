/**
 * Socket reads through Node's `onread` option (net.Socket / net.connect, public since Node 12):
 * every socket of a worker thread reads into one shared 64 KiB buffer, and the callback gets the
 * byte count. This skips the Readable stream path of a plain `'data'` listener: no 64 KiB
 * allocation and ArrayBuffer per read, no push/emit/maybeReadMore tick per read (measured on a
 * forwarding proxy: about -1.3 CPU-µs per request for two reads).
 *
 * The shared buffer is overwritten by the next read of any socket, so the bytes are copied out
 * (`Buffer.allocUnsafe`: from Node's pool when under 4 KiB) before a handler sees them; handlers
 * get an owned Buffer exactly as from `'data'` and may keep it (pipelined bytes, write queues).
 *
 * Each read is one read event (common/read-event.ts): one clock read for all it causes, and work
 * queued for its end.
 *
 * Flow control is unchanged: `socket.pause()`/`resume()` stop and restart reading (net.Socket
 * does readStop/readStart for onread sockets); `'end'`, `'error'`, `'close'` fire as before.
 */
// Imported: the global `Buffer` is an accessor (a getter call on every use on the hot path).
import { Buffer } from 'node:buffer';
import type { OnReadOpts, SocketConstructorOpts } from 'node:net';
import { inReadEvent } from './read-event';

/** Bytes one read may return (the size of the shared buffer). */
export const READ_BUFFER_BYTES = 64 * 1024;

const shared = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);

/**
 * `onread` options for a socket whose bytes go to `deliver`, as owned Buffers (never empty).
 * One closure per socket, created when the socket is.
 */
export function socketReads(deliver: (chunk: Buffer) => void): OnReadOpts {
  return {
    buffer: shared,
    callback: (n: number): boolean => {
      const chunk = Buffer.allocUnsafe(n);
      shared.copy(chunk, 0, 0, n);
      inReadEvent(deliver, chunk);
      return true; // false would stop reading; flow control goes through pause()/resume()
    },
  };
}

/**
 * Options for `new net.Socket()` over an accepted fd. Node 20's constructor honours `onread`
 * (lib/net.js) though @types/node lists it only for connect().
 */
export type SocketOptsWithReads = SocketConstructorOpts & { onread: OnReadOpts };
