import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { loopbackServer, socketPair } from './socket-pair';
import { DEFER_LIMIT_BYTES, SocketWriter } from '../../../src/common/socket-writer';

/** Everything `peer` receives until it ends. */
function readAll(peer: net.Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  return new Promise((resolve, reject) => {
    peer.on('data', (d: Buffer) => parts.push(d));
    peer.on('end', () => resolve(Buffer.concat(parts)));
    peer.on('error', reject);
  });
}

test('writes wait for the end of the poll phase, then leave in call order', async () => {
  const { client, peer, close } = await socketPair();
  try {
    const w = new SocketWriter(client);
    const handle = (client as unknown as { _handle: { bytesWritten: number } })._handle;
    const before = handle.bytesWritten;
    assert.equal(w.write('one|'), true);
    assert.equal(w.writev([Buffer.from('tw'), Buffer.from('o|')]), true);
    assert.equal(w.write(Buffer.from('three|')), true);
    assert.equal(handle.bytesWritten, before, 'nothing written inside the callback that wrote');
    await new Promise((r) => setImmediate(r));
    assert.equal(handle.bytesWritten - before, 'one|two|three|'.length, 'all written once the poll phase is over');
    const got = readAll(peer);
    w.end();
    assert.equal((await got).toString(), 'one|two|three|');
  } finally {
    close();
  }
});

test('a write too large to queue first writes what is queued: order is kept', async () => {
  const { client, peer, close } = await socketPair();
  try {
    const w = new SocketWriter(client);
    const big = Buffer.alloc(DEFER_LIMIT_BYTES + 1, 0x62);
    const got = readAll(peer);
    w.write('a');
    w.write(big);
    w.write('c');
    w.end();
    const all = await got;
    assert.equal(all.length, big.length + 2);
    assert.equal(all[0], 0x61);
    assert.ok(all.subarray(1, 1 + big.length).equals(big));
    assert.equal(all[all.length - 1], 0x63);
  } finally {
    close();
  }
});

test('end() right after a write sends the bytes, then the FIN', async () => {
  const { client, peer, close } = await socketPair();
  try {
    const w = new SocketWriter(client);
    const got = readAll(peer);
    w.write('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok');
    w.end();
    assert.match((await got).toString(), /\r\n\r\nok$/);
  } finally {
    close();
  }
});

test('destroy() right after a write still sends the bytes written before it', async () => {
  const { client, peer, close } = await socketPair();
  try {
    const w = new SocketWriter(client);
    const got = readAll(peer);
    w.write('last words');
    w.destroy();
    assert.equal((await got).toString(), 'last words');
  } finally {
    close();
  }
});

test('writes to several sockets in one callback all arrive, each on its own socket', async () => {
  const pairs = await Promise.all([socketPair(), socketPair(), socketPair()]);
  try {
    const gots = pairs.map((p) => readAll(p.peer));
    const writers = pairs.map((p) => new SocketWriter(p.client));
    writers.forEach((w, i) => w.write(`first ${i};`));
    writers.forEach((w, i) => w.write(`second ${i}`));
    writers.forEach((w) => w.end());
    const got = await Promise.all(gots);
    got.forEach((b, i) => assert.equal(b.toString(), `first ${i};second ${i}`));
  } finally {
    for (const p of pairs) p.close();
  }
});

test('a socket reset before the queue is written is skipped; the others still get their bytes', async () => {
  const a = await socketPair();
  const b = await socketPair();
  try {
    a.client.on('error', () => {});
    const wa = new SocketWriter(a.client);
    const wb = new SocketWriter(b.client);
    const got = readAll(b.peer);
    wa.write('lost');
    wb.write('kept');
    a.client.destroy();
    await new Promise((r) => setImmediate(r));
    wb.end();
    assert.equal((await got).toString(), 'kept');
  } finally {
    a.close();
    b.close();
  }
});

test('a peer that reads nothing backs the writer up: writes answer false until the drain, and every byte arrives in order', async () => {
  const { client, peer, close } = await socketPair();
  try {
    peer.pause();
    const w = new SocketWriter(client);
    const chunk = Buffer.alloc(32 * 1024);
    let written = 0;
    let accepted = true;
    while (accepted && written < 256 * 1024 * 1024) {
      for (let i = 0; i < chunk.length; i++) chunk[i] = (written + i) % 251;
      accepted = w.write(Buffer.from(chunk));
      written += chunk.length;
      await new Promise((r) => setImmediate(r)); // let the queued write leave
    }
    assert.equal(accepted, false, 'a write was answered false before 256 MiB');
    assert.equal(w.write('x'), false, 'and so is the next one, until the drain');
    written += 1;
    const drained = once(client, 'drain');
    const all = readAll(peer);
    peer.resume();
    await drained;
    assert.equal(w.write('y'), true, 'accepted again after the drain');
    written += 1;
    w.end();
    const b = await all;
    assert.equal(b.length, written);
    for (let i = 0; i < written - 2; i++) if (b[i] !== i % 251) assert.fail(`byte ${i} is ${b[i]}, expected ${i % 251}`);
    assert.equal(b.subarray(written - 2).toString(), 'xy');
  } finally {
    close();
  }
});
