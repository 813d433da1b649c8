import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TYPE_URLS } from '../../../src/config';
import { loadResourceDir } from '../../../src/xds/resource-dir';

test('resource types come from @type or the folder; lists and DiscoveryResponse files work; invalid ones are served as written', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xds-dir-'));
  mkdirSync(path.join(dir, 'endpoints'));
  mkdirSync(path.join(dir, 'clusters'));
  writeFileSync(path.join(dir, 'endpoints', 'a.yaml'), `
- cluster_name: a
  endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } }] }]
- cluster_name: bad
  endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 70000 } } } }] }]
`);
  writeFileSync(path.join(dir, 'clusters', 'c.yaml'), 'name: c\nconnect_timeout: 250ms\ntype: EDS\neds_cluster_config: { eds_config: { ads: {} } }\n');
  writeFileSync(path.join(dir, 'all.json'), JSON.stringify({ version_info: 'x', resources: [{ '@type': 'RouteConfiguration', name: 'r1', virtual_hosts: [] }] }));
  writeFileSync(path.join(dir, 'l.yaml'), '"@type": type.googleapis.com/envoy.config.listener.v3.Listener\nname: l1\naddress: { socket_address: { address: 127.0.0.1, port_value: 1 } }\nfilter_chains: []\n');
  writeFileSync(path.join(dir, 'mystery.yaml'), 'name: m\n');
  const r = loadResourceDir(dir);
  assert.deepEqual(r.byType[TYPE_URLS.endpoint].map((x) => (x as { cluster_name: string }).cluster_name), ['a', 'bad']);
  assert.equal((r.byType[TYPE_URLS.cluster][0] as { connect_timeout: string }).connect_timeout, '0.250s');
  assert.equal((r.byType[TYPE_URLS.route][0] as { name: string }).name, 'r1');
  assert.equal((r.byType[TYPE_URLS.listener][0] as { name: string }).name, 'l1');
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings.join('\n'), /endpoints\/a\.yaml\[1\]: .*70000 must be at most 65535 \(served as written\)/);
  assert.match(r.warnings.join('\n'), /mystery\.yaml\[0\]: unknown resource type/);
});
