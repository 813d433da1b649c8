/**
 * The xDS client's transport choices: a control plane on a Unix socket (Envoy `pipe` address of the
 * xDS cluster, as Istio's pilot-agent bootstrap), `node` on every request unless
 * `set_node_on_first_message_only`, and the NACK of a response whose resources are of another type.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TYPE_URLS } from '../../../src/config';
import type { Bootstrap, Cluster } from '../../../src/config/model';
import { pipeTarget, resolveConfigSource } from '../../../src/xds/config-source';
import { XdsClient } from '../../../src/xds/xds-client';
import { XdsServer } from '../../../src/xds/xds-server';
import { ResourceCache } from '../../../src/xds/resource-cache';
import type { TypeWatch } from '../../../src/xds/grpc-stream';
import { waitFor as until } from '../../integration/harness';

/** An Istio-style bootstrap: ADS on the static cluster `xds-grpc` whose endpoint is a pipe. */
function pipeBootstrap(socketPath: string, firstOnly?: boolean): Bootstrap {
  return {
    node: { id: 'sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local', cluster: 'pod.ns' },
    dynamic_resources: {
      ads_config: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'xds-grpc' } }], ...(firstOnly === undefined ? {} : { set_node_on_first_message_only: firstOnly }) },
      cds_config: { ads: {} },
    },
    static_resources: {
      clusters: [{ name: 'xds-grpc', type: 'STATIC', load_assignment: { cluster_name: 'xds-grpc', endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: socketPath } } } }] }] } } as unknown as Cluster],
    },
  } as unknown as Bootstrap;
}

function cdsWatch() {
  const cache = new ResourceCache<Cluster>(TYPE_URLS.cluster, 'cluster', true);
  const errors: Array<string | null> = [];
  const w: TypeWatch = {
    typeUrl: TYPE_URLS.cluster,
    names: () => null,
    onResponse: (resources, version) => {
      const r = cache.accept(resources, version);
      const err = typeof r === 'string' ? r : null;
      errors.push(err);
      return err;
    },
  };
  return { w, cache, errors };
}

test('a pipe address of the xDS cluster becomes a unix: target (relative and absolute paths; abstract refused)', () => {
  assert.equal(pipeTarget('./etc/istio/proxy/XDS', 'p'), 'unix:./etc/istio/proxy/XDS');
  assert.equal(pipeTarget('/var/run/xds.sock', 'p'), 'unix:///var/run/xds.sock');
  assert.throws(() => pipeTarget('@xds', 'p'), /abstract socket/);
  const s = resolveConfigSource(pipeBootstrap('./etc/istio/proxy/XDS'), { ads: {} }, 'dynamic_resources.cds_config');
  assert.deepEqual(s, { kind: 'ads', target: 'unix:./etc/istio/proxy/XDS', cluster: 'xds-grpc' });
});

test('ADS over a Unix socket: the client streams from a grpc-js control plane listening on a pipe, node on every request', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attache-xds-pipe-'));
  const sock = path.join(dir, 'XDS');
  const server = new XdsServer();
  await server.listenUnix(sock);
  server.setResources(TYPE_URLS.cluster, [{ name: 'backend', connect_timeout: '1s', load_assignment: { cluster_name: 'backend', endpoints: [] } }]);
  const bootstrap = pipeBootstrap(sock);
  const client = new XdsClient({ node: bootstrap.node });
  const c = cdsWatch();
  try {
    client.subscribe(resolveConfigSource(bootstrap, { ads: {} }, 'dynamic_resources.cds_config'), c.w);
    await until(() => server.requests.length >= 2, 10_000);
    assert.deepEqual([...c.cache.items.keys()], ['backend']);
    const [first, ack] = server.requests;
    assert.equal(first.service, 'ads');
    assert.equal(ack.versionInfo, server.version(TYPE_URLS.cluster));
    for (const r of [first, ack]) assert.deepEqual(r.node, { id: 'sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local', cluster: 'pod.ns' });
  } finally {
    client.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A TCP ADS server holding one cluster `a`, a client for node `n1`, and a CDS watch. */
async function cdsOverTcp() {
  const server = new XdsServer();
  const port = await server.listen(0);
  server.setResources(TYPE_URLS.cluster, [{ name: 'a', connect_timeout: '1s' }]);
  return { server, port, client: new XdsClient({ node: { id: 'n1' } }), c: cdsWatch() };
}

test('set_node_on_first_message_only: true sends node only on the first request of the stream', async () => {
  const { server, port, client, c } = await cdsOverTcp();
  try {
    const src = resolveConfigSource(pipeBootstrap('/unused', true), { ads: {} }, 'x');
    assert.equal(src.kind === 'ads' && src.setNodeOnFirstMessageOnly, true);
    client.subscribe({ ...(src as { kind: 'ads'; cluster: string }), target: `127.0.0.1:${port}` }, c.w);
    await until(() => server.requests.length >= 2);
    const [first, ack] = server.requests;
    assert.deepEqual(first.node, { id: 'n1', cluster: undefined });
    assert.equal(ack.node, undefined);
  } finally {
    client.stop();
    await server.close();
  }
});

test('a CDS response carrying a RouteConfiguration is NACKed ("does not match the message-wide type URL") and the clusters are kept', async () => {
  const { server, port, client, c } = await cdsOverTcp();
  try {
    client.subscribe({ kind: 'ads', target: `127.0.0.1:${port}`, cluster: 'xds' }, c.w);
    await until(() => server.requests.length >= 2);
    const v1 = server.version(TYPE_URLS.cluster);
    server.setResources(TYPE_URLS.cluster, [{ name: 'a', connect_timeout: '1s' }, { '@type': TYPE_URLS.route, name: 'zz', virtual_hosts: [] }]);
    const nack = await until(() => server.requests.find((r) => r.errorDetail));
    assert.equal(nack.versionInfo, v1);
    assert.match(nack.errorDetail!.message!, new RegExp(`^${TYPE_URLS.route.replace(/\./g, '\\.')} does not match the message-wide type URL ${TYPE_URLS.cluster.replace(/\./g, '\\.')} in DiscoveryResponse`));
    assert.deepEqual([...c.cache.items.keys()], ['a']);
    assert.equal(c.cache.version, v1);
    assert.deepEqual(c.cache.rejected?.names, ['zz']);
  } finally {
    client.stop();
    await server.close();
  }
});
