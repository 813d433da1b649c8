/**
 * Command-line options, with Envoy's flag names (source/server/options_impl.cc) so that attache can
 * replace the envoy binary in scripts and in Istio's pilot-agent. Flags that only make sense for
 * Envoy's C++ runtime (hot restart, base id, core dumps, ...) are accepted and ignored.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_LOG_FORMAT, parseLogLevel, type LogLevel } from '../common/logger';
import { isLoggerName } from '../admin/logger-names';

/** Parsed options. */
export interface Options {
  configPath?: string;
  configYaml?: string;
  /** undefined: choose from the cgroup limit / CPUs. */
  concurrency?: number;
  logLevel: LogLevel;
  componentLogLevels: Record<string, LogLevel>;
  mode: 'serve' | 'validate' | 'init_only';
  /** s; Envoy default 600. */
  drainTimeS: number;
  drainStrategy: 'gradual' | 'immediate';
  /** s; Envoy default 900. */
  parentShutdownTimeS: number;
  localAddressIpVersion: 'v4' | 'v6';
  /** ms; Envoy default 10000. */
  fileFlushIntervalMsec: number;
  serviceCluster?: string;
  serviceNode?: string;
  serviceZone?: string;
  logPath?: string;
  /** Envoy's `--log-format` (spdlog pattern, `json`, or a JSON object of patterns); default Envoy's pattern. */
  logFormat: string;
  /** Envoy's `--log-format-escaped`: C-style escape newlines in `%v`. */
  logFormatEscaped: boolean;
  allowUnknownStaticFields: boolean;
  help: boolean;
  version: boolean;
  /** Envoy's `--hot-restart-version`: print the hot restart compatibility version and exit (attache: `disabled`). */
  hotRestartVersion: boolean;
  /** Envoy's `--admin-address-path`: file the admin address (`ip:port`) is written to once admin listens. */
  adminAddressPath?: string;
  /** Envoy's `--skip-deprecated-logs`: no warnings about deprecated config fields and names. */
  skipDeprecatedLogs: boolean;
}

/** Thrown for bad command lines; the CLI prints the message and the usage, exit 1. */
export class UsageError extends Error {}

// Envoy's flags (source/server/options_impl.cc) that have no effect here: accepted so that a
// script or Istio's pilot-agent can start attache with envoy's command line unchanged.
const IGNORED_STRING = ['base-id', 'restart-epoch', 'base-id-path', 'socket-path', 'socket-mode', 'max-obj-name-len', 'max-stats', 'disable-extensions', 'bootstrap-version', 'stats-tag', 'file-flush-min-size-kb'];
const IGNORED_BOOL = ['disable-hot-restart', 'use-dynamic-base-id', 'reject-unknown-dynamic-fields', 'ignore-unknown-dynamic-fields', 'enable-core-dump', 'cpuset-threads', 'enable-fine-grain-logging', 'skip-hot-restart-on-no-parent', 'skip-hot-restart-parent-stats', 'enable-mutex-tracing', 'log-stacktrace-single-entry'];

/**
 * Parses argv (without node and script).
 * @throws UsageError for unknown flags or bad values.
 */
export function parseOptions(argv: string[]): Options {
  const extra: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const n of IGNORED_STRING) extra[n] = { type: 'string', multiple: true };
  for (const n of IGNORED_BOOL) extra[n] = { type: 'boolean' };
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'config-path': { type: 'string', short: 'c' },
        'config-yaml': { type: 'string' },
        concurrency: { type: 'string' },
        'log-level': { type: 'string', short: 'l' },
        'component-log-level': { type: 'string' },
        mode: { type: 'string' },
        'drain-time-s': { type: 'string' },
        'drain-strategy': { type: 'string' },
        'parent-shutdown-time-s': { type: 'string' },
        'local-address-ip-version': { type: 'string' },
        'file-flush-interval-msec': { type: 'string' },
        'service-cluster': { type: 'string' },
        'service-node': { type: 'string' },
        'service-zone': { type: 'string' },
        'log-path': { type: 'string' },
        'log-format': { type: 'string' },
        'log-format-escaped': { type: 'boolean' },
        'allow-unknown-static-fields': { type: 'boolean' },
        'allow-unknown-fields': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
        'hot-restart-version': { type: 'boolean' },
        'admin-address-path': { type: 'string' },
        'skip-deprecated-logs': { type: 'boolean' },
        ...extra,
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const num = (name: string, dflt: number, min = 0): number => {
    const v = values[name];
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || !/^\d+(\.\d+)?$/.test(String(v))) throw new UsageError(`--${name}: expected a number >= ${min}, got "${String(v)}"`);
    return n;
  };
  const oneOf = <T extends string>(name: string, choices: readonly T[], dflt: T): T => {
    const v = values[name];
    if (v === undefined) return dflt;
    if (!choices.includes(v as T)) throw new UsageError(`--${name}: "${String(v)}" is not one of ${choices.join(', ')}`);
    return v as T;
  };
  const lvlName = (values['log-level'] as string | undefined) ?? 'info';
  const logLevel = parseLogLevel(lvlName);
  if (logLevel === undefined) throw new UsageError(`--log-level: unknown level "${lvlName}" (trace, debug, info, warning, error, critical, off)`);
  const componentLogLevels: Record<string, LogLevel> = {};
  const cll = values['component-log-level'] as string | undefined;
  if (cll) {
    for (const part of cll.split(',')) {
      const [comp, lvl] = part.split(':');
      const l = lvl === undefined ? undefined : parseLogLevel(lvl.trim());
      if (!comp || l === undefined) throw new UsageError(`--component-log-level: expected component:level[,component:level], got "${part}"`);
      // Envoy: "error: invalid component specified '<name>'" (OptionsImpl::parseComponentLogLevels).
      if (!isLoggerName(comp.trim())) throw new UsageError(`--component-log-level: invalid component specified '${comp.trim()}'`);
      componentLogLevels[comp.trim()] = l;
    }
  }
  const concurrency = values.concurrency === undefined ? undefined : num('concurrency', 1, 1);
  if (concurrency !== undefined && !Number.isInteger(concurrency)) throw new UsageError('--concurrency: expected an integer >= 1');
  return {
    configPath: values['config-path'] as string | undefined,
    configYaml: values['config-yaml'] as string | undefined,
    concurrency,
    logLevel,
    componentLogLevels,
    mode: oneOf('mode', ['serve', 'validate', 'init_only'] as const, 'serve'),
    drainTimeS: num('drain-time-s', 600),
    drainStrategy: oneOf('drain-strategy', ['gradual', 'immediate'] as const, 'gradual'),
    parentShutdownTimeS: num('parent-shutdown-time-s', 900),
    localAddressIpVersion: oneOf('local-address-ip-version', ['v4', 'v6'] as const, 'v4'),
    fileFlushIntervalMsec: num('file-flush-interval-msec', 10000),
    serviceCluster: values['service-cluster'] as string | undefined,
    serviceNode: values['service-node'] as string | undefined,
    serviceZone: values['service-zone'] as string | undefined,
    logPath: values['log-path'] as string | undefined,
    logFormat: (values['log-format'] as string | undefined) ?? DEFAULT_LOG_FORMAT,
    logFormatEscaped: (values['log-format-escaped'] as boolean | undefined) ?? false,
    allowUnknownStaticFields: (values['allow-unknown-static-fields'] as boolean | undefined) ?? (values['allow-unknown-fields'] as boolean | undefined) ?? false,
    help: (values.help as boolean | undefined) ?? false,
    version: (values.version as boolean | undefined) ?? false,
    hotRestartVersion: (values['hot-restart-version'] as boolean | undefined) ?? false,
    adminAddressPath: values['admin-address-path'] as string | undefined,
    skipDeprecatedLogs: (values['skip-deprecated-logs'] as boolean | undefined) ?? false,
  };
}

/** Usage text for --help. */
export const USAGE = `usage: attache -c <bootstrap.yaml> [options]

  -c, --config-path <file>         Envoy bootstrap (YAML or JSON)
      --config-yaml <yaml>         inline bootstrap YAML, merged over --config-path
      --concurrency <n>            worker threads (default: container CPU limit, else CPUs)
  -l, --log-level <level>          trace|debug|info|warning|error|critical|off (default info)
      --component-log-level <c:l>  per-component levels, e.g. upstream:debug,router:trace
      --log-format <fmt>           line pattern (default '[%Y-%m-%d %T.%e][%t][%l][%n] %v'); 'json' for JSON
                                   lines; or a JSON object of patterns, e.g. '{"ts":"%T.%e","msg":"%j"}'
      --log-format-escaped         escape newlines in %v (one line per message)
      --mode <serve|validate|init_only>  validate: check the config, print the verdict, exit 0/1;
                                   init_only: start, then exit 0
      --drain-time-s <s>           on SIGTERM/SIGINT, wait up to this long for in-flight requests (default 600)
      --drain-strategy <s>         gradual|immediate: how /drain_listeners?graceful spreads connection: close
      --service-cluster <name>     node.cluster when the bootstrap has none
      --service-node <id>          node.id when the bootstrap has none
      --file-flush-interval-msec   access log flush interval (default 10000)
      --local-address-ip-version   v4|v6
      --admin-address-path <file>  write the admin address (ip:port) there once admin listens
      --version                    print the version
Envoy's hot-restart and C++-runtime flags (--disable-hot-restart, --base-id, ...) are accepted and ignored.
`;
