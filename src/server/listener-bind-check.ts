/**
 * Main-thread checks of a listener pushed over LDS, before it is accepted. Envoy creates a new
 * listener's socket on the main thread (ListenerImpl → ListenSocketImpl::doBind(), source/common/
 * network/listen_socket_impl.cc), so an address in use throws `cannot bind '<ip:port>': <strerror>`
 * and LdsApiImpl rejects the update (NACK) while the other listeners keep serving; a listener on
 * the address of another one is refused with "error adding listener: '<name>' has duplicate
 * address '<addr>' as existing listener" (listener_manager_impl.cc). Both count
 * `listener_manager.listener_create_failure`.
 *
 * attache's workers bind with SO_REUSEPORT, so a test bind here (same options) fails exactly when
 * the workers' binds would. Without the native addon no synchronous bind exists: only the
 * duplicate-address check runs, and a worker that then cannot bind logs the error.
 */
import type { Listener } from '../config/model';
import { closeFd, reservePort } from '../native';
import { hostKey } from '../upstream/cluster/host';

/** An address already taken by one of our listeners. */
export interface BoundListener {
  name: string;
  address: string;
  port: number;
}

/** strerror() text of the errno names a bind can fail with (what Envoy's message shows). */
const STRERROR: Record<string, string> = {
  EADDRINUSE: 'Address already in use',
  EACCES: 'Permission denied',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  EINVAL: 'Invalid argument',
};

/**
 * Checks that a listener pushed over LDS can be created.
 * @param l the validated listener
 * @param name its resource name
 * @param ours addresses held by the other listeners (static and accepted dynamic ones); an entry
 *   with the same name is the listener's own previous version and is skipped.
 * @throws Error `error adding listener: ... duplicate address ...` or `cannot bind '<ip:port>': <strerror>`
 */
export function checkListenerCanBind(l: Listener, name: string, ours: Iterable<BoundListener>): void {
  const sa = l.address.socket_address;
  const address = sa.address;
  const port = Number(sa.port_value ?? 0);
  if (port === 0) return; // the kernel picks a free port
  const where = hostKey(address, port);
  for (const o of ours) {
    if (o.port !== port || o.address !== address) continue;
    if (o.name === name) return; // its own socket: the workers keep it
    throw new Error(`error adding listener: '${name}' has duplicate address '${where}' as existing listener`);
  }
  let r: { fd: number } | undefined;
  try {
    r = reservePort(address, port);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new Error(`cannot bind '${where}': ${STRERROR[code] ?? (e as Error).message}`);
  }
  if (r !== undefined) closeFd?.(r.fd);
}
