import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cgroupCpuLimit, defaultConcurrency } from '../../../src/server/concurrency';
import { parseOptions, UsageError } from '../../../src/server/options';

function fakeCgroup(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-'));
  for (const [f, v] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), v);
  }
  return root;
}

test('cgroup v2 cpu.max quota → limit; "max" → none', () => {
  assert.equal(cgroupCpuLimit(fakeCgroup({ 'cpu.max': '150000 100000\n' })), 1.5);
  assert.equal(cgroupCpuLimit(fakeCgroup({ 'cpu.max': 'max 100000\n' })), undefined);
});

test('cgroup v1 cfs quota/period → limit; -1 → none', () => {
  assert.equal(cgroupCpuLimit(fakeCgroup({ 'cpu/cpu.cfs_quota_us': '50000', 'cpu/cpu.cfs_period_us': '100000' })), 0.5);
  assert.equal(cgroupCpuLimit(fakeCgroup({ 'cpu/cpu.cfs_quota_us': '-1', 'cpu/cpu.cfs_period_us': '100000' })), undefined);
});

test('default --concurrency rounds the limit up, at least 1, at most the CPUs', () => {
  assert.equal(defaultConcurrency(fakeCgroup({ 'cpu.max': '150000 100000' })).value, Math.min(2, os.availableParallelism()));
  assert.equal(defaultConcurrency(fakeCgroup({ 'cpu.max': '10000 100000' })).value, 1);
  assert.equal(defaultConcurrency(fakeCgroup({ 'cpu.max': '6400000 100000' })).value, os.availableParallelism());
  assert.equal(defaultConcurrency(fakeCgroup({})).value, os.availableParallelism());
});

test("Envoy's flags parse; bad values are usage errors", () => {
  const o = parseOptions(['-c', 'a.yaml', '--concurrency', '3', '-l', 'warn', '--component-log-level', 'upstream:debug,http:trace', '--mode', 'validate', '--drain-time-s', '45']);
  assert.equal(o.configPath, 'a.yaml');
  assert.equal(o.concurrency, 3);
  assert.equal(o.logLevel, 'warning');
  assert.deepEqual(o.componentLogLevels, { upstream: 'debug', http: 'trace' });
  assert.equal(o.mode, 'validate');
  assert.equal(o.drainTimeS, 45);
  assert.throws(() => parseOptions(['--concurrency', '0']), UsageError);
  assert.throws(() => parseOptions(['--concurrency', 'two']), UsageError);
  assert.throws(() => parseOptions(['--mode', 'servee']), /servee" is not one of serve, validate, init_only/);
  assert.throws(() => parseOptions(['-l', 'loud']), /unknown level "loud"/);
  assert.throws(() => parseOptions(['--bogus']), UsageError);
});

test('--component-log-level names an unknown component: usage error as Envoy ("invalid component specified")', () => {
  assert.throws(() => parseOptions(['-c', 'a.yaml', '--component-log-level', 'bogus:debug']), (e: unknown) => e instanceof UsageError && /invalid component specified 'bogus'/.test(e.message));
  assert.deepEqual(parseOptions(['-c', 'a.yaml', '--component-log-level', 'misc:error,router:debug']).componentLogLevels, { misc: 'error', router: 'debug' });
});
