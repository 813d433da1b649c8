import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecStatus, ParserKind } from '../../../src/codec/http1/parser';
import { b, feed, make, merged } from './helpers';

test('status, reason, headers and Content-Length body', () => {
  const { p, r } = make(ParserKind.Response);
  assert.equal(p.execute(b('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: Test\r\n\r\nhello')), ExecStatus.Ok);
  assert.deepEqual(r.events, [
    { t: 'res', status: 200, reason: 'OK', minor: 1, headers: ['content-length', '5', 'server', 'Test'], keepAlive: true, upgrade: false },
    { t: 'body', data: 'hello' },
    { t: 'done', trailers: null },
  ]);
});

test('chunked response with trailers, split at every offset', () => {
  const text = 'HTTP/1.1 201 Created Now\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n6\r\npedia \r\n0\r\nGrpc-Status: 0\r\n\r\n';
  const whole = b(text);
  for (let cut = 0; cut <= whole.length; cut++) {
    const { p, r } = make(ParserKind.Response);
    assert.equal(feed(p, [whole.subarray(0, cut), whole.subarray(cut)]).status, ExecStatus.Ok);
    assert.deepEqual(merged(r.events), [
      { t: 'res', status: 201, reason: 'Created Now', minor: 1, headers: ['transfer-encoding', 'chunked'], keepAlive: true, upgrade: false },
      { t: 'body', data: 'Wikipedia ' },
      { t: 'done', trailers: ['grpc-status', '0'] },
    ], `cut ${cut}`);
  }
});

test('close-delimited body completes on finish(); cut-short CL body fails', () => {
  const { p, r } = make(ParserKind.Response);
  assert.equal(p.execute(b('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nsome ')), ExecStatus.Ok);
  assert.equal(p.execute(b('data')), ExecStatus.Ok);
  assert.equal(p.idle, false);
  assert.equal(r.events[0].t === 'res' && r.events[0].keepAlive, false);
  assert.equal(p.finish(), ExecStatus.Ok);
  assert.equal(p.idle, true);
  assert.deepEqual(merged(r.events).slice(1), [{ t: 'body', data: 'some data' }, { t: 'done', trailers: null }]);

  const { p: p2 } = make(ParserKind.Response);
  assert.equal(p2.execute(b('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')), ExecStatus.Ok);
  assert.equal(p2.finish(), ExecStatus.Error);
  assert.equal(p2.errorCode, 'HPE_INVALID_EOF_STATE');

  const { p: p3 } = make(ParserKind.Response);
  assert.equal(p3.finish(), ExecStatus.Ok); // idle connection closed: fine
});

test('HEAD: expectNoBody skips the announced body; next response parses', () => {
  const { p, r } = make(ParserKind.Response);
  p.expectNoBody = true;
  const buf = b('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n');
  assert.equal(p.execute(buf), ExecStatus.Ok);
  assert.deepEqual(r.events.map((e) => e.t), ['res', 'done']);
  p.expectNoBody = false;
  assert.equal(p.execute(b('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')), ExecStatus.Ok);
  assert.deepEqual(merged(r.events).map((e) => e.t), ['res', 'done', 'res', 'body', 'done']);

  // HEAD response without a length stays keep-alive (no EOF-delimited body)
  const { p: p2, r: r2 } = make(ParserKind.Response);
  p2.expectNoBody = true;
  assert.equal(p2.execute(b('HTTP/1.1 200 OK\r\n\r\n')), ExecStatus.Ok);
  assert.deepEqual(r2.events.map((e) => (e.t === 'res' ? e.keepAlive : e.t)), [true, 'done']);

  // the handler can say "no body" too
  const { p: p3, r: r3 } = make(ParserKind.Response);
  r3.noBody = true;
  assert.equal(p3.execute(b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')), ExecStatus.Ok);
  assert.deepEqual(r3.events.map((e) => e.t), ['res', 'done']);
});

test('204 and 304 have no body even with Content-Length', () => {
  for (const head of ['HTTP/1.1 204 No Content\r\n\r\n', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: "x"\r\n\r\n']) {
    const { p, r } = make(ParserKind.Response);
    assert.equal(p.execute(b(head + 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz')), ExecStatus.Ok);
    assert.deepEqual(merged(r.events).map((e) => (e.t === 'res' ? e.status : e.t === 'body' ? e.data : e.t)), [Number(head.slice(9, 12)), 'done', 200, 'z', 'done']);
  }
});

test('100 Continue followed by 200', () => {
  const { p, r } = make(ParserKind.Response);
  assert.equal(p.execute(b('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi')), ExecStatus.Ok);
  assert.deepEqual(merged(r.events).map((e) => (e.t === 'res' ? `${e.status} ${e.reason}` : e.t === 'body' ? e.data : e.t)), ['100 Continue', 'done', '200 OK', 'hi', 'done']);
});

test('101 Switching Protocols → Upgrade with consumed = head length', () => {
  const head = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
  const { p, r } = make(ParserKind.Response);
  assert.equal(p.execute(b(head + '\x81\x00')), ExecStatus.Upgrade);
  assert.equal(p.consumed, head.length);
  assert.equal(r.events[0].t === 'res' && r.events[0].upgrade, true);
});

test('HTTP/1.0 response, invalid status and hostile framing', () => {
  const { p, r } = make(ParserKind.Response);
  assert.equal(p.execute(b('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')), ExecStatus.Ok);
  assert.equal(r.events[0].t === 'res' && r.events[0].minor, 0);
  assert.equal(r.events[0].t === 'res' && r.events[0].keepAlive, false);

  const cases: [string, string][] = [
    ['HTTP/1.1 2000 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/2.0 200 OK\r\n\r\n', 'HPE_INVALID_VERSION'],
  ];
  for (const [text, code] of cases) {
    const { p: q } = make(ParserKind.Response);
    assert.equal(q.execute(b(text)), ExecStatus.Error, text);
    assert.equal(q.errorCode, code, text);
  }
});
