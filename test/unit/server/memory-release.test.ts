import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capMallocArenas, startIdleMemoryRelease } from '../../../src/server/memory-release';
import { mallocTrim, native } from '../../../src/native';

test('idle memory release: once per idle period, not while busy', async () => {
  let calls = 0;
  const stop = startIdleMemoryRelease({ intervalMs: 60, idleCpuFraction: 0.5, release: () => (calls++, true) });
  await new Promise((r) => setTimeout(r, 250)); // idle: several intervals, one release
  assert.equal(calls, 1);
  const busyUntil = Date.now() + 150;
  while (Date.now() < busyUntil); // busy for more than one interval
  await new Promise((r) => setTimeout(r, 250)); // idle again: one more release
  assert.equal(calls, 2);
  stop();
});

test('malloc_trim from the addon runs (glibc)', { skip: mallocTrim === undefined ? 'native addon not built' : false }, () => {
  assert.equal(mallocTrim!(), true);
});

test('capMallocArenas: capped through the addon unless the user set MALLOC_ARENA_MAX', () => {
  assert.equal(capMallocArenas({ MALLOC_ARENA_MAX: '8' }), false, 'the user setting wins');
  // CI builds the addon (.ci/run); glibc has mallopt.
  assert.equal(capMallocArenas({}), native.available);
});
