import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE_URLS } from '../../../src/config';
import { fromProtoAny, toProtoResource } from '../../../src/xds/proto-json';
import { xdsMethods } from '../../../src/xds/protos';

test('a YAML-form resource survives encode/decode through the DiscoveryResponse serializer', () => {
  const m = xdsMethods().ads;
  const cluster = {
    name: 'web',
    connect_timeout: '0.250s',
    type: 'STATIC',
    per_connection_buffer_limit_bytes: 1024,
    metadata: { filter_metadata: { app: { team: 'a', n: 2 } } },
    load_assignment: { cluster_name: 'web', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 8080 } } }, load_balancing_weight: 3 }] }] },
  };
  const buf = m.responseSerialize({ version_info: '1', type_url: TYPE_URLS.cluster, nonce: 'n', resources: [toProtoResource(TYPE_URLS.cluster, cluster)] });
  const back = m.responseDeserialize(buf);
  const r = back.resources![0] as Record<string, any>;
  assert.equal(r['@type'], TYPE_URLS.cluster);
  assert.deepEqual(r.connect_timeout, { seconds: '0', nanos: 250000000 });
  assert.deepEqual(r.per_connection_buffer_limit_bytes, { value: 1024 });
  assert.equal(r.load_assignment.endpoints[0].lb_endpoints[0].load_balancing_weight.value, 3);
  assert.equal(r.metadata.filter_metadata.app.fields.team.stringValue, 'a');
  // The client side turns the Struct back into JSON.
  fromProtoAny(r);
  assert.deepEqual(r.metadata.filter_metadata.app, { team: 'a', n: 2 });
});
