/**
 * Filesystem subscriptions (EDS from a file) in the Kubernetes ConfigMap shape: the file is a
 * symlink into a `..data` directory that is swapped atomically; attache follows each swap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { httpGet, startProxy, startUpstream, v3Config, waitFor, writeConfig } from './harness';

function cla(port: number): string {
  return `version_info: "v${port}"
resources:
- "@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment
  cluster_name: svc
  endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } } }] }]
`;
}

test('EDS from a file behind a ConfigMap-style symlink: atomic ..data swaps are followed', async () => {
  const a = await startUpstream('a');
  const b = await startUpstream('b');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attache-cm-'));
  const version = (name: string, port: number) => {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, 'eds.yaml'), cla(port));
  };
  version('v1', a.port);
  fs.symlinkSync('v1', path.join(dir, '..data'));
  fs.symlinkSync('..data/eds.yaml', path.join(dir, 'eds.yaml'));
  const yaml = v3Config({
    clusters: {},
    routes: '- match: { prefix: "/" }\n  route: { cluster: svc }',
    rawClusters: `- name: svc
  type: EDS
  eds_cluster_config:
    eds_config: { path_config_source: { path: ${path.join(dir, 'eds.yaml')} }, resource_api_version: V3 }`,
  });
  const proxy = await startProxy(['-c', writeConfig(yaml), '--concurrency', '1']);
  try {
    assert.equal((await httpGet(proxy.port, '/')).body, 'a');
    // The ConfigMap update: a new version directory, then ..data swapped with a rename.
    version('v2', b.port);
    fs.symlinkSync('v2', path.join(dir, '..data_tmp'));
    fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    await waitFor(async () => (await httpGet(proxy.port, '/')).body === 'b', 5000, 'endpoints from the swapped ConfigMap');
  } finally {
    await proxy.stop();
    await a.close();
    await b.close();
  }
});
