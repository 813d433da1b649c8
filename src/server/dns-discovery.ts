/**
 * DNS endpoint discovery for STRICT_DNS and LOGICAL_DNS clusters (main thread). Resolves each
 * endpoint's `socket_address.address` with `dns.promises.lookup({ all: true })` at start and every
 * `dns_refresh_rate` (default 5 s), turns the answers into a ClusterLoadAssignment and reports it
 * through `onUpdate(clusterName, cla)` only when it differs from the last one reported. The server
 * puts the result into the snapshot's `endpoints` map for the workers.
 *
 * - STRICT_DNS (Envoy `StrictDnsClusterImpl`): every address becomes a host, with the endpoint's
 *   port, weight, health_status, locality and priority, and `hostname` = the DNS name. Addresses
 *   of one name are sorted so a rotating DNS answer is not a change.
 * - LOGICAL_DNS (`LogicalDnsCluster`): the first address of the (single) endpoint only.
 * - `dns_lookup_family`: V4_ONLY, V6_ONLY, AUTO (v6 if any, else v4: Envoy's default),
 *   V4_PREFERRED (v4 if any, else v6), ALL (v4 then v6).
 * - A failed lookup keeps the last answer of that name (Envoy keeps the hosts) and is retried at the
 *   next refresh; `onError` hears about it. `respect_dns_ttl` is ignored (lookup gives no TTL),
 *   `dns_failure_refresh_rate` too.
 */

import { promises as dnsPromises, type LookupAddress } from 'node:dns';
import { durationMs } from '../common/duration';
import { logger } from '../common/logger';
import type { Cluster, ClusterLoadAssignment, LbEndpoint, LocalityLbEndpoints } from '../config/model';
import { clampTimeoutMs } from '../common/timer-limit';

const log = logger('upstream');

/** `dns.promises.lookup(name, { all: true })`; injectable for tests. */
export type LookupFn = (hostname: string) => Promise<LookupAddress[]>;

/** Options of {@link DnsDiscovery}. */
export interface DnsDiscoveryOptions {
  /** Called with a cluster's new assignment when it changed (and once after its first resolution). */
  onUpdate: (clusterName: string, cla: ClusterLoadAssignment) => void;
  /** Called when a name fails to resolve. Default: a warning in the `upstream` log. */
  onError?: (clusterName: string, hostname: string, err: Error) => void;
  /** Resolver; default `dns.promises.lookup` with `all: true` and `verbatim: true`. */
  lookup?: LookupFn;
}

const defaultLookup: LookupFn = (name) => dnsPromises.lookup(name, { all: true, verbatim: true });

/** Applies Envoy's `dns_lookup_family` to a lookup answer. */
export function filterFamily(addrs: readonly LookupAddress[], family: Cluster['dns_lookup_family']): string[] {
  const v4 = addrs.filter((a) => a.family === 4).map((a) => a.address);
  const v6 = addrs.filter((a) => a.family === 6).map((a) => a.address);
  switch (family) {
    case 'V4_ONLY':
      return v4;
    case 'V6_ONLY':
      return v6;
    case 'V4_PREFERRED':
      return v4.length > 0 ? v4 : v6;
    case 'ALL':
      return [...v4, ...v6];
    default: // AUTO
      return v6.length > 0 ? v6 : v4;
  }
}

interface Target {
  cluster: Cluster;
  timer: NodeJS.Timeout | undefined;
  last: string;
  /** Last good answer per DNS name. */
  answers: Map<string, string[]>;
  refreshMs: number;
}

/** Periodic DNS resolution of the DNS-typed clusters of a config. */
export class DnsDiscovery {
  private readonly targets = new Map<string, Target>();
  private readonly opts: DnsDiscoveryOptions;
  private readonly lookup: LookupFn;
  private running = false;
  private generation = 0;

  /** @param clusters any clusters; only STRICT_DNS and LOGICAL_DNS ones are resolved. */
  constructor(clusters: readonly Cluster[], opts: DnsDiscoveryOptions) {
    this.opts = opts;
    this.lookup = opts.lookup ?? defaultLookup;
    this.setClusters(clusters);
  }

  /**
   * Resolves every DNS cluster once, reports the results, then refreshes each one every
   * `dns_refresh_rate`. Resolves when the first round is done (failures included).
   */
  async start(): Promise<void> {
    this.stop();
    this.running = true;
    await Promise.all([...this.targets.values()].map((t) => this.refresh(t)));
  }

  /** Stops all refresh timers. Lookups in flight finish but report nothing. */
  stop(): void {
    this.running = false;
    this.generation++;
    for (const t of this.targets.values()) {
      clearTimeout(t.timer);
      t.timer = undefined;
    }
  }

  /**
   * Replaces the set of clusters (CDS update): new DNS clusters start resolving (when running),
   * removed ones stop, changed ones restart with their new config.
   */
  setClusters(clusters: readonly Cluster[]): void {
    const next = new Map<string, Cluster>();
    for (const c of clusters) if (c.type === 'STRICT_DNS' || c.type === 'LOGICAL_DNS') next.set(c.name, c);
    for (const [name, t] of this.targets) {
      const c = next.get(name);
      if (c === undefined || JSON.stringify(c) !== JSON.stringify(t.cluster)) {
        clearTimeout(t.timer);
        this.targets.delete(name);
      }
    }
    for (const [name, c] of next) {
      if (this.targets.has(name)) continue;
      const t: Target = { cluster: c, timer: undefined, last: '', answers: new Map(), refreshMs: durationMs(c.dns_refresh_rate, 5000) };
      this.targets.set(name, t);
      if (this.running) void this.refresh(t);
    }
  }

  private async refresh(t: Target): Promise<void> {
    const c = t.cluster;
    const gen = this.generation;
    const names = new Set<string>();
    for (const g of c.load_assignment?.endpoints ?? []) {
      for (const e of g.lb_endpoints ?? []) {
        const a = e.endpoint?.address?.socket_address?.address;
        if (a !== undefined) names.add(a);
      }
    }
    await Promise.all([...names].map(async (name) => {
      try {
        const addrs = filterFamily(await this.lookup(name), c.dns_lookup_family);
        if (c.type === 'STRICT_DNS') addrs.sort();
        t.answers.set(name, addrs);
      } catch (err) {
        if (this.opts.onError) this.opts.onError(c.name, name, err as Error);
        else log.warn(`dns resolution for ${name} (cluster ${c.name}) failed: ${(err as Error).message}`);
      }
    }));
    if (!this.running || gen !== this.generation || this.targets.get(c.name) !== t) return;
    const cla = this.assignment(t);
    const json = JSON.stringify(cla);
    if (json !== t.last) {
      t.last = json;
      this.opts.onUpdate(c.name, cla);
    }
    t.timer = setTimeout(() => void this.refresh(t), clampTimeoutMs(t.refreshMs)); // > 24.8 days would fire at once
    t.timer.unref();
  }

  private assignment(t: Target): ClusterLoadAssignment {
    const c = t.cluster;
    const logical = c.type === 'LOGICAL_DNS';
    const groups: LocalityLbEndpoints[] = [];
    for (const g of c.load_assignment?.endpoints ?? []) {
      const lbEndpoints: LbEndpoint[] = [];
      for (const e of g.lb_endpoints ?? []) {
        const sa = e.endpoint?.address?.socket_address;
        if (sa === undefined) continue;
        const addrs = t.answers.get(sa.address) ?? [];
        for (const ip of logical ? addrs.slice(0, 1) : addrs) {
          lbEndpoints.push({
            ...e,
            endpoint: { ...e.endpoint, hostname: e.endpoint.hostname ?? sa.address, address: { socket_address: { ...sa, address: ip } } },
          });
        }
        if (logical) break;
      }
      groups.push({ ...g, lb_endpoints: lbEndpoints });
      if (logical) break;
    }
    const cla: ClusterLoadAssignment = { cluster_name: c.name, endpoints: groups };
    if (c.load_assignment?.policy !== undefined) cla.policy = c.load_assignment.policy;
    return cla;
  }
}
