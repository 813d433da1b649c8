/**
 * `/stats` parameter validation (Envoy's 400 + usage text) and the EndpointsConfigDump of
 * `/config_dump?include_eds`, built as the process builds it: src/admin buildConfigDump merged with
 * the xDS caches' dynamic dump (src/xds/dump.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAdminServer, type AdminServer } from '../../../src/admin/server';
import type { AdminContext } from '../../../src/admin/context';
import { buildConfigDump } from '../../../src/admin/config-dump';
import { StatsStore } from '../../../src/stats/store';
import { StatsAggregator } from '../../../src/stats/aggregator';
import { TYPE_URLS } from '../../../src/config';
import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from '../../../src/config/model';
import { ResourceCache } from '../../../src/xds/resource-cache';
import { buildDynamicDump, mergeConfigDump } from '../../../src/xds/dump';

const agg = new StatsAggregator();
agg.attachLocal(new StatsStore(), 'w0');

const ep = (port: number) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } });
const caches = {
  cds: new ResourceCache<Cluster>(TYPE_URLS.cluster, 'cluster', true),
  lds: new ResourceCache<Listener>(TYPE_URLS.listener, 'listener', true),
  rds: new ResourceCache<RouteConfiguration>(TYPE_URLS.route, 'route configuration', false),
  eds: new ResourceCache<ClusterLoadAssignment>(TYPE_URLS.endpoint, 'cluster load assignment', false),
};
const accepted = caches.eds.accept([{ cluster_name: 'svc_eds', endpoints: [{ lb_endpoints: [ep(7001)] }] }], 'v7');
assert.notEqual(typeof accepted, 'string');

const staticClusters = [
  { name: 'backend', type: 'STATIC', load_assignment: { cluster_name: 'backend', endpoints: [{ lb_endpoints: [ep(8080)] }] } },
  { name: 'dns', type: 'STRICT_DNS', load_assignment: { cluster_name: 'dns', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'localhost', port_value: 9 } } } }] }] } },
  { name: 'svc_eds', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } } },
] as Cluster[];
const resolvedDns: ClusterLoadAssignment = { cluster_name: 'dns', endpoints: [{ lb_endpoints: [ep(9)] }] };

const ctx = {
  stats: () => agg.snapshot(),
  clusters: () => [],
  listeners: () => [],
  configDump: () =>
    mergeConfigDump(
      buildConfigDump({ bootstrap: {}, bootstrapLoadedMs: 0, staticClusters, staticListeners: [], staticEndpoints: [resolvedDns, { cluster_name: 'svc_eds', endpoints: [{ lb_endpoints: [ep(7001)] }] }] }),
      buildDynamicDump(caches, () => true),
    ),
  serverInfo: () => ({ version: 'attache/0.1.0', state: 'LIVE', startTimeMs: Date.now(), commandLineOptions: {} }),
  logLevels: () => ({ level: 'info', components: {} }),
  setLogLevel: () => undefined,
  quit: () => undefined,
  drainListeners: () => undefined,
  healthcheckFail: () => undefined,
  healthcheckOk: () => undefined,
  resetCounters: () => undefined,
  reopenLogs: async () => [],
} as unknown as AdminContext;

let admin: AdminServer;
before(async () => {
  admin = await startAdminServer(ctx, { address: '127.0.0.1', port: 0 });
});
after(async () => {
  await admin.close();
});

async function get(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${admin.port}${path}`);
  return { status: res.status, body: await res.text() };
}

test('/stats answers 400 with Envoy\'s usage text for an unknown format or histogram_buckets', async () => {
  assert.deepEqual(await get('/stats?format=xml'), { status: 400, body: 'usage: /stats?format=(html|active-html|json|prometheus|text)\n\n' });
  assert.deepEqual(await get('/stats?format=json&histogram_buckets=bogus'), { status: 400, body: 'usage: /stats?histogram_buckets=(cumulative|disjoint|detailed|summary)\n' });
  assert.deepEqual(await get('/stats?histogram_buckets=bogus'), { status: 400, body: 'usage: /stats?histogram_buckets=(cumulative|disjoint|detailed|summary)\n' });
  for (const ok of ['/stats?format=text', '/stats?format=json&histogram_buckets=cumulative', '/stats?format=json&histogram_buckets=summary', '/stats?format=prometheus', '/stats']) {
    assert.equal((await get(ok)).status, 200, ok);
  }
});

test('/config_dump?include_eds has an EndpointsConfigDump: static clusters\' endpoints and the EDS assignments with their version', async () => {
  const plain = JSON.parse((await get('/config_dump')).body) as { configs: Array<Record<string, unknown>> };
  assert.ok(!plain.configs.some((c) => String(c['@type']).endsWith('EndpointsConfigDump')));
  const j = JSON.parse((await get('/config_dump?include_eds')).body) as { configs: Array<Record<string, unknown>> };
  const eds = j.configs.find((c) => c['@type'] === 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump') as {
    static_endpoint_configs: Array<{ endpoint_config: ClusterLoadAssignment & { '@type': string } }>;
    dynamic_endpoint_configs: Array<{ version_info: string; endpoint_config: ClusterLoadAssignment & { '@type': string }; last_updated: string }>;
  };
  assert.ok(eds, 'EndpointsConfigDump present');
  assert.deepEqual(eds.static_endpoint_configs.map((e) => [e.endpoint_config.cluster_name, e.endpoint_config.endpoints![0].lb_endpoints![0].endpoint!.address.socket_address.port_value]), [['backend', 8080], ['dns', 9]]);
  assert.equal(eds.static_endpoint_configs[0].endpoint_config['@type'], 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment');
  assert.deepEqual(eds.dynamic_endpoint_configs.map((e) => [e.version_info, e.endpoint_config.cluster_name]), [['v7', 'svc_eds']]);
  assert.match(eds.dynamic_endpoint_configs[0].last_updated, /^\d{4}-\d\d-\d\dT/);
  const r = JSON.parse((await get('/config_dump?include_eds&resource=dynamic_endpoint_configs')).body) as { configs: Array<Record<string, unknown>> };
  assert.deepEqual(r.configs.map((c) => [c['@type'], (c.endpoint_config as ClusterLoadAssignment).cluster_name]), [['type.googleapis.com/envoy.admin.v3.EndpointsConfigDump.DynamicEndpointConfig', 'svc_eds']]);
  // Envoy adds the endpoints only with include_eds: without it the field is not in the dump.
  assert.equal((await get('/config_dump?resource=dynamic_endpoint_configs')).status, 404);
});
