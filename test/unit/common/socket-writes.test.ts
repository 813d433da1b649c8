import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { loopbackServer, socketPair } from './socket-pair';
import { directWrites, socketWrite, socketWritev, writeBacklogged } from '../../../src/common/socket-writes';

/** Collects what `peer` receives until `n` bytes arrived. */
function receive(peer: net.Socket, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    peer.on('data', (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got >= n) resolve(Buffer.concat(parts));
    });
    peer.on('error', reject);
  });
}

/** `n` bytes counting 0..250 over and over: a misordered or lost span shows. */
function pattern(n: number, start: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (start + i) % 251;
  return b;
}

test('this Node offers direct handle writes (the tests below exercise them)', () => {
  assert.equal(directWrites, true);
});

test('direct writes, gather writes and Writable writes arrive in the order made', async () => {
  const { client, peer, close } = await socketPair();
  try {
    const expected = 'one|' + 'two|' + 'three|' + 'four|' + 'five|';
    const got = receive(peer, expected.length);
    assert.equal(socketWrite(client, 'one|'), true);
    assert.equal(socketWrite(client, Buffer.from('two|')), true);
    client.cork(); // a write under cork goes through the Writable, later
    assert.equal(socketWrite(client, 'three|'), true);
    client.uncork();
    assert.equal(socketWritev(client, [Buffer.from('fo'), Buffer.from('ur|')]), true);
    assert.equal(socketWrite(client, 'five|'), true);
    assert.equal((await got).toString('latin1'), expected);
  } finally {
    close();
  }
});

test('strings are written as latin1: one byte per char', async () => {
  const { client, peer, close } = await socketPair();
  try {
    const got = receive(peer, 3);
    socketWrite(client, 'a\xe9\xff');
    assert.deepEqual([...(await got)], [0x61, 0xe9, 0xff]);
  } finally {
    close();
  }
});

test('a write while the socket connects goes through the Writable and arrives after connect', async () => {
  const { server, port } = await loopbackServer();
  const accepted = once(server, 'connection');
  const client = net.connect(port, '127.0.0.1');
  try {
    assert.equal(client.connecting, true);
    assert.equal(socketWrite(client, 'early|'), true);
    const [peer] = (await accepted) as [net.Socket];
    const got = receive(peer, 'early|late'.length);
    await once(client, 'connect');
    socketWrite(client, 'late');
    assert.equal((await got).toString(), 'early|late');
    peer.destroy();
  } finally {
    client.destroy();
    server.close();
  }
});

test('a head and 16 KiB body in one gather write, taken by the kernel at once, are not a backlog', async () => {
  const { client, peer, close } = await socketPair();
  try {
    const got = receive(peer, 16 * 1024);
    const r = socketWritev(client, [Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), Buffer.alloc(16 * 1024 - 19, 1)]);
    assert.equal(r, true);
    assert.equal(writeBacklogged(client), false);
    assert.equal((await got).length, 16 * 1024);
  } finally {
    close();
  }
});

test('bytes the peer does not read back up: writes are refused, the socket is backlogged until drain, nothing lost', async () => {
  const { client, peer, close } = await socketPair();
  try {
    peer.pause(); // the peer reads nothing: kernel buffers fill, the rest waits in libuv's queue
    let written = 0;
    let accepted = true;
    while (accepted && written < 256 * 1024 * 1024) {
      accepted = socketWrite(client, pattern(1024 * 1024, written));
      written += 1024 * 1024;
    }
    assert.equal(accepted, false, 'a write was refused before 256 MiB');
    assert.equal(client.writableLength, 0, 'the bytes wait in libuv, not in the Writable');
    assert.equal(writeBacklogged(client), true);
    const drained = once(client, 'drain');
    const got = receive(peer, written);
    peer.resume();
    await drained;
    assert.equal(writeBacklogged(client), false);
    const all = await got;
    assert.equal(all.length, written);
    assert.ok(all.equals(pattern(written, 0)), 'every byte arrived, in order');
  } finally {
    close();
  }
});

test('writing to a socket whose peer reset destroys it with an errno error from write, instead of throwing', async () => {
  const { server, port } = await loopbackServer();
  const accepted = once(server, 'connection');
  // An onread socket: pause() stops reading (readStop), so the reset shows on the next write.
  const client = net.connect({ port, host: '127.0.0.1', onread: { buffer: Buffer.alloc(1024), callback: () => true } });
  try {
    await once(client, 'connect');
    const [peer] = (await accepted) as [net.Socket];
    client.pause();
    peer.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 50));
    const failed = once(client, 'error');
    assert.equal(socketWrite(client, Buffer.alloc(1024)), true);
    const [err] = (await failed) as [NodeJS.ErrnoException];
    assert.equal(err.syscall, 'write');
    assert.match(String(err.code), /^E[A-Z]+$/);
    assert.equal(client.destroyed, true);
  } finally {
    client.destroy();
    server.close();
  }
});
