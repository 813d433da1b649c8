import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecStatus, Http1Parser, ParserKind, type Http1Handler } from '../../../src/codec/http1/parser';
import { b } from './helpers';
import { seededRandom as rng } from '../seeded-random';


const REQUESTS = [
  'GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /x HTTP/1.1\r\n\r\n',
  'PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: v\r\n\r\n',
  'GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x00',
  'CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n',
];
const RESPONSES = [
  'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: s\r\n\r\nok',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
  'HTTP/1.0 200 OK\r\n\r\nbody until eof',
];
const INTERESTING = [0x0d, 0x0a, 0x3a, 0x20, 0x09, 0x00, 0xff, 0x30, 0x31, 0x2c, 0x3b, 0x7f, 0x41, 0x7a];

function mutate(src: Buffer, rand: () => number): Buffer {
  let buf = Buffer.from(src);
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rand() * (buf.length + 1));
    const op = Math.floor(rand() * 6);
    const byte = rand() < 0.5 ? INTERESTING[Math.floor(rand() * INTERESTING.length)] : Math.floor(rand() * 256);
    if (op === 0 && at < buf.length) buf[at] = byte;
    else if (op === 1) buf = Buffer.concat([buf.subarray(0, at), Buffer.from([byte]), buf.subarray(at)]);
    else if (op === 2) buf = Buffer.concat([buf.subarray(0, at), buf.subarray(Math.min(buf.length, at + 1 + Math.floor(rand() * 8)))]);
    else if (op === 3) buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + 16), buf.subarray(at)]);
    else if (op === 4) buf = buf.subarray(0, at);
    else buf = Buffer.concat([buf, Buffer.from(src.subarray(0, at))]);
  }
  return buf;
}

test('2,000 random mutations of valid messages never throw from execute/finish', () => {
  const rand = rng(0xa77ac4e);
  const stats = [0, 0, 0, 0];
  for (let iter = 0; iter < 2000; iter++) {
    const response = iter % 3 === 2;
    const corpus = response ? RESPONSES : REQUESTS;
    const input = mutate(b(corpus[Math.floor(rand() * corpus.length)]), rand);
    let headersSeen = 0;
    const check = (headers: string[]): void => {
      headersSeen++;
      assert.equal(headers.length % 2, 0, `iteration ${iter}`);
      for (let i = 0; i < headers.length; i += 2) assert.equal(headers[i], headers[i].toLowerCase(), `iteration ${iter}`);
    };
    const pause = rand() < 0.5;
    const h: Http1Handler = {
      onRequestHead: (_m, url, _v, headers) => {
        assert.equal(typeof url, 'string');
        check(headers);
      },
      onResponseHead: (_s, _r, _v, headers) => {
        check(headers);
        return false;
      },
      onBody: (d) => assert.ok(d.length > 0, `iteration ${iter} ${JSON.stringify(input.toString("latin1"))} ${cuts}`),
      onMessageComplete: (t) => {
        if (t !== null) check(t);
        return pause;
      },
    };
    const p = new Http1Parser(response ? ParserKind.Response : ParserKind.Request, h, { maxHeaderBytes: 4096, maxHeaderCount: 8 });
    const cuts = [0, Math.floor(rand() * input.length), Math.floor(rand() * input.length), input.length].sort((x, y) => x - y);
    let last: ExecStatus = ExecStatus.Ok;
    outer: for (let c = 0; c + 1 < cuts.length; c++) {
      let chunk = input.subarray(cuts[c], cuts[c + 1]);
      for (let guard = 0; guard < 100; guard++) {
        last = p.execute(chunk);
        assert.ok(p.consumed >= 0 && p.consumed <= chunk.length, `iteration ${iter}: consumed ${p.consumed}`);
        if (last === ExecStatus.Paused) {
          chunk = chunk.subarray(p.consumed);
          p.resume();
          continue;
        }
        if (last !== ExecStatus.Ok) break outer;
        break;
      }
    }
    if (last === ExecStatus.Ok) last = p.finish();
    if (last === ExecStatus.Error) {
      assert.match(p.errorCode, /^(HPE_[A-Z0-9_]+|HEADERS_TOO_LARGE)$/, `iteration ${iter}: ${p.errorCode} ${p.errorReason} ${JSON.stringify(input.toString("latin1"))}`);
    }
    assert.ok(headersSeen >= 0);
    stats[last]++;
    p.destroy();
  }
  // the mutations exercise both accepting and rejecting paths
  assert.ok(stats[ExecStatus.Ok] > 100, `ok ${stats[0]}`);
  assert.ok(stats[ExecStatus.Error] > 100, `errors ${stats[3]}`);
});
