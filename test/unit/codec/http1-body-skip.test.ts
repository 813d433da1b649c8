/**
 * Content-Length body bytes after the head's chunk are not copied into wasm memory (parser.ts,
 * "Content-Length bodies"): llhttp consumes them by count and the body spans map back to the
 * caller's chunk. These tests feed bodies split over many chunks, with the next message's bytes in
 * the same chunk as the body's tail, and check every byte and message boundary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { bodyCopySkipped, ExecStatus, Http1Parser, ParserKind } from '../../../src/codec/http1/parser';
import { Recorder, feed, merged } from './helpers';

/** Splits `b` into chunks of the given sizes (cycled), like socket reads. */
function split(b: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0, i = 0; off < b.length; i++) {
    const n = Math.min(sizes[i % sizes.length], b.length - off);
    out.push(b.subarray(off, off + n));
    off += n;
  }
  return out;
}

test('the llhttp_t layout check passes with the shipped llhttp (the skip path is the one under test)', () => {
  assert.equal(bodyCopySkipped(), true);
});

test('a Content-Length request body over many chunks, then a pipelined request in the tail chunk: every byte and both heads exact', () => {
  const body = randomBytes(200_000);
  const wire = Buffer.concat([
    Buffer.from(`POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1'),
    body,
    Buffer.from('GET /next HTTP/1.1\r\nHost: b\r\n\r\n', 'latin1'),
  ]);
  for (const sizes of [[65536], [100, 7, 65536, 3], [1], [199_999, 1000]]) {
    if (sizes[0] === 1 && sizes.length === 1) continue; // one byte at a time: covered below on a small body
    const r = new Recorder();
    const p = new Http1Parser(ParserKind.Request, r);
    const res = feed(p, split(wire, sizes));
    assert.equal(res.status, ExecStatus.Ok, `chunks ${sizes}`);
    const ev = merged(r.events);
    assert.deepEqual(ev.map((e) => e.t), ['req', 'body', 'done', 'req', 'done'], `chunks ${sizes}`);
    assert.equal(ev[0].t === 'req' && ev[0].url, '/up');
    assert.ok(ev[1].t === 'body' && Buffer.from(ev[1].data, 'latin1').equals(body), `body bytes, chunks ${sizes}`);
    assert.equal(ev[3].t === 'req' && ev[3].url, '/next');
    assert.deepEqual(ev[3].t === 'req' && ev[3].headers, ['host', 'b']);
  }
});

test('one byte at a time and stale wasm memory: a small body and the next head still parse exactly', () => {
  const body = Buffer.from('0123456789abcdefghij', 'latin1');
  const wire = Buffer.concat([
    Buffer.from(`PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1'),
    body,
    Buffer.from(`PUT /y HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz`, 'latin1'),
  ]);
  const r = new Recorder();
  const p = new Http1Parser(ParserKind.Request, r);
  assert.equal(feed(p, split(wire, [1])).status, ExecStatus.Ok);
  const ev = merged(r.events);
  assert.deepEqual(ev.map((e) => (e.t === 'body' ? e.data : e.t === 'req' ? e.url : e.t)), ['/x', body.toString('latin1'), 'done', '/y', 'xyz', 'done']);
});

test('responses: a Content-Length body over chunks, then the next response; a chunked body is parsed as before', () => {
  const body = randomBytes(70_000);
  const chunkedBody = 'a'.repeat(70_000);
  const wire = Buffer.concat([
    Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1'),
    body,
    Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedBody.length.toString(16)}\r\n${chunkedBody}\r\n0\r\n\r\n`, 'latin1'),
    Buffer.from('HTTP/1.1 204 No Content\r\n\r\n', 'latin1'),
  ]);
  for (const sizes of [[65536], [4096, 13], [30_000]]) {
    const r = new Recorder();
    const p = new Http1Parser(ParserKind.Response, r);
    assert.equal(feed(p, split(wire, sizes)).status, ExecStatus.Ok, `chunks ${sizes}`);
    const ev = merged(r.events);
    assert.deepEqual(ev.map((e) => e.t), ['res', 'body', 'done', 'res', 'body', 'done', 'res', 'done'], `chunks ${sizes}`);
    assert.ok(ev[1].t === 'body' && Buffer.from(ev[1].data, 'latin1').equals(body), `CL body, chunks ${sizes}`);
    assert.ok(ev[4].t === 'body' && ev[4].data === chunkedBody, `chunked body, chunks ${sizes}`);
    assert.equal(ev[6].t === 'res' && ev[6].status, 204);
  }
});

test('a HEAD response with Content-Length has no body: the next response right after the head is parsed', () => {
  const r = new Recorder();
  const p = new Http1Parser(ParserKind.Response, r);
  p.expectNoBody = true;
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n';
  const chunks = split(Buffer.from(`${head}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok`, 'latin1'), [head.length, 5, 100]);
  const res = feed(p, [chunks[0]]);
  assert.equal(res.status, ExecStatus.Ok);
  p.expectNoBody = false;
  assert.equal(feed(p, chunks.slice(1)).status, ExecStatus.Ok);
  const ev = merged(r.events);
  assert.deepEqual(ev.map((e) => (e.t === 'body' ? e.data : e.t)), ['res', 'done', 'res', 'ok', 'done']);
});
