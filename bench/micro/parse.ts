/**
 * Micro-benchmark: HTTP/1.1 request parsing with our llhttp-wasm binding (parse + head strings:
 * method, url, lowercased header names and values), for a 235-byte GET with 6 headers, one request
 * per execute() and pipelined; plus request-head encoding. Run: `node dist/bench/micro/parse.js`.
 * NOTES.md baseline: own binding sketch ~0.35 M req/s single (0.4-0.49 M pipelined).
 */

import { ExecStatus, Http1Parser, ParserKind, type Http1Handler } from '../../src/codec/http1/parser';
import { encodeRequestHead } from '../../src/codec/http1/encoder';
import { measure, type BenchResult } from './measure';

/** The 235-byte request. */
export const REQUEST =
  'GET /api/v1/users/12345/profile?fields=name,email HTTP/1.1\r\n' +
  'Host: backend.example.com\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n' +
  'Accept: application/json\r\n' +
  'Accept-Encoding: gzip, br\r\n' +
  'Connection: keep-alive\r\n' +
  'X-Request-Id: 8f14e45f\r\n\r\n';

class Sink implements Http1Handler {
  count = 0;
  headers: string[] = [];
  url = '';
  pause = false;
  onRequestHead(_m: string, url: string, _v: number, headers: string[]): void {
    this.url = url;
    this.headers = headers;
  }
  onResponseHead(): boolean {
    return false;
  }
  onBody(): void {}
  onMessageComplete(): boolean {
    this.count++;
    return this.pause;
  }
}

export type { BenchResult };

/** Runs every scenario and returns the results. */
export function runParseBench(iterations = 200_000, rounds = 7): BenchResult[] {
  const one = Buffer.from(REQUEST, 'latin1');
  if (one.length !== 235) throw new Error(`request is ${one.length} bytes, expected 235`);
  const results: BenchResult[] = [];

  const sink = new Sink();
  const p = new Http1Parser(ParserKind.Request, sink);
  results.push(measure('single: 1 request per execute()', iterations, rounds, () => {
    for (let i = 0; i < iterations; i++) if (p.execute(one) !== ExecStatus.Ok) throw new Error(p.errorCode);
  }));

  const depth = 16;
  const pipelined = Buffer.from(REQUEST.repeat(depth), 'latin1');
  const batches = Math.ceil(iterations / depth);
  results.push(measure(`pipelined: ${depth} per execute()`, batches * depth, rounds, () => {
    for (let i = 0; i < batches; i++) if (p.execute(pipelined) !== ExecStatus.Ok) throw new Error(p.errorCode);
  }));

  const ps = new Sink();
  ps.pause = true;
  const pp = new Http1Parser(ParserKind.Request, ps);
  results.push(measure(`pipelined: ${depth} per chunk, pause+resume after each`, batches * depth, rounds, () => {
    for (let i = 0; i < batches; i++) {
      let buf = pipelined;
      while (buf.length > 0) {
        const st = pp.execute(buf);
        if (st === ExecStatus.Ok) break;
        if (st !== ExecStatus.Paused) throw new Error(pp.errorCode);
        buf = buf.subarray(pp.consumed);
        pp.resume();
      }
    }
  }));

  const headers = sink.headers;
  let total = 0;
  results.push(measure('encodeRequestHead (6 headers)', iterations, rounds, () => {
    for (let i = 0; i < iterations; i++) total += (encodeRequestHead('GET', sink.url, headers) as Buffer).length;
  }));
  if (total === 0) throw new Error('unreachable');

  results.push(measure('parse + encodeRequestHead of the parsed head', iterations, rounds, () => {
    for (let i = 0; i < iterations; i++) {
      p.execute(one);
      total += (encodeRequestHead('GET', sink.url, sink.headers) as Buffer).length;
    }
  }));
  p.destroy();
  pp.destroy();
  return results;
}

if (require.main === module) {
  for (const r of runParseBench()) {
    console.log(`${r.name.padEnd(52)} best ${(r.bestPerSec / 1e6).toFixed(3)} M/s   median ${(r.medianPerSec / 1e6).toFixed(3)} M/s`);
  }
}
