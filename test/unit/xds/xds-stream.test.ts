import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE_URLS } from '../../../src/config';
import { XdsClient } from '../../../src/xds/xds-client';
import { XdsServer, type RecordedRequest } from '../../../src/xds/xds-server';
import type { TypeWatch } from '../../../src/xds/grpc-stream';
import { waitFor as until } from '../../integration/harness';

const cla = (name: string, port: number) => ({
  cluster_name: name,
  endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }],
});

function edsWatch(names: string[], reject: (r: unknown[]) => string | null = () => null) {
  const got: Array<{ version: string; resources: unknown[] }> = [];
  const w: TypeWatch = {
    typeUrl: TYPE_URLS.endpoint,
    names: () => names,
    onResponse: (resources, version) => {
      got.push({ version, resources });
      return reject(resources);
    },
  };
  return { w, got, names };
}

for (const kind of ['ads', 'grpc'] as const) {
  test(`${kind}: node on every request, ACK with version and nonce, NACK keeping the previous version`, async () => {
    const server = new XdsServer();
    const port = await server.listen(0);
    server.setResources(TYPE_URLS.endpoint, [cla('a', 1), cla('b', 2)]);
    const client = new XdsClient({ node: { id: 'n1', cluster: 'c1' } });
    const e = edsWatch(['a'], (rs) => ((rs[0] as { endpoints: Array<{ lb_endpoints: unknown[] }> }).endpoints[0].lb_endpoints.length > 1 ? 'cluster load assignment "a": too many' : null));
    try {
      const sub = client.subscribe({ kind, target: `127.0.0.1:${port}`, cluster: 'xds' }, e.w);
      const reqs = () => server.requests.filter((r) => r.typeUrl === TYPE_URLS.endpoint);
      await until(() => reqs().length >= 2);
      const [first, ack] = reqs();
      assert.equal(first.service, kind === 'ads' ? 'ads' : 'eds');
      assert.deepEqual(first.node, { id: 'n1', cluster: 'c1' });
      assert.deepEqual([first.versionInfo, first.nonce, first.names], ['', '', ['a']]);
      assert.deepEqual(e.got.map((g) => g.resources.length), [1]);
      // Envoy's default set_node_on_first_message_only: false (config_source.proto): node on every request.
      assert.deepEqual(ack.node, { id: 'n1', cluster: 'c1' });
      assert.equal(ack.versionInfo, server.version(TYPE_URLS.endpoint));
      assert.notEqual(ack.nonce, '');
      assert.equal(ack.errorDetail, undefined);
      const v1 = ack.versionInfo;
      // A bad update: NACK with the previous version and the error.
      server.setResources(TYPE_URLS.endpoint, [{ ...cla('a', 1), endpoints: [{ lb_endpoints: [cla('a', 1).endpoints[0].lb_endpoints[0], cla('a', 3).endpoints[0].lb_endpoints[0]] }] }]);
      const nack = await until(() => reqs().find((r) => r.errorDetail));
      assert.equal(nack.versionInfo, v1);
      assert.equal(nack.errorDetail!.code, 13); // INTERNAL, as Envoy's handleBadResponse
      assert.equal(nack.errorDetail!.message, 'cluster load assignment "a": too many');
      // Subscribing one more name sends a request with the held version.
      e.names.push('b');
      sub.namesChanged();
      const more = await until(() => reqs().find((r) => r.names.length === 2));
      assert.deepEqual([...more.names].sort(), ['a', 'b']);
      assert.equal(more.versionInfo, v1);
    } finally {
      client.stop();
      await server.close();
    }
  });
}

test('after the control plane restarts, the stream reconnects and resubscribes with the versions held', async () => {
  let server = new XdsServer();
  const port = await server.listen(0);
  server.setResources(TYPE_URLS.endpoint, [cla('a', 1)]);
  const states: boolean[] = [];
  const client = new XdsClient({ node: { id: 'n1' }, backoffBaseMs: 50, backoffMaxMs: 200, onConnectedState: (c) => states.push(c) });
  const e = edsWatch(['a']);
  try {
    client.subscribe({ kind: 'ads', target: `127.0.0.1:${port}`, cluster: 'xds' }, e.w);
    await until(() => server.requests.length >= 2);
    const held = server.version(TYPE_URLS.endpoint);
    await server.close();
    await until(() => states.at(-1) === false);
    server = new XdsServer();
    await server.listen(port);
    server.setResources(TYPE_URLS.endpoint, [cla('a', 2)]);
    const again = await until(() => server.requests[0], 10_000);
    assert.deepEqual(again.node, { id: 'n1', cluster: undefined });
    assert.equal(again.versionInfo, held);
    assert.equal(again.nonce, '');
    assert.deepEqual(again.names, ['a']);
    await until(() => e.got.length === 2);
    assert.equal((e.got[1].resources[0] as ReturnType<typeof cla>).endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value, 2);
    assert.deepEqual(states, [true, false, true]);
  } finally {
    client.stop();
    await server.close();
  }
});

test('the server answers new names and pushes changes only to streams watching the type', async () => {
  const server = new XdsServer();
  const port = await server.listen(0);
  const client = new XdsClient({ node: { id: 'n' } });
  const e = edsWatch(['a']);
  const seen: RecordedRequest[] = [];
  server.on('request', (r: RecordedRequest) => seen.push(r));
  try {
    client.subscribe({ kind: 'grpc', target: `127.0.0.1:${port}`, cluster: 'xds' }, e.w);
    await until(() => e.got.length === 1);
    assert.deepEqual(e.got[0].resources, []);
    server.setResources(TYPE_URLS.cluster, [{ name: 'c', connect_timeout: '1s' }]);
    server.setResources(TYPE_URLS.endpoint, [cla('a', 5), cla('zzz', 6)]);
    await until(() => e.got.length === 2);
    assert.deepEqual(e.got[1].resources.map((r) => (r as { cluster_name: string }).cluster_name), ['a']);
    assert.ok(seen.every((r) => r.typeUrl === TYPE_URLS.endpoint));
  } finally {
    client.stop();
    await server.close();
  }
});
