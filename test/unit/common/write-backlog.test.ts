import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { writeAccepted, writeBacklogged } from '../../../src/common/write-backlog';

/** A connected client socket and the server side's socket, on 127.0.0.1. */
async function socketPair(): Promise<{ client: net.Socket; peer: net.Socket; close: () => void }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const accepted = once(server, 'connection');
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = (await accepted) as [net.Socket];
  return { client, peer, close: () => { client.destroy(); peer.destroy(); server.close(); } };
}

test('a head and 16 KiB body written under cork, taken by the kernel at once, are accepted though write() says false', async () => {
  const { client, peer, close } = await socketPair();
  try {
    client.cork();
    client.write('HTTP/1.1 200 OK\r\n\r\n', 'latin1');
    const r = client.write(Buffer.alloc(16 * 1024 - 19, 1));
    client.uncork();
    assert.equal(r, false, 'Writable reports the high watermark reached');
    assert.equal(client.writableNeedDrain, true, "and waits for a 'drain'");
    assert.equal(client.writableLength, 0, 'but nothing waits in the queue');
    assert.equal(writeAccepted(client, r), true);
    assert.equal(writeBacklogged(client), false);
    let got = 0;
    peer.on('data', (d: Buffer) => { got += d.length; });
    while (got < 16 * 1024) await new Promise((r2) => setImmediate(r2));
    assert.equal(got, 16 * 1024);
  } finally {
    close();
  }
});

test('bytes the peer does not read back up: write is refused and the socket is backlogged until drain', async () => {
  const { client, peer, close } = await socketPair();
  try {
    peer.pause(); // the peer reads nothing: kernel buffers fill, the rest waits in the Writable
    let r = true;
    let written = 0;
    while (client.writableLength === 0 && written < 256 * 1024 * 1024) {
      r = client.write(Buffer.alloc(1024 * 1024, 2));
      written += 1024 * 1024;
    }
    assert.ok(client.writableLength > 0, 'some bytes wait in the Writable queue');
    assert.equal(writeAccepted(client, r), false);
    assert.equal(writeBacklogged(client), true);
    peer.resume();
    await once(client, 'drain');
    assert.equal(writeBacklogged(client), false);
  } finally {
    close();
  }
});
