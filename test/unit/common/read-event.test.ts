import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { socketReads } from '../../../src/common/socket-reads';
import { atReadEnd, eventNow, wallClockMs } from '../../../src/common/read-event';

/** A server on 127.0.0.1 that writes `greeting` to each connection. */
async function greetingServer(greeting: string): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((s) => s.end(greeting));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return { port, close: () => server.close() };
}

test('within one read event the clock is read once; work queued with atReadEnd runs after the handler, before nextTick work', async () => {
  const order: string[] = [];
  const times: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => { done = r; });
  const { port, close } = await greetingServer('x');
  const client = net.connect({ port, host: '127.0.0.1', onread: socketReads((d) => {
    times.push(eventNow());
    process.nextTick(() => { order.push('tick'); done(); });
    atReadEnd((x: string) => order.push(x), 'end-of-read');
    const spin = performance.now() + 2;
    while (performance.now() < spin); // 2 ms of work inside the event
    times.push(eventNow());
    order.push(`handler ${d.toString()}`);
  }) });
  client.on('error', () => {});
  try {
    await finished;
    assert.deepEqual(order, ['handler x', 'end-of-read', 'tick']);
    assert.equal(times[0], times[1], 'eventNow() is the time the event began, however long it runs');
    assert.ok(eventNow() - times[0] >= 2, 'outside the event the clock is read afresh');
  } finally {
    client.destroy();
    close();
  }
});

test('atReadEnd outside a read event runs on the next tick', async () => {
  let ran = false;
  atReadEnd(() => { ran = true; }, null);
  assert.equal(ran, false);
  await new Promise((r) => process.nextTick(r));
  assert.equal(ran, true);
});

test('wallClockMs(eventNow()) is Date.now() to the millisecond', () => {
  for (let i = 0; i < 5; i++) {
    const before = Date.now();
    const w = wallClockMs(eventNow());
    const after = Date.now();
    assert.ok(w >= before - 1 && w <= after + 1, `${w} within [${before}, ${after}]`);
    assert.equal(Number.isInteger(w), true);
  }
});
