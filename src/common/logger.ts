/**
 * Envoy-style leveled logging: `[2026-11-29 11:00:00.123][worker_0][info][main] message` by default,
 * any spdlog pattern or JSON lines with `--log-format` (see {@link setLogFormat}).
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
/** Bumped on every level change: loggers re-read their level only then. */
let levelsVersion = 0;
let threadName = 'main';
let sink: (line: string) => void = (line) => process.stderr.write(line);

/** Sets the default level for every logger. */
export function setLogLevel(level: LogLevel): void {
  globalLevel = LEVEL_NUM[level];
  levelsVersion++;
}
/** Sets one component's level (Envoy's `--component-log-level`, admin `/logging?<name>=<level>`). */
export function setComponentLogLevel(component: string, level: LogLevel): void {
  componentLevels.set(component, LEVEL_NUM[level]);
  levelsVersion++;
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

// ---- line format (Envoy's --log-format, spdlog pattern flags) -------------------------------

/** Envoy's default `--log-format`. */
export const DEFAULT_LOG_FORMAT = '[%Y-%m-%d %T.%e][%t][%l][%n] %v';

const SHORT_LEVEL: Record<string, string> = { trace: 'T', debug: 'D', info: 'I', warning: 'W', error: 'E', critical: 'C', off: 'O' };
const WDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** What one line is made of. */
interface LogEvent {
  d: Date;
  level: LogLevel;
  component: string;
  msg: string;
}
type Piece = string | ((e: LogEvent) => string);

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
function escapeC(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}
function tzOffset(d: Date): string {
  const m = -d.getTimezoneOffset();
  return `${m < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(m) / 60))}:${pad(Math.abs(m) % 60)}`;
}

/**
 * spdlog/Envoy pattern flags: %Y %y %m %d %e (ms) %f (µs) %F (ns) %H %I %M %S %p %T %D %R %a %A %b %B %z
 * %t (thread: `main`, `worker_N`) %l (level) %L (short level) %n (component) %v (message) %_ (message
 * with C-style escapes, Envoy's) %j (message JSON-escaped, Envoy's) %P (pid) %% ; unknown flags print
 * as written. `escaped` (Envoy's --log-format-escaped) makes %v escape like %_.
 */
function compilePattern(fmt: string, escaped: boolean, inJson = false): Piece[] {
  const out: Piece[] = [];
  let lit = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if (c !== '%' || i === fmt.length - 1) {
      lit += c;
      continue;
    }
    const f = fmt[++i];
    let p: Piece | undefined;
    switch (f) {
      case 'Y': p = (e) => String(e.d.getFullYear()); break;
      case 'y': p = (e) => pad(e.d.getFullYear() % 100); break;
      case 'm': p = (e) => pad(e.d.getMonth() + 1); break;
      case 'd': p = (e) => pad(e.d.getDate()); break;
      case 'H': p = (e) => pad(e.d.getHours()); break;
      case 'I': p = (e) => pad(e.d.getHours() % 12 || 12); break;
      case 'p': p = (e) => (e.d.getHours() < 12 ? 'AM' : 'PM'); break;
      case 'M': p = (e) => pad(e.d.getMinutes()); break;
      case 'S': p = (e) => pad(e.d.getSeconds()); break;
      case 'T': p = (e) => `${pad(e.d.getHours())}:${pad(e.d.getMinutes())}:${pad(e.d.getSeconds())}`; break;
      case 'R': p = (e) => `${pad(e.d.getHours())}:${pad(e.d.getMinutes())}`; break;
      case 'D': p = (e) => `${pad(e.d.getMonth() + 1)}/${pad(e.d.getDate())}/${pad(e.d.getFullYear() % 100)}`; break;
      case 'e': p = (e) => pad(e.d.getMilliseconds(), 3); break;
      case 'f': p = (e) => pad(e.d.getMilliseconds(), 3) + '000'; break;
      case 'F': p = (e) => pad(e.d.getMilliseconds(), 3) + '000000'; break;
      case 'a': p = (e) => WDAY[e.d.getDay()]; break;
      case 'A': p = (e) => e.d.toLocaleDateString('en-US', { weekday: 'long' }); break;
      case 'b': p = (e) => MON[e.d.getMonth()]; break;
      case 'B': p = (e) => e.d.toLocaleDateString('en-US', { month: 'long' }); break;
      case 'z': p = (e) => tzOffset(e.d); break;
      case 't': p = () => threadName; break;
      case 'P': p = () => String(process.pid); break;
      case 'l': p = (e) => e.level; break;
      case 'L': p = (e) => SHORT_LEVEL[e.level]; break;
      case 'n': p = (e) => e.component; break;
      case 'v': p = escaped ? (e) => escapeC(e.msg) : (e) => e.msg; break;
      case '_': p = (e) => escapeC(e.msg); break;
      case 'j': p = inJson ? (e) => e.msg : (e) => JSON.stringify(e.msg).slice(1, -1); break;
      case '%': lit += '%'; continue;
      default: lit += '%' + f; continue;
    }
    if (lit) out.push(lit);
    lit = '';
    out.push(p);
  }
  if (lit) out.push(lit);
  return out;
}

function renderPieces(pieces: Piece[], e: LogEvent): string {
  let s = '';
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i];
    s += typeof p === 'string' ? p : p(e);
  }
  return s;
}

/** The structured line of `--log-format json`. */
const JSON_DEFAULT = { time: '%Y-%m-%dT%T.%e%z', thread: '%t', level: '%l', component: '%n', message: '%j' };

let formatSpec = { format: DEFAULT_LOG_FORMAT, escaped: false };
let render: (e: LogEvent) => string = makeRenderer(DEFAULT_LOG_FORMAT, false);

function makeRenderer(format: string, escaped: boolean): (e: LogEvent) => string {
  let json: Record<string, unknown> | undefined;
  if (format === 'json') json = JSON_DEFAULT;
  else if (format.trimStart().startsWith('{')) {
    try {
      json = JSON.parse(format) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`--log-format: invalid JSON format: ${(err as Error).message}`);
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('--log-format: a JSON format must be an object');
  }
  if (json) {
    const keys = Object.keys(json);
    // Each string value is a pattern; JSON.stringify escapes the rendered value, so %j and %v
    // both print the message once, escaped.
    const vals: Array<{ p: Piece[] | null; c: unknown }> = keys.map((k) =>
      typeof json![k] === 'string' ? { p: compilePattern(json![k] as string, false, true), c: null } : { p: null, c: json![k] });
    return (e) => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) {
        const v = vals[i];
        o[keys[i]] = v.p !== null ? renderPieces(v.p, e) : v.c;
      }
      return JSON.stringify(o) + '\n';
    };
  }
  const pieces = compilePattern(format, escaped);
  return (e) => renderPieces(pieces, e) + '\n';
}

/**
 * Sets the line format (Envoy's `--log-format`, `--log-format-escaped`): a spdlog pattern
 * (default {@link DEFAULT_LOG_FORMAT}), `json` for one JSON object per line
 * (`{"time","thread","level","component","message"}`), or a JSON object whose string values are
 * patterns (like Envoy's `application_log_config.log_format.json_format`).
 * @throws Error when a JSON format does not parse or is not an object.
 */
export function setLogFormat(format: string, escaped = false): void {
  render = makeRenderer(format, escaped);
  formatSpec = { format, escaped };
}
/** The format in force (handed to worker threads). */
export function getLogFormat(): { format: string; escaped: boolean } {
  return formatSpec;
}

/** A logger for one component (Envoy's logger ids: main, config, upstream, router, http, connection, admin, ...). */
export class Logger {
  private cachedLevel = 0;
  private cachedVersion = -1;
  constructor(readonly component: string) {}
  private level(): number {
    if (this.cachedVersion !== levelsVersion) {
      this.cachedLevel = componentLevels.get(this.component) ?? globalLevel;
      this.cachedVersion = levelsVersion;
    }
    return this.cachedLevel;
  }
  enabled(level: LogLevel): boolean {
    return LEVEL_NUM[level] >= this.level();
  }
  /** True when debug lines are written: guard per-request messages with it (no string is built otherwise). */
  get debugOn(): boolean {
    return this.level() <= LEVEL_NUM.debug;
  }
  private emit(level: LogLevel, msg: string): void {
    if (LEVEL_NUM[level] < this.level()) return;
    sink(render({ d: new Date(), level, component: this.component, msg }));
  }
  trace(msg: string): void { this.emit('trace', msg); }
  debug(msg: string): void { this.emit('debug', msg); }
  info(msg: string): void { this.emit('info', msg); }
  warn(msg: string): void { this.emit('warning', msg); }
  error(msg: string): void { this.emit('error', msg); }
  critical(msg: string): void { this.emit('critical', msg); }
}

let lastConnectionId = 0;
/** A new connection id for log lines (`[C7]`), downstream and upstream alike, as Envoy numbers them (per thread here). */
export function nextConnectionId(): number {
  return ++lastConnectionId;
}

const loggers = new Map<string, Logger>();
/** The logger for a component (cached). */
export function logger(component: string): Logger {
  let l = loggers.get(component);
  if (!l) loggers.set(component, (l = new Logger(component)));
  return l;
}
