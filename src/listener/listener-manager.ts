/**
 * Per-worker listeners (Envoy's ListenerManager + ConnectionHandler, one per worker): each listener
 * gets this worker's own listening socket (SO_REUSEPORT, so the kernel spreads connections across
 * workers), picks a filter chain per connection and hands the socket to the HTTP connection manager.
 *
 * Config changes compile new filter chains and swap them whole; existing connections keep the
 * config they started with, and when the listener itself was modified they drain over the drain
 * time (Envoy drains the old listener's connections). Draining stops accepting, asks each connection to close after its
 * in-flight request, and resolves when all are gone (or at the deadline, when the rest are closed).
 */
import * as net from 'node:net';
import { ConfigError } from '../common/errors';
import { logger } from '../common/logger';
import { socketReads, type SocketOptsWithReads } from '../common/socket-reads';
import type { FilterChain, HttpConnectionManager, Listener } from '../config/model';
import type { RouteConfigProviders } from '../http/rds-providers';
import { DownstreamConnection } from '../http/connection-manager';
import type { WorkerServices } from '../http/filter';
import { compileHcm, type HcmConfig } from '../http/hcm-config';
import { listenerStats, listenerStatName, type ListenerStats } from '../stats/common-stats';
import { acceptFd, listenFd, reusePortSocket } from '../native';
import { clampTimeoutMs } from '../common/timer-limit';

const log = logger('listener');

/**
 * Accept queue length per worker socket (capped by net.core.somaxconn). A connection storm larger
 * than the queue overflows it, and the kernel drops SYNs: those clients retry after 1 s.
 */
const LISTEN_BACKLOG = 4096;

/** How this process gives each worker its own socket. */
export type SocketMode = 'native-addon' | 'node-reuseport' | 'none';

const HCM_NAMES = new Set(['envoy.filters.network.http_connection_manager', 'envoy.http_connection_manager']);
const HCM_TYPES = new Set([
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  'type.googleapis.com/envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager',
]);

/** A compiled filter chain. */
interface CompiledChain {
  readonly match: FilterChain['filter_chain_match'];
  readonly hcm: HcmConfig;
}

/** Compiled listener config (immutable). */
interface CompiledListener {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly chains: readonly CompiledChain[];
  readonly defaultChain: CompiledChain | null;
  readonly stats: ListenerStats;
  /** Listener.max_connections_to_accept_per_socket_event; 0: every waiting connection. */
  readonly maxAcceptPerEvent: number;
  /** Listener.traffic_direction: `INBOUND`, `OUTBOUND` or `UNSPECIFIED` (admin `/drain_listeners?inboundonly`). */
  readonly direction: string;
  /** The Listener resource as JSON: a different one is a modified listener (its connections drain). */
  readonly source: string;
}

/**
 * Compiles a listener's filter chains.
 * @throws ConfigError for network filters attache does not implement.
 */
export function compileListener(l: Listener, index: number, services: WorkerServices, rds: RouteConfigProviders, port: number): CompiledListener {
  const path = `static_resources.listeners[${index}]`;
  const compileChain = (fc: FilterChain, p: string): CompiledChain => {
    const f = fc.filters.find((x) => HCM_NAMES.has(x.name) || HCM_TYPES.has(String(x.typed_config?.['@type'] ?? '')));
    if (f === undefined) {
      const names = fc.filters.map((x) => x.name).join(', ');
      throw new ConfigError(`no supported network filter in filter chain (found: ${names || 'none'})`, {
        path: `${p}.filters`,
        hint: 'attache implements envoy.filters.network.http_connection_manager',
      });
    }
    const { '@type': _t, ...hcm } = (f.typed_config ?? {}) as Record<string, unknown>;
    return { match: fc.filter_chain_match, hcm: compileHcm(hcm as unknown as HttpConnectionManager, { services, path: `${p}.filters[${fc.filters.indexOf(f)}].typed_config`, rds }) };
  };
  const chains = l.filter_chains.map((fc, i) => compileChain(fc, `${path}.filter_chains[${i}]`));
  const defaultChain = l.default_filter_chain ? compileChain(l.default_filter_chain, `${path}.default_filter_chain`) : null;
  const address = l.address.socket_address.address;
  return Object.freeze({
    name: l.name,
    address,
    port,
    chains: Object.freeze(chains),
    defaultChain,
    stats: listenerStats(services.stats, l.stat_prefix ?? listenerStatName(address, port)),
    maxAcceptPerEvent: Number(l.max_connections_to_accept_per_socket_event ?? 0),
    direction: l.traffic_direction ?? 'UNSPECIFIED',
    source: JSON.stringify(l),
  });
}

/** Picks the filter chain for a connection (destination port and source prefix; else first/default). */
function selectChain(l: CompiledListener, socket: net.Socket): CompiledChain | null {
  for (const c of l.chains) {
    const m = c.match;
    if (m === undefined) return c;
    if (m.destination_port !== undefined && m.destination_port !== socket.localPort) continue;
    if (m.server_names?.length || m.transport_protocol === 'tls' || m.application_protocols?.length) continue;
    return c;
  }
  return l.defaultChain;
}

/** One listening socket of this worker. */
class ActiveListener {
  readonly server: net.Server;
  readonly connections = new Set<DownstreamConnection>();
  private draining = false;

  /** Resolves once the socket listens; rejects if it cannot (EADDRINUSE, EACCES, ...). */
  readonly listening: Promise<void>;

  constructor(public config: CompiledListener, mode: SocketMode) {
    this.server = net.createServer({ noDelay: true, pauseOnConnect: false }, (s) => this.onAccept(s));
    this.listening = new Promise<void>((resolve, reject) => {
      this.server.once('listening', () => resolve());
      this.server.once('error', (e) => reject(new Error(`listener ${config.name} (${config.address}:${config.port}): ${e.message}`)));
    });
    this.listening.then(
      () => this.server.on('error', (e) => log.error(`listener ${config.name}: ${e.message}`)),
      () => {},
    );
    try {
      this.open(mode);
    } catch (err) {
      // The addon's bind/listen errors are synchronous.
      this.server.emit('error', err);
    }
  }

  private open(mode: SocketMode): void {
    const { address, port } = this.config;
    if (mode === 'native-addon') {
      const fd = reusePortSocket!(address, port, true, LISTEN_BACKLOG);
      this.fd = fd;
      // Node calls listen() again on the fd with its default backlog (511, the option is ignored
      // for fds): set ours back once it listens.
      this.server.once('listening', () => {
        try {
          listenFd?.(fd, LISTEN_BACKLOG);
        } catch (err) {
          log.warn(`listener ${this.config.name}: could not set backlog ${LISTEN_BACKLOG}: ${(err as Error).message}`);
        }
      });
      this.server.listen({ fd, backlog: LISTEN_BACKLOG } as net.ListenOptions);
    } else if (mode === 'node-reuseport') {
      this.server.listen({ host: address, port, backlog: LISTEN_BACKLOG, reusePort: true } as net.ListenOptions);
    } else {
      this.server.listen({ host: address, port, backlog: LISTEN_BACKLOG });
    }
  }

  /** The listening socket's fd when it came from the addon (-1 otherwise). */
  private fd = -1;

  /**
   * libuv (≥ 1.45) accepts one connection per event loop iteration: under load, with a loop
   * iteration of tens of milliseconds, a burst of new connections would wait in the accept queue
   * for seconds. As Envoy, accept the rest of the queue now (up to
   * max_connections_to_accept_per_socket_event when set), through the addon's accept4.
   */
  private onAccept(socket: net.Socket): void {
    this.onConnection(socket);
    const fd = this.fd;
    if (fd === -1 || acceptFd === undefined) return;
    const max = this.config.maxAcceptPerEvent;
    let n = 1;
    for (; (max === 0 || n < max) && !this.draining && !this.stopped; n++) {
      let cfd: number;
      try {
        cfd = acceptFd(fd);
      } catch (err) {
        // EMFILE and the like: libuv's own accept (with its reserve-fd trick) takes over.
        log.warn(`listener ${this.config.name}: accept failed: ${(err as Error).message}`);
        break;
      }
      if (cfd < 0) break;
      let conn: DownstreamConnection | null = null;
      const opts: SocketOptsWithReads = { fd: cfd, readable: true, writable: true, onread: socketReads((d) => conn?.onData(d)) };
      const socket = new net.Socket(opts);
      conn = this.onConnection(socket);
    }
    if (n > 1) log.debug(`listener ${this.config.name}: accepted ${n} connections in one socket event`);
  }

  /** @returns the connection, or null when the socket was refused (draining, no filter chain). */
  private onConnection(socket: net.Socket): DownstreamConnection | null {
    const cfg = this.config;
    cfg.stats.downstream_cx_total.inc();
    cfg.stats.downstream_cx_active.inc();
    if (this.draining) {
      socket.destroy();
      return null;
    }
    const chain = selectChain(cfg, socket);
    if (chain === null) {
      cfg.stats.no_filter_chain_match?.inc();
      socket.destroy();
      return null;
    }
    const c = new DownstreamConnection(socket, chain.hcm, (closed) => {
      this.connections.delete(closed);
      cfg.stats.downstream_cx_active.dec();
      cfg.stats.downstream_cx_destroy.inc();
      this.onConnectionGone();
    });
    this.connections.add(c);
    if (this.discourageUntil !== 0) this.discourageOne(c);
    return c;
  }

  /** Stopped by admin `/drain_listeners`: accepts nothing more; open connections go on. */
  stopped = false;
  /** Graceful drain window end (Date.now() ms), 0 when not draining; `discourageImmediate`: --drain-strategy immediate. */
  private discourageUntil = 0;
  private discourageImmediate = false;

  /** Stops accepting; open connections go on (Envoy's ListenerManager::stopListeners). */
  stopAccepting(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.server.close();
  }

  /**
   * Discourages keep-alive until `untilMs` while still accepting (Envoy's drain sequence): each
   * connection, open or accepted in the window, answers its next request with `connection: close`
   * from a moment picked uniformly over the rest of the window (gradual; as DrainManagerImpl's
   * addOnDrainCloseCb, which makes P(close) grow linearly to 1 at the deadline) or at once (immediate).
   */
  discourage(untilMs: number, immediate: boolean): void {
    if (this.discourageUntil !== 0 && this.discourageUntil <= untilMs && (this.discourageImmediate || !immediate)) return;
    this.discourageUntil = untilMs;
    this.discourageImmediate = immediate;
    for (const c of this.connections) this.discourageOne(c);
  }

  private discourageOne(c: DownstreamConnection): void {
    drainWithin(c, this.discourageUntil - Date.now(), this.discourageImmediate);
  }

  /**
   * The listener was modified (LDS): the connections open now, which keep the config they started
   * with, drain as Envoy drains the old listener's: each answers its next request with
   * `connection: close`, from a moment spread over `timeMs` (--drain-time-s; at once with
   * `immediate`), and those still open after `timeMs` are closed. New connections get the new config.
   */
  drainOpenConnections(timeMs: number, immediate: boolean): void {
    const open = [...this.connections];
    if (open.length === 0) return;
    for (const c of open) drainWithin(c, timeMs, immediate);
    setTimeout(() => {
      for (const c of open) if (this.connections.has(c)) c.destroy();
    }, clampTimeoutMs(timeMs)).unref();
  }

  private drainResolve: (() => void) | null = null;
  private onConnectionGone(): void {
    if (this.drainResolve !== null && this.connections.size === 0) {
      const r = this.drainResolve;
      this.drainResolve = null;
      r();
    }
  }

  /** Stops accepting; in-flight requests finish with `connection: close`. Resolves when no connection is left. */
  drain(): Promise<void> {
    this.draining = true;
    this.server.close();
    for (const c of this.connections) c.drain();
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((r) => {
      this.drainResolve = r;
    });
  }

  /** Closes every remaining connection. */
  closeAll(): void {
    this.server.close();
    for (const c of this.connections) c.destroy();
  }
}

function markDraining(c: DownstreamConnection): void {
  c.draining = true;
}

/**
 * Makes `c` answer its next request with `connection: close` from a moment picked uniformly over
 * the next `windowMs` (gradual: as DrainManagerImpl's addOnDrainCloseCb, P(close) grows linearly
 * to 1 at the deadline), or at once (`immediate`, or a window of a millisecond or less).
 */
function drainWithin(c: DownstreamConnection, windowMs: number, immediate: boolean): void {
  if (immediate || windowMs <= 1) c.draining = true;
  else setTimeout(markDraining, clampTimeoutMs(Math.floor(Math.random() * windowMs)), c).unref();
}

/**
 * Admin `/drain_listeners` as sent to each worker (Envoy's listeners_handler.cc
 * handlerDrainListeners): `inboundOnly` picks the listeners whose traffic_direction is INBOUND;
 * without `graceful` they stop accepting now; with it they keep accepting while connections are
 * discouraged (`strategy`, --drain-strategy) for `drainTimeMs` (--drain-time-s) from `startedAtMs`
 * (Date.now()), then stop.
 */
export interface DrainListenersRequest {
  type: 'drain-listeners';
  inboundOnly: boolean;
  graceful: boolean;
  startedAtMs: number;
  drainTimeMs: number;
  strategy: 'gradual' | 'immediate';
}

/** How a modified listener's open connections drain (--drain-time-s, --drain-strategy). */
export interface ListenerDrainOptions {
  /** ms */
  timeMs: number;
  immediate: boolean;
}

/** All listeners of one worker. */
export class ListenerManager {
  private readonly active = new Map<string, ActiveListener>();

  constructor(
    private readonly mode: SocketMode,
    private readonly drainOpts: ListenerDrainOptions = { timeMs: 600_000, immediate: false },
  ) {}

  /** Directions stopped by admin `/drain_listeners` ('all' or 'INBOUND'): new listeners there are not opened. */
  private readonly stoppedDirections = new Set<string>();

  private isStopped(direction: string): boolean {
    return this.stoppedDirections.has('all') || this.stoppedDirections.has(direction);
  }

  /** Admin `/drain_listeners` (see {@link DrainListenersRequest}). */
  drainListeners(r: DrainListenersRequest): void {
    const picked = (): ActiveListener[] => [...this.active.values()].filter((l) => !r.inboundOnly || l.config.direction === 'INBOUND');
    const stop = (): void => {
      this.stoppedDirections.add(r.inboundOnly ? 'INBOUND' : 'all');
      for (const l of picked()) {
        if (!l.stopped) log.info(`listener ${l.config.name} stopped (admin drain_listeners)`);
        l.stopAccepting();
      }
    };
    if (!r.graceful) return stop();
    const until = r.startedAtMs + r.drainTimeMs;
    for (const l of picked()) l.discourage(until, r.strategy === 'immediate');
    setTimeout(stop, clampTimeoutMs(until - Date.now())).unref();
  }

  /**
   * Applies a set of listeners: new ones open, removed ones drain, changed ones get the new
   * compiled config for new connections (the socket stays).
   * @param ports resolved port per listener name (port_value 0 resolved once by the main thread).
   * @throws ConfigError from compilation; nothing is changed then.
   */
  apply(listeners: readonly Listener[], services: WorkerServices, rds: RouteConfigProviders, ports: Readonly<Record<string, number>>): void {
    const compiled = listeners.map((l, i) => compileListener(l, i, services, rds, ports[l.name] ?? l.address.socket_address.port_value ?? 0));
    const keep = new Set<string>();
    for (const c of compiled) {
      keep.add(c.name);
      const existing = this.active.get(c.name);
      if (existing !== undefined && existing.config.address === c.address && existing.config.port === c.port) {
        // Same socket. A modified listener (not one merely re-applied with the rest of a snapshot)
        // drains its open connections: they would otherwise keep the old config for their lifetime.
        if (existing.config.source !== c.source) existing.drainOpenConnections(this.drainOpts.timeMs, this.drainOpts.immediate);
        existing.config = c;
      } else {
        if (existing !== undefined) void existing.drain();
        if (this.isStopped(c.direction)) {
          // Envoy: "listener '<name>' can not be added because listeners in the traffic direction <dir> are stopped".
          log.warn(`listener ${c.name} not opened: listeners in the traffic direction ${c.direction} are stopped`);
          this.active.delete(c.name);
          continue;
        }
        const al = new ActiveListener(c, this.mode);
        this.active.set(c.name, al);
        log.debug(`listener ${c.name} on ${c.address}:${c.port}`);
        // After start-up a listener that cannot bind (the main thread's check raced, or there was
        // none: no native addon) is logged and dropped; the others keep serving, nothing exits.
        if (this.applied > 0) al.listening.catch((e: Error) => this.onBindFailure(al, e));
      }
    }
    for (const [name, l] of this.active) {
      if (!keep.has(name)) {
        this.active.delete(name);
        void l.drain();
      }
    }
    this.applied++;
  }

  /** Snapshots applied so far (the first one's bind failures reject {@link whenListening}). */
  private applied = 0;

  private onBindFailure(l: ActiveListener, e: Error): void {
    log.error(`${e.message}; the listener is not serving`);
    if (this.active.get(l.config.name) === l) this.active.delete(l.config.name);
  }

  /** Resolves when every listener listens; rejects with the first that cannot. */
  whenListening(): Promise<void> {
    return Promise.all([...this.active.values()].map((l) => l.listening)).then(() => undefined);
  }

  /** Ports actually bound, by listener name. */
  boundPorts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, l] of this.active) {
      const a = l.server.address();
      if (a !== null && typeof a === 'object') out[name] = a.port;
    }
    return out;
  }

  /** Total open downstream connections. */
  connectionCount(): number {
    let n = 0;
    for (const l of this.active.values()) n += l.connections.size;
    return n;
  }

  /**
   * Drains every listener: stop accepting, finish in-flight requests, then close. Connections still
   * open after `timeoutMs` are closed.
   */
  async drain(timeoutMs: number): Promise<void> {
    const all = Promise.all([...this.active.values()].map((l) => l.drain()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => {
      timer = setTimeout(r, clampTimeoutMs(timeoutMs));
    });
    await Promise.race([all, deadline]);
    clearTimeout(timer);
    for (const l of this.active.values()) l.closeAll();
  }
}
