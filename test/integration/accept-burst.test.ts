/**
 * A burst of new connections is accepted in one socket event (libuv ≥ 1.45 accepts one per loop
 * iteration; attache drains the accept queue with the addon's accept4, as Envoy). Every
 * connection accepted that way is a full downstream connection: its remote address reaches the
 * header formatter, its request is proxied, keep-alive works.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { acceptFd } from '../../src/native';
import { parseResponses, startProxy, startUpstream, v3Config, writeConfig, type Proxy, type Upstream } from './harness';

let up: Upstream;
let proxy: Proxy;
const skip = acceptFd === undefined ? 'the native addon is not built (the batch accept needs it)' : false;

before(async () => {
  if (skip) return;
  up = await startUpstream('A', (req, res) => res.end(`from ${String(req.headers['x-client'])}`));
  const routes = `
- match: { prefix: "/" }
  route: { cluster: a }
  request_headers_to_add: [{ header: { key: x-client, value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" } }]`;
  proxy = await startProxy(['-c', writeConfig(v3Config({ clusters: { a: [up.port] }, routes }), 'burst.yaml'), '--concurrency', '1', '--component-log-level', 'listener:debug']);
});

after(async () => {
  if (skip) return;
  await proxy.stop();
  await up.close();
});

/** Opens `n` connections at once, then sends two requests on each (keep-alive). */
async function burst(n: number): Promise<string[]> {
  const socks = Array.from({ length: n }, () => net.connect(proxy.port, '127.0.0.1'));
  await Promise.all(socks.map((s) => once(s, 'connect')));
  const bodies = await Promise.all(
    socks.map(
      (s) =>
        new Promise<string>((resolve, reject) => {
          let buf = Buffer.alloc(0);
          s.on('data', (d: Buffer) => {
            buf = Buffer.concat([buf, d]);
            const rs = parseResponses(buf);
            if (rs.length === 2) {
              s.destroy();
              resolve(rs.map((r) => `${r.status} ${r.body.toString()}`).join('|'));
            }
          });
          s.on('error', reject);
          s.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
        }),
    ),
  );
  return bodies;
}

test('a burst of 200 connections: every one served, several accepted in one socket event', { skip }, async () => {
  let batched = false;
  for (let round = 0; round < 5 && !batched; round++) {
    const bodies = await burst(200);
    assert.equal(bodies.length, 200);
    for (const b of bodies) assert.equal(b, '200 from 127.0.0.1|200 from 127.0.0.1');
    batched = /accepted \d+ connections in one socket event/.test(proxy.output());
  }
  assert.ok(batched, `no batch accept seen in 5 bursts:\n${proxy.output().slice(-2000)}`);
});
