/**
 * The admin listener during start-up (Envoy binds admin before the initial xDS fetch): `/ready`
 * answers 503 INITIALIZING while the control plane is unreachable (forever with Istio's
 * `initial_fetch_timeout: 0s`), `/stats` shows the main-thread and xDS stats, `/clusters` and
 * `/listeners` are empty; once the control plane answers and the workers run, 200 LIVE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { BIN, httpGet, startUpstream, waitFor, writeConfig } from './harness';
import { TYPE_URLS } from '../../src/config';
import { XdsServer } from '../../src/xds/xds-server';
import { adsBootstrap, freePort, get, listener } from './xds-helpers';

/** Starts bin/attache and waits only for its admin listener (not for "serving"). */
async function startUntilAdmin(args: string[]): Promise<{ proc: ChildProcess; adminPort: number; output: () => string; stop: () => Promise<void> }> {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(proc, 'exit');
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await exited;
  };
  try {
    const adminPort = await waitFor(() => Number(/admin address: 127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0), 15_000, 'the admin address line');
    return { proc, adminPort, output: () => out, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}; output:\n${out}`);
  }
}

/** adsBootstrap() with `initial_fetch_timeout` on LDS and CDS. */
function bootstrapWithTimeout(xdsPort: number, timeout: string): string {
  const y = adsBootstrap(xdsPort).replace(/(lds_config|cds_config): \{ ads: \{\}, resource_api_version: V3 \}/g, `$1: { ads: {}, resource_api_version: V3, initial_fetch_timeout: ${timeout} }`);
  assert.equal(y.match(/initial_fetch_timeout: /g)?.length, 2);
  return y;
}

test('initial_fetch_timeout 0s and no control plane: admin answers at once, /ready 503 INITIALIZING', async () => {
  const xdsPort = await freePort(); // nothing listens there
  const p = await startUntilAdmin(['-c', writeConfig(bootstrapWithTimeout(xdsPort, '0s')), '--concurrency', '1']);
  try {
    const ready = await httpGet(p.adminPort, '/ready');
    assert.equal(ready.status, 503);
    assert.equal(ready.body, 'INITIALIZING\n');
    const info = JSON.parse((await httpGet(p.adminPort, '/server_info')).body) as { state: string; command_line_options: { concurrency: number } };
    assert.equal(info.state, 'INITIALIZING');
    assert.equal(info.command_line_options.concurrency, 1);
    // Main-thread and xDS stats only: no worker has registered its stats yet.
    const stats = (await httpGet(p.adminPort, '/stats')).body;
    assert.match(stats, /^server\.state: 3$/m);
    assert.match(stats, /^server\.live: 0$/m);
    assert.match(stats, /^control_plane\.connected_state: 0$/m);
    assert.doesNotMatch(stats, /^cluster\.xds_cluster\.upstream_rq_total: /m);
    const clusters = await httpGet(p.adminPort, '/clusters?format=json');
    assert.equal(clusters.status, 200);
    assert.deepEqual(JSON.parse(clusters.body), { cluster_statuses: [] });
    assert.equal((await httpGet(p.adminPort, '/listeners')).body, '');
    assert.doesNotMatch(p.output(), /serving with/);
    // Still not ready a moment later (0s waits forever); the process is alive.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await httpGet(p.adminPort, '/ready')).status, 503);
    assert.equal(p.proc.exitCode, null);
  } finally {
    await p.stop();
  }
});

test('control plane arriving late: INITIALIZING, then LIVE with the xDS listener serving', async () => {
  const up = await startUpstream('late');
  const xdsPort = await freePort();
  const listenerPort = await freePort();
  const p = await startUntilAdmin(['-c', writeConfig(bootstrapWithTimeout(xdsPort, '0s')), '--concurrency', '1']);
  const server = new XdsServer();
  try {
    assert.deepEqual([(await httpGet(p.adminPort, '/ready')).status, (await httpGet(p.adminPort, '/ready')).body], [503, 'INITIALIZING\n']);
    server.setResources(TYPE_URLS.cluster, [
      { name: 'late', type: 'STATIC', connect_timeout: '1s', load_assignment: { cluster_name: 'late', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: up.port } } } }] }] } },
    ]);
    server.setResources(TYPE_URLS.listener, [listener('late_listener', listenerPort, { cluster: 'late' })]);
    await server.listen(xdsPort);
    await waitFor(async () => (await httpGet(p.adminPort, '/ready')).status === 200, 20_000, '/ready 200');
    assert.equal((await httpGet(p.adminPort, '/ready')).body, 'LIVE\n');
    assert.equal(JSON.parse((await httpGet(p.adminPort, '/server_info')).body).state, 'LIVE');
    assert.equal((await httpGet(p.adminPort, '/listeners')).body, `late_listener::127.0.0.1:${listenerPort}\n`);
    assert.equal((await get(listenerPort)).body, 'late');
    const stats = (await httpGet(p.adminPort, '/stats')).body;
    // Full context: server.* and xDS stats are still there, next to the workers' stats.
    assert.match(stats, /^server\.state: 0$/m);
    assert.match(stats, /^server\.live: 1$/m);
    assert.match(stats, /^control_plane\.connected_state: 1$/m);
    assert.match(stats, /^cluster\.late\.upstream_rq_total: 1$/m);
    const clusters = JSON.parse((await httpGet(p.adminPort, '/clusters?format=json')).body) as { cluster_statuses: Array<{ name: string; host_statuses?: Array<{ address: { socket_address: { port_value: number } } }> }> };
    const late = clusters.cluster_statuses.find((c) => c.name === 'late');
    assert.equal(late?.host_statuses?.[0].address.socket_address.port_value, up.port);
  } finally {
    await p.stop();
    await server.close();
    await up.close();
  }
});
