/**
 * An LDS listener that cannot bind (its port is another process's): Envoy rejects the update with
 * `cannot bind '<ip:port>': Address already in use`, counts listener_manager.listener_create_failure
 * and keeps serving; a dynamic listener never stops start-up nor makes the process exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpGet, startProxy, startUpstream, waitFor, writeConfig, type Proxy } from './harness';
import { TYPE_URLS } from '../../src/config';
import { XdsServer } from '../../src/xds/xds-server';
import { adsBootstrap, cla, edsCluster, freePort, get, listener, stat } from './xds-helpers';

/** What a test gets: the upstream `a`, the ADS server, a free port for a listener, the proxy. */
interface Ctx {
  up: Awaited<ReturnType<typeof startUpstream>>;
  server: XdsServer;
  p1: number;
  proxy: Proxy;
}

/**
 * Runs `body` against attache fed by an ADS server with cluster `web` over one upstream `a`; the
 * listeners `initial` returns are pushed before attache starts. Everything is stopped afterwards.
 */
async function withAds(initial: (up: Ctx['up'], p1: number) => Record<string, unknown>[], concurrency: number, body: (c: Ctx) => Promise<void>): Promise<void> {
  const up = await startUpstream('a');
  const server = new XdsServer();
  const xdsPort = await server.listen(0);
  const p1 = await freePort();
  server.setResources(TYPE_URLS.cluster, [edsCluster('web')]);
  server.setResources(TYPE_URLS.endpoint, [cla('web', [up.port])]);
  server.setResources(TYPE_URLS.listener, initial(up, p1));
  let proxy: Proxy | undefined;
  try {
    proxy = await startProxy(['-c', writeConfig(adsBootstrap(xdsPort)), '--concurrency', String(concurrency)]);
    await body({ up, server, p1, proxy });
  } finally {
    await proxy?.stop();
    await server.close();
    await up.close();
  }
}

test('LDS listener on a port in use: NACKed with "cannot bind", listener_create_failure counted, start-up goes on, other listeners keep serving', async () => {
  await withAds((up, p1) => [listener('busy', up.port, { cluster: 'web' })], 2, async ({ up, server, p1, proxy }) => {
    // Pushed before attache starts: the listener on the upstream's port must not stop start-up.
    const lds = () => server.requests.filter((r) => r.typeUrl === TYPE_URLS.listener);
    const nack = (await waitFor(() => lds().find((r) => r.errorDetail), 5000, 'LDS NACK'))!;
    assert.match(nack.errorDetail!.message!, new RegExp(`cannot bind '127\\.0\\.0\\.1:${up.port}': Address already in use`));
    assert.equal(await stat(proxy.adminPort, 'listener_manager.listener_create_failure'), 1);
    assert.doesNotMatch((await httpGet(proxy.adminPort, '/listeners')).body, /busy/);

    // A good update is ACKed and serves.
    server.setResources(TYPE_URLS.listener, [listener('l1', p1, { cluster: 'web' })]);
    const v2 = server.version(TYPE_URLS.listener);
    await waitFor(() => lds().some((r) => r.versionInfo === v2 && !r.errorDetail), 5000, 'ACK of l1');
    await waitFor(async () => (await get(p1)).body === 'a', 5000, 'l1 serving');

    // Pushed at run time: NACKed again, l1 keeps serving, nothing exits, nothing listed.
    server.setResources(TYPE_URLS.listener, [listener('l1', p1, { cluster: 'web' }), listener('busy', up.port, { cluster: 'web' })]);
    const v3 = server.version(TYPE_URLS.listener);
    const nack3 = (await waitFor(() => lds().find((r) => r.errorDetail && r.versionInfo === v2 && r !== nack), 5000, 'second NACK'))!;
    assert.match(nack3.errorDetail!.message!, /listener "busy": cannot bind '127\.0\.0\.1:\d+': Address already in use/);
    assert.notEqual(v3, v2);
    assert.equal(await stat(proxy.adminPort, 'listener_manager.listener_create_failure'), 2);
    assert.equal((await get(p1)).body, 'a');
    assert.doesNotMatch((await httpGet(proxy.adminPort, '/listeners')).body, /busy/);
    assert.equal(await stat(proxy.adminPort, 'listener_manager.total_listeners_active'), 1);
    assert.equal(proxy.proc.exitCode, null);
    // The upstream still owns its port.
    assert.equal((await get(up.port)).body, 'a');
  });
});

test('two LDS listeners on one address: the second is refused as a duplicate address', async () => {
  await withAds((up, p1) => [listener('l1', p1, { cluster: 'web' })], 1, async ({ up, server, p1, proxy }) => {
    assert.equal(proxy.ports.l1, p1);
    server.setResources(TYPE_URLS.listener, [listener('l1', p1, { cluster: 'web' }), listener('twin', p1, { cluster: 'web' })]);
    const nack = (await waitFor(() => server.requests.find((r) => r.typeUrl === TYPE_URLS.listener && r.errorDetail), 5000, 'NACK'))!;
    assert.match(nack.errorDetail!.message!, new RegExp(`error adding listener: 'twin' has duplicate address '127\\.0\\.0\\.1:${p1}' as existing listener`));
    assert.equal((await get(p1)).body, 'a');
  });
});

test('an LDS listener moved to another port: it serves there and /listeners shows the new address', async () => {
  await withAds((up, p1) => [listener('l1', p1, { cluster: 'web' })], 1, async ({ up, server, p1, proxy }) => {
    const p2 = await freePort();
    server.setResources(TYPE_URLS.listener, [listener('l1', p2, { cluster: 'web' })]);
    await waitFor(async () => (await get(p2)).body === 'a', 5000, 'l1 serving on the new port');
    assert.match((await httpGet(proxy.adminPort, '/listeners')).body, new RegExp(`^l1::127\\.0\\.0\\.1:${p2}$`, 'm'));
  });
});

test('two listeners on one address in the same LDS response: the second is refused as a duplicate address', async () => {
  await withAds((up, p1) => [listener('first', p1, { cluster: 'web' }), listener('second', p1, { cluster: 'web' })], 1, async ({ up, server, p1, proxy }) => {
    const nack = (await waitFor(() => server.requests.find((r) => r.typeUrl === TYPE_URLS.listener && r.errorDetail), 5000, 'NACK'))!;
    assert.match(nack.errorDetail!.message!, new RegExp(`error adding listener: 'second' has duplicate address '127\\.0\\.0\\.1:${p1}' as existing listener`));
  });
});

test('an LDS response with one bad listener: the good ones are applied and serve, the response is NACKed naming the bad one (Envoy applies LDS in part)', async () => {
  await withAds((up, p1) => [listener('good', p1, { cluster: 'web' }), listener('busy', up.port, { cluster: 'web' })], 1, async ({ up, server, p1, proxy }) => {
    const nack = (await waitFor(() => server.requests.find((r) => r.typeUrl === TYPE_URLS.listener && r.errorDetail), 5000, 'NACK'))!;
    assert.match(nack.errorDetail!.message!, /listener "busy": cannot bind/);
    assert.doesNotMatch(nack.errorDetail!.message!, /"good"/);
    await waitFor(async () => (await get(p1)).body === 'a', 5000, 'the good listener serving');
    assert.match((await httpGet(proxy.adminPort, '/listeners')).body, /^good::/m);
    assert.doesNotMatch((await httpGet(proxy.adminPort, '/listeners')).body, /busy/);
  });
});
