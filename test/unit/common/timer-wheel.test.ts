import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoarseTimer, TICK_MS } from '../../../src/common/timer-wheel';

test('a coarse timer fires after its delay (never early), and not at all once disarmed', async () => {
  const t0 = performance.now();
  let firedAt = 0;
  const t = new CoarseTimer(() => (firedAt = performance.now()));
  const gone = new CoarseTimer(() => assert.fail('disarmed timer fired'));
  t.arm(120);
  gone.arm(60);
  gone.disarm();
  await new Promise((r) => setTimeout(r, 120 + 3 * TICK_MS));
  assert.ok(firedAt - t0 >= 120, `fired after ${firedAt - t0} ms`);
});

test('touch() re-arms short timeouts every time, long ones at most once per tick', async () => {
  const short = new CoarseTimer(() => {});
  short.arm(200);
  const d0 = short.deadline;
  await new Promise((r) => setTimeout(r, 5));
  short.touch(200);
  assert.ok(short.deadline > d0, 'a short idle timeout moves on every touch');
  const long = new CoarseTimer(() => {});
  long.arm(60_000);
  const l0 = long.deadline;
  for (let spin = performance.now(); performance.now() - spin < 2; );
  long.touch(60_000); // same tick (no timer callback can run in between)
  assert.equal(long.deadline, l0, 'armed since the last tick: left as it is');
  await new Promise((r) => setTimeout(r, 2 * TICK_MS + 10));
  long.touch(60_000);
  assert.ok(long.deadline > l0, 'after a tick, touch re-arms');
  short.disarm();
  long.disarm();
});

test('arm(ms, at) counts from the given clock reading', () => {
  const t = new CoarseTimer(() => {});
  const at = performance.now() - 1000;
  t.arm(5000, at);
  assert.equal(t.deadline, at + 5000);
  t.disarm();
  assert.equal(t.deadline, 0);
});
