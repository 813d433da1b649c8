import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHUNK_END, LAST_CHUNK, chunkHeader, encodeRequestHead, encodeResponseHead, reasonPhrase, REASON_PHRASES } from '../../../src/codec/http1/encoder';
import { ExecStatus, ParserKind } from '../../../src/codec/http1/parser';
import { make } from './helpers';
import { STATUS_CODES } from 'node:http';

/** The encoded head as a latin1 string (null stays null). */
const str = (b: Buffer | null): string | null => (b === null ? null : b.toString('latin1'));

test('request head: exact bytes, names as given, latin1 values round-trip through the parser', () => {
  const head = str(encodeRequestHead('GET', '/a?b=c', ['Host', 'example.com', 'x-bin', '\xff\xfe', 'x-empty', '']));
  assert.equal(head, 'GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nx-bin: \xff\xfe\r\nx-empty: \r\n\r\n');
  const { p, r } = make(ParserKind.Request);
  assert.equal(p.execute(Buffer.from(head as string, 'latin1')), ExecStatus.Ok);
  const e = r.events[0];
  assert.ok(e.t === 'req');
  assert.deepEqual(e.headers, ['host', 'example.com', 'x-bin', '\xff\xfe', 'x-empty', '']);
  assert.equal(str(encodeRequestHead('OPTIONS', '*', [])), 'OPTIONS * HTTP/1.1\r\n\r\n');
});

test('CR, LF or NUL in a value or the path → null (rejected, like Envoy)', () => {
  assert.equal(encodeRequestHead('GET', '/', ['a', 'b\r\nInjected: 1']), null);
  assert.equal(encodeRequestHead('GET', '/', ['a', 'b\nc']), null);
  assert.equal(encodeRequestHead('GET', '/', ['a', 'b\0c']), null);
  assert.equal(encodeRequestHead('GET', '/x HTTP/1.1\r\nHost: evil\r\n\r\nGET /', []), null);
  assert.equal(encodeResponseHead(200, undefined, ['set-cookie', 'a\rb']), null);
  assert.equal(encodeResponseHead(200, 'OK\r\nX: y', []), null);
});

test('response head: reason from the status table, custom reason, unknown code', () => {
  assert.equal(str(encodeResponseHead(200, undefined, ['content-length', '0'])), 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  assert.equal(str(encodeResponseHead(503, undefined, [])), 'HTTP/1.1 503 Service Unavailable\r\n\r\n');
  assert.equal(str(encodeResponseHead(404, 'Nope', [])), 'HTTP/1.1 404 Nope\r\n\r\n');
  assert.equal(str(encodeResponseHead(599, undefined, [])), 'HTTP/1.1 599 Unknown\r\n\r\n');
  assert.equal(reasonPhrase(431), 'Request Header Fields Too Large');
});

test('chunk framing', () => {
  assert.equal(chunkHeader(1), '1\r\n');
  assert.equal(chunkHeader(255), 'ff\r\n');
  assert.equal(chunkHeader(65536), '10000\r\n');
  assert.equal(CHUNK_END, '\r\n');
  assert.equal(LAST_CHUNK, '0\r\n\r\n');
  const { p, r } = make(ParserKind.Request);
  const wire = str(encodeRequestHead('POST', '/', ['transfer-encoding', 'chunked'])) + chunkHeader(3) + 'abc' + CHUNK_END + LAST_CHUNK;
  assert.equal(p.execute(Buffer.from(wire, 'latin1')), ExecStatus.Ok);
  assert.deepEqual(r.events.map((e) => (e.t === 'body' ? e.data : e.t)), ['req', 'abc', 'done']);
});

test("the reason-phrase table is Node's http.STATUS_CODES", () => {
  const node: Record<number, string> = {};
  for (const [k, v] of Object.entries(STATUS_CODES)) node[Number(k)] = v as string;
  assert.deepEqual({ ...REASON_PHRASES }, node);
  assert.equal(reasonPhrase(299), 'Unknown');
});

test('request head: host first, extra headers after the rest; a CR/LF/NUL in host or extra → null', () => {
  assert.equal(
    str(encodeRequestHead('POST', '/p', ['a', '1'], 'up.example:8080', ['transfer-encoding', 'chunked'])),
    'POST /p HTTP/1.1\r\nhost: up.example:8080\r\na: 1\r\ntransfer-encoding: chunked\r\n\r\n',
  );
  assert.equal(encodeRequestHead('GET', '/', [], 'evil\r\nx: y'), null);
  assert.equal(encodeRequestHead('GET', '/', [], 'h', ['upgrade', 'websocket\n']), null);
});

test('response head with tail bytes: the head fills the front of the Buffer, the tail is left for the body', () => {
  const body = Buffer.from('hello world!\n');
  const buf = encodeResponseHead(200, undefined, ['content-length', '13'], body.length)!;
  body.copy(buf, buf.length - body.length);
  assert.equal(buf.toString('latin1'), 'HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\r\nhello world!\n');
  assert.equal(str(encodeResponseHead(200, 'Fine \xe9', ['x', '\xff'])), 'HTTP/1.1 200 Fine \xe9\r\nx: \xff\r\n\r\n');
});

test('a char above 0xFF in a name, value, reason, method or path → null (its low byte could be CR or LF)', () => {
  assert.equal(encodeRequestHead('GET', '/', ['a', 'ok\u010d\u010ax: y']), null);
  assert.equal(encodeRequestHead('GET', '/', ['a\u010a', 'v']), null);
  assert.equal(encodeRequestHead('GET', '/\u0100', []), null);
  assert.equal(encodeRequestHead('G\u010aT', '/', []), null);
  assert.equal(encodeResponseHead(200, undefined, ['x', 'euro\u20ac']), null);
  assert.equal(encodeResponseHead(200, 'OK\u010d\u010a', []), null);
});
