import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { startAdminServer, type AdminServer } from '../../../src/admin/server';
import type { AdminContext, ServerState } from '../../../src/admin/context';
import { buildConfigDump } from '../../../src/admin/config-dump';
import { StatsStore } from '../../../src/stats/store';
import { StatsAggregator } from '../../../src/stats/aggregator';
import { clusterStats, httpConnManagerStats, listenerStats } from '../../../src/stats/common-stats';
import type { LogLevel } from '../../../src/common/logger';

const store = new StatsStore();
const agg = new StatsAggregator();
agg.attachLocal(store, 'w0');
const cs = clusterStats(store, 'backend');
const hs = httpConnManagerStats(store, 'ingress_http');
listenerStats(store, '0.0.0.0_10000').downstream_cx_total.inc(3);
cs.upstream_rq_total.inc(5);
cs.recordResponse(200);
cs.recordResponse(200);
cs.recordResponse(503);
cs.upstream_cx_active.set(2);
hs.downstream_rq_total.inc(7);
hs.recordResponse(200);
for (const v of [1, 2, 3, 40, 700]) cs.upstream_rq_time.record(v);

const calls: string[] = [];
let state: ServerState = 'LIVE';
const levels: { level: LogLevel; components: Record<string, LogLevel> } = { level: 'info', components: {} };
const ctx: AdminContext = {
  stats: () => agg.snapshot(),
  clusters: () => [
    {
      name: 'backend',
      addedViaApi: false,
      circuitBreakers: {
        default: { max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 },
        high: { max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 },
      },
      hosts: [
        {
          address: '127.0.0.1',
          port: 8080,
          counters: { cx_total: 4, rq_total: 9, cx_connect_fail: 0 },
          gauges: { cx_active: 2, rq_active: 0 },
          healthFlags: 'healthy',
          weight: 1,
        },
      ],
    },
  ],
  listeners: () => [{ name: 'listener_0', address: '0.0.0.0', port: 10000 }],
  configDump: () =>
    buildConfigDump({
      bootstrap: { admin: { address: { socket_address: { address: '127.0.0.1', port_value: 9901 } } } },
      staticClusters: [{ name: 'backend', connect_timeout: '0.25s' }, { name: 'other' }],
      staticListeners: [{ name: 'listener_0', address: { socket_address: { address: '0.0.0.0', port_value: 10000 } }, filter_chains: [] }],
    }),
  serverInfo: () => ({ version: 'attache/0.1.0', state, startTimeMs: Date.now() - 3000, commandLineOptions: { concurrency: 2 } }),
  logLevels: () => levels,
  setLogLevel: (c, l) => {
    if (c === undefined) levels.level = l;
    else levels.components[c] = l;
  },
  quit: () => calls.push('quit'),
  drainListeners: (o) => calls.push(`drain:${o.graceful}`),
  healthcheckFail: () => calls.push('hc-fail'),
  healthcheckOk: () => calls.push('hc-ok'),
  resetCounters: () => {
    calls.push('reset');
    agg.resetCounters();
  },
  reopenLogs: async () => {
    calls.push('reopen');
    return [];
  },
};

let admin: AdminServer;
before(async () => {
  admin = await startAdminServer(ctx, { address: '127.0.0.1', port: 0 });
});
after(async () => {
  await admin.close();
});

async function get(path: string, method = 'GET'): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(`http://127.0.0.1:${admin.port}${path}`, { method });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

test('/ready is 200 LIVE, 503 otherwise', async () => {
  assert.deepEqual(await get('/ready').then((r) => [r.status, r.body]), [200, 'LIVE\n']);
  state = 'DRAINING';
  assert.deepEqual(await get('/ready').then((r) => [r.status, r.body]), [503, 'DRAINING\n']);
  state = 'LIVE';
});

test('/server_info', async () => {
  const r = await get('/server_info');
  const j = JSON.parse(r.body);
  assert.equal(j.state, 'LIVE');
  assert.equal(j.version, 'attache/0.1.0');
  assert.equal(j.command_line_options.concurrency, 2);
  assert.match(j.uptime_current_epoch, /^\d+s$/);
});

test('/stats text: sorted name: value, histogram quantile line, filter and usedonly', async () => {
  const r = await get('/stats');
  assert.equal(r.status, 200);
  const lines = r.body.trimEnd().split('\n');
  assert.ok(lines.includes('cluster.backend.upstream_rq_total: 5'));
  assert.ok(lines.includes('cluster.backend.upstream_rq_503: 1'));
  assert.ok(lines.includes('cluster.backend.upstream_cx_active: 2'));
  const scalars = lines.filter((l) => !/P0\(|No recorded values/.test(l)).map((l) => l.split(':')[0]);
  assert.deepEqual(scalars, [...scalars].sort());
  const hist = lines.find((l) => l.startsWith('cluster.backend.upstream_rq_time: '));
  assert.equal(hist, 'cluster.backend.upstream_rq_time: P0(nan,1) P25(nan,2) P50(nan,3) P75(nan,40) P90(nan,700) P95(nan,700) P99(nan,700) P99.5(nan,700) P99.9(nan,700) P100(nan,700)');
  assert.ok(lines.includes('http.ingress_http.downstream_rq_time: No recorded values'));

  const f = await get('/stats?filter=' + encodeURIComponent('^cluster\\.backend\\.upstream_rq_\\d+$'));
  assert.deepEqual(f.body.trimEnd().split('\n'), ['cluster.backend.upstream_rq_200: 2', 'cluster.backend.upstream_rq_503: 1']);

  const u = await get('/stats?usedonly&filter=upstream_cx');
  assert.deepEqual(u.body.trimEnd().split('\n'), ['cluster.backend.upstream_cx_active: 2']);

  assert.equal((await get('/stats?filter=' + encodeURIComponent('(?=x)'))).status, 400);
});

test('/stats?format=json follows Envoy shape', async () => {
  const r = await get('/stats?format=json&filter=upstream_rq_time$|upstream_rq_total$');
  assert.match(r.type ?? '', /application\/json/);
  const j = JSON.parse(r.body);
  assert.deepEqual(j.stats[0], { name: 'cluster.backend.upstream_rq_total', value: 5 });
  const h = j.stats[1].histograms;
  assert.deepEqual(h.supported_quantiles, [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100]);
  assert.equal(h.computed_quantiles[0].name, 'cluster.backend.upstream_rq_time');
  assert.deepEqual(h.computed_quantiles[0].values[2], { interval: null, cumulative: 3 });
});

test('/stats/prometheus parses with a Prometheus parser and carries Envoy tags', async () => {
  const r = await get('/stats/prometheus');
  assert.equal(r.status, 200);
  const fams = parsePrometheusTextFormat(r.body);
  const fam = (n: string) => fams.find((f) => f.name === n);
  const total = fam('envoy_cluster_upstream_rq_total');
  assert.equal(total?.type, 'COUNTER');
  assert.deepEqual(total?.metrics, [{ value: '5', labels: { envoy_cluster_name: 'backend' } }]);
  const byCode = fam('envoy_cluster_upstream_rq');
  assert.deepEqual(
    byCode?.metrics.map((m) => [m.labels?.envoy_response_code, m.value]),
    [['200', '2'], ['503', '1']],
  );
  const cls = fam('envoy_http_downstream_rq_xx');
  assert.ok(cls?.metrics.some((m) => m.labels?.envoy_response_code_class === '2' && m.labels.envoy_http_conn_manager_prefix === 'ingress_http' && m.value === '1'));
  assert.deepEqual(fam('envoy_listener_downstream_cx_total')?.metrics, [{ value: '3', labels: { envoy_listener_address: '0.0.0.0_10000' } }]);
  assert.equal(fam('envoy_cluster_upstream_cx_active')?.type, 'GAUGE');
  const h = fam('envoy_cluster_upstream_rq_time');
  assert.equal(h?.type, 'HISTOGRAM');
  // This parser flattens a histogram family's buckets and drops their labels (and the labelled
  // _sum/_count), so labels, _sum and _count are checked on the text itself.
  const m = h!.metrics[0];
  assert.equal(m.buckets?.['1'], '1');
  assert.equal(m.buckets?.['5'], '3');
  assert.equal(m.buckets?.['50'], '4');
  assert.equal(m.buckets?.['1000'], '5');
  assert.equal(m.buckets?.['+Inf'], '5');
  const lines = r.body.split('\n');
  assert.ok(lines.includes('envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="backend",le="0.5"} 0'));
  assert.ok(lines.includes('envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="backend",le="+Inf"} 5'));
  assert.ok(lines.includes('envoy_cluster_upstream_rq_time_sum{envoy_cluster_name="backend"} 746'));
  assert.ok(lines.includes('envoy_cluster_upstream_rq_time_count{envoy_cluster_name="backend"} 5'));
  // Each family has exactly one TYPE line.
  const typeLines = r.body.split('\n').filter((l) => l.startsWith('# TYPE '));
  assert.equal(new Set(typeLines.map((l) => l.split(' ')[2])).size, typeLines.length);
});

test('/clusters text and json', async () => {
  const t = (await get('/clusters')).body.split('\n');
  assert.ok(t.includes('backend::default_priority::max_connections::1024'));
  assert.ok(t.includes('backend::high_priority::max_retries::3'));
  assert.ok(t.includes('backend::added_via_api::false'));
  assert.ok(t.includes('backend::127.0.0.1:8080::cx_active::2'));
  assert.ok(t.includes('backend::127.0.0.1:8080::rq_total::9'));
  assert.ok(t.includes('backend::127.0.0.1:8080::health_flags::healthy'));
  assert.ok(t.includes('backend::127.0.0.1:8080::weight::1'));
  const j = JSON.parse((await get('/clusters?format=json')).body);
  const c = j.cluster_statuses[0];
  assert.equal(c.name, 'backend');
  assert.deepEqual(c.host_statuses[0].address, { socket_address: { address: '127.0.0.1', port_value: 8080 } });
  // Envoy's shape (clusters_handler.cc buildHostStats()): counters then gauges, typed, zero values left out.
  assert.deepEqual(c.host_statuses[0].stats, [
    { type: 'COUNTER', name: 'cx_total', value: 4 },
    { type: 'COUNTER', name: 'rq_total', value: 9 },
    { type: 'GAUGE', name: 'cx_active', value: 2 },
  ]);
  assert.equal(c.host_statuses[0].weight, 1);
  assert.equal(c.host_statuses[0].locality, undefined);
  assert.equal(c.circuit_breakers.thresholds[1].priority, 'HIGH');
});

test('/listeners', async () => {
  assert.equal((await get('/listeners')).body, 'listener_0::0.0.0.0:10000\n');
  const j = JSON.parse((await get('/listeners?format=json')).body);
  assert.deepEqual(j.listener_statuses[0], { name: 'listener_0', local_address: { socket_address: { address: '0.0.0.0', port_value: 10000 } } });
});

test('/config_dump with resource, mask and name_regex', async () => {
  const all = JSON.parse((await get('/config_dump')).body);
  assert.deepEqual(
    all.configs.map((c: { '@type': string }) => c['@type'].split('.').pop()),
    ['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'RoutesConfigDump', 'SecretsConfigDump'],
  );
  assert.equal(all.configs[1].static_clusters[0].cluster['@type'], 'type.googleapis.com/envoy.config.cluster.v3.Cluster');
  const r = JSON.parse((await get('/config_dump?resource=static_clusters&mask=cluster.name')).body);
  assert.deepEqual(r.configs, [
    { '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster', cluster: { name: 'backend' } },
    { '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster', cluster: { name: 'other' } },
  ]);
  const n = JSON.parse((await get('/config_dump?resource=static_clusters&name_regex=^oth')).body);
  assert.equal(n.configs.length, 1);
  assert.equal(n.configs[0].cluster.name, 'other');
  assert.equal((await get('/config_dump?resource=nope')).status, 404);
});

test('mutating endpoints are POST-only (405 otherwise) and call the context', async () => {
  for (const p of ['/quitquitquit', '/healthcheck/fail', '/healthcheck/ok', '/drain_listeners', '/reset_counters', '/logging']) {
    const r = await get(p);
    assert.equal(r.status, 405, p);
    assert.equal(r.body, 'Method GET not allowed, POST required.');
  }
  assert.deepEqual(calls, []);
  assert.equal((await get('/healthcheck/fail', 'POST')).body, 'OK\n');
  assert.equal((await get('/healthcheck/ok', 'POST')).status, 200);
  assert.equal((await get('/drain_listeners?graceful', 'POST')).status, 200);
  assert.equal((await get('/reset_counters', 'POST')).status, 200);
  assert.equal((await get('/quitquitquit', 'POST')).body, 'OK\n');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(calls, ['hc-fail', 'hc-ok', 'drain:true', 'reset', 'quit']);
  const after = await get('/stats?filter=^cluster.backend.upstream_rq_total$');
  assert.equal(after.body, 'cluster.backend.upstream_rq_total: 0\n');
});

test('/logging sets levels and lists every logger', async () => {
  const r = await get('/logging?upstream=trace', 'POST');
  assert.equal(r.status, 200);
  const lines = r.body.split('\n');
  assert.equal(lines[0], 'active loggers:');
  assert.ok(lines.includes('  upstream: trace'));
  assert.ok(lines.includes('  router: info'));
  assert.ok(lines.includes('  pool: info'));
  assert.equal(levels.components.upstream, 'trace');
  // level=<level> changes every logger, per-component ones included (as Envoy).
  const all = await get('/logging?level=debug', 'POST');
  assert.ok(all.body.split('\n').includes('  upstream: debug'));
  assert.equal(levels.level, 'debug');
  // paths=name:level,... changes several.
  const p = await get('/logging?paths=http:warning,router:error', 'POST');
  assert.equal(p.status, 200);
  assert.deepEqual([levels.components.http, levels.components.router], ['warning', 'error']);
  assert.equal((await get('/logging?level=loud', 'POST')).status, 400);
});

test('/logging rejects unknown logger names with 400 and changes nothing', async () => {
  const before = JSON.stringify(levels);
  const r = await get('/logging?nosuchcomp=debug', 'POST');
  assert.equal(r.status, 400);
  assert.match(r.body, /^error: unknown logger name "nosuchcomp"\n\nusage: \/logging\?<name>=<level>/);
  assert.ok(r.body.includes('\nactive loggers:\n  admin: '));
  assert.equal(levels.components.nosuchcomp, undefined);
  // Validated before anything is applied: a valid name next to an unknown one is not changed.
  assert.equal((await get('/logging?paths=upstream:off,bogus:debug', 'POST')).status, 400);
  assert.equal((await get('/logging?paths=upstream', 'POST')).status, 400);
  assert.equal(JSON.stringify(levels), before);
});

test('help, memory, runtime and unknown paths', async () => {
  const h = await get('/');
  assert.match(h.body, /^admin commands are:\n/);
  assert.match(h.body, /  \/stats\/prometheus: /);
  const m = JSON.parse((await get('/memory')).body);
  assert.ok(Number(m.allocated) > 0);
  assert.deepEqual(JSON.parse((await get('/runtime')).body), { layers: [], entries: {} });
  const u = await get('/nope');
  assert.equal(u.status, 404);
  assert.match(u.body, /^invalid path\./);
});
