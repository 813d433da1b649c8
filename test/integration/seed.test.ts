/**
 * The three bootstrap files users bring (../shared/configs, copied to test/fixtures/config):
 * seed-static.yaml is rejected with line 34 named; seed-static-fixed.yaml serves round robin over
 * its two hosts (pointed at real upstreams on 127.0.0.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { SEED_DIR, httpGet, runAttache, seedStaticFixed, startProxy, startUpstream, writeConfig } from './harness';

test('seed-static.yaml (tabs) is rejected naming line 34, with no stack trace', async () => {
  const r = await runAttache(['-c', path.join(SEED_DIR, 'seed-static.yaml')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /seed-static\.yaml:34:\d+: .*spaces, not tabs/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('--mode validate prints the verdict and exits 0/1', async () => {
  const bad = await runAttache(['--mode', 'validate', '-c', path.join(SEED_DIR, 'seed-static.yaml')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /is invalid/);
  const good = await runAttache(['--mode', 'validate', '-c', path.join(SEED_DIR, 'seed-static-fixed.yaml')]);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /configuration '.*seed-static-fixed\.yaml' OK/);
  // v2 forms get one-line deprecation warnings.
  assert.match(good.stderr, /deprecated extension name "envoy\.http_connection_manager"/);
});

test('an unknown enum value names path, line and the valid choices', async () => {
  const y = seedStaticFixed([1, 2]).replace('lb_policy: ROUND_ROBIN', 'lb_policy: ROUND_ROBN');
  const r = await runAttache(['--mode', 'validate', '-c', writeConfig(y)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /:\d+:\d+: static_resources\.clusters\[0\]\.lb_policy: unknown value "ROUND_ROBN"; did you mean ROUND_ROBIN\?/);
});

test('unknown flags are rejected with usage; Istio pilot-agent flags are accepted', async () => {
  const r = await runAttache(['--no-such-flag']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Unknown option '--no-such-flag'/);
  const ok = await runAttache([
    '--mode', 'validate', '-c', path.join(SEED_DIR, 'seed-static-fixed.yaml'), '--drain-time-s', '45', '--drain-strategy', 'immediate',
    '--local-address-ip-version', 'v4', '--file-flush-interval-msec', '1000', '--disable-hot-restart', '--component-log-level', 'misc:error',
    '--service-cluster', 'svc', '--service-node', 'node-1', '-l', 'warning', '--concurrency', '2',
  ]);
  assert.equal(ok.code, 0, ok.stderr);
});

test('seed-static-fixed.yaml serves round robin over its two hosts, as Envoy', async (t) => {
  const a = await startUpstream('A');
  const b = await startUpstream('B');
  const proxy = await startProxy(['-c', writeConfig(seedStaticFixed([a.port, b.port])), '--concurrency', '1']);
  t.after(async () => {
    await proxy.stop();
    await a.close();
    await b.close();
  });
  const bodies: string[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await httpGet(proxy.port, '/some/path?x=1');
    assert.equal(r.status, 200);
    assert.equal(r.headers.server, 'envoy');
    bodies.push(r.body);
  }
  // Strict alternation on one worker.
  for (let i = 1; i < bodies.length; i++) assert.notEqual(bodies[i], bodies[i - 1]);
  assert.equal(bodies.filter((x) => x === 'A').length, 5);
  assert.equal(a.seen[0].url, '/some/path?x=1');
});
