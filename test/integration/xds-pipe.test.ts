/**
 * Istio's pilot-agent writes a bootstrap whose `xds-grpc` cluster reaches the control plane over a
 * Unix socket (`pipe: { path: ./etc/istio/proxy/XDS }`): attache fetches LDS/CDS/EDS over it and
 * serves. A pipe endpoint in any other cluster (Istio's sds-grpc, an HTTP upstream) is skipped with
 * a warning naming file and line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TYPE_URLS } from '../../src/config';
import { XdsServer } from '../../src/xds/xds-server';
import { runAttache, startProxy, startUpstream, waitFor, writeConfig } from './harness';
import { cla, edsCluster, freePort, get, listener } from './xds-helpers';

const bootstrap = (socketPath: string, extraCluster = '') => `node: { id: "sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local", cluster: pod.ns }
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
dynamic_resources:
  ads_config: { api_type: GRPC, transport_api_version: V3, grpc_services: [{ envoy_grpc: { cluster_name: xds-grpc } }] }
  lds_config: { ads: {}, resource_api_version: V3 }
  cds_config: { ads: {}, resource_api_version: V3 }
static_resources:
  clusters:
  - name: xds-grpc
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }
    load_assignment:
      cluster_name: xds-grpc
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: ${socketPath} } } } }] }]
${extraCluster}`;

test('the xDS cluster on a Unix socket (Istio bootstrap): listeners, clusters and endpoints arrive over it and serve', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attache-pipe-'));
  mkdirSync(path.join(dir, 'proxy'));
  const socketPath = path.join(dir, 'proxy', 'XDS');
  const up = await startUpstream('via-pipe');
  const server = new XdsServer();
  await server.listenUnix(socketPath);
  const port = await freePort();
  server.setResources(TYPE_URLS.cluster, [edsCluster('web')]);
  server.setResources(TYPE_URLS.endpoint, [cla('web', [up.port])]);
  server.setResources(TYPE_URLS.listener, [listener('inbound', port, { cluster: 'web' })]);
  // As Istio's bootstrap, with its sds-grpc cluster on another Unix socket (unused: no TLS here).
  const sds = `  - name: sds-grpc
    type: STATIC
    load_assignment: { cluster_name: sds-grpc, endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: ./var/run/secrets/workload-spiffe-uds/socket } } } }] }] }
`;
  const proxy = await startProxy(['-c', writeConfig(bootstrap(socketPath, sds)), '--concurrency', '1']);
  try {
    assert.equal(proxy.ports.inbound, port);
    const r = await waitFor(async () => {
      const x = await get(port);
      return x.body === 'via-pipe' ? x : null;
    }, 5000, 'request through the listener from the pipe');
    assert.equal(r.status, 200);
  } finally {
    await proxy.stop();
    await server.close();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a pipe endpoint in another cluster (Istio's sds-grpc) is skipped with a warning naming file, line and field", async () => {
  const extra = `  - name: app
    type: STATIC
    load_assignment:
      cluster_name: app
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: /tmp/app.sock } } } }] }]
`;
  const file = writeConfig(bootstrap('/tmp/xds.sock', extra));
  const r = await runAttache(['-c', file, '--mode', 'validate']);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.match(out, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:24:\\d+`)); // the endpoint line of cluster app
  assert.match(out, /static_resources\.clusters\[1\]\.load_assignment\.endpoints\[0\]\.lb_endpoints\[0\]\.endpoint\.address\.pipe/);
  assert.match(out, /pipe endpoint of cluster 'app' skipped/);
});
