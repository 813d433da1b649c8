/**
 * Main-thread counts of configuration changes, with Envoy's names: `cluster_manager.cluster_added`,
 * `cluster_modified`, `cluster_removed`, `active_clusters`; `listener_manager.listener_added`,
 * `listener_modified`, `listener_removed`, `total_listeners_active`; and per cluster
 * `cluster.<name>.membership_change`. Counted once per change (not per worker).
 */
import type { ClusterLoadAssignment, ConfigSnapshot } from '../config/model';
import type { StatsStore } from '../stats/store';

/** Tracks the last published snapshot and counts what each new one changes. */
export class ConfigChangeStats {
  private clusters = new Map<string, string>();
  private listeners = new Map<string, string>();
  private members = new Map<string, string>();

  constructor(private readonly store: StatsStore, initial: ConfigSnapshot) {
    this.observe(initial, false);
  }

  /** A whole snapshot was published. */
  observe(s: ConfigSnapshot, count = true): void {
    const diff = (prev: Map<string, string>, items: ReadonlyArray<{ name: string }>, prefix: string, added: string, modified: string, removed: string): Map<string, string> => {
      const next = new Map<string, string>();
      for (const it of items) {
        const j = JSON.stringify(it);
        next.set(it.name, j);
        if (!count) continue;
        const before = prev.get(it.name);
        if (before === undefined) this.store.counter(`${prefix}.${added}`).inc();
        else if (before !== j) this.store.counter(`${prefix}.${modified}`).inc();
      }
      if (count) for (const name of prev.keys()) if (!next.has(name)) this.store.counter(`${prefix}.${removed}`).inc();
      return next;
    };
    const before = this.clusters;
    this.clusters = diff(this.clusters, s.clusters, 'cluster_manager', 'cluster_added', 'cluster_modified', 'cluster_removed');
    // A removed cluster's main-thread stats (membership_change, its EDS update counts) go with it.
    for (const name of before.keys()) {
      if (this.clusters.has(name)) continue;
      this.members.delete(name);
      this.store.retire(`cluster.${name}.`, false);
    }
    this.listeners = diff(this.listeners, s.listeners, 'listener_manager', 'listener_added', 'listener_modified', 'listener_removed');
    this.store.gauge('cluster_manager.active_clusters').set(this.clusters.size);
    this.store.gauge('listener_manager.total_listeners_active').set(this.listeners.size);
    for (const [name, cla] of Object.entries(s.endpoints)) this.endpoints(name, cla, count);
  }

  /** One cluster's endpoints were published: `membership_change` when the set of addresses changed. */
  endpoints(cluster: string, cla: ClusterLoadAssignment, count = true): void {
    const key = (cla.endpoints ?? [])
      .flatMap((l) => (l.lb_endpoints ?? []).map((e) => `${e.endpoint?.address?.socket_address?.address}:${e.endpoint?.address?.socket_address?.port_value}`))
      .sort()
      .join(',');
    const before = this.members.get(cluster);
    this.members.set(cluster, key);
    if (count && before !== undefined && before !== key) this.store.counter(`cluster.${cluster}.membership_change`).inc();
  }
}
