import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecStatus, ParserKind, type Http1Handler, Http1Parser } from '../../../src/codec/http1/parser';
import { b, feed, make, merged, Recorder, type Ev } from './helpers';

const GET =
  'GET /path/to?q=1&r=%20x HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n' +
  'X-Custom-HEADER: Some Value\r\nX-Empty:\r\nX-Ows: \t padded \t \r\n\r\n';

test('GET with headers: method, url, lowercased names, OWS-trimmed values', () => {
  const { p, r } = make(ParserKind.Request);
  assert.equal(p.idle, true);
  assert.equal(p.execute(b(GET)), ExecStatus.Ok);
  assert.equal(p.consumed, GET.length);
  assert.deepEqual(r.events, [
    {
      t: 'req', method: 'GET', url: '/path/to?q=1&r=%20x', minor: 1, keepAlive: true, upgrade: false,
      headers: ['host', 'example.com', 'user-agent', 'curl/8.0', 'accept', '*/*', 'x-custom-header', 'Some Value', 'x-empty', '', 'x-ows', 'padded'],
    },
    { t: 'done', trailers: null },
  ]);
  assert.equal(p.idle, true);
});

test('HTTP/1.0 and Connection: close give keepAlive false; 1.0 keep-alive gives true', () => {
  const heads: Ev[] = [];
  for (const text of ['GET / HTTP/1.0\r\n\r\n', 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n', 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n']) {
    const { p, r } = make(ParserKind.Request);
    assert.equal(p.execute(b(text)), ExecStatus.Ok);
    heads.push(r.events[0]);
  }
  assert.deepEqual(heads.map((e) => (e.t === 'req' ? [e.minor, e.keepAlive] : null)), [[0, false], [1, false], [0, true]]);
});

test('data after a Connection: close request is rejected (HPE_CLOSED_CONNECTION)', () => {
  const { p, r } = make(ParserKind.Request);
  assert.equal(p.execute(b('GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n')), ExecStatus.Error);
  assert.equal(p.errorCode, 'HPE_CLOSED_CONNECTION');
  assert.deepEqual(r.events.map((e) => (e.t === 'req' ? e.url : e.t)), ['/', 'done']);
});

test('pipelined 3 requests in one chunk: pause after each, consumed offsets exact', () => {
  const reqs = ['GET /1 HTTP/1.1\r\nHost: a\r\n\r\n', 'POST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc', 'DELETE /3 HTTP/1.1\r\n\r\n'];
  const { p, r } = make(ParserKind.Request);
  r.pause = true;
  let buf = b(reqs.join(''));
  const consumed: number[] = [];
  for (let i = 0; i < 3; i++) {
    assert.equal(p.execute(buf), ExecStatus.Paused);
    consumed.push(p.consumed);
    assert.equal(p.idle, true);
    // executing again while paused consumes nothing
    assert.equal(p.execute(buf.subarray(p.consumed)), ExecStatus.Paused);
    assert.equal(p.consumed, 0);
    buf = buf.subarray(consumed[i]);
    p.resume();
  }
  assert.deepEqual(consumed, reqs.map((s) => s.length));
  assert.equal(buf.length, 0);
  const summary = r.events.map((e) => (e.t === 'req' ? `${e.method} ${e.url}` : e.t === 'body' ? e.data : e.t));
  assert.deepEqual(summary, ['GET /1', 'done', 'POST /2', 'abc', 'done', 'DELETE /3', 'done']);
});

/** Requests for the split-everywhere test. */
const CORPUS = [
  GET,
  'POST /upload HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world',
  'PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\nX-Bin: a\xff\xfe\x80z\r\n\r\n' +
    '5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t1\r\nChecksum: abc  \r\n\r\n',
  'GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: b\r\nCookie: a=b; c=d\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
];

for (const [i, text] of CORPUS.entries()) {
  test(`split at every offset gives identical events (corpus #${i})`, () => {
    const whole = b(text);
    const ref = make(ParserKind.Request);
    assert.equal(ref.p.execute(whole), ExecStatus.Ok);
    const expected = merged(ref.r.events);
    assert.ok(expected.some((e) => e.t === 'done'));
    for (let cut = 0; cut <= whole.length; cut++) {
      for (const pause of [false, true]) {
        const { p, r } = make(ParserKind.Request);
        r.pause = pause;
        const res = feed(p, [whole.subarray(0, cut), whole.subarray(cut)]);
        assert.equal(res.status, ExecStatus.Ok, `cut ${cut}: ${p.errorCode} ${p.errorReason}`);
        assert.deepEqual(merged(r.events), expected, `cut at ${cut}`);
        p.destroy();
      }
    }
  });
}

test('one byte at a time gives identical events', () => {
  for (const text of CORPUS) {
    const whole = b(text);
    const ref = make(ParserKind.Request);
    ref.p.execute(whole);
    const { p, r } = make(ParserKind.Request);
    const chunks: Buffer[] = [];
    for (let i = 0; i < whole.length; i++) chunks.push(whole.subarray(i, i + 1));
    assert.equal(feed(p, chunks).status, ExecStatus.Ok);
    assert.deepEqual(merged(r.events), merged(ref.r.events));
  }
});

test('chunked body with trailers', () => {
  const { p, r } = make(ParserKind.Request);
  assert.equal(p.execute(b(CORPUS[2])), ExecStatus.Ok);
  assert.deepEqual(merged(r.events).slice(1), [
    { t: 'body', data: 'hello world' },
    { t: 'done', trailers: ['x-trailer', 't1', 'checksum', 'abc'] },
  ]);
  const head = r.events[0];
  assert.ok(head.t === 'req');
  assert.deepEqual(head.headers, ['transfer-encoding', 'chunked', 'x-bin', 'a\xff\xfe\x80z']);
});

test('Content-Length body in many pieces: zero-copy slices of each chunk', () => {
  const body = 'x'.repeat(1000);
  const { p } = make(ParserKind.Request);
  const slices: Buffer[] = [];
  const chunks: Buffer[] = [];
  const handler: Http1Handler = {
    onRequestHead() {},
    onResponseHead: () => false,
    onBody: (d) => void slices.push(d),
    onMessageComplete: () => false,
  };
  const p2 = new Http1Parser(ParserKind.Request, handler);
  chunks.push(b(`POST / HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n`));
  for (let i = 0; i < body.length; i += 7) chunks.push(b(body.slice(i, i + 7)));
  for (const c of chunks) assert.equal(p2.execute(c), ExecStatus.Ok);
  assert.equal(Buffer.concat(slices).toString(), body);
  assert.equal(slices.length, Math.ceil(body.length / 7));
  // each slice shares memory with the chunk it came from (no copy)
  assert.equal(slices[0].buffer, chunks[1].buffer);
  assert.equal(slices[0].byteOffset, chunks[1].byteOffset);
  assert.equal(p2.idle, true);
  p.destroy();
});

test('0xFF and other obs-text bytes in a header value survive as latin1', () => {
  const { p, r } = make(ParserKind.Request);
  assert.equal(p.execute(b('GET / HTTP/1.1\r\nX-Bytes: \xff\xfe\xa0\x80 end\r\n\r\n')), ExecStatus.Ok);
  const e = r.events[0];
  assert.ok(e.t === 'req');
  assert.equal(e.headers[1], '\xff\xfe\xa0\x80 end');
  assert.deepEqual(Buffer.from(e.headers[1], 'latin1'), Buffer.from([0xff, 0xfe, 0xa0, 0x80, 0x20, 0x65, 0x6e, 0x64]));
});

test('WebSocket upgrade: Upgrade status, consumed = head length, tunnel bytes untouched', () => {
  const head = 'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n';
  const whole = b(head + '\x81\x05hello');
  for (let cut = 0; cut <= whole.length; cut++) {
    const { p, r } = make(ParserKind.Request);
    const res = feed(p, [whole.subarray(0, cut), whole.subarray(cut)]);
    assert.equal(res.status, ExecStatus.Upgrade, `cut ${cut}`);
    assert.equal(res.offset, head.length, `cut ${cut}`);
    const e = r.events[0];
    assert.ok(e.t === 'req' && e.upgrade === true);
    assert.deepEqual(r.events.slice(1), [{ t: 'done', trailers: null }]);
    assert.equal(p.execute(b('more')), ExecStatus.Upgrade);
    assert.equal(p.consumed, 0);
  }
});

test('CONNECT: Upgrade status with consumed = head length', () => {
  const head = 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n';
  const { p, r } = make(ParserKind.Request);
  assert.equal(p.execute(b(head + '\x16\x03\x01')), ExecStatus.Upgrade);
  assert.equal(p.consumed, head.length);
  const e = r.events[0];
  assert.ok(e.t === 'req');
  assert.deepEqual([e.method, e.url, e.upgrade], ['CONNECT', 'example.com:443', true]);
});

test('resume() after Upgrade continues parsing as HTTP (upgrade not accepted)', () => {
  const head = 'GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n';
  const { p, r } = make(ParserKind.Request);
  const buf = b(head + 'GET /next HTTP/1.1\r\n\r\n');
  assert.equal(p.execute(buf), ExecStatus.Upgrade);
  p.resume();
  assert.equal(p.execute(buf.subarray(p.consumed)), ExecStatus.Ok);
  assert.deepEqual(r.events.filter((e) => e.t === 'req').map((e) => (e.t === 'req' ? e.url : '')), ['/ws', '/next']);
});

test('header limits: 70 KiB of headers and 101 headers give HEADERS_TOO_LARGE', () => {
  let many = 'GET / HTTP/1.1\r\n';
  for (let i = 0; i < 70; i++) many += `X-H${i}: ${'v'.repeat(1024)}\r\n`;
  const { p } = make(ParserKind.Request);
  assert.equal(p.execute(b(many + '\r\n')), ExecStatus.Error);
  assert.equal(p.errorCode, 'HEADERS_TOO_LARGE');

  // the same, fed 100 bytes at a time (the limit holds across chunks)
  const { p: p1 } = make(ParserKind.Request);
  const whole = b(many + '\r\n');
  const chunks: Buffer[] = [];
  for (let i = 0; i < whole.length; i += 100) chunks.push(whole.subarray(i, i + 100));
  assert.equal(feed(p1, chunks).status, ExecStatus.Error);
  assert.equal(p1.errorCode, 'HEADERS_TOO_LARGE');

  const { p: p2 } = make(ParserKind.Request);
  assert.equal(p2.execute(b(`GET /${'a'.repeat(70 * 1024)} HTTP/1.1\r\n\r\n`)), ExecStatus.Error);
  assert.equal(p2.errorCode, 'HEADERS_TOO_LARGE');

  let count = 'GET / HTTP/1.1\r\n';
  for (let i = 0; i < 101; i++) count += `x-h${i}: v\r\n`;
  const { p: p3 } = make(ParserKind.Request);
  assert.equal(p3.execute(b(count + '\r\n')), ExecStatus.Error);
  assert.equal(p3.errorCode, 'HEADERS_TOO_LARGE');

  // exactly 100 headers is fine; a custom limit applies
  const ok = count.slice(0, count.lastIndexOf('x-h100'));
  const { p: p4, r: r4 } = make(ParserKind.Request);
  assert.equal(p4.execute(b(ok + '\r\n')), ExecStatus.Ok);
  assert.equal((r4.events[0] as Extract<Ev, { t: 'req' }>).headers.length, 200);
  const { p: p5 } = make(ParserKind.Request, { maxHeaderCount: 2, maxHeaderBytes: 100 });
  assert.equal(p5.execute(b('GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n')), ExecStatus.Error);
  assert.equal(p5.errorCode, 'HEADERS_TOO_LARGE');
});

/** Hostile requests and the llhttp error code each must produce (no lenient flags). */
const HOSTILE: [string, string, string][] = [
  ['CL + TE', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING'],
  ['TE + CL', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n0\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
  ['two different CLs', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
  ['Content-Length: 1 2', 'POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\nab', 'HPE_INVALID_CONTENT_LENGTH'],
  ['negative CL', 'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
  ['bad chunk size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['chunk size overflow', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n', 'HPE_INVALID_CHUNK_SIZE'],
  ['TE not ending in chunked', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING'],
  ['obs-fold', 'GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
  ['space before colon', 'GET / HTTP/1.1\r\nA : b\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
  ['NUL in header value', 'GET / HTTP/1.1\r\nA: b\0c\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
  ['bare CR in header value', 'GET / HTTP/1.1\r\nA: b\rc\r\n\r\n', 'HPE_LF_EXPECTED'],
  ['bare LF after request line', 'GET / HTTP/1.1\nA: b\r\n\r\n', 'HPE_INVALID_VERSION'],
  ['bare LF after header value', 'GET / HTTP/1.1\r\nA: b\n\r\n', 'HPE_CR_EXPECTED'],
  ['invalid method', 'G@T / HTTP/1.1\r\n\r\n', 'HPE_INVALID_METHOD'],
  ['0xFF in URL', 'GET /\xff HTTP/1.1\r\n\r\n', 'HPE_INVALID_URL'],
  ['HTTP/0.9', 'GET / HTTP/0.9\r\n\r\n', 'HPE_INVALID_VERSION'],
  ['HTTP/1.7', 'GET / HTTP/1.7\r\n\r\n', 'HPE_INVALID_VERSION'],
  ['h2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'HPE_PAUSED_H2_UPGRADE'],
];

for (const [name, text, code] of HOSTILE) {
  test(`hostile request rejected: ${name} → ${code}`, () => {
    const { p, r } = make(ParserKind.Request);
    assert.equal(p.execute(b(text)), ExecStatus.Error);
    assert.equal(p.errorCode, code, p.errorReason);
    assert.ok(p.errorReason.length > 0);
    assert.equal(r.events.some((e) => e.t === 'done'), false);
    // errors are sticky until reset()
    assert.equal(p.execute(b('GET / HTTP/1.1\r\n\r\n')), ExecStatus.Error);
    p.reset();
    assert.equal(p.execute(b('GET /ok HTTP/1.1\r\n\r\n')), ExecStatus.Ok);
  });
}

test('a handler that throws → HANDLER_ERROR; parser usable after reset()', () => {
  for (const where of ['head', 'body', 'complete'] as const) {
    const r = new Recorder();
    let armed = true;
    const h: Http1Handler = {
      onRequestHead: (...a) => {
        if (armed && where === 'head') throw new Error('boom head');
        r.onRequestHead(...a);
      },
      onResponseHead: () => false,
      onBody: (d) => {
        if (armed && where === 'body') throw new Error('boom body');
        r.onBody(d);
      },
      onMessageComplete: (t) => {
        if (armed && where === 'complete') throw new Error('boom complete');
        return r.onMessageComplete(t);
      },
    };
    const p = new Http1Parser(ParserKind.Request, h);
    const req = b('POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi');
    assert.equal(p.execute(req), ExecStatus.Error);
    assert.equal(p.errorCode, 'HANDLER_ERROR');
    assert.equal(p.errorReason, `boom ${where}`);
    assert.ok(p.handlerError instanceof Error);
    armed = false;
    r.events.length = 0;
    p.reset();
    assert.equal(p.errorCode, '');
    assert.equal(p.execute(req), ExecStatus.Ok);
    assert.deepEqual(merged(r.events).map((e) => e.t), ['req', 'body', 'done']);
    p.destroy();
    assert.equal(p.execute(req), ExecStatus.Error);
  }
});

test('another parser may run from inside a handler (nested execute)', () => {
  const inner = make(ParserKind.Request);
  const outer = new Recorder();
  const h: Http1Handler = {
    onRequestHead: (...a) => {
      outer.onRequestHead(...a);
      assert.equal(inner.p.execute(b('PUT /inner HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz')), ExecStatus.Ok);
    },
    onResponseHead: () => false,
    onBody: (d) => outer.onBody(d),
    onMessageComplete: (t) => outer.onMessageComplete(t),
  };
  const p = new Http1Parser(ParserKind.Request, h);
  assert.equal(p.execute(b('POST /outer HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde')), ExecStatus.Ok);
  assert.deepEqual(merged(outer.events).map((e) => (e.t === 'req' ? e.url : e.t === 'body' ? e.data : e.t)), ['/outer', 'abcde', 'done']);
  assert.deepEqual(merged(inner.r.events).map((e) => (e.t === 'req' ? e.url : e.t === 'body' ? e.data : e.t)), ['/inner', 'xyz', 'done']);
});

test('many headers (more than the span record buffer) come out intact, in order', () => {
  let text = 'GET /many HTTP/1.1\r\n';
  const expected: string[] = [];
  for (let i = 0; i < 250; i++) {
    text += `X-Header-${i}: value-${i}  \r\n`;
    expected.push(`x-header-${i}`, `value-${i}`);
  }
  const whole = b(text + '\r\n');
  for (const cut of [0, 37, 1000, 4567, whole.length - 3]) {
    const { p, r } = make(ParserKind.Request, { maxHeaderCount: 300 });
    assert.equal(feed(p, [whole.subarray(0, cut), whole.subarray(cut)]).status, ExecStatus.Ok);
    const e = r.events[0];
    assert.ok(e.t === 'req');
    assert.equal(e.url, '/many');
    assert.deepEqual(e.headers, expected);
  }
});

test('trailers are limited too: 101 trailers → HEADERS_TOO_LARGE', () => {
  let text = 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n';
  for (let i = 0; i < 101; i++) text += `t${i}: v\r\n`;
  const { p, r } = make(ParserKind.Request);
  assert.equal(p.execute(b(text + '\r\n')), ExecStatus.Error);
  assert.equal(p.errorCode, 'HEADERS_TOO_LARGE');
  assert.deepEqual(r.events.map((e) => e.t), ['req', 'body']);
});

test('destroy() or reset() from inside a handler stops parsing safely', () => {
  const two = b('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n');
  const urls: string[] = [];
  let action: 'destroy' | 'reset' = 'destroy';
  const h: Http1Handler = {
    onRequestHead: (_m, url) => void urls.push(url),
    onResponseHead: () => false,
    onBody: () => {},
    onMessageComplete: () => {
      if (action === 'destroy') p.destroy();
      else p.reset();
      return false;
    },
  };
  let p = new Http1Parser(ParserKind.Request, h);
  assert.equal(p.execute(two), ExecStatus.Error);
  assert.equal(p.errorCode, 'DESTROYED');
  assert.deepEqual(urls, ['/1']);
  assert.equal(p.execute(two), ExecStatus.Error);

  action = 'reset';
  urls.length = 0;
  p = new Http1Parser(ParserKind.Request, h);
  assert.equal(p.execute(two), ExecStatus.Ok);
  assert.deepEqual(urls, ['/1']);
  assert.equal(p.idle, true);
  assert.equal(p.execute(b('GET /3 HTTP/1.1\r\n\r\n')), ExecStatus.Ok);
  assert.deepEqual(urls, ['/1', '/3']);
});

test('Host on a keep-alive connection: a repeated Host is the same string, a changed one (same length, split, padded) is the new value', () => {
  const { p, r } = make(ParserKind.Request);
  const hosts: string[] = [];
  const send = (text: string): void => {
    assert.equal(feed(p, [b(text)]).status, ExecStatus.Ok);
    const e = r.events.filter((x) => x.t === 'req').pop();
    assert.ok(e !== undefined && e.t === 'req');
    hosts.push(e.headers[e.headers.indexOf('host') + 1]);
  };
  send('GET / HTTP/1.1\r\nHost: svc-a.local:8080\r\n\r\n');
  send('GET / HTTP/1.1\r\nHost: svc-a.local:8080\r\n\r\n');
  send('GET / HTTP/1.1\r\nHost: svc-b.local:8080\r\n\r\n'); // same length, one byte differs
  send('GET / HTTP/1.1\r\nHost: svc-b.local:8080  \r\n\r\n'); // trailing OWS trimmed
  assert.deepEqual(hosts, ['svc-a.local:8080', 'svc-a.local:8080', 'svc-b.local:8080', 'svc-b.local:8080']);
  // a Host cut by a chunk boundary is joined, whatever the cached value
  const text = 'GET / HTTP/1.1\r\nHost: svc-a.local:8080\r\n\r\n';
  const cut = text.indexOf('a.local');
  assert.equal(feed(p, [b(text.slice(0, cut)), b(text.slice(cut))]).status, ExecStatus.Ok);
  const last = r.events.filter((x) => x.t === 'req').pop();
  assert.ok(last !== undefined && last.t === 'req');
  assert.deepEqual(last.headers, ['host', 'svc-a.local:8080']);
});
