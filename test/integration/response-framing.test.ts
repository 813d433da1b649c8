/**
 * Response bytes as the client sees them, for each way an upstream response can arrive: head and
 * body in one segment, head alone then body, chunked with small and large chunks and trailers, an
 * empty chunked body, a HEAD response, a body over the copy limit. The upstream is a raw socket
 * server so each shape is exact; the proxy re-frames (content-length kept, chunked re-chunked).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { rawRequest, startProxy, v3Config, writeConfig, type Proxy } from './harness';

let upstream: net.Server;
let proxy: Proxy;
const big = Buffer.alloc(70_000, 'b');
const mid = Buffer.alloc(5000, 'm');

/** Writes `parts` with a pause between them, so each arrives in its own read. */
function sendParts(sock: net.Socket, parts: Array<string | Buffer>): void {
  let i = 0;
  const next = (): void => {
    if (i >= parts.length || sock.destroyed) return;
    sock.write(parts[i++]);
    setTimeout(next, 15);
  };
  next();
}

const shapes: Record<string, Array<string | Buffer>> = {
  '/one-segment': ['HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello'],
  '/head-then-body': ['HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n', 'hel', 'lo'],
  '/chunked-split': ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n', '1\r\na\r\n', `${mid.length.toString(16)}\r\n${mid.toString()}\r\n`, '0\r\nx-trailer: t1\r\n\r\n'],
  '/chunked-one-segment': [`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n${mid.length.toString(16)}\r\n${mid.toString()}\r\n0\r\n\r\n`],
  '/chunked-empty': ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n'],
  '/big-one-segment': [Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${big.length}\r\n\r\n`), big])],
  '/head': ['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n'],
};

before(async () => {
  upstream = net.createServer((sock) => {
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        const line = buf.slice(0, buf.indexOf('\r\n'));
        buf = buf.slice(end + 4);
        const path = line.split(' ')[1];
        sendParts(sock, shapes[path] ?? ['HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n']);
      }
    });
    sock.on('error', () => {});
  }).listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const port = (upstream.address() as net.AddressInfo).port;
  // Trailers are forwarded only when both codecs enable them (Envoy's enable_trailers, default false).
  const cfg = v3Config({ clusters: { raw: [port] }, hcmExtra: 'http_protocol_options: { enable_trailers: true }', clusterExtra: { raw: 'http_protocol_options: { enable_trailers: true }' } });
  proxy = await startProxy(['-c', writeConfig(cfg, 'framing.yaml'), '--concurrency', '1']);
});

after(async () => {
  await proxy.stop();
  upstream.close();
});

test('head and body in one upstream segment, and in three', async () => {
  for (const p of ['/one-segment', '/head-then-body']) {
    const r = await rawRequest(proxy.port, `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal(r.responses[0].status, 200, p);
    assert.equal(r.responses[0].headers['content-length'], '5', p);
    assert.equal(r.responses[0].body.toString(), 'hello', p);
  }
});

test('chunked responses are re-chunked exactly: small and large chunks, trailers, empty body', async () => {
  const split = await rawRequest(proxy.port, 'GET /chunked-split HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n');
  assert.equal(split.responses[0].headers['transfer-encoding'], 'chunked');
  assert.equal(split.responses[0].body.toString(), `a${mid.toString()}`);
  assert.match(split.responses[0].raw.toString('latin1'), /\r\n0\r\nx-trailer: t1\r\n\r\n$/);
  const one = await rawRequest(proxy.port, 'GET /chunked-one-segment HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(one.responses[0].body.toString(), `abc${mid.toString()}`);
  const empty = await rawRequest(proxy.port, 'GET /chunked-empty HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(empty.responses[0].status, 200);
  assert.equal(empty.responses[0].body.length, 0);
  assert.match(empty.responses[0].raw.toString('latin1'), /\r\n\r\n0\r\n\r\n$/);
});

test('a body larger than the copy limit in the same segment as its head', async () => {
  const r = await rawRequest(proxy.port, 'GET /big-one-segment HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(r.responses[0].body.length, big.length);
  assert.ok(r.responses[0].body.equals(big));
});

test('a HEAD response, then a pipelined GET on the same connection, in order', async () => {
  const r = await rawRequest(proxy.port, 'HEAD /head HTTP/1.1\r\nHost: x\r\n\r\nGET /one-segment HTTP/1.1\r\nHost: x\r\n\r\n', { count: 2 });
  // parseResponses cannot know a HEAD response has no body: read the raw bytes.
  const raw = r.raw.toString('latin1');
  const first = raw.indexOf('HTTP/1.1 200 OK');
  const second = raw.indexOf('HTTP/1.1 200 OK', first + 1);
  assert.ok(first === 0 && second > 0, raw);
  assert.match(raw.slice(0, second), /content-length: 10\r\n/);
  assert.ok(raw.slice(0, second).endsWith('\r\n\r\n'), 'HEAD response is a head only');
  assert.ok(raw.endsWith('\r\n\r\nhello'), raw.slice(second));
});

test('a HEAD response on a closing connection is written before the close', async () => {
  const r = await rawRequest(proxy.port, 'HEAD /head HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const raw = r.raw.toString('latin1');
  assert.ok(r.closed);
  assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(raw, /connection: close\r\n/);
  assert.ok(raw.endsWith('\r\n\r\n'));
});
