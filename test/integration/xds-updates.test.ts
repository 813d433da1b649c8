/**
 * xDS updates as a mesh control plane sends them, against attache as a child process and the
 * in-process control plane (src/xds/xds-server): an update of an active cluster or listener that
 * has to warm (the active version serves meanwhile), and responses over grpc-js's default 4 MiB
 * message limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { httpGet, startProxy, startUpstream, waitFor, writeConfig, type Proxy, type Upstream } from './harness';
import { TYPE_URLS } from '../../src/config';
import { XdsServer } from '../../src/xds/xds-server';
import { adsBootstrap, cla, edsCluster, freePort, get, listener, routeConfig, stat } from './xds-helpers';

async function withAds(fn: (ctx: { server: XdsServer; proxy: Proxy; a: Upstream; b: Upstream; port: number }) => Promise<void>): Promise<void> {
  const [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
  const server = new XdsServer();
  const xdsPort = await server.listen(0);
  const port = await freePort();
  server.setResources(TYPE_URLS.cluster, [edsCluster('web')]);
  server.setResources(TYPE_URLS.endpoint, [cla('web', [a.port])]);
  server.setResources(TYPE_URLS.route, [routeConfig('r1', 'web')]);
  server.setResources(TYPE_URLS.listener, [listener('l1', port, { rds: 'r1' })]);
  let proxy: Proxy | undefined;
  try {
    proxy = await startProxy(['-c', writeConfig(adsBootstrap(xdsPort)), '--concurrency', '1']);
    assert.equal((await get(port)).body, 'a');
    await fn({ server, proxy, a, b, port });
  } finally {
    await proxy?.stop();
    await server.close();
    await a.close();
    await b.close();
  }
}

/** Statuses and bodies of requests sent for `ms`, one after another, on new connections. */
async function during(port: number, ms: number): Promise<string[]> {
  const out: string[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = await get(port);
    out.push(`${r.status} ${r.body}`);
  }
  return out;
}

test('an updated cluster that warms (new EDS service name, endpoints not sent yet): the active version serves until the new one is warm', async () => {
  await withAds(async ({ server, proxy, b, port }) => {
    server.setResources(TYPE_URLS.cluster, [{ ...edsCluster('web'), eds_cluster_config: { service_name: 'web-v2', eds_config: { ads: {}, resource_api_version: 'V3' } } }]);
    await waitFor(async () => (await stat(proxy.adminPort, 'cluster_manager.warming_clusters')) === 1, 5000, 'web-v2 warming');
    const meanwhile = await during(port, 600);
    assert.deepEqual([...new Set(meanwhile)], ['200 a'], 'the active cluster serves while its update warms');
    server.setResources(TYPE_URLS.endpoint, [cla('web', [b.port]), cla('web-v2', [b.port])]);
    await waitFor(async () => (await get(port)).body === 'b', 5000, 'the warmed cluster serves');
    assert.equal(await stat(proxy.adminPort, 'cluster_manager.warming_clusters'), 0);
  });
});

test('an updated listener that warms (new RDS name, routes not sent yet): the active listener serves until the new one is warm', async () => {
  await withAds(async ({ server, proxy, a, b, port }) => {
    server.setResources(TYPE_URLS.listener, [listener('l1', port, { rds: 'r2' })]);
    await waitFor(async () => server.requests.some((r) => r.typeUrl === TYPE_URLS.route && r.names.includes('r2')), 5000, 'r2 subscribed');
    const meanwhile = await during(port, 600);
    assert.deepEqual([...new Set(meanwhile)], ['200 a'], 'the active listener and its routes serve while the update warms');
    server.setResources(TYPE_URLS.cluster, [edsCluster('web'), edsCluster('api')]);
    server.setResources(TYPE_URLS.endpoint, [cla('web', [a.port]), cla('api', [b.port])]);
    server.setResources(TYPE_URLS.route, [routeConfig('r2', 'api')]);
    await waitFor(async () => (await get(port)).body === 'b', 5000, 'the warmed listener serves (r2 → api)');
    assert.equal(await stat(proxy.adminPort, 'listener_manager.listener_modified'), 1);
    assert.equal((await stat(proxy.adminPort, 'listener_manager.listener_removed')) ?? 0, 0, 'modified in place, not removed and added');
  });
});

test('an xDS response over 4 MiB (a large RDS) is applied, not refused by the gRPC client', async () => {
  await withAds(async ({ server, a, b, port }) => {
    server.setResources(TYPE_URLS.cluster, [edsCluster('web'), edsCluster('api')]);
    server.setResources(TYPE_URLS.endpoint, [cla('web', [a.port]), cla('api', [b.port])]);
    // 45,000 routes, about 6 MB serialised (over the 4 MiB default); the matching one is last.
    const routes: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 45_000; i++) routes.push({ match: { prefix: `/svc-${i}-${'p'.repeat(100)}/` }, route: { cluster: 'web' } });
    routes.push({ match: { prefix: '/' }, route: { cluster: 'api' } });
    server.setResources(TYPE_URLS.route, [{ name: 'r1', virtual_hosts: [{ name: 'all', domains: ['*'], routes }] }]);
    await waitFor(async () => (await get(port)).body === 'b', 20_000, 'the large route configuration applied');
  });
});

/** A kept-alive raw connection: sends GETs one at a time, reads each Content-Length response. */
async function keptAlive(port: number): Promise<{ get(): Promise<{ body: string; close: boolean }>; closed: Promise<void> }> {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  let buf = '';
  let waiter: (() => void) | null = null;
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    waiter?.();
  });
  sock.on('error', () => {});
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  return {
    closed,
    async get() {
      sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        const m = end === -1 ? null : /\r\ncontent-length: (\d+)/i.exec(buf.slice(0, end + 2));
        if (m !== null && buf.length >= end + 4 + Number(m[1])) {
          const head = buf.slice(0, end);
          const body = buf.slice(end + 4, end + 4 + Number(m[1]));
          buf = buf.slice(end + 4 + Number(m[1]));
          return { body, close: /\r\nconnection: close/i.test(head) };
        }
        await new Promise<void>((r) => (waiter = r));
      }
    },
  };
}

test('a modified listener drains its open connections over --drain-time-s; an unrelated update leaves them alone', async () => {
  const [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
  const server = new XdsServer();
  const xdsPort = await server.listen(0);
  const port = await freePort();
  server.setResources(TYPE_URLS.cluster, [edsCluster('web'), edsCluster('api')]);
  server.setResources(TYPE_URLS.endpoint, [cla('web', [a.port]), cla('api', [b.port])]);
  server.setResources(TYPE_URLS.listener, [listener('l1', port, { cluster: 'web' })]);
  let proxy: Proxy | undefined;
  try {
    proxy = await startProxy(['-c', writeConfig(adsBootstrap(xdsPort)), '--concurrency', '1', '--drain-time-s', '1', '--drain-strategy', 'immediate']);
    const busy = await keptAlive(port);
    const idle = await keptAlive(port);
    assert.deepEqual(await busy.get(), { body: 'a', close: false });
    assert.deepEqual(await idle.get(), { body: 'a', close: false });
    // A CDS change publishes a new snapshot with the same listener: its connections go on.
    server.setResources(TYPE_URLS.cluster, [edsCluster('web'), edsCluster('api'), edsCluster('other')]);
    await waitFor(async () => (await stat(proxy!.adminPort, 'cluster_manager.cds.update_success')) === 2, 5000, 'CDS applied');
    await new Promise((r) => setTimeout(r, 1300));
    assert.deepEqual(await busy.get(), { body: 'a', close: false }, 'an unrelated update does not drain the listener');
    // The listener itself changes (its inline route now goes to api).
    server.setResources(TYPE_URLS.listener, [listener('l1', port, { cluster: 'api' })]);
    await waitFor(async () => (await get(port)).body === 'b', 5000, 'new connections get the new listener config');
    // The old connection answers its next request with its own config, and says it closes
    // (--drain-strategy immediate; gradual spreads that over the drain time).
    assert.deepEqual(await busy.get(), { body: 'a', close: true });
    await busy.closed;
    // The idle one is closed when the drain time is over.
    const t0 = Date.now();
    await idle.closed;
    assert.ok(Date.now() - t0 < 2000, 'the idle connection was closed at the end of the drain time');
  } finally {
    await proxy?.stop();
    await server.close();
    await a.close();
    await b.close();
  }
});

test('a cluster removed over CDS takes its stats with it (workers and main thread); added again, it starts from zero', async () => {
  await withAds(async ({ server, proxy, a, port }) => {
    const lines = async (prefix: string): Promise<string[]> =>
      (await httpGet(proxy.adminPort, '/stats')).body.split('\n').filter((l) => l.startsWith(prefix));
    // Traffic through web, then web replaced by web2 (route too).
    for (let i = 0; i < 3; i++) assert.equal((await get(port)).body, 'a');
    assert.ok((await lines('cluster.web.')).length > 40);
    server.setResources(TYPE_URLS.endpoint, [cla('web', [a.port]), cla('web2', [a.port])]);
    server.setResources(TYPE_URLS.cluster, [edsCluster('web'), edsCluster('web2')]);
    server.setResources(TYPE_URLS.route, [routeConfig('r1', 'web2')]);
    await waitFor(async () => (await get(port)).status === 200 && (await stat(proxy.adminPort, 'cluster.web2.upstream_rq_total')) !== undefined, 5000, 'web2 serves');
    server.setResources(TYPE_URLS.cluster, [edsCluster('web2')]);
    server.setResources(TYPE_URLS.endpoint, [cla('web2', [a.port])]);
    await waitFor(async () => (await lines('cluster.web.')).length === 0, 5000, 'cluster.web.* gone from /stats');
    assert.ok((await lines('cluster.web2.')).length > 40);
    // Back again: its counters start at zero.
    server.setResources(TYPE_URLS.cluster, [edsCluster('web2'), edsCluster('web')]);
    server.setResources(TYPE_URLS.endpoint, [cla('web2', [a.port]), cla('web', [a.port])]);
    server.setResources(TYPE_URLS.route, [routeConfig('r1', 'web')]);
    await waitFor(async () => (await get(port)).status === 200 && (await stat(proxy.adminPort, 'cluster.web.upstream_rq_total')) !== undefined, 5000, 'web back');
    assert.ok(((await stat(proxy.adminPort, 'cluster.web.upstream_rq_total')) ?? 99) <= 2, 'counted from zero');
  });
});
