/**
 * Pipelined requests after a local reply: kept-alive local replies (404, direct_response) let the
 * next request through in order; a connection that is closing (400, 426, Connection: close)
 * parses nothing more, so no pipelined request behind it ever reaches an upstream.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rawRequest, startProxy, startUpstream, v3Config, writeConfig, type Proxy, type Upstream } from './harness';

let up: Upstream;
let proxy: Proxy;
before(async () => {
  up = await startUpstream('U');
  const routes = `
- match: { prefix: "/api" }
  route: { cluster: u }
- match: { prefix: "/direct" }
  direct_response: { status: 200, body: { inline_string: "direct" } }`;
  proxy = await startProxy(['-c', writeConfig(v3Config({ clusters: { u: [up.port] }, routes })), '--concurrency', '1']);
});
after(async () => {
  await proxy.stop();
  await up.close();
});

test('404 (no route) keeps the connection: the pipelined request is served, in order', async () => {
  const before = up.seen.length;
  const r = await rawRequest(proxy.port, 'GET /nomatch HTTP/1.1\r\nHost: x\r\n\r\nGET /api/next HTTP/1.1\r\nHost: x\r\n\r\n', { count: 2 });
  assert.deepEqual(r.responses.map((x) => x.status), [404, 200]);
  assert.equal(r.responses[1].body.toString(), 'U');
  assert.equal(up.seen.length, before + 1);
  assert.equal(r.closed, false);
});

test('direct_response then a pipelined request: both answered on the kept-alive connection', async () => {
  const r = await rawRequest(proxy.port, 'GET /direct HTTP/1.1\r\nHost: x\r\n\r\nGET /direct HTTP/1.1\r\nHost: x\r\n\r\n', { count: 2 });
  assert.deepEqual(r.responses.map((x) => x.body.toString()), ['direct', 'direct']);
});

const closing: Array<[string, string, number]> = [
  ['Connection: close', 'GET /nomatch HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404],
  ['no Host (400)', 'GET /api/x HTTP/1.1\r\n\r\n', 400],
  ['HTTP/1.0 (426)', 'GET /api/x HTTP/1.0\r\nHost: x\r\n\r\n', 426],
  ['two Hosts (400)', 'GET /api/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
];
for (const [name, first, status] of closing) {
  test(`${name}: answered, closed, and the pipelined request never reaches the upstream`, async () => {
    const before = up.seen.length;
    const r = await rawRequest(proxy.port, `${first}POST /api/after HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`, { count: 2, timeoutMs: 1000 });
    assert.equal(r.responses[0].status, status);
    assert.equal(r.responses.length, 1);
    assert.equal(r.closed, true);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(up.seen.length, before, 'nothing forwarded');
  });
}
