/**
 * Envoy's default tag extraction (source/common/config/well_known_names.cc), the subset for the
 * stats attache produces. Each rule's regex is matched against the full stat name; its first
 * capture group is removed from the name and its second capture group is the tag value. Removals
 * are combined, so `cluster.foo.upstream_rq_200` becomes `cluster.upstream_rq` with tags
 * `envoy.response_code=200` and `envoy.cluster_name=foo`, and `http.ingress.downstream_rq_2xx` becomes
 * `http.downstream_rq_xx` with `envoy.response_code_class=2` (as Envoy's Prometheus output shows).
 */

/** A tag extracted from a stat name. */
export interface StatTag {
  /** Envoy's tag name, e.g. `envoy.cluster_name`. */
  name: string;
  value: string;
}

/** A stat name split into its tag-extracted name and tags. */
export interface ExtractedName {
  /** The name with tag values removed (`cluster.upstream_rq_total`). */
  name: string;
  tags: StatTag[];
}

interface Rule {
  tag: string;
  re: RegExp;
  /** Cheap pre-check: the name must contain this (Envoy's `substr`). */
  substr: string;
}

// Regexes from well_known_names.cc, in Envoy's order; `[:digit:]` written as `\d`.
const RULES: Rule[] = [
  { tag: 'envoy.response_code', re: /_rq(_(\d{3}))$/d, substr: '_rq_' },
  { tag: 'envoy.response_code_class', re: /_rq_(\d)xx$/d, substr: '_rq_' },
  { tag: 'envoy.http_user_agent', re: /^http(?=\.).*?\.user_agent\.((.*?)\.)\w+?$/d, substr: '.user_agent.' },
  { tag: 'envoy.virtual_cluster', re: /^vhost(?=\.).*?\.vcluster\.((.*?)\.)\w+?$/d, substr: '.vcluster.' },
  { tag: 'envoy.fault_downstream_cluster', re: /^http(?=\.).*?\.fault\.((.*?)\.)\w+?$/d, substr: '.fault.' },
  { tag: 'envoy.ssl_cipher', re: /^listener(?=\.).*?\.ssl\.cipher(\.(.*?))$/d, substr: '' },
  { tag: 'envoy.ssl_cipher_suite', re: /^cluster(?=\.).*?\.ssl\.ciphers(\.(.*?))$/d, substr: '.ssl.ciphers.' },
  { tag: 'envoy.tcp_prefix', re: /^tcp\.((.*?)\.)\w+?$/d, substr: '' },
  { tag: 'envoy.udp_prefix', re: /^udp\.((.*?)\.)\w+?$/d, substr: '' },
  { tag: 'envoy.ratelimit_prefix', re: /^ratelimit\.((.*?)\.)\w+?$/d, substr: '' },
  { tag: 'envoy.cluster_name', re: /^cluster\.(([^.]+)\.).*/d, substr: '' },
  { tag: 'envoy.http_conn_manager_prefix', re: /^listener(?=\.).*?\.http\.((.*?)\.)/d, substr: '.http.' },
  { tag: 'envoy.http_conn_manager_prefix', re: /^http\.((.*?)\.)/d, substr: '' },
  { tag: 'envoy.listener_address', re: /^listener\.(((?:[_.\d]*|[_[\]aAbBcCdDeEfF\d]*))\.)/d, substr: '' },
  { tag: 'envoy.virtual_host', re: /^vhost\.((.*?)\.)/d, substr: '' },
  { tag: 'envoy.rds_route_config', re: /^http(?=\.).*?\.rds\.((.*?)\.)\w+?$/d, substr: '.rds.' },
  { tag: 'envoy.worker_id', re: /^listener_manager\.((worker_\d+)\.)/d, substr: 'listener_manager.worker_' },
];

const cache = new Map<string, ExtractedName>();

/**
 * Splits a stat name into Envoy's tag-extracted name and tags (memoised; stat names are few).
 * A tag name extracted by an earlier rule is not extracted again.
 */
export function extractTags(statName: string): ExtractedName {
  const hit = cache.get(statName);
  if (hit) return hit;
  const tags: StatTag[] = [];
  const remove: Array<[number, number]> = [];
  const seen = new Set<string>();
  for (const rule of RULES) {
    if (seen.has(rule.tag)) continue;
    if (rule.substr && !statName.includes(rule.substr)) continue;
    const m = rule.re.exec(statName);
    if (!m || m.indices === undefined || m[1] === undefined) continue;
    const span = m.indices[1];
    if (!span) continue;
    // Do not remove a range overlapping one already removed (rules are designed not to collide).
    if (remove.some(([a, b]) => span[0] < b && a < span[1])) continue;
    remove.push([span[0], span[1]]);
    // With one group (response_code_class) the group is both the removed text and the value.
    tags.push({ name: rule.tag, value: m[2] ?? m[1] });
    seen.add(rule.tag);
  }
  remove.sort((a, b) => a[0] - b[0]);
  let name = '';
  let pos = 0;
  for (const [a, b] of remove) {
    name += statName.slice(pos, a);
    pos = b;
  }
  name += statName.slice(pos);
  const out = { name, tags };
  if (cache.size < 100_000) cache.set(statName, out);
  return out;
}
