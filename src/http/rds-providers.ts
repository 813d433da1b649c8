/**
 * Per-worker RDS route tables (Envoy's RdsRouteConfigProvider): one stable provider per
 * `route_config_name`, whose compiled table is swapped whole when RDS delivers a new version. HCMs
 * hold the provider, not the table, so a route change applies to the next request, also on
 * connections kept alive from before it (Envoy's behaviour).
 */
import type { RouteConfiguration } from '../config/model';
import { compileRouteTable, type RouteTable } from '../router';

interface Provider {
  table: RouteTable | null;
  /** JSON of the config the table was compiled from (skip recompiling unchanged tables). */
  source: string;
}

/** The RDS tables of one worker. */
export class RouteConfigProviders {
  private readonly providers = new Map<string, Provider>();

  /** The accessor an HCM with `rds.route_config_name = name` reads on each request. */
  accessor(name: string): () => RouteTable | null {
    let p = this.providers.get(name);
    if (p === undefined) this.providers.set(name, (p = { table: null, source: '' }));
    const provider = p;
    return () => provider.table;
  }

  /**
   * Compiles every changed route configuration and swaps it in; names no longer present get no table
   * (requests on HCMs still pointing at them answer 404 NR, as Envoy before RDS arrives).
   * @throws ConfigError from route compilation; no table is swapped then.
   */
  update(routes: Readonly<Record<string, RouteConfiguration>>): void {
    const next = new Map<string, { table: RouteTable; source: string }>();
    for (const [name, rc] of Object.entries(routes)) {
      const source = JSON.stringify(rc);
      const cur = this.providers.get(name);
      if (cur !== undefined && cur.source === source && cur.table !== null) continue;
      next.set(name, { table: compileRouteTable(rc, { pathPrefix: `rds(${name})` }), source });
    }
    for (const [name, t] of next) {
      const p = this.providers.get(name);
      if (p === undefined) this.providers.set(name, { table: t.table, source: t.source });
      else {
        p.table = t.table;
        p.source = t.source;
      }
    }
    for (const [name, p] of this.providers) {
      if (!(name in routes)) {
        p.table = null;
        p.source = '';
      }
    }
  }
}
