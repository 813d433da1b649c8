/**
 * Helpers for the xDS integration tests: the seed EDS config pointed at a test control plane, an
 * ADS bootstrap, resources, free ports, keep-alive HTTP clients.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { once } from 'node:events';
import { SEED_DIR, httpGet } from './harness';

/** seed-eds.yaml with its listener on port 0, admin on 127.0.0.1:0 and xds_cluster at 127.0.0.1:`xdsPort`. */
export function seedEds(xdsPort: number): string {
  let y = fs.readFileSync(path.join(SEED_DIR, 'seed-eds.yaml'), 'utf8');
  y = y.replace(/address: 0\.0\.0\.0 # 监听地址\s*\n(\s*)port_value: 8080/, 'address: 127.0.0.1\n$1port_value: 0');
  y = y.replace(/address: 0\.0\.0\.0, port_value: 9901/, 'address: 127.0.0.1, port_value: 0');
  y = y.replace(/172\.16\.133\.96, port_value: 6443/, `127.0.0.1, port_value: ${xdsPort}`);
  y = y.replace(/access_log_path: \/tmp\/admin_access.log/, 'access_log_path: /dev/null');
  if (y.includes('172.16.133.96') || y.includes('port_value: 8080')) throw new Error('seed-eds.yaml changed: update seedEds()');
  return y;
}

/** A bootstrap whose LDS and CDS (and everything below) come over ADS from 127.0.0.1:`xdsPort`. */
export function adsBootstrap(xdsPort: number): string {
  return `node: { id: ads-node, cluster: ads-cluster }
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{ envoy_grpc: { cluster_name: xds_cluster } }]
  lds_config: { ads: {}, resource_api_version: V3 }
  cds_config: { ads: {}, resource_api_version: V3 }
static_resources:
  clusters:
  - name: xds_cluster
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: xds_cluster
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${xdsPort} } } } }] }]
`;
}

/** A ClusterLoadAssignment over 127.0.0.1 ports. */
export function cla(name: string, ports: number[]): Record<string, unknown> {
  return {
    cluster_name: name,
    endpoints: [{ lb_endpoints: ports.map((p) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } } })) }],
  };
}

/** An EDS cluster over ADS. */
export function edsCluster(name: string): Record<string, unknown> {
  return { name, type: 'EDS', connect_timeout: '1s', lb_policy: 'ROUND_ROBIN', eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } } };
}

const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** A listener on 127.0.0.1:`port` whose HCM takes its routes from RDS (`rds`) or inline (`cluster`). */
export function listener(name: string, port: number, routes: { rds: string } | { cluster: string }): Record<string, unknown> {
  const hcm: Record<string, unknown> = { '@type': HCM, stat_prefix: name, http_filters: [ROUTER] };
  if ('rds' in routes) hcm.rds = { route_config_name: routes.rds, config_source: { ads: {}, resource_api_version: 'V3' } };
  else hcm.route_config = routeConfig(`${name}_routes`, routes.cluster);
  return { name, address: { socket_address: { address: '127.0.0.1', port_value: port } }, filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm }] }] };
}

/** A RouteConfiguration sending everything to `cluster`. */
export function routeConfig(name: string, cluster: string): Record<string, unknown> {
  return { name, virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }] };
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

/** GET with a keep-alive agent: status and body, or status 0 and the error on failure. */
export function get(port: number, agent: http.Agent | false = false, p = '/'): Promise<{ status: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      res.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
    });
    req.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
    req.end();
  });
}

/** One stat's value from the admin `/stats` text, or undefined. */
export async function stat(adminPort: number, name: string): Promise<number | undefined> {
  const r = await httpGet(adminPort, '/stats');
  const m = new RegExp(`^${name.replace(/[.]/g, '\\.')}: (\\d+)$`, 'm').exec(r.body);
  return m ? Number(m[1]) : undefined;
}
