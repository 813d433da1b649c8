/**
 * xDS end to end: attache as a real child process, driven by an in-process control plane
 * (src/xds/xds-server) whose request log shows what attache sent (ACK/NACK sequences).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { startProxy, startUpstream, waitFor, writeConfig, type Proxy, type Upstream } from './harness';
import { TYPE_URLS } from '../../src/config';
import { XdsServer } from '../../src/xds/xds-server';
import { adsBootstrap, cla, edsCluster, freePort, get, listener, routeConfig, seedEds, stat } from './xds-helpers';

const SVC = 'docker-project-service';

async function bodies(port: number, n: number, agent: http.Agent | false = false): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await get(port, agent)).body);
  return out;
}

function count(xs: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const x of xs) c[x] = (c[x] ?? 0) + 1;
  return c;
}

async function withSeed(fn: (ctx: { server: XdsServer; proxy: Proxy; ups: Upstream[]; xdsPort: number }) => Promise<void>, nUps = 3): Promise<void> {
  const ups = await Promise.all(Array.from({ length: nUps }, (_, i) => startUpstream(`u${i}`)));
  const server = new XdsServer();
  const xdsPort = await server.listen(0);
  server.setResources(TYPE_URLS.endpoint, [cla(SVC, [ups[0].port, ups[1].port])]);
  let proxy: Proxy | undefined;
  try {
    proxy = await startProxy(['-c', writeConfig(seedEds(xdsPort)), '--concurrency', '1', '--service-node', 'n1', '--service-cluster', 'c1']);
    await fn({ server, proxy, ups, xdsPort });
  } finally {
    await proxy?.stop();
    await server.close();
    for (const u of ups) await u.close();
  }
}

test('seed EDS config: round robin over the pushed endpoints, following changes; ACK/NACK sequence; a bad update is NACKed while traffic flows', async () => {
  await withSeed(async ({ server, proxy, ups }) => {
    // Round robin over the two endpoints.
    assert.deepEqual(count(await bodies(proxy.port, 4)), { u0: 2, u1: 2 });
    const eds = () => server.requests.filter((r) => r.typeUrl === TYPE_URLS.endpoint);
    await waitFor(() => eds().length >= 2, 5000, 'ACK');
    const [first, ack] = eds();
    assert.deepEqual(first.node, { id: 'n1', cluster: 'c1' });
    assert.deepEqual([first.versionInfo, first.nonce, first.names], ['', '', [SVC]]);
    const v1 = server.version(TYPE_URLS.endpoint);
    assert.deepEqual([ack.versionInfo, ack.errorDetail], [v1, undefined]);
    assert.notEqual(ack.nonce, '');

    // Follows a change.
    server.setResources(TYPE_URLS.endpoint, [cla(SVC, [ups[1].port, ups[2].port])]);
    await waitFor(async () => (await get(proxy.port)).body === 'u2', 5000, 'u2 in rotation');
    assert.deepEqual(count(await bodies(proxy.port, 4)), { u1: 2, u2: 2 });
    const v2 = server.version(TYPE_URLS.endpoint);
    await waitFor(() => eds().some((r) => r.versionInfo === v2 && !r.errorDetail), 5000, 'ACK of v2');

    // A bad update: NACK naming the resource and field, previous version kept, traffic still flows.
    server.setResources(TYPE_URLS.endpoint, [cla(SVC, [ups[0].port, 70000])]);
    const nack = (await waitFor(() => eds().find((r) => r.errorDetail), 5000, "NACK"))!;
    assert.equal(nack.versionInfo, v2);
    assert.equal(nack.errorDetail!.code, 13); // INTERNAL, as Envoy's handleBadResponse
    assert.match(nack.errorDetail!.message!, /cluster load assignment "docker-project-service": endpoints\[0\]\.lb_endpoints\[1\]\.endpoint\.address\.socket_address\.port_value: 70000 must be at most 65535/);
    assert.deepEqual(count(await bodies(proxy.port, 6)), { u1: 3, u2: 3 });

    // Stats on the admin listener.
    assert.equal(await stat(proxy.adminPort, 'control_plane.connected_state'), 1);
    assert.equal(await stat(proxy.adminPort, `cluster.${SVC}.update_rejected`), 1);
    assert.equal(await stat(proxy.adminPort, `cluster.${SVC}.update_success`), 2);
  });
});

test('control plane restart: attache reconnects, resubscribes with the version it holds, and follows the new server', async () => {
  await withSeed(async ({ server, proxy, ups, xdsPort }) => {
    await waitFor(() => server.requests.length >= 2, 5000, 'ACK');
    const held = server.version(TYPE_URLS.endpoint);
    await server.close();
    await waitFor(async () => (await stat(proxy.adminPort, 'control_plane.connected_state')) === 0, 5000, 'disconnected');
    // Still serving on the last config while the control plane is away.
    assert.deepEqual(count(await bodies(proxy.port, 2)), { u0: 1, u1: 1 });
    const again = new XdsServer();
    try {
      await again.listen(xdsPort);
      again.setResources(TYPE_URLS.endpoint, [cla(SVC, [ups[2].port])]);
      const r = await waitFor(() => again.requests[0], 40_000, 'resubscription');
      assert.deepEqual(r.node, { id: 'n1', cluster: 'c1' });
      assert.equal(r.versionInfo, held);
      assert.equal(r.nonce, '');
      assert.deepEqual(r.names, [SVC]);
      await waitFor(async () => (await get(proxy.port)).body === 'u2', 5000, 'new endpoints');
      assert.equal(await stat(proxy.adminPort, 'control_plane.connected_state'), 1);
    } finally {
      await again.close();
    }
  });
});

test('ADS with LDS/RDS/CDS/EDS: listeners added and removed at run time, routes and clusters changed', async () => {
  const [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
  const server = new XdsServer();
  const xdsPort = await server.listen(0);
  const [p1, p2] = [await freePort(), await freePort()];
  server.setResources(TYPE_URLS.cluster, [edsCluster('web')]);
  server.setResources(TYPE_URLS.endpoint, [cla('web', [a.port])]);
  server.setResources(TYPE_URLS.route, [routeConfig('r1', 'web')]);
  server.setResources(TYPE_URLS.listener, [listener('l1', p1, { rds: 'r1' })]);
  let proxy: Proxy | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    proxy = await startProxy(['-c', writeConfig(adsBootstrap(xdsPort)), '--concurrency', '2']);
    assert.equal(proxy.ports.l1, p1, 'the LDS listener is live when attache says it is serving');
    assert.equal((await get(p1, agent)).body, 'a');
    // One ADS stream carried all four types, each ACKed.
    const types = new Set(server.requests.filter((r) => r.service === 'ads').map((r) => r.typeUrl));
    assert.deepEqual([...types].sort(), Object.values(TYPE_URLS).sort());
    assert.equal(new Set(server.requests.map((r) => r.stream)).size, 1);

    // A new listener.
    server.setResources(TYPE_URLS.listener, [listener('l1', p1, { rds: 'r1' }), listener('l2', p2, { cluster: 'web' })]);
    await waitFor(async () => (await get(p2)).body === 'a', 5000, 'l2 live');

    // A new cluster and a route change: applies to the next request on the kept-alive connection.
    server.setResources(TYPE_URLS.cluster, [edsCluster('web'), edsCluster('api')]);
    server.setResources(TYPE_URLS.endpoint, [cla('web', [a.port]), cla('api', [b.port])]);
    server.setResources(TYPE_URLS.route, [routeConfig('r1', 'api')]);
    // RDS tables swap under stable per-worker providers: the kept-alive connection (opened before
    // the change) sees the new route on its next request, as in Envoy.
    await waitFor(async () => (await get(p1, agent)).body === 'b', 5000, 'route to api on the kept-alive connection');

    // Listener removed: it stops accepting.
    server.setResources(TYPE_URLS.listener, [listener('l1', p1, { rds: 'r1' })]);
    await waitFor(async () => (await get(p2)).status === 0, 5000, 'l2 gone');
    assert.equal((await get(p1)).body, 'b');
    assert.equal(await stat(proxy.adminPort, 'listener_manager.lds.update_success'), 3);
    assert.equal(await stat(proxy.adminPort, 'cluster_manager.cds.update_success'), 2);
    // Change counts, once per change (not per worker), with Envoy's names.
    assert.equal(await stat(proxy.adminPort, 'listener_manager.listener_added'), 2);
    assert.equal(await stat(proxy.adminPort, 'listener_manager.listener_removed'), 1);
    assert.equal(await stat(proxy.adminPort, 'listener_manager.total_listeners_active'), 1);
    assert.equal(await stat(proxy.adminPort, 'cluster_manager.active_clusters'), 3);
  } finally {
    agent.destroy();
    await proxy?.stop();
    await server.close();
    await a.close();
    await b.close();
  }
});

test('zero failed requests while the endpoint set changes every 100 ms under load', async () => {
  await withSeed(async ({ server, proxy, ups }) => {
    const sets = [[0, 1], [1, 2], [2], [0, 2], [0, 1, 2], [1]].map((s) => s.map((i) => ups[i].port));
    let stop = false;
    let pushes = 0;
    const churn = (async () => {
      for (let i = 0; !stop; i++) {
        server.setResources(TYPE_URLS.endpoint, [cla(SVC, sets[i % sets.length])]);
        pushes++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const results: Array<{ status: number; body: string; error?: string }> = [];
    const end = Date.now() + 3000;
    const loop = async () => {
      while (Date.now() < end) results.push(await get(proxy.port, agent));
    };
    await Promise.all(Array.from({ length: 8 }, loop));
    stop = true;
    await churn;
    agent.destroy();
    const failed = results.filter((r) => r.status !== 200);
    assert.deepEqual(failed.slice(0, 3), [], `${failed.length} of ${results.length} requests failed`);
    assert.ok(results.length > 100, `only ${results.length} requests`);
    assert.ok(pushes >= 20, `only ${pushes} pushes`);
    assert.deepEqual(Object.keys(count(results.map((r) => r.body))).sort(), ['u0', 'u1', 'u2']);
    const acks = server.requests.filter((r) => r.typeUrl === TYPE_URLS.endpoint && !r.errorDetail && r.nonce !== '');
    assert.ok(acks.length >= 20, `only ${acks.length} ACKs`);
  });
});
