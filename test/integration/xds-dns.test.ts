/**
 * STRICT_DNS / LOGICAL_DNS clusters delivered over CDS: the main thread resolves them (DnsDiscovery,
 * as for static DNS clusters), they warm until the first resolution, then traffic flows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startProxy, startUpstream, waitFor, writeConfig, httpGet, type Proxy } from './harness';
import { TYPE_URLS } from '../../src/config';
import { XdsServer } from '../../src/xds/xds-server';
import { adsBootstrap, edsCluster, cla, freePort, get, listener, routeConfig, stat } from './xds-helpers';

/** A DNS cluster for `localhost:port`, IPv4 only (tests stay on 127.0.0.1). */
function dnsCluster(name: string, type: 'STRICT_DNS' | 'LOGICAL_DNS', port: number): Record<string, unknown> {
  return {
    name,
    type,
    connect_timeout: '1s',
    dns_lookup_family: 'V4_ONLY',
    dns_refresh_rate: '1s',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'localhost', port_value: port } } } }] }] },
  };
}

test('CDS delivers a STRICT_DNS cluster for localhost: resolved and serving at startup; a LOGICAL_DNS cluster added at run time warms, then takes a route', async () => {
  const [a, b, c] = await Promise.all([startUpstream('a'), startUpstream('b'), startUpstream('c')]);
  const server = new XdsServer();
  const xdsPort = await server.listen(0);
  const p1 = await freePort();
  server.setResources(TYPE_URLS.cluster, [dnsCluster('dns_a', 'STRICT_DNS', a.port)]);
  server.setResources(TYPE_URLS.route, [routeConfig('r1', 'dns_a')]);
  server.setResources(TYPE_URLS.listener, [listener('l1', p1, { rds: 'r1' })]);
  let proxy: Proxy | undefined;
  try {
    proxy = await startProxy(['-c', writeConfig(adsBootstrap(xdsPort)), '--concurrency', '2']);
    // The initial fetch waited for the first resolution: the first request is served.
    assert.deepEqual(await get(p1), { status: 200, body: 'a' });
    const clusters = await httpGet(proxy.adminPort, '/clusters');
    assert.match(clusters.body, new RegExp(`^dns_a::127\\.0\\.0\\.1:${a.port}::`, 'm'));
    assert.match(clusters.body, new RegExp(`^dns_a::127\\.0\\.0\\.1:${a.port}::hostname::localhost$`, 'm'));

    // A LOGICAL_DNS cluster (and an EDS one) arrive over CDS at run time; the route moves to it.
    server.setResources(TYPE_URLS.cluster, [dnsCluster('dns_a', 'STRICT_DNS', a.port), dnsCluster('dns_b', 'LOGICAL_DNS', b.port), edsCluster('eds_c')]);
    server.setResources(TYPE_URLS.endpoint, [cla('eds_c', [c.port])]);
    server.setResources(TYPE_URLS.route, [routeConfig('r1', 'dns_b')]);
    await waitFor(async () => (await get(p1)).body === 'b', 5000, 'route to dns_b');
    const after = await Promise.all(Array.from({ length: 6 }, () => get(p1)));
    assert.deepEqual(after.map((r) => `${r.status} ${r.body}`), Array(6).fill('200 b'));

    // The DNS cluster is removed with its route: the old one still serves.
    server.setResources(TYPE_URLS.route, [routeConfig('r1', 'dns_a')]);
    server.setResources(TYPE_URLS.cluster, [dnsCluster('dns_a', 'STRICT_DNS', a.port), edsCluster('eds_c')]);
    await waitFor(async () => (await get(p1)).body === 'a', 5000, 'route back to dns_a');
    await waitFor(async () => !(await httpGet(proxy!.adminPort, '/clusters')).body.includes('dns_b::'), 5000, 'dns_b removed');
    assert.equal(await stat(proxy.adminPort, 'cluster_manager.cds.update_success'), 3);
  } finally {
    await proxy?.stop();
    await server.close();
    for (const u of [a, b, c]) await u.close();
  }
});
