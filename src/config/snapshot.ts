/**
 * Light helpers over a validated bootstrap that the main thread needs without loading the
 * validator (YAML parser, Envoy's protos): the first snapshot, and whether xDS is involved.
 */
import type { Bootstrap, ConfigSnapshot, HttpConnectionManager, Listener } from './model';

/** The snapshot of a bootstrap's static resources (deep copies), with no endpoints or RDS routes. */
export function snapshotFromBootstrap(b: Bootstrap, version: number): ConfigSnapshot {
  return {
    version,
    listeners: structuredClone(b.static_resources?.listeners ?? []),
    clusters: structuredClone(b.static_resources?.clusters ?? []),
    endpoints: {},
    routes: {},
  };
}

/** True when the bootstrap uses xDS: LDS/CDS, an EDS cluster, or an HCM with `rds`. */
export function needsDynamicConfig(b: Bootstrap): boolean {
  const d = b.dynamic_resources;
  if (d?.cds_config || d?.lds_config) return true;
  if ((b.static_resources?.clusters ?? []).some((c) => c.type === 'EDS')) return true;
  return (b.static_resources?.listeners ?? []).some((l) => hcms(l).some((h) => h.rds !== undefined));
}

/** The HTTP connection managers of a listener's filter chains (and default chain). */
export function hcms(l: Listener): HttpConnectionManager[] {
  const out: HttpConnectionManager[] = [];
  for (const fc of [...(l.filter_chains ?? []), ...(l.default_filter_chain ? [l.default_filter_chain] : [])]) {
    for (const f of fc.filters ?? []) {
      const t = f.typed_config?.['@type'];
      if (typeof t === 'string' && t.endsWith('.HttpConnectionManager')) out.push(f.typed_config as unknown as HttpConnectionManager);
    }
  }
  return out;
}
