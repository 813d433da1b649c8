/**
 * `/clusters` and `/listeners` renderers (source/server/admin/clusters_handler.cc,
 * listeners_handler.cc; JSON per envoy.admin.v3.Clusters / envoy.admin.v3.Listeners in proto3 JSON:
 * default values omitted, uint64 as strings).
 */

import type { ClusterStatus, HostStatus, ListenerStatus } from './context';

function hostAddress(h: { address: string; port: number }): string {
  return h.address.includes(':') ? `[${h.address}]:${h.port}` : `${h.address}:${h.port}`;
}

/**
 * Envoy's text form, one `cluster::...::value` fact a line:
 * `backend::default_priority::max_connections::1024`, `backend::127.0.0.1:8080::cx_active::0`,
 * `backend::127.0.0.1:8080::health_flags::healthy`, ...
 */
export function renderClustersText(clusters: ClusterStatus[]): string {
  let out = '';
  for (const c of clusters) {
    const n = c.name;
    out += `${n}::observability_name::${c.observabilityName ?? n}\n`;
    for (const [prio, cb] of [['default', c.circuitBreakers.default], ['high', c.circuitBreakers.high]] as const) {
      out += `${n}::${prio}_priority::max_connections::${cb.max_connections}\n`;
      out += `${n}::${prio}_priority::max_pending_requests::${cb.max_pending_requests}\n`;
      out += `${n}::${prio}_priority::max_requests::${cb.max_requests}\n`;
      out += `${n}::${prio}_priority::max_retries::${cb.max_retries}\n`;
    }
    out += `${n}::added_via_api::${c.addedViaApi}\n`;
    if (c.edsServiceName) out += `${n}::eds_service_name::${c.edsServiceName}\n`;
    for (const h of c.hosts) {
      const a = `${n}::${hostAddress(h)}`;
      const all: Record<string, number> = { ...h.counters, ...h.gauges };
      for (const k of Object.keys(all).sort()) out += `${a}::${k}::${all[k]}\n`;
      out += `${a}::hostname::${h.hostname ?? ''}\n`;
      out += `${a}::health_flags::${h.healthFlags}\n`;
      out += `${a}::weight::${h.weight}\n`;
      out += `${a}::region::${h.region ?? ''}\n`;
      out += `${a}::zone::${h.zone ?? ''}\n`;
      out += `${a}::sub_zone::${h.subZone ?? ''}\n`;
      out += `${a}::canary::${h.canary ?? false}\n`;
      out += `${a}::priority::${h.priority ?? 0}\n`;
      out += `${a}::success_rate::${h.successRate ?? -1}\n`;
      out += `${a}::local_origin_success_rate::-1\n`;
    }
  }
  return out;
}

function thresholds(priority: string | undefined, cb: ClusterStatus['circuitBreakers']['default']): Record<string, unknown> {
  const t: Record<string, unknown> = {};
  if (priority) t.priority = priority;
  t.max_connections = cb.max_connections;
  t.max_pending_requests = cb.max_pending_requests;
  t.max_requests = cb.max_requests;
  t.max_retries = cb.max_retries;
  return t;
}

/**
 * One host's `stats` (envoy.admin.v3.SimpleMetric) as Envoy's JSON clusters handler writes them
 * (source/server/admin/clusters_handler.cc buildHostStats()): counters then gauges, each
 * `{ type: 'COUNTER' | 'GAUGE', name, value }`, zero values left out.
 */
function hostStatsJson(h: HostStatus): Array<{ type: 'COUNTER' | 'GAUGE'; name: string; value: number }> {
  const stats: Array<{ type: 'COUNTER' | 'GAUGE'; name: string; value: number }> = [];
  for (const k of Object.keys(h.counters).sort()) if (h.counters[k] !== 0) stats.push({ type: 'COUNTER', name: k, value: h.counters[k] });
  for (const k of Object.keys(h.gauges).sort()) if (h.gauges[k] !== 0) stats.push({ type: 'GAUGE', name: k, value: h.gauges[k] });
  return stats;
}

function hostJson(h: HostStatus): Record<string, unknown> {
  const locality: Record<string, string> = {};
  if (h.region) locality.region = h.region;
  if (h.zone) locality.zone = h.zone;
  if (h.subZone) locality.sub_zone = h.subZone;
  const out: Record<string, unknown> = {
    address: { socket_address: { address: h.address, port_value: h.port } },
    stats: hostStatsJson(h),
    health_status: { eds_health_status: h.edsHealthStatus ?? 'HEALTHY' },
  };
  if (Object.keys(locality).length) out.locality = locality;
  if (h.weight) out.weight = h.weight;
  if (h.hostname) out.hostname = h.hostname;
  if (h.priority) out.priority = h.priority;
  if (h.successRate !== undefined && h.successRate >= 0) out.success_rate = { value: h.successRate };
  return out;
}

/** `/clusters?format=json`: envoy.admin.v3.Clusters. */
export function renderClustersJson(clusters: ClusterStatus[]): string {
  const cluster_statuses = clusters.map((c) => {
    const s: Record<string, unknown> = {
      name: c.name,
      circuit_breakers: { thresholds: [thresholds(undefined, c.circuitBreakers.default), thresholds('HIGH', c.circuitBreakers.high)] },
      observability_name: c.observabilityName ?? c.name,
    };
    if (c.addedViaApi) s.added_via_api = true;
    if (c.edsServiceName) s.eds_service_name = c.edsServiceName;
    if (c.hosts.length) s.host_statuses = c.hosts.map(hostJson);
    return s;
  });
  return JSON.stringify({ cluster_statuses }, null, 1);
}

/** `/listeners` text: `name::address:port` per line. */
export function renderListenersText(listeners: ListenerStatus[]): string {
  return listeners.map((l) => `${l.name}::${hostAddress(l)}\n`).join('');
}

/** `/listeners?format=json`: envoy.admin.v3.Listeners. */
export function renderListenersJson(listeners: ListenerStatus[]): string {
  return JSON.stringify(
    { listener_statuses: listeners.map((l) => ({ name: l.name, local_address: { socket_address: { address: l.address, port_value: l.port } } })) },
    null,
    1,
  );
}
