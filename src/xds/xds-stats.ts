/**
 * Main-thread xDS stats, named as Envoy names them:
 * - `control_plane.connected_state` (gauge, 1 while every gRPC stream is up);
 * - `cluster_manager.cds.*` and `listener_manager.lds.*`: `update_attempt`, `update_success`,
 *   `update_rejected`, `init_fetch_timeout` (counters);
 * - EDS: `cluster.<name>.update_attempt/update_success/update_rejected` for each cluster using the
 *   assignment (Envoy's EDS subscription stats live in the cluster's scope);
 * - RDS: `http.<stat_prefix>.rds.<route_config_name>.update_*`;
 * - `cluster_manager.active_clusters` / `warming_clusters` (gauges).
 */
import type { Counter, Gauge, StatsStore } from '../stats/store';

interface UpdateStats {
  update_attempt: Counter;
  update_success: Counter;
  update_rejected: Counter;
}

/** Handles; see the module comment. */
export class XdsStats {
  private readonly connectedState: Gauge;
  private readonly active: Gauge;
  private readonly warming: Gauge;
  private readonly byPrefix = new Map<string, UpdateStats>();
  private generation = 0;

  constructor(private readonly store: StatsStore) {
    this.connectedState = store.gauge('control_plane.connected_state');
    this.active = store.gauge('cluster_manager.active_clusters');
    this.warming = store.gauge('cluster_manager.warming_clusters');
    this.of('cluster_manager.cds.');
    this.of('listener_manager.lds.');
    store.counter('cluster_manager.cds.init_fetch_timeout');
    store.counter('listener_manager.lds.init_fetch_timeout');
  }

  private of(prefix: string): UpdateStats {
    if (this.generation !== this.store.generation) {
      // Stats were retired (a removed cluster's): cached handles may be detached, look them up again.
      this.generation = this.store.generation;
      this.byPrefix.clear();
    }
    let s = this.byPrefix.get(prefix);
    if (!s) {
      s = {
        update_attempt: this.store.counter(prefix + 'update_attempt'),
        update_success: this.store.counter(prefix + 'update_success'),
        update_rejected: this.store.counter(prefix + 'update_rejected'),
      };
      this.byPrefix.set(prefix, s);
    }
    return s;
  }

  connected(up: boolean): void {
    this.connectedState.set(up ? 1 : 0);
  }

  /**
   * Counts one response of a type.
   * @param names the resources concerned (all of a success, the failing ones of a rejection)
   * @param users EDS: service name → cluster names; RDS: route config name → HCM stat prefixes
   */
  attempt(kind: string, names: readonly string[], ok: boolean, users: ReadonlyMap<string, string[]>): void {
    const prefixes: string[] = [];
    if (kind === 'cds') prefixes.push('cluster_manager.cds.');
    else if (kind === 'lds') prefixes.push('listener_manager.lds.');
    else {
      for (const n of names) {
        for (const u of users.get(n) ?? []) prefixes.push(kind === 'eds' ? `cluster.${u}.` : `http.${u}.rds.${n}.`);
      }
    }
    for (const p of prefixes) {
      const s = this.of(p);
      s.update_attempt.inc();
      (ok ? s.update_success : s.update_rejected).inc();
    }
  }

  initFetchTimeout(kind: string): void {
    if (kind === 'cds') this.store.counter('cluster_manager.cds.init_fetch_timeout').inc();
    else if (kind === 'lds') this.store.counter('listener_manager.lds.init_fetch_timeout').inc();
  }

  gauges(active: number, warming: number): void {
    this.active.set(active);
    this.warming.set(warming);
  }
}
