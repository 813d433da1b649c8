import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { snapshotFromBootstrap, TYPE_URLS } from '../../../src/config';
import type { Bootstrap, ClusterLoadAssignment, ConfigSnapshot } from '../../../src/config/model';
import { startDynamicConfig } from '../../../src/server/dynamic-config';
import { XdsServer } from '../../../src/xds/xds-server';
import { waitFor as until } from '../../integration/harness';

const cla = (name: string, ...ports: number[]) => ({
  cluster_name: name,
  endpoints: [{ lb_endpoints: ports.map((p) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } })) }],
});
const edsCluster = (name: string) => ({ name, connect_timeout: '1s', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } } });

function adsBootstrap(port: number, extra: Partial<NonNullable<Bootstrap['dynamic_resources']>> = {}): Bootstrap {
  return {
    node: { id: 'n', cluster: 'c' },
    dynamic_resources: {
      ads_config: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
      cds_config: { ads: {} },
      ...extra,
    },
    static_resources: {
      clusters: [{ name: 'xds', type: 'STATIC', load_assignment: cla('xds', port) as ClusterLoadAssignment }],
    },
  };
}

test('CDS clusters warm on their EDS; endpoint-only changes use publishEndpoints, others a new snapshot version', async () => {
  const server = new XdsServer();
  const port = await server.listen(0);
  server.setResources(TYPE_URLS.cluster, [edsCluster('web')]);
  server.setResources(TYPE_URLS.endpoint, [cla('web', 1001, 1002)]);
  const b = adsBootstrap(port);
  const published: ConfigSnapshot[] = [];
  const eps: Array<[string, ClusterLoadAssignment]> = [];
  const d = startDynamicConfig(b, snapshotFromBootstrap(b, 1), { publish: (s) => published.push(s), publishEndpoints: (n, c) => eps.push([n, c]) });
  try {
    await d.ready;
    assert.equal(d.isReady(), true);
    const s = d.current();
    assert.deepEqual(s.clusters.map((c) => c.name), ['xds', 'web']);
    assert.deepEqual(s.endpoints.web.endpoints![0].lb_endpoints!.map((e) => e.endpoint.address.socket_address.port_value), [1001, 1002]);
    assert.equal(s.clusters[1].connect_timeout, '1s');
    // Endpoints only.
    server.setResources(TYPE_URLS.endpoint, [cla('web', 1003)]);
    await until(() => eps.length === 1);
    assert.equal(eps[0][0], 'web');
    assert.equal(eps[0][1].endpoints![0].lb_endpoints![0].endpoint.address.socket_address.port_value, 1003);
    assert.equal(published.length, 0);
    // A new cluster: it is published once its endpoints arrived (warming), with a new version.
    server.setResources(TYPE_URLS.cluster, [edsCluster('web'), edsCluster('api')]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(published.length, 0, 'api is warming: no endpoints yet');
    const dump = d.configDump();
    assert.deepEqual((dump[0].dynamic_warming_clusters as Array<{ cluster: { name: string } }>).map((x) => x.cluster.name), ['api']);
    server.setResources(TYPE_URLS.endpoint, [cla('web', 1003), cla('api', 2001)]);
    await until(() => published.length === 1);
    assert.ok(published[0].version > s.version);
    assert.deepEqual(published[0].clusters.map((c) => c.name), ['xds', 'web', 'api']);
    assert.equal(published[0].endpoints.api.cluster_name, 'api');
    // EDS subscription follows the clusters: both names requested.
    assert.ok(server.requests.some((r) => r.typeUrl === TYPE_URLS.endpoint && [...r.names].sort().join() === 'api,web'));
    // A bad cluster is NACKed and the last good set kept; config_dump shows the error.
    server.setResources(TYPE_URLS.cluster, [edsCluster('web'), { name: 'api', connect_timeout: '1s', type: 'STATIC', load_assignment: cla('api', 70000) }]);
    const nack = await until(() => server.requests.find((r) => r.typeUrl === TYPE_URLS.cluster && r.errorDetail));
    assert.match(nack.errorDetail!.message!, /cluster "api": load_assignment\.endpoints\[0\]\.lb_endpoints\[0\]\.endpoint\.address\.socket_address\.port_value: 70000 must be at most 65535/);
    const cd = d.configDump()[0] as { version_info: string; dynamic_active_clusters: Array<{ cluster?: { name: string }; error_state?: { details: string } }> };
    assert.equal(cd.version_info, nack.versionInfo);
    const api = cd.dynamic_active_clusters.find((x) => x.cluster?.name === 'api')!;
    assert.match(api.error_state!.details, /70000/);
    assert.equal(d.current().clusters.find((c) => c.name === 'api')!.type, 'EDS');
    assert.equal(d.stats.value('cluster_manager.cds.update_rejected'), 1);
    assert.equal(d.stats.value('cluster_manager.cds.update_success'), 2);
    assert.equal(d.stats.value('cluster.web.update_success'), 4); // initial, 1003, re-sent when api was subscribed, api's arrival
    assert.equal(d.stats.value('control_plane.connected_state'), 1);
  } finally {
    d.stop();
    await server.close();
  }
});

test('initial_fetch_timeout bounds readiness when the control plane is down', async () => {
  const b = adsBootstrap(1, { cds_config: { ads: {}, initial_fetch_timeout: '0.200s' } });
  const d = startDynamicConfig(b, snapshotFromBootstrap(b, 1), { publish: () => {}, publishEndpoints: () => {} }, { backoffBaseMs: 50 });
  try {
    const t0 = Date.now();
    await d.ready;
    assert.ok(Date.now() - t0 >= 150);
    assert.equal(d.stats.value('cluster_manager.cds.init_fetch_timeout'), 1);
    assert.deepEqual(d.current().clusters.map((c) => c.name), ['xds']);
  } finally {
    d.stop();
  }
});

test('initial_fetch_timeout is per resource: an EDS cluster listed after a default-timeout one on the same ADS stream still waits only its own', async () => {
  const server = new XdsServer();
  const port = await server.listen(0);
  // web (default 15 s) is answered; ghost (1 s) never is. Listed first, web must not lend ghost its 15 s.
  server.setResources(TYPE_URLS.cluster, [edsCluster('web'), { ...edsCluster('ghost'), eds_cluster_config: { eds_config: { ads: {}, initial_fetch_timeout: '0.300s' } } }]);
  server.setResources(TYPE_URLS.endpoint, [cla('web', 1001)]);
  const b = adsBootstrap(port);
  const d = startDynamicConfig(b, snapshotFromBootstrap(b, 1), { publish: () => {}, publishEndpoints: () => {} });
  try {
    const t0 = Date.now();
    await d.ready;
    assert.ok(Date.now() - t0 < 5000, `ready after ${Date.now() - t0} ms`);
    // ghost's fetch timed out: it is active without endpoints, as Envoy's cluster after its timeout.
    assert.deepEqual(d.current().clusters.map((c) => c.name), ['xds', 'web', 'ghost']);
    assert.equal(d.current().endpoints.ghost, undefined);
  } finally {
    d.stop();
    await server.close();
  }
});

test('a filesystem subscription (path) reloads its file when it is replaced', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xds-path-'));
  const file = path.join(dir, 'eds.yaml');
  const write = (v: string, port: number) => {
    writeFileSync(file + '.tmp', JSON.stringify({ version_info: v, resources: [{ '@type': TYPE_URLS.endpoint, ...cla('web', port) }] }));
    renameSync(file + '.tmp', file);
  };
  write('1', 3001);
  const b: Bootstrap = { static_resources: { clusters: [{ name: 'web', type: 'EDS', eds_cluster_config: { eds_config: { path } as never } }] } };
  (b.static_resources!.clusters![0].eds_cluster_config!.eds_config as { path: string }).path = file;
  const eps: ClusterLoadAssignment[] = [];
  const d = startDynamicConfig(b, snapshotFromBootstrap(b, 1), { publish: () => {}, publishEndpoints: (_n, c) => eps.push(c) });
  try {
    await d.ready;
    assert.equal(d.current().endpoints.web.endpoints![0].lb_endpoints![0].endpoint.address.socket_address.port_value, 3001);
    write('2', 3002);
    await until(() => eps.length === 1);
    assert.equal(eps[0].endpoints![0].lb_endpoints![0].endpoint.address.socket_address.port_value, 3002);
    // A bad file is rejected; the last good endpoints stay.
    write('3', 70000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(eps.length, 1);
    const dump = d.configDump()[3] as { dynamic_endpoint_configs: Array<{ version_info: string; error_state?: { details: string } }> };
    assert.equal(dump.dynamic_endpoint_configs[0].version_info, '2');
    assert.match(dump.dynamic_endpoint_configs[0].error_state!.details, /70000 must be at most 65535/);
  } finally {
    d.stop();
  }
});
