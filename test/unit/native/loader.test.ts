import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { native, reusePortSupport, ready, reusePortSocket, detectNodeReusePort } from '../../../src/native';

const INDEX = path.resolve(__dirname, '../../../src/native/index.js');

/** Runs a snippet in a fresh node with `env`, returning its JSON output. */
function probe(env: Record<string, string>): { native: { available: boolean; reason?: string }; impl: string; reuse: string; socket: string } {
  const code = `const n = require(${JSON.stringify(INDEX)});
n.ready.then(() => console.log(JSON.stringify({ native: n.native, impl: n.hashImplementation(), reuse: n.reusePortSupport(), socket: typeof n.reusePortSocket })));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', code], { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
}

test('without the addon: native.available is false with a reason, wasm is used, no socket function', () => {
  const r = probe({ ATTACHE_NATIVE: '0', ATTACHE_HASH: '' });
  assert.deepEqual(r.native, { available: false, reason: 'disabled by ATTACHE_NATIVE=0' });
  assert.equal(r.impl, 'wasm');
  assert.equal(r.socket, 'undefined');
  assert.notEqual(r.reuse, 'native-addon');
});

test('a missing addon file is reported, not thrown', () => {
  const r = probe({ ATTACHE_NATIVE_ADDON: '/nonexistent/attache.node', ATTACHE_NATIVE: '', ATTACHE_HASH: '' });
  assert.equal(r.native.available, false);
  assert.match(r.native.reason ?? '', /load failed/);
  assert.equal(r.impl, 'wasm');
});

test('ATTACHE_HASH forces an implementation', () => {
  assert.equal(probe({ ATTACHE_HASH: 'js' }).impl, 'js');
  assert.equal(probe({ ATTACHE_HASH: 'wasm' }).impl, 'wasm');
});

test('ATTACHE_HASH=native without the addon, or a bad value, fails at import', () => {
  assert.throws(() => probe({ ATTACHE_HASH: 'native', ATTACHE_NATIVE: '0' }), /ATTACHE_HASH=native but the native addon is not available/);
  assert.throws(() => probe({ ATTACHE_HASH: 'fast' }), /ATTACHE_HASH must be native, wasm, js or auto/);
});

test('reusePortSupport: native-addon when the addon is loaded', { skip: native.available ? false : `native addon not built (${native.reason})` }, async () => {
  await ready;
  assert.equal(reusePortSupport(), 'native-addon');
  assert.equal(typeof reusePortSocket, 'function');
});

test('detectNodeReusePort: false on Node < 22.12 (the option is silently ignored there)', async (t) => {
  const [maj, min] = process.versions.node.split('.').map(Number);
  const old = maj < 22 || (maj === 22 && min < 12);
  if (!old) {
    t.diagnostic(`Node ${process.versions.node}: detection result ${await detectNodeReusePort()}`);
    return;
  }
  assert.equal(await detectNodeReusePort(), false);
});
