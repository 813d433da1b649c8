/**
 * request/response_headers_to_add/remove (envoy.config.core.v3.HeaderValueOption) compiled into
 * header parsers, following Envoy's source/common/router/header_parser.cc:
 * - removals first, then every value is formatted against the headers as they are after removal;
 *   overwrites (`OVERWRITE_IF_EXISTS_OR_ADD`, `OVERWRITE_IF_EXISTS` when present) are applied before
 *   appends (`APPEND_IF_EXISTS_OR_ADD`, `ADD_IF_ABSENT` when absent);
 * - an empty formatted value is skipped unless `keep_empty_value`;
 * - `append` (deprecated, default true) maps to APPEND_IF_EXISTS_OR_ADD / OVERWRITE_IF_EXISTS_OR_ADD
 *   and may not be combined with a non-default `append_action`;
 * - `:`-prefixed names and `host` may be neither added nor removed.
 * Values are split at config time into literal parts and command operators (see
 * {@link compileHeaderValue}); an operator whose value is unavailable formats to "".
 */
import { hostname } from 'node:os';
import { ConfigError } from '../common/errors';
import { compileStrftime } from '../common/strftime';
import type { HeaderValueOption } from '../config/model';
import { asciiLower, configHeaderValue, getFirst, has, removeAll, stripHostPort } from './headers';
import { joinPath } from './matchers';
import type { HeaderContext, HeaderMutation } from './types';

const enum Op {
  RemoteAddr, RemoteAddrNoPort, RemotePort, LocalAddr, LocalAddrNoPort, Protocol, UpstreamAddr,
  StartTime, Req, Hostname,
}

/** One part of a header value: a literal or an operator with its arguments. */
type Part = string | { op: Op; names?: string[]; maxLen?: number; time?: (ms: number) => string };

const kHostname = hostname();

const SIMPLE: Record<string, Op> = {
  DOWNSTREAM_REMOTE_ADDRESS: Op.RemoteAddr,
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: Op.RemoteAddrNoPort,
  DOWNSTREAM_REMOTE_PORT: Op.RemotePort,
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS: Op.RemoteAddr,
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT: Op.RemoteAddrNoPort,
  DOWNSTREAM_LOCAL_ADDRESS: Op.LocalAddr,
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: Op.LocalAddrNoPort,
  PROTOCOL: Op.Protocol,
  UPSTREAM_REMOTE_ADDRESS: Op.UpstreamAddr,
  HOSTNAME: Op.Hostname,
};

/**
 * Splits a header value into literal parts and command operators. Supported: the operators in
 * `SIMPLE` above, `%START_TIME%` / `%START_TIME(fmt)%` (UTC; `%Y %m %d %H %M %S %s %z %E3S %E6S
 * %E9S %f`), `%REQ(name)%`, `%REQ(a?b)%`, `%REQ(x):N%`; `%%` is a literal `%`.
 * The text is checked and converted by configHeaderValue() first.
 * @throws ConfigError for an unterminated or unsupported operator, or a CR, LF or NUL.
 */
export function compileHeaderValue(text: string, path: string): Part[] {
  const value = configHeaderValue(text, path); // UTF-8 bytes as latin1; CR/LF/NUL rejected
  const parts: Part[] = [];
  let lit = '';
  let i = 0;
  while (i < value.length) {
    const c = value[i];
    if (c !== '%') { lit += c; i++; continue; }
    if (value[i + 1] === '%') { lit += '%'; i += 2; continue; }
    const close = findClose(value, i + 1);
    if (close < 0) throw new ConfigError(`invalid header value ${JSON.stringify(value)}: unterminated command operator at position ${i}`, { path });
    const token = value.slice(i + 1, close);
    if (lit) { parts.push(lit); lit = ''; }
    parts.push(compileOperator(token, value, path));
    i = close + 1;
  }
  if (lit) parts.push(lit);
  return parts;
}

/** Index of the `%` closing an operator that starts at `from`, skipping a `(...)` argument. */
function findClose(s: string, from: number): number {
  let depth = 0;
  for (let j = from; j < s.length; j++) {
    const ch = s[j];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '%' && depth <= 0) return j;
  }
  return -1;
}

function compileOperator(token: string, value: string, path: string): Part {
  const m = /^([A-Z0-9_]+)(?:\((.*)\))?(?::(\d+))?$/.exec(token);
  if (!m) throw new ConfigError(`invalid header value ${JSON.stringify(value)}: bad command operator %${token}%`, { path });
  const [, name, arg, len] = m;
  const maxLen = len !== undefined ? Number(len) : undefined;
  if (arg === undefined && SIMPLE[name] !== undefined) return { op: SIMPLE[name], maxLen };
  if (name === 'START_TIME') return { op: Op.StartTime, time: arg ? compileStrftime(arg) : undefined, maxLen };
  if (name === 'REQ' && arg) {
    const names = arg.split('?').map((n) => {
      const l = asciiLower(n.trim());
      return l === ':authority' ? 'host' : l;
    });
    if (names.length > 2 || names.some((n) => n.length === 0)) throw new ConfigError(`invalid header value ${JSON.stringify(value)}: bad %REQ(...)% argument`, { path });
    return { op: Op.Req, names, maxLen };
  }
  throw new ConfigError(`invalid header value ${JSON.stringify(value)}: unsupported command operator %${token}%`, { path, hint: 'supported: DOWNSTREAM_REMOTE_ADDRESS[_WITHOUT_PORT], DOWNSTREAM_LOCAL_ADDRESS[_WITHOUT_PORT], DOWNSTREAM_REMOTE_PORT, PROTOCOL, UPSTREAM_REMOTE_ADDRESS, START_TIME, REQ(x), HOSTNAME' });
}



/** `%REQ(name)%`: a header, or a pseudo-header from the request head (Host is `:authority`). */
function reqValue(ctx: HeaderContext, name: string): string | undefined {
  switch (name) {
    case ':path': return ctx.path;
    case ':method': return ctx.method;
    case ':scheme': return ctx.scheme;
    case 'host': return ctx.authority ?? getFirst(ctx.requestHeaders, name);
    default: return getFirst(ctx.requestHeaders, name);
  }
}

function withPort(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function evalPart(p: Exclude<Part, string>, ctx: HeaderContext): string {
  let v: string;
  switch (p.op) {
    case Op.RemoteAddr: v = ctx.downstreamRemoteAddress ? withPort(ctx.downstreamRemoteAddress, ctx.downstreamRemotePort) : ''; break;
    case Op.RemoteAddrNoPort: v = ctx.downstreamRemoteAddress ?? ''; break;
    case Op.RemotePort: v = ctx.downstreamRemotePort ? String(ctx.downstreamRemotePort) : ''; break;
    case Op.LocalAddr: v = ctx.downstreamLocalAddress ?? ''; break;
    case Op.LocalAddrNoPort: {
      const s = stripHostPort(ctx.downstreamLocalAddress ?? '');
      v = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
      break;
    }
    case Op.Protocol: v = ctx.protocol ?? ''; break;
    case Op.UpstreamAddr: v = ctx.upstreamRemoteAddress ?? ''; break;
    // Envoy's default START_TIME format: %Y-%m-%dT%H:%M:%E3SZ (UTC).
    case Op.StartTime: v = p.time !== undefined ? p.time(ctx.startTimeMs) : new Date(ctx.startTimeMs).toISOString(); break;
    case Op.Hostname: v = kHostname; break;
    default: {
      const names = p.names!;
      v = reqValue(ctx, names[0]) ?? (names.length > 1 ? reqValue(ctx, names[1]) : undefined) ?? '';
    }
  }
  return p.maxLen !== undefined && v.length > p.maxLen ? v.slice(0, p.maxLen) : v;
}

const enum Action { AppendOrAdd, AddIfAbsent, OverwriteOrAdd, OverwriteIfExists }

interface AddEntry {
  readonly key: string;
  readonly parts: Part[];
  /** Value when it has no operators; null otherwise. */
  readonly constant: string | null;
  readonly action: Action;
  readonly keepEmpty: boolean;
}

const ACTIONS: Record<string, Action> = {
  APPEND_IF_EXISTS_OR_ADD: Action.AppendOrAdd,
  ADD_IF_ABSENT: Action.AddIfAbsent,
  OVERWRITE_IF_EXISTS_OR_ADD: Action.OverwriteOrAdd,
  OVERWRITE_IF_EXISTS: Action.OverwriteIfExists,
};

const HEADER_NAME_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function isModifiable(name: string): boolean {
  return !name.startsWith(':') && asciiLower(name) !== 'host';
}

/** One level's (route, vhost or route_config) additions and removals. */
class HeaderParser {
  readonly remove: string[];
  readonly add: AddEntry[];
  // Scratch space reused across calls (apply() is synchronous and single-threaded per worker).
  private readonly pendSet: string[] = [];
  private readonly pendAdd: string[] = [];
  constructor(add: HeaderValueOption[] | undefined, remove: string[] | undefined, path: string, addField: string, removeField: string) {
    this.add = [];
    this.remove = [];
    (add ?? []).forEach((hvo, i) => {
      const p = joinPath(path, `${addField}[${i}]`);
      const key = hvo?.header?.key;
      if (typeof key !== 'string' || key.length === 0) throw new ConfigError('header key is required', { path: joinPath(p, 'header.key') });
      if (!isModifiable(key)) throw new ConfigError(':-prefixed or host headers may not be modified', { path: joinPath(p, 'header.key') });
      if (!HEADER_NAME_RE.test(key)) throw new ConfigError(`invalid header name ${JSON.stringify(key)}`, { path: joinPath(p, 'header.key') });
      let action = Action.AppendOrAdd;
      if (hvo.append !== undefined) {
        if (hvo.append_action !== undefined && hvo.append_action !== 'APPEND_IF_EXISTS_OR_ADD') throw new ConfigError("Both append and append_action are set and it's not allowed", { path: p });
        action = hvo.append ? Action.AppendOrAdd : Action.OverwriteOrAdd;
      } else if (hvo.append_action !== undefined) {
        const a = ACTIONS[hvo.append_action];
        if (a === undefined) throw new ConfigError(`unknown append_action ${JSON.stringify(hvo.append_action)}`, { path: joinPath(p, 'append_action') });
        action = a;
      }
      const parts = compileHeaderValue(hvo.header.value ?? '', joinPath(p, 'header.value'));
      const constant = parts.every((x) => typeof x === 'string') ? (parts as string[]).join('') : null;
      this.add.push({ key: asciiLower(key), parts, constant, action, keepEmpty: hvo.keep_empty_value === true });
    });
    (remove ?? []).forEach((name, i) => {
      if (typeof name !== 'string' || name.length === 0) throw new ConfigError('empty header name', { path: joinPath(path, `${removeField}[${i}]`) });
      if (!isModifiable(name)) throw new ConfigError(':-prefixed or host headers may not be removed', { path: joinPath(path, `${removeField}[${i}]`) });
      this.remove.push(asciiLower(name));
    });
  }

  get empty(): boolean {
    return this.add.length === 0 && this.remove.length === 0;
  }

  evaluate(headers: string[], ctx: HeaderContext): void {
    for (let i = 0; i < this.remove.length; i++) removeAll(headers, this.remove[i]);
    if (this.add.length === 0) return;
    const pendSet = this.pendSet;
    const pendAdd = this.pendAdd;
    for (let i = 0; i < this.add.length; i++) {
      const e = this.add[i];
      let v: string;
      if (e.constant !== null) v = e.constant;
      else {
        v = '';
        for (let j = 0; j < e.parts.length; j++) {
          const p = e.parts[j];
          v += typeof p === 'string' ? p : evalPart(p, ctx);
        }
      }
      if (v.length === 0 && !e.keepEmpty) continue;
      switch (e.action) {
        case Action.AppendOrAdd: pendAdd.push(e.key, v); break;
        case Action.AddIfAbsent: if (!has(headers, e.key)) pendAdd.push(e.key, v); break;
        case Action.OverwriteIfExists: if (!has(headers, e.key)) break; pendSet.push(e.key, v); break;
        default: pendSet.push(e.key, v);
      }
    }
    for (let i = 0; i < pendSet.length; i += 2) {
      removeAll(headers, pendSet[i]);
      headers.push(pendSet[i], pendSet[i + 1]);
    }
    for (let i = 0; i < pendAdd.length; i++) headers.push(pendAdd[i]);
    pendSet.length = 0;
    pendAdd.length = 0;
  }
}

/** Several levels applied in order. */
class ComposedMutation implements HeaderMutation {
  private readonly parsers: HeaderParser[];
  readonly empty: boolean;
  constructor(parsers: HeaderParser[]) {
    this.parsers = parsers.filter((p) => !p.empty);
    this.empty = this.parsers.length === 0;
  }
  apply(headers: string[], ctx: HeaderContext): void {
    for (let i = 0; i < this.parsers.length; i++) this.parsers[i].evaluate(headers, ctx);
  }
}

/** The four header lists of one level (Route, VirtualHost or RouteConfiguration). */
export interface HeaderLists {
  request_headers_to_add?: HeaderValueOption[];
  request_headers_to_remove?: string[];
  response_headers_to_add?: HeaderValueOption[];
  response_headers_to_remove?: string[];
}

/** Request and response parsers of one level, compiled once and shared by its routes. */
export interface LevelParsers {
  readonly request: HeaderParser;
  readonly response: HeaderParser;
}

/**
 * Compiles one level's header lists.
 * @throws ConfigError (at `path.request_headers_to_add[i]...`) for forbidden names, both
 *   `append` and `append_action`, or a bad command operator.
 */
export function compileLevel(l: HeaderLists, path: string): LevelParsers {
  return {
    request: new HeaderParser(l.request_headers_to_add, l.request_headers_to_remove, path, 'request_headers_to_add', 'request_headers_to_remove'),
    response: new HeaderParser(l.response_headers_to_add, l.response_headers_to_remove, path, 'response_headers_to_add', 'response_headers_to_remove'),
  };
}

/**
 * Composes route, vhost and route_config levels the way Envoy's RouteEntryImplBase::getHeaderParsers
 * does: by default most specific first (route, vhost, route_config: the route_config level is
 * evaluated last, so its overwrites win); with `most_specific_header_mutations_wins` the reverse
 * (route_config, vhost, route: the route's win).
 */
export function composeMutations(route: LevelParsers, vhost: LevelParsers, rc: LevelParsers, mostSpecificWins: boolean): { request: HeaderMutation; response: HeaderMutation } {
  const order = mostSpecificWins ? [rc, vhost, route] : [route, vhost, rc];
  return {
    request: new ComposedMutation(order.map((l) => l.request)),
    response: new ComposedMutation(order.map((l) => l.response)),
  };
}
