/**
 * Admin `/drain_listeners` as Envoy's (listeners_handler.cc): `inboundonly` stops only the
 * listeners whose traffic_direction is INBOUND (Istio's pilot-agent drains them when a Pod stops,
 * while the app still calls out); `graceful` keeps accepting for --drain-time-s with
 * `connection: close` on the responses, then stops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { httpGet, startProxy, waitFor, writeConfig, type Proxy } from './harness';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

function listenerYaml(name: string, direction: string): string {
  return `  - name: ${name}
    traffic_direction: ${direction}
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": ${HCM}
          stat_prefix: ${name}
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: / }, direct_response: { status: 200, body: { inline_string: ${name} } } }] }] }
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": ${ROUTER} } }]
`;
}

const CONFIG = `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
static_resources:
  listeners:
${listenerYaml('inbound', 'INBOUND')}${listenerYaml('outbound', 'OUTBOUND')}`;

/** A keep-alive GET `/`: status, body and the connection header; status 0 when the connection is refused. */
function hit(port: number): Promise<{ status: number; body: string; connection?: string }> {
  const agent = new http.Agent({ keepAlive: true });
  return new Promise<{ status: number; body: string; connection?: string }>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
  }).finally(() => agent.destroy());
}

async function withProxy(args: string[], fn: (p: Proxy) => Promise<void>): Promise<void> {
  const proxy = await startProxy(['-c', writeConfig(CONFIG), '--concurrency', '2', ...args]);
  try {
    await fn(proxy);
  } finally {
    await proxy.stop();
  }
}

test('POST /drain_listeners?inboundonly stops the INBOUND listener only; the OUTBOUND one still serves', async () => {
  await withProxy([], async (p) => {
    const [inb, outb] = [p.ports.inbound, p.ports.outbound];
    assert.equal((await hit(inb)).body, 'inbound');
    assert.equal((await httpGet(p.adminPort, '/drain_listeners?inboundonly', {}, 'POST')).status, 200);
    await waitFor(async () => (await hit(inb)).status === 0, 5000, 'inbound listener stopped');
    for (let i = 0; i < 4; i++) assert.deepEqual(await hit(outb), { status: 200, body: 'outbound', connection: undefined });
    assert.equal((await httpGet(p.adminPort, '/ready')).status, 200, 'server.state is not changed by drain_listeners');
    assert.equal(p.proc.exitCode, null);
  });
});

test('POST /drain_listeners?inboundonly&graceful: the INBOUND listener accepts with connection: close during --drain-time-s, then stops', async () => {
  await withProxy(['--drain-time-s', '2', '--drain-strategy', 'immediate'], async (p) => {
    const [inb, outb] = [p.ports.inbound, p.ports.outbound];
    assert.equal((await hit(inb)).connection, undefined);
    assert.equal((await httpGet(p.adminPort, '/drain_listeners?inboundonly&graceful', {}, 'POST')).status, 200);
    // Still accepting during the drain time, every response discouraging keep-alive.
    await waitFor(async () => (await hit(inb)).connection === 'close', 1500, 'connection: close on inbound');
    assert.deepEqual(await hit(inb), { status: 200, body: 'inbound', connection: 'close' });
    assert.deepEqual(await hit(outb), { status: 200, body: 'outbound', connection: undefined });
    // Then stopped; outbound untouched.
    await waitFor(async () => (await hit(inb)).status === 0, 8000, 'inbound listener stopped after the drain time');
    assert.deepEqual(await hit(outb), { status: 200, body: 'outbound', connection: undefined });
  });
});

test('POST /drain_listeners stops every listener; the process keeps running', async () => {
  await withProxy([], async (p) => {
    assert.equal((await httpGet(p.adminPort, '/drain_listeners', {}, 'POST')).status, 200);
    await waitFor(async () => (await hit(p.ports.inbound)).status === 0 && (await hit(p.ports.outbound)).status === 0, 5000, 'both stopped');
    assert.equal((await httpGet(p.adminPort, '/ready')).status, 200);
    assert.equal(p.proc.exitCode, null);
  });
});
