import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE_URLS, validateResource } from '../../../src/config';
import { ResourceCache } from '../../../src/xds/resource-cache';
import type { Cluster, ClusterLoadAssignment } from '../../../src/config/model';

const cla = (name: string, ...ports: number[]) => ({
  cluster_name: name,
  endpoints: [{ lb_endpoints: ports.map((p) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } })) }],
});

test('validateResource gives proto-loader objects the canonical forms of YAML', () => {
  const decoded = {
    name: 'web',
    type: 'EDS',
    connect_timeout: { seconds: '0', nanos: 250000000 },
    eds_cluster_config: { eds_config: { ads: {} } },
    per_connection_buffer_limit_bytes: { value: 32768 },
    '@type': TYPE_URLS.cluster,
  };
  const { resource } = validateResource<Cluster>(TYPE_URLS.cluster, decoded);
  assert.equal(resource.connect_timeout, '0.250s');
  assert.equal(resource.per_connection_buffer_limit_bytes, 32768);
  assert.equal((resource as unknown as Record<string, unknown>)['@type'], undefined);
});

test('validateResource rewrites v2 forms as the bootstrap loader does', () => {
  const { resource } = validateResource<Cluster>(TYPE_URLS.cluster, {
    name: 'old',
    connect_timeout: '1s',
    type: 'STATIC',
    hosts: [{ socket_address: { address: '127.0.0.1', port_value: 80 } }],
  });
  assert.equal(resource.load_assignment?.endpoints?.[0].lb_endpoints?.[0].endpoint.address.socket_address.port_value, 80);
});

test('an invalid field is an error naming the resource and the field path', () => {
  assert.throws(
    () => validateResource(TYPE_URLS.endpoint, cla('svc', 70000)),
    (e: Error) => /cluster load assignment "svc": endpoints\[0\]\.lb_endpoints\[0\]\.endpoint\.address\.socket_address\.port_value: 70000 must be at most 65535/.test(e.message),
  );
});

test('an Any the decoder could not unpack is rejected', () => {
  const l = {
    name: 'l',
    address: { socket_address: { address: '127.0.0.1', port_value: 1 } },
    filter_chains: [{ filters: [{ name: 'x', typed_config: { type_url: 'type.googleapis.com/foo.Bar', value: 'AAA=' } }] }],
  };
  assert.throws(() => validateResource(TYPE_URLS.listener, l), /listener "l": filter_chains\[0\]\.filters\[0\]\.typed_config/);
});

test('a wildcard cache replaces its set; a rejected response changes nothing and is remembered', () => {
  const c = new ResourceCache<Cluster>(TYPE_URLS.cluster, 'cluster', true);
  const mk = (name: string, t = '1s') => ({ name, connect_timeout: t, type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } } });
  let r = c.accept([mk('a'), mk('b')], 'v1', 1000);
  assert.deepEqual(typeof r === 'string' ? r : r.changed, ['a', 'b']);
  r = c.accept([mk('a', '2s')], 'v2', 2000);
  assert.ok(typeof r !== 'string');
  assert.deepEqual(r.changed, ['a']);
  assert.deepEqual(r.removed, ['b']);
  assert.equal(c.items.get('a')!.version, 'v2');
  const bad = c.accept([mk('a', '3s'), { name: 'c', connect_timeout: 'soon' }], 'v3', 3000);
  assert.equal(typeof bad, 'string');
  assert.match(bad as string, /cluster "c": connect_timeout: expected a duration/);
  assert.equal(c.version, 'v2');
  assert.equal(c.get('a')!.connect_timeout, '2s');
  assert.deepEqual(c.rejected, { version: 'v3', error: bad, timeMs: 3000, names: ['c'] });
  // The next good update clears the error.
  assert.ok(typeof c.accept([mk('a')], 'v4') !== 'string');
  assert.equal(c.rejected, undefined);
});

test('a named cache updates only the names a response carries; duplicates are rejected', () => {
  const c = new ResourceCache<ClusterLoadAssignment>(TYPE_URLS.endpoint, 'cluster load assignment', false);
  c.accept([cla('a', 1), cla('b', 2)], '1');
  const r = c.accept([cla('a', 3)], '2');
  assert.ok(typeof r !== 'string');
  assert.deepEqual(r.removed, []);
  assert.equal(c.get('b')!.endpoints![0].lb_endpoints![0].endpoint.address.socket_address.port_value, 2);
  assert.match(c.accept([cla('a', 1), cla('a', 2)], '3') as string, /duplicate cluster load assignment "a"/);
  c.retain(new Set(['a']));
  assert.deepEqual([...c.items.keys()], ['a']);
});
