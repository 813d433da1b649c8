/**
 * Endpoint churn with requests in flight: attache --concurrency 2 over ADS, upstreams that answer
 * after 0-15 ms (so hosts are removed while requests to them are in flight and must drain), the
 * endpoint set changing every 100 ms, and 16 keep-alive clients for 3 s. Every request must succeed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { startProxy, startUpstream, writeConfig, type Proxy } from './harness';
import { TYPE_URLS } from '../../src/config';
import { XdsServer } from '../../src/xds/xds-server';
import { adsBootstrap, cla, edsCluster, freePort, get, listener, stat } from './xds-helpers';

test('zero failed requests with --concurrency 2, slow upstreams and the endpoint set changing every 100 ms', async () => {
  let tick = 0;
  const slow = (name: string) => startUpstream(name, (_req, res) => {
    setTimeout(() => {
      res.setHeader('x-upstream', name);
      res.end(name);
    }, tick++ % 16);
  });
  const ups = await Promise.all(['u0', 'u1', 'u2', 'u3'].map(slow));
  const sets = [[0, 1], [1, 2], [2], [0, 3], [0, 1, 2, 3], [3], [1, 3]].map((s) => s.map((i) => ups[i].port));
  const server = new XdsServer();
  const xdsPort = await server.listen(0);
  const port = await freePort();
  server.setResources(TYPE_URLS.cluster, [edsCluster('web')]);
  server.setResources(TYPE_URLS.endpoint, [cla('web', sets[0])]);
  server.setResources(TYPE_URLS.listener, [listener('l1', port, { cluster: 'web' })]);
  let proxy: Proxy | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  try {
    proxy = await startProxy(['-c', writeConfig(adsBootstrap(xdsPort)), '--concurrency', '2']);
    let stop = false;
    let pushes = 0;
    const churn = (async () => {
      for (let i = 1; !stop; i++) {
        server.setResources(TYPE_URLS.endpoint, [cla('web', sets[i % sets.length])]);
        pushes++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const results: Array<{ status: number; body: string; error?: string }> = [];
    const end = Date.now() + 3000;
    const loop = async () => {
      while (Date.now() < end) results.push(await get(port, agent));
    };
    await Promise.all(Array.from({ length: 16 }, loop));
    stop = true;
    await churn;
    const failed = results.filter((r) => r.status !== 200);
    assert.deepEqual(failed.slice(0, 3), [], `${failed.length} of ${results.length} requests failed`);
    assert.ok(results.length > 200, `only ${results.length} requests`);
    assert.ok(pushes >= 20, `only ${pushes} pushes`);
    assert.deepEqual([...new Set(results.map((r) => r.body))].sort(), ['u0', 'u1', 'u2', 'u3']);
    // Every push was accepted (ACKed, counted on the admin), none rejected.
    assert.ok((await stat(proxy.adminPort, 'cluster.web.update_success'))! >= 20, 'update_success');
    assert.equal((await stat(proxy.adminPort, 'cluster.web.update_rejected')) ?? 0, 0);
  } finally {
    agent.destroy();
    await proxy?.stop();
    await server.close();
    for (const u of ups) await u.close();
  }
});
