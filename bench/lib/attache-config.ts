/**
 * Envoy v3 bootstrap YAML for attache in the bench: one listener on 127.0.0.1:0 with an HTTP
 * connection manager and the router filter, STATIC clusters pointing at the shared upstream.
 * Variants: a route table of `routes` entries whose matching one (prefix "/") is last, and
 * `clusters` clusters of which the route targets the last.
 */

/** Shape of the generated config. */
export interface AttacheConfigOptions {
  /** Port of the upstream on 127.0.0.1. */
  upstreamPort: number;
  /** Routes in the one virtual host; the catch-all `prefix: "/"` is the last. Default 1. */
  routes?: number;
  /** Clusters, all with the one upstream endpoint; the routes target the last. Default 1. */
  clusters?: number;
}

/** Builds the bootstrap YAML (admin on 127.0.0.1:0). */
export function attacheBootstrap(o: AttacheConfigOptions): string {
  const nRoutes = Math.max(1, o.routes ?? 1);
  const nClusters = Math.max(1, o.clusters ?? 1);
  const target = `backend_${nClusters - 1}`;
  const routes: string[] = [];
  // Non-matching routes first: prefixes the bench's request paths never start with.
  for (let i = 0; i < nRoutes - 1; i++) {
    routes.push(`              - match: { prefix: "/svc${i}/" }\n                route: { cluster: ${target} }`);
  }
  routes.push(`              - match: { prefix: "/" }\n                route: { cluster: ${target} }`);
  const clusters: string[] = [];
  for (let i = 0; i < nClusters; i++) {
    clusters.push(`  - name: backend_${i}
    connect_timeout: 1s
    type: STATIC
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: backend_${i}
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${o.upstreamPort} } } }`);
  }
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
static_resources:
  listeners:
  - name: listener_0
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            name: local_route
            virtual_hosts:
            - name: local_service
              domains: ["*"]
              routes:
${routes.join('\n')}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
${clusters.join('\n')}
`;
}
