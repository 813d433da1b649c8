/**
 * Checks on socket addresses that Envoy makes when it loads a config, so `--mode validate` rejects
 * what serving would: listener, admin and STATIC-cluster endpoint addresses must be IP literals, and
 * two listeners may not share an address:port.
 *
 * Envoy: `Network::Address::resolveProtoSocketAddress` (source/common/network/resolver_impl.cc) parses
 * `socket_address.address` with `parseInternetAddressNoThrow` (inet_pton) and throws
 * "malformed IP address: <address>"; for STATIC and EDS clusters `ClusterImplBase::resolveProtoAddress`
 * (source/common/upstream/upstream_impl.cc) appends ". Consider setting resolver_name or setting
 * cluster type to 'STRICT_DNS' or 'LOGICAL_DNS'". Duplicates: `ListenerManagerImpl::addOrUpdateListener`
 * (source/common/listener_manager/listener_manager_impl.cc) fails with "error adding listener: '<name>'
 * has duplicate address '<ip:port>' as existing listener"; port 0 listeners never collide.
 */

import { isIP } from 'node:net';
import { formatPos, posOf } from './load';
import { childPath, fail } from './diagnostics';
import type { Seen } from './proto-schema';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `socket_address` of an Address message, with its path; undefined for pipes and unset addresses. */
function socketAddress(container: Obj, key: string, path: string): { sa: Obj; path: string } | undefined {
  const a = container[key];
  if (!isObj(a) || !isObj(a.socket_address)) return undefined;
  return { sa: a.socket_address, path: childPath(childPath(path, key), 'socket_address') };
}

/**
 * Fails unless `socket_address.address` is an IPv4 or IPv6 literal.
 * @param suffix appended to Envoy's "malformed IP address: x" message
 */
function requireIp(sa: Obj, path: string, suffix: string, hint: string): void {
  const a = sa.address;
  if (typeof a !== 'string' || isIP(a) !== 0) return;
  fail(childPath(path, 'address'), `malformed IP address: ${a}${suffix}`, posOf(sa, 'address'), hint);
}

/** `ip:port` as Envoy prints it (`[v6]:port`), IPv6 in canonical form; undefined when not comparable. */
function addressKey(sa: Obj): string | undefined {
  const a = sa.address;
  const port = sa.port_value;
  if (typeof a !== 'string' || typeof port !== 'number' || port === 0) return undefined;
  if (isIP(a) === 4) return `${a}:${port}`;
  if (isIP(a) === 6) {
    const zone = a.indexOf('%');
    const canon = new URL(`http://[${zone >= 0 ? a.slice(0, zone) : a}]/`).hostname;
    return `${canon.slice(0, -1)}${zone >= 0 ? a.slice(zone) : ''}]:${port}`;
  }
  return undefined;
}

/**
 * A listener's bound address as Envoy prints it in "duplicate address" errors (`127.0.0.1:10000`,
 * `[::1]:10000`), for comparing listeners across LDS resources and with the static ones.
 * @param listener a validated Listener (v3 canonical form)
 * @returns undefined for pipes, port 0 (never a duplicate) and addresses that are not IP literals
 */
export function listenerAddressKey(listener: unknown): string | undefined {
  const s = isObj(listener) ? socketAddress(listener, 'address', '') : undefined;
  return s ? addressKey(s.sa) : undefined;
}

/**
 * Listener addresses: IP literals (Envoy: "malformed IP address"), no two listeners on the same
 * address:port (Envoy: "error adding listener ... has duplicate address").
 * @param listeners Listener messages from the walk (static, or one LDS resource)
 * @throws ConfigError at the listener's `address.socket_address.address`, or at the second
 *   listener's `address` for a duplicate
 */
export function checkListenerAddresses(listeners: readonly Seen[]): void {
  const byAddress = new Map<string, Seen>();
  for (const l of listeners) {
    const s = socketAddress(l.obj, 'address', l.path);
    if (!s) continue;
    requireIp(s.sa, s.path, '', 'a listener binds to an IP address: use 0.0.0.0 (all IPv4), :: (all IPv6) or one such as 127.0.0.1');
    const key = addressKey(s.sa);
    if (key === undefined) continue;
    const first = byAddress.get(key);
    if (first) {
      fail(childPath(l.path, 'address'), `error adding listener: '${String(l.obj.name)}' has duplicate address '${key}' as existing listener '${String(first.obj.name)}' (${formatPos(posOf(first.obj, 'address', 'key'))}, ${first.path})`,
        posOf(l.obj, 'address', 'key'), 'give each listener its own port (port_value: 0 picks a free one)');
    }
    byAddress.set(key, l);
  }
}

/**
 * The admin listener's address must be an IP literal (Envoy resolves it as a listener's).
 * @param root the bootstrap (no-op without `admin.address.socket_address`)
 */
export function checkAdminAddress(root: Obj): void {
  const admin = root.admin;
  if (!isObj(admin)) return;
  const s = socketAddress(admin, 'address', 'admin');
  if (s) requireIp(s.sa, s.path, '', 'the admin interface binds to an IP address such as 127.0.0.1 (or use address.pipe.path for a Unix socket)');
}

/**
 * Endpoints of a STATIC cluster (type unset means STATIC) must be IP literals; STRICT_DNS and
 * LOGICAL_DNS take hostnames. Covers v2 `hosts`, already rewritten to `load_assignment`.
 * @param c a Cluster message from the walk
 * @throws ConfigError at the endpoint's `socket_address.address`
 */
export function checkStaticEndpoints(c: Seen): void {
  const type = c.obj.type ?? (c.obj.cluster_type === undefined ? 'STATIC' : undefined);
  if (type !== 'STATIC') return;
  const la = c.obj.load_assignment;
  if (!isObj(la) || !Array.isArray(la.endpoints)) return;
  const lap = childPath(c.path, 'load_assignment');
  la.endpoints.forEach((loc, i) => {
    if (!isObj(loc) || !Array.isArray(loc.lb_endpoints)) return;
    const locp = childPath(childPath(lap, 'endpoints'), i);
    loc.lb_endpoints.forEach((lbe, j) => {
      if (!isObj(lbe) || !isObj(lbe.endpoint)) return;
      const s = socketAddress(lbe.endpoint, 'address', childPath(childPath(childPath(locp, 'lb_endpoints'), j), 'endpoint'));
      if (s) {
        requireIp(s.sa, s.path, ". Consider setting cluster type to 'STRICT_DNS' or 'LOGICAL_DNS'",
          'a STATIC cluster takes IP addresses; STRICT_DNS and LOGICAL_DNS clusters resolve hostnames (attache has no resolver_name)');
      }
    });
  });
}

