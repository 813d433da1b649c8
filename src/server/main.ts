/**
 * Process entry (Envoy's main_common + server.cc, main thread): options → bootstrap → validate or
 * serve. Serving: resolve listener ports once, resolve DNS clusters, start the workers, the admin
 * listener and signal handling (SIGTERM/SIGINT drain, then exit 0).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, isAttacheError } from '../common/errors';
import { logger, setComponentLogLevel, setLogFormat, setLogLevel } from '../common/logger';
import { loadBootstrapIsolated } from '../config/load-isolated';
import { needsDynamicConfig, snapshotFromBootstrap } from '../config/snapshot';
import type { Bootstrap, ClusterLoadAssignment, ConfigSnapshot } from '../config/model';
import { native, reservePort, reusePortSupport, hashImplementation, closeFd } from '../native';
import { defaultConcurrency } from './concurrency';
import { DnsDiscovery } from './dns-discovery';
import { parseOptions, USAGE, UsageError, type Options } from './options';
import { Supervisor } from './supervisor';
import { ConfigChangeStats } from './config-change-stats';
import { startIdleMemoryRelease } from './memory-release';
import { startAdmin, type RunningAdmin } from './admin-glue';
// The xDS client (grpc-js, Envoy's protos) is loaded only when the bootstrap uses xDS.
import type { DynamicConfig } from './dynamic-config';

const log = logger('main');

/** attache's version (package.json). */
export const VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')).version as string;
  } catch {
    return '0.0.0';
  }
})();

/** A running server (returned for tests and the CLI). */
export interface RunningServer {
  readonly supervisor: Supervisor;
  readonly admin: RunningAdmin | null;
  readonly ports: Record<string, number>;
  /** Drains and stops everything; resolves when done. */
  shutdown(reason: string): Promise<void>;
}

function formatError(err: unknown): string {
  if (err instanceof ConfigError) return err.format();
  if (isAttacheError(err)) return `${err.code}: ${err.message}`;
  return (err as Error)?.message ?? String(err);
}

/**
 * Runs the CLI. @returns the exit code for validate mode and startup failures; in serve mode the
 * process exits from the signal handler.
 */
export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`attache: ${err.message}\n\n${USAGE}`);
      return 1;
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (opts.hotRestartVersion) {
    // As envoy --disable-hot-restart --hot-restart-version: attache has no hot restart.
    process.stderr.write('disabled\n');
    return 0;
  }
  if (opts.version) {
    process.stdout.write(`attache version: ${VERSION} (Envoy-compatible bootstrap v3; Node.js ${process.version})\n`);
    return 0;
  }
  setLogLevel(opts.logLevel);
  for (const [c, l] of Object.entries(opts.componentLogLevels)) setComponentLogLevel(c, l);
  try {
    setLogFormat(opts.logFormat, opts.logFormatEscaped); // issue 4: --log-format (workers follow via the supervisor)
  } catch (err) {
    process.stderr.write(`attache: ${(err as Error).message}\n`);
    return 1;
  }

  let bootstrap: Bootstrap;
  try {
    // Validated in a short-lived thread: the validator's memory leaves with it.
    const r = await loadBootstrapIsolated({ path: opts.configPath, yaml: opts.configYaml, allowUnknownStaticFields: opts.allowUnknownStaticFields });
    bootstrap = r.bootstrap;
    for (const w of r.warnings) if (!(opts.skipDeprecatedLogs && /\bdeprecated\b/.test(w))) log.warn(w);
  } catch (err) {
    const what = opts.configPath ?? (opts.configYaml !== undefined ? '--config-yaml' : undefined);
    if (opts.mode === 'validate') process.stdout.write(what !== undefined ? `configuration '${what}' is invalid:\n` : 'configuration is invalid: no configuration given\n');
    process.stderr.write(`${formatError(err)}\n`);
    return 1;
  }
  if (opts.mode === 'validate') {
    process.stdout.write(`configuration '${opts.configPath ?? '--config-yaml'}' OK\n`);
    return 0;
  }
  if (opts.serviceNode) bootstrap.node = { ...bootstrap.node, id: bootstrap.node?.id ?? opts.serviceNode };
  if (opts.serviceCluster) bootstrap.node = { ...bootstrap.node, cluster: bootstrap.node?.cluster ?? opts.serviceCluster };

  // Signals are handled from here on, also while startup waits (e.g. for the first xDS response).
  let server: Awaited<ReturnType<typeof serve>> | null = null;
  let stopping = false;
  const onSignal = (sig: string) => {
    if (stopping) {
      log.warn(`${sig} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    if (server === null) {
      log.info(`caught ${sig} during startup: exiting`);
      process.exit(0);
    }
    log.info(`caught ${sig}: draining (up to ${opts.drainTimeS}s)`);
    void server.shutdown(sig).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  // Envoy eats SIGHUP (hot restart is started differently); its default action would kill us.
  process.on('SIGHUP', () => log.warn('caught and eating SIGHUP. See documentation for how to hot restart.'));
  // issue 4: logrotate's postrotate `kill -USR1` reopens the access log files (as admin /reopen_logs).
  process.on('SIGUSR1', () => {
    if (server === null) return;
    log.info('caught SIGUSR1: reopening access logs');
    void server.supervisor.reopenLogs().then((errs) => {
      for (const e of errs) log.error(`reopen_logs: ${e}`);
    });
  });
  try {
    server = await serve(bootstrap, opts);
    if (opts.mode === 'init_only') {
      await server.shutdown('init_only');
      return 0;
    }
    return -1; // keep running
  } catch (err) {
    process.stderr.write(`attache: ${formatError(err)}\n`);
    return 1;
  }
}

/**
 * Starts serving a validated bootstrap.
 * @throws Error when a listener cannot be bound or workers fail to start.
 */
export async function serve(bootstrap: Bootstrap, opts: Options): Promise<RunningServer> {
  const startMs = Date.now();
  let concurrency = opts.concurrency;
  if (concurrency === undefined) {
    const d = defaultConcurrency();
    concurrency = d.value;
    log.info(`concurrency ${concurrency} (${d.source}); set --concurrency to override`);
  }
  const socketMode = reusePortSupport();
  if (socketMode === 'none' && concurrency > 1) {
    const why = native.reason ?? 'native addon not built';
    log.warn(`*** SO_REUSEPORT is unavailable (${why}, and this Node.js ignores listen({reusePort})) ***`);
    const fix = /ATTACHE_NATIVE=0/.test(why) ? 'unset ATTACHE_NATIVE' : 'build the addon with `npm run build:native` (needs cargo)';
    log.warn(`*** running ONE worker instead of ${concurrency}: ${fix} ***`);
    concurrency = 1;
  }
  log.info(`socket mode: ${socketMode}; hash: ${hashImplementation()}; native addon: ${native.available ? 'loaded' : `absent (${native.reason ?? 'not built'})`}`);

  // --- admin first (src/server/admin-glue.ts): Envoy binds admin at startup, so /ready answers
  // 503 PRE_INITIALIZING/INITIALIZING during DNS, the initial xDS fetch and worker start-up. ---
  let snapshot: ConfigSnapshot = snapshotFromBootstrap(bootstrap, 1);
  let supervisor: Supervisor | null = null;
  let dyn: DynamicConfig | null = null; // xDS (issue 5)
  let changes: ConfigChangeStats | null = null; // cluster_manager.* / listener_manager.* change counts
  let dns: DnsDiscovery | null = null;
  let stopMemoryRelease = (): void => {};
  const reservations: number[] = [];
  let shut: Promise<void> | null = null;
  const shutdown = (reason: string): Promise<void> => {
    if (shut !== null) return shut;
    shut = (async () => {
      log.info(`shutting down (${reason})`);
      stopMemoryRelease();
      admin?.markDraining();
      dns?.stop();
      dyn?.stop(); // xDS (issue 5)
      await supervisor?.drainAndStop(opts.drainTimeS * 1000);
      for (const fd of reservations) closeFd?.(fd);
      await admin?.close();
      log.info('exited cleanly');
    })();
    return shut;
  };
  let admin: RunningAdmin | null = null;
  if (bootstrap.admin?.address) {
    admin = await startAdmin({ bootstrap, opts, startMs, version: VERSION, concurrency, snapshot: () => snapshot, shutdown: (r) => void shutdown(r).then(() => process.exit(0)), dynamicDump: () => dyn?.configDump() /* xDS (issue 5) */ });
  }
  // --- end admin first ---
  try {
    // Resolve port_value 0 once, so that every worker binds the same port.
    const listenerPorts: Record<string, number> = {};
    for (const l of bootstrap.static_resources?.listeners ?? []) {
      const sa = l.address.socket_address;
      if ((sa.port_value ?? 0) === 0 && socketMode === 'native-addon') {
        const r = reservePort(sa.address, 0);
        if (r) {
          listenerPorts[l.name] = r.port;
          reservations.push(r.fd);
        }
      }
    }

    const clusters = bootstrap.static_resources?.clusters ?? [];
    const endpoints: Record<string, ClusterLoadAssignment> = {};
    dns = new DnsDiscovery(clusters, {
      onUpdate: (name, cla) => {
        endpoints[name] = cla;
        dyn?.setStaticEndpoints(name, cla); // xDS (issue 5)
        if (supervisor !== null) supervisor.publishEndpoints(name, cla);
      },
    });
    await dns.start();
    snapshot = { ...snapshot, endpoints: { ...snapshot.endpoints, ...endpoints } };

    // --- xDS dynamic configuration (src/server/dynamic-config.ts, issue 5) ---
    // Workers start with the merged snapshot once the initial fetch is done (each subscription is
    // bounded by its initial_fetch_timeout); later changes are published as they come.
    const reserveDynamicPorts = (s: ConfigSnapshot): void => {
      if (socketMode !== 'native-addon') return;
      for (const l of s.listeners) {
        const sa = l.address.socket_address;
        if ((sa.port_value ?? 0) !== 0 || listenerPorts[l.name] !== undefined) continue;
        const r = reservePort(sa.address, 0);
        if (r) {
          listenerPorts[l.name] = r.port;
          reservations.push(r.fd);
        }
      }
    };
    if (needsDynamicConfig(bootstrap)) {
      const { startDynamicConfig } = require('./dynamic-config') as typeof import('./dynamic-config');
      dyn = startDynamicConfig(bootstrap, snapshot, {
        publish: (s) => {
          reserveDynamicPorts(s);
          snapshot = s;
          changes?.observe(s);
          supervisor?.publish(s);
        },
        publishEndpoints: (name, cla) => {
          snapshot = { ...snapshot, endpoints: { ...snapshot.endpoints, [name]: cla } };
          changes?.endpoints(name, cla);
          supervisor?.publishEndpoints(name, cla);
        },
        clustersChanged: (all) => dns!.setClusters(all), // STRICT_DNS/LOGICAL_DNS clusters from CDS
      }, { version: VERSION });
      admin?.attachStats(dyn.stats, 'xds'); // xDS stats in /stats before the workers exist
      changes = new ConfigChangeStats(dyn.stats, snapshot);
      admin?.setInitState('INITIALIZING');
      await dyn.ready;
      if (shut !== null) throw new Error('shut down during the initial xDS fetch');
      snapshot = dyn.current();
      // The listeners and clusters of the initial fetch are added now (not at the next publish,
      // which would count an update of one of them as an addition).
      changes.observe(snapshot);
      reserveDynamicPorts(snapshot);
    }
    // --- end xDS ---

    admin?.setInitState('INITIALIZING');
    supervisor = new Supervisor({ concurrency, socketMode, logLevel: opts.logLevel, componentLogLevels: opts.componentLogLevels, fileFlushIntervalMs: opts.fileFlushIntervalMsec, listenerPorts, listenerDrain: { timeMs: opts.drainTimeS * 1000, immediate: opts.drainStrategy === 'immediate' } }, snapshot);
    if (dyn && !admin) supervisor.stats.attachLocal(dyn.stats, 'xds'); // xDS (issue 5); with admin, serving() attaches it
    await supervisor.start();
    const ports = { ...supervisor.boundPorts() };
    admin?.serving(supervisor);
    stopMemoryRelease = startIdleMemoryRelease();
    log.info(`attache ${VERSION} serving with ${concurrency} worker(s): ${Object.entries(ports).map(([n, p]) => `${n}:${p}`).join(', ') || 'no listeners'}${admin ? (bootstrap.admin?.address?.pipe ? `; admin on ${bootstrap.admin.address.pipe.path}` : `; admin on port ${admin.port}`) : ''}`);

    return { supervisor, admin, ports, shutdown };
  } catch (err) {
    // Startup failed after admin was bound: release it (and anything started) before reporting.
    dns?.stop();
    dyn?.stop();
    for (const fd of reservations) closeFd?.(fd);
    await admin?.close();
    throw err;
  }
}
