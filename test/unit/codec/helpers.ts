/** Test helpers for the HTTP/1 codec: a recording handler and a feeder that resumes after pauses. */

import { ExecStatus, Http1Parser, ParserKind, type Http1Handler, type Http1ParserOptions } from '../../../src/codec/http1/parser';

/** One recorded callback. Body slices are copied to strings (latin1) so they survive the chunk. */
export type Ev =
  | { t: 'req'; method: string; url: string; minor: number; headers: string[]; keepAlive: boolean; upgrade: boolean }
  | { t: 'res'; status: number; reason: string; minor: number; headers: string[]; keepAlive: boolean; upgrade: boolean }
  | { t: 'body'; data: string }
  | { t: 'done'; trailers: string[] | null };

/** A handler that records every callback into `events`; pauses after each message when `pause`. */
export class Recorder implements Http1Handler {
  events: Ev[] = [];
  pause = false;
  noBody = false;
  onRequestHead(method: string, url: string, minor: number, headers: string[], keepAlive: boolean, upgrade: boolean): void {
    this.events.push({ t: 'req', method, url, minor, headers, keepAlive, upgrade });
  }
  onResponseHead(status: number, reason: string, minor: number, headers: string[], keepAlive: boolean, upgrade: boolean): boolean {
    this.events.push({ t: 'res', status, reason, minor, headers, keepAlive, upgrade });
    return this.noBody;
  }
  onBody(data: Buffer): void {
    this.events.push({ t: 'body', data: data.toString('latin1') });
  }
  onMessageComplete(trailers: string[] | null): boolean {
    this.events.push({ t: 'done', trailers });
    return this.pause;
  }
}

/** Events with consecutive body slices merged (so different chunkings compare equal). */
export function merged(events: Ev[]): Ev[] {
  const out: Ev[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (e.t === 'body' && last !== undefined && last.t === 'body') out[out.length - 1] = { t: 'body', data: last.data + e.data };
    else out.push(e);
  }
  return out;
}

/** Result of {@link feed}: the last status and the absolute offset where parsing stopped. */
export interface FeedResult {
  status: ExecStatus;
  /** Absolute byte offset (over all chunks) where an Upgrade/Error stopped; total length when Ok. */
  offset: number;
}

/** Feeds chunks, resuming after every Paused; stops at Upgrade or Error. */
export function feed(p: Http1Parser, chunks: Buffer[]): FeedResult {
  let base = 0;
  for (const c of chunks) {
    let buf = c;
    let off = 0;
    for (;;) {
      const st = p.execute(buf);
      if (st === ExecStatus.Ok) break;
      if (st === ExecStatus.Paused) {
        off += p.consumed;
        buf = buf.subarray(p.consumed);
        p.resume();
        continue;
      }
      return { status: st, offset: base + off + p.consumed };
    }
    base += c.length;
  }
  return { status: ExecStatus.Ok, offset: base };
}

/** A fresh parser with a recorder. */
export function make(kind: ParserKind, opts?: Http1ParserOptions): { p: Http1Parser; r: Recorder } {
  const r = new Recorder();
  return { p: new Http1Parser(kind, r, opts), r };
}

/** latin1 Buffer from a string (so '\xff' is the byte 0xFF). */
export function b(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}
