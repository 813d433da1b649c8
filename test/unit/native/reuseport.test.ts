import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { closeFd, localPort, native, reservePort, reusePortSocket } from '../../../src/native';

const skip = native.available ? false : `native addon not built (${native.reason}); run npm run build:native`;
const INDEX = path.resolve(__dirname, '../../../src/native/index.js');

// A worker that opens its own reuseport socket on `port`, serves it with net.Server.listen({ fd }),
// counts accepted connections and reports the count when told to stop.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { reusePortSocket, localPort } = require(workerData.index);
const fd = reusePortSocket('127.0.0.1', workerData.port, true, 511);
let accepted = 0;
const server = new net.Server((sock) => { accepted++; sock.end('w' + workerData.id); });
server.listen({ fd }, () => parentPort.postMessage({ listening: localPort(fd) }));
parentPort.on('message', () => server.close(() => { parentPort.postMessage({ accepted }); parentPort.close(); }));
`;

function connect(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (data += d));
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
}

test('two worker threads, one reuseport socket each on one port: both accept, a reservation takes none', { skip }, async () => {
  const reservation = reservePort('127.0.0.1')!;
  assert.ok(reservation.port > 0);
  const workers = [0, 1].map((id) => new Worker(WORKER, { eval: true, workerData: { index: INDEX, port: reservation.port, id } }));
  try {
    // Both listeners attached before awaiting: a message with no listener is lost.
    const listening = await Promise.all(workers.map(async (w) => (await once(w, 'message'))[0]));
    assert.deepEqual(listening, [{ listening: reservation.port }, { listening: reservation.port }]);
    const replies: string[] = [];
    for (let i = 0; i < 200; i += 20) {
      replies.push(...(await Promise.all(Array.from({ length: 20 }, () => connect(reservation.port)))));
    }
    const counts = await Promise.all(
      workers.map(async (w) => {
        w.postMessage('stop');
        const [msg] = await once(w, 'message');
        return (msg as { accepted: number }).accepted;
      }),
    );
    // Every connection was answered by a worker: none went to the bound-only reservation.
    assert.equal(replies.length, 200);
    assert.equal(counts[0] + counts[1], 200);
    assert.equal(replies.filter((r) => r === 'w0').length, counts[0]);
    assert.equal(replies.filter((r) => r === 'w1').length, counts[1]);
    assert.ok(counts[0] > 0 && counts[1] > 0, `both workers accept: ${counts.join('/')}`);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    closeFd!(reservation.fd);
  }
});

test('a reservation (bound, not listening) refuses connections and keeps the port from non-reuseport binds', { skip }, async () => {
  const r = reservePort('127.0.0.1')!;
  try {
    assert.equal(localPort!(r.fd), r.port);
    await assert.rejects(connect(r.port), { code: 'ECONNREFUSED' });
    // A plain net.Server (SO_REUSEADDR, no SO_REUSEPORT) cannot take the reserved port.
    const plain = net.createServer();
    const outcome = await new Promise<string>((resolve) => {
      plain.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      plain.listen(r.port, '127.0.0.1', () => resolve('listening'));
    });
    if (plain.listening) plain.close();
    assert.equal(outcome, 'EADDRINUSE');
    // The reuseport group still takes a listening member.
    const fd = reusePortSocket!('127.0.0.1', r.port);
    const server = new net.Server((s) => s.end('ok'));
    await new Promise<void>((resolve) => server.listen({ fd }, resolve));
    assert.equal(await connect(r.port), 'ok');
    await new Promise((resolve) => server.close(resolve));
  } finally {
    closeFd!(r.fd);
  }
});

test('errors carry the errno name: EADDRINUSE against a plain listener, EBADF on a closed fd', { skip }, async () => {
  const plain = net.createServer();
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  const port = (plain.address() as net.AddressInfo).port;
  try {
    assert.throws(() => reusePortSocket!('127.0.0.1', port), {
      code: 'EADDRINUSE',
      message: `bind 127.0.0.1:${port}: EADDRINUSE`,
    });
  } finally {
    await new Promise((resolve) => plain.close(resolve));
  }
  const fd = reusePortSocket!('127.0.0.1', 0, false, 0);
  closeFd!(fd);
  assert.throws(() => closeFd!(fd), { code: 'EBADF' });
  assert.throws(() => reusePortSocket!('localhost', 0), { code: 'ERR_INVALID_IP_ADDRESS' });
  assert.throws(() => reusePortSocket!('127.0.0.1', 70000), RangeError);
});

test('IPv6 any address ("::") binds with IPV6_V6ONLY off: IPv4 clients reach it', { skip }, async (t) => {
  let fd: number;
  try {
    fd = reusePortSocket!('::', 0);
  } catch (err) {
    t.skip(`no IPv6 here: ${(err as Error).message}`);
    return;
  }
  const server = new net.Server((s) => s.end('v6'));
  await new Promise<void>((resolve) => server.listen({ fd }, resolve));
  try {
    assert.equal(await connect(localPort!(fd)), 'v6');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
