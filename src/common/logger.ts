/**
 * Envoy-style leveled logging: `[2026-11-29 11:00:00.123][worker_0][info][main] message`.
 * Levels and names follow Envoy's `--log-level` (trace, debug, info, warning/warn, error, critical, off)
 * and `--component-log-level upstream:debug,connection:trace`.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LEVEL_NUM: Record<string, number> = { trace: 0, debug: 1, info: 2, warning: 3, warn: 3, error: 4, critical: 5, off: 6 };

/** Parses a level name (Envoy accepts `warn` for `warning`). @returns undefined if unknown. */
export function parseLogLevel(s: string): LogLevel | undefined {
  const n = LEVEL_NUM[s.toLowerCase()];
  return n === undefined ? undefined : LOG_LEVELS[n];
}

let globalLevel = LEVEL_NUM.info;
const componentLevels = new Map<string, number>();
let threadName = 'main';
let sink: (line: string) => void = (line) => process.stderr.write(line);

/** Sets the default level for every logger. */
export function setLogLevel(level: LogLevel): void {
  globalLevel = LEVEL_NUM[level];
}
/** Sets one component's level (Envoy's `--component-log-level`, admin `/logging?<name>=<level>`). */
export function setComponentLogLevel(component: string, level: LogLevel): void {
  componentLevels.set(component, LEVEL_NUM[level]);
}
/** Current levels: the default and each component that has its own. */
export function getLogLevels(): { level: LogLevel; components: Record<string, LogLevel> } {
  const components: Record<string, LogLevel> = {};
  for (const [k, v] of componentLevels) components[k] = LOG_LEVELS[v];
  return { level: LOG_LEVELS[globalLevel], components };
}
/** Names the thread in every line (`main`, `worker_0`, ...). */
export function setThreadName(name: string): void {
  threadName = name;
}
/** Redirects output (tests). */
export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

function ts(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** A logger for one component (Envoy's logger ids: main, config, upstream, router, http, connection, admin, ...). */
export class Logger {
  constructor(readonly component: string) {}
  private level(): number {
    return componentLevels.get(this.component) ?? globalLevel;
  }
  enabled(level: LogLevel): boolean {
    return LEVEL_NUM[level] >= this.level();
  }
  private emit(level: LogLevel, msg: string): void {
    if (LEVEL_NUM[level] < this.level()) return;
    sink(`[${ts()}][${threadName}][${level}][${this.component}] ${msg}\n`);
  }
  trace(msg: string): void { this.emit('trace', msg); }
  debug(msg: string): void { this.emit('debug', msg); }
  info(msg: string): void { this.emit('info', msg); }
  warn(msg: string): void { this.emit('warning', msg); }
  error(msg: string): void { this.emit('error', msg); }
  critical(msg: string): void { this.emit('critical', msg); }
}

const loggers = new Map<string, Logger>();
/** The logger for a component (cached). */
export function logger(component: string): Logger {
  let l = loggers.get(component);
  if (!l) loggers.set(component, (l = new Logger(component)));
  return l;
}
