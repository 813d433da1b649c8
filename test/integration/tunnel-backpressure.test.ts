/**
 * Backpressure through an upgrade tunnel (WebSocket and any upgrade_configs type), as for HTTP
 * bodies: a peer that stops reading pauses the other side instead of making attache buffer the
 * stream (Envoy: the connection's write buffer over its high watermark readDisables the other
 * side). Measured from outside: how many bytes the sender manages to hand over while the receiver
 * reads nothing. Kernel buffers on loopback hold a few MiB per socket; without backpressure the
 * sender pushes hundreds of MiB in the same time and attache's memory grows with it.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { httpGet, startProxy, v3Config, waitFor, writeConfig, type Proxy } from './harness';

/** What the upstream does after answering 101: flood the client, or never read what comes. */
let mode: 'flood' | 'sink' = 'flood';
let upstreamWrote = 0;
let upstream: net.Server;
let proxy: Proxy;
const sockets = new Set<net.Socket>();

before(async () => {
  upstream = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    let head = '';
    const onHead = (d: Buffer): void => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onHead);
      s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      if (mode === 'sink') {
        s.pause(); // never reads the tunnel bytes
        return;
      }
      const block = Buffer.alloc(1 << 20, 0x61);
      const pump = (): void => {
        while (!s.destroyed) {
          upstreamWrote += block.length;
          if (!s.write(block)) {
            s.once('drain', pump);
            return;
          }
        }
      };
      pump();
    };
    s.on('data', onHead);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const port = (upstream.address() as net.AddressInfo).port;
  proxy = await startProxy(['-c', writeConfig(v3Config({
    clusters: { ws: [port] },
    routes: '- match: { prefix: "/" }\n  route: { cluster: ws, upgrade_configs: [{ upgrade_type: websocket }] }',
  }), 'tunnel-backpressure.yaml'), '--concurrency', '1', '--drain-time-s', '1']);
});

after(async () => {
  for (const s of sockets) s.destroy();
  upstream.close();
  await proxy.stop();
});

/** Opens a tunnel through attache; resolves once the 101 has arrived. */
async function openTunnel(): Promise<net.Socket> {
  const c = net.connect(proxy.port, '127.0.0.1');
  await once(c, 'connect');
  c.write('GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  const [first] = (await once(c, 'data')) as [Buffer];
  assert.match(first.toString('latin1'), /^HTTP\/1\.1 101 /);
  return c;
}

test('a client that stops reading a tunnel pauses the upstream: it cannot push more than a few MiB', async () => {
  mode = 'flood';
  upstreamWrote = 0;
  const c = await openTunnel();
  c.pause(); // reads nothing more
  await new Promise((r) => setTimeout(r, 1500));
  const wrote = upstreamWrote;
  assert.ok(wrote < 48 * 1024 * 1024, `the upstream handed over ${(wrote / 1048576).toFixed(0)} MiB to a tunnel whose client reads nothing`);
  // Resuming the client lets the stream go on.
  let got = 0;
  c.on('data', (d: Buffer) => { got += d.length; });
  c.resume();
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(upstreamWrote > wrote && got > 0, 'the stream went on after the client read again');
  c.destroy();
});

test('an upstream that stops reading a tunnel pauses the client: it cannot push more than a few MiB', async () => {
  mode = 'sink';
  const c = await openTunnel();
  const block = Buffer.alloc(1 << 20, 0x62);
  let sent = 0;
  let blocked = false;
  const deadline = Date.now() + 1500;
  while (Date.now() < deadline) {
    sent += block.length;
    if (!c.write(block)) {
      // Wait for the socket to drain, or for the time to run out (it stays blocked when paused).
      blocked = true;
      const drained = await Promise.race([once(c, 'drain').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, deadline - Date.now())))]);
      if (!drained) break;
    }
  }
  assert.ok(blocked, 'the client saw backpressure');
  const flushed = sent - c.writableLength;
  assert.ok(flushed < 48 * 1024 * 1024, `the client handed over ${(flushed / 1048576).toFixed(0)} MiB to a tunnel whose upstream reads nothing`);
  // Both ends go away: attache closes the tunnel's two connections.
  c.destroy();
  for (const s of sockets) s.destroy();
  const active = async (): Promise<string> => (await httpGet(proxy.adminPort, '/stats?filter=^(http\\.ingress_http\\.downstream_cx_active|cluster\\.ws\\.upstream_cx_active)$')).body;
  await waitFor(async () => (await active()) === 'cluster.ws.upstream_cx_active: 0\nhttp.ingress_http.downstream_cx_active: 0\n', 5000, `tunnel closed (stats: ${await active()})`);
});
