/**
 * The admin HTTP server (Envoy docs: "Administration interface"), main thread, on node:http (it is
 * not the data plane). Endpoints that change server state are POST-only: any other method gets
 * 405 `Method GET not allowed, POST required.` as in Envoy's admin.cc.
 */

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { re2 } from '../common/re2';
import { LOG_LEVELS, parseLogLevel, type LogLevel } from '../common/logger';
import { isLoggerName, LOGGER_NAMES } from './logger-names';
import { logger } from '../common/logger';
import type { AdminContext } from './context';
import { renderPrometheus, renderStatsJson, renderStatsText, type StatsQuery } from './stats-render';
import { renderClustersJson, renderClustersText, renderListenersJson, renderListenersText } from './clusters-render';
import { queryConfigDump } from './config-dump';
import { formatDuration } from '../common/duration';
import { DASHBOARD_HTML } from './dashboard';
import * as fs from 'node:fs';

const log = logger('admin');

interface Reply {
  status: number;
  body: string;
  type?: string;
}

export interface Handler {
  help: string;
  mutates: boolean;
  fn: (q: URLSearchParams, ctx: AdminContext) => Reply | Promise<Reply>;
}

const TEXT = 'text/plain; charset=UTF-8';
const JSON_TYPE = 'application/json';
const ok = (): Reply => ({ status: 200, body: 'OK\n' });

/** A compiled RE2 `filter`/`name_regex` parameter, or a 400 reply when it does not compile. */
function regexParam(q: URLSearchParams, key: string): ((s: string) => boolean) | Reply | undefined {
  const src = q.get(key);
  if (src === null || src === '') return undefined;
  try {
    const re = re2().compile(src);
    return (s: string) => re.test(s);
  } catch (err) {
    return { status: 400, body: `Invalid re2 regex: ${(err as Error).message}\n` };
  }
}

function statsQuery(q: URLSearchParams): StatsQuery | Reply {
  const filter = regexParam(q, 'filter');
  if (filter && typeof filter !== 'function') return filter;
  return { filter, usedOnly: q.has('usedonly'), type: q.get('type') ?? undefined };
}

/**
 * `/stats` parameters Envoy refuses with 400 and a usage line (source/server/admin/stats_params.cc
 * StatsParams::parse and utils.cc histogramBucketsParam): a `histogram_buckets` other than
 * cumulative, disjoint, detailed, summary or none, and a `format` other than json, prometheus, text,
 * html or active-html. attache has no detailed buckets nor HTML stats pages: `histogram_buckets=detailed`
 * answers as `summary` and `format=html|active-html` as text.
 * @returns the 400 reply, or undefined when the parameters are valid
 */
function statsParamsError(q: URLSearchParams): Reply | undefined {
  const buckets = q.get('histogram_buckets');
  if (buckets !== null && !['cumulative', 'disjoint', 'detailed', 'summary', 'none'].includes(buckets)) {
    return { status: 400, body: 'usage: /stats?histogram_buckets=(cumulative|disjoint|detailed|summary)\n', type: TEXT };
  }
  const format = q.get('format');
  if (format !== null && !['json', 'prometheus', 'text', 'html', 'active-html'].includes(format)) {
    return { status: 400, body: 'usage: /stats?format=(html|active-html|json|prometheus|text)\n\n', type: TEXT };
  }
  return undefined;
}

const HANDLERS: Record<string, Handler> = {
  '/': { help: 'Admin home page (live dashboard for browsers: Accept: text/html; this list otherwise)', mutates: false, fn: () => ({ status: 200, body: helpText(), type: TEXT }) },
  '/help': { help: 'print out list of admin commands', mutates: false, fn: () => ({ status: 200, body: helpText(), type: TEXT }) },
  '/ready': {
    help: 'print server state, return 200 if LIVE, otherwise return 503',
    mutates: false,
    fn: (_q, ctx) => {
      const state = ctx.serverInfo().state;
      return { status: state === 'LIVE' ? 200 : 503, body: `${state}\n`, type: TEXT };
    },
  },
  '/server_info': {
    help: 'print server version/status information',
    mutates: false,
    fn: (_q, ctx) => {
      const i = ctx.serverInfo();
      const uptime = formatDuration(Math.floor((Date.now() - i.startTimeMs) / 1000) * 1000);
      const body = {
        version: i.version,
        state: i.state,
        hot_restart_version: i.hotRestartVersion ?? 'disabled',
        command_line_options: i.commandLineOptions,
        node: i.node ?? {},
        uptime_current_epoch: uptime,
        uptime_all_epochs: uptime,
      };
      return { status: 200, body: JSON.stringify(body, null, 1), type: JSON_TYPE };
    },
  },
  '/stats': {
    help: 'print server stats (params: usedonly, filter=<re2>, format=json|prometheus, type=Counters|Gauges|Histograms, histogram_buckets=cumulative|disjoint with format=json)',
    mutates: false,
    fn: async (q, ctx) => {
      const sq = statsQuery(q);
      if ('status' in sq) return sq;
      const bad = statsParamsError(q);
      if (bad) return bad;
      const snap = await ctx.stats();
      const format = q.get('format');
      if (format === 'json') return { status: 200, body: renderStatsJson(snap, sq, q.get('histogram_buckets') ?? undefined), type: JSON_TYPE };
      if (format === 'prometheus') return { status: 200, body: renderPrometheus(snap, sq), type: TEXT };
      return { status: 200, body: renderStatsText(snap, sq), type: TEXT };
    },
  },
  '/stats/prometheus': {
    help: 'print server stats in prometheus format (params: usedonly, filter=<re2>)',
    mutates: false,
    fn: async (q, ctx) => {
      const sq = statsQuery(q);
      if ('status' in sq) return sq;
      return { status: 200, body: renderPrometheus(await ctx.stats(), sq), type: 'text/plain; version=0.0.4; charset=UTF-8' };
    },
  },
  '/clusters': {
    help: 'upstream cluster status (params: format=json)',
    mutates: false,
    fn: async (q, ctx) => {
      const clusters = await ctx.clusters();
      return q.get('format') === 'json'
        ? { status: 200, body: renderClustersJson(clusters), type: JSON_TYPE }
        : { status: 200, body: renderClustersText(clusters), type: TEXT };
    },
  },
  '/listeners': {
    help: 'print listener info (params: format=json)',
    mutates: false,
    fn: (q, ctx) =>
      q.get('format') === 'json'
        ? { status: 200, body: renderListenersJson(ctx.listeners()), type: JSON_TYPE }
        : { status: 200, body: renderListenersText(ctx.listeners()), type: TEXT },
  },
  '/config_dump': {
    help: 'dump current Envoy configs (params: resource=, mask=, name_regex=, include_eds)',
    mutates: false,
    fn: (q, ctx) => {
      const nameFilter = regexParam(q, 'name_regex');
      if (nameFilter && typeof nameFilter !== 'function') return nameFilter;
      let configs = ctx.configDump();
      if (!q.has('include_eds')) configs = configs.filter((c) => !String(c['@type']).endsWith('.EndpointsConfigDump'));
      const r = queryConfigDump(configs, { resource: q.get('resource') ?? undefined, mask: q.get('mask') ?? undefined, nameFilter });
      if (r.status !== 200) return { status: r.status, body: r.message + '\n', type: TEXT };
      return { status: 200, body: JSON.stringify(r.body, null, 1), type: JSON_TYPE };
    },
  },
  '/logging': {
    help: 'query/change logging levels (params: level=<level>, <name>=<level>, paths=<name>:<level>,...)',
    mutates: true,
    fn: (q, ctx) => {
      const r = parseLogging(q);
      if (typeof r === 'string') return { status: 400, body: `error: ${r}\n\n${LOGGING_USAGE}${loggingList(ctx)}`, type: TEXT };
      for (const [name, level] of r) {
        if (name === undefined) {
          // Envoy's level=<level> changes every logger, per-component levels included.
          ctx.setLogLevel(undefined, level);
          for (const c of Object.keys(ctx.logLevels().components)) ctx.setLogLevel(c, level);
        } else {
          ctx.setLogLevel(name, level);
        }
      }
      return { status: 200, body: loggingList(ctx), type: TEXT };
    },
  },
  '/memory': {
    help: 'print current allocation/heap usage',
    mutates: false,
    fn: () => {
      const m = process.memoryUsage();
      const body = {
        allocated: String(m.heapUsed),
        heap_size: String(m.heapTotal),
        pageheap_unmapped: '0',
        pageheap_free: '0',
        total_thread_cache: '0',
        total_physical_bytes: String(m.rss),
      };
      return { status: 200, body: JSON.stringify(body, null, 1), type: JSON_TYPE };
    },
  },
  '/runtime': {
    help: 'print runtime values',
    mutates: false,
    fn: () => ({ status: 200, body: JSON.stringify({ layers: [], entries: {} }, null, 1), type: JSON_TYPE }),
  },
  '/certs': { help: 'print certs on machine', mutates: false, fn: () => ({ status: 200, body: JSON.stringify({ certificates: [] }, null, 1), type: JSON_TYPE }) },
  '/quitquitquit': { help: 'exit the server', mutates: true, fn: () => ok() },
  '/healthcheck/fail': { help: 'cause the server to fail health checks', mutates: true, fn: (_q, ctx) => (ctx.healthcheckFail(), ok()) },
  '/healthcheck/ok': { help: 'cause the server to pass health checks', mutates: true, fn: (_q, ctx) => (ctx.healthcheckOk(), ok()) },
  '/drain_listeners': {
    help: 'drain listeners (params: graceful, inboundonly)',
    mutates: true,
    fn: (q, ctx) => (ctx.drainListeners({ graceful: q.has('graceful'), inboundOnly: q.has('inboundonly') }), ok()),
  },
  '/reset_counters': { help: 'reset all counters to zero', mutates: true, fn: (_q, ctx) => (ctx.resetCounters(), ok()) },
  '/reopen_logs': {
    help: 'reopen access logs',
    mutates: true,
    fn: async (_q, ctx) => {
      const errors = await ctx.reopenLogs();
      return errors.length === 0 ? ok() : { status: 500, body: errors.join('\n') + '\n', type: TEXT };
    },
  },
};

function helpText(): string {
  let out = 'admin commands are:\n';
  for (const [path, h] of Object.entries(HANDLERS)) out += `  ${path}: ${h.help}\n`;
  return out;
}

const LOGGING_USAGE =
  'usage: /logging?<name>=<level> (change single level)\n' +
  'usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n' +
  'usage: /logging?level=<level> (change all levels)\n' +
  `levels: ${LOG_LEVELS.join(' ')} \n`;

/**
 * Validates every `/logging` parameter before any is applied (logs_handler.cc changeLogLevel()).
 * @returns (name, level) pairs, name undefined for `level=`; or the error message (unknown level,
 * unknown logger name, empty name or level in `paths`).
 */
function parseLogging(q: URLSearchParams): Array<[string | undefined, LogLevel]> | string {
  const out: Array<[string | undefined, LogLevel]> = [];
  const one = (name: string | undefined, v: string): string | undefined => {
    const level = parseLogLevel(v);
    if (!level) return `unknown logger level "${v}"`;
    if (name !== undefined && !isLoggerName(name)) return `unknown logger name "${name}"`;
    out.push([name, level]);
    return undefined;
  };
  for (const [k, v] of q) {
    let err: string | undefined;
    if (k === 'level') err = one(undefined, v);
    else if (k === 'paths') {
      for (const pair of v.split(',')) {
        if (pair.trim() === '') continue;
        const i = pair.indexOf(':');
        const name = i < 0 ? pair.trim() : pair.slice(0, i).trim();
        const level = i < 0 ? '' : pair.slice(i + 1).trim();
        if (name === '' || level === '') return 'empty logger name or empty logger level';
        if ((err = one(name, level)) !== undefined) break;
      }
    } else err = one(k, v);
    if (err !== undefined) return err;
  }
  return out;
}

/** `active loggers:` and every logger's effective level, as Envoy lists them. */
function loggingList(ctx: AdminContext): string {
  const { level, components } = ctx.logLevels();
  const names = new Set([...LOGGER_NAMES, ...Object.keys(components)]);
  let out = 'active loggers:\n';
  for (const name of [...names].sort()) out += `  ${name}: ${components[name] ?? level}\n`;
  return out + '\n';
}

/** A running admin server. */
export interface AdminServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

/** Where the admin listens: `admin.address.socket_address` (address, port) or `admin.address.pipe` (path, mode). */
export type AdminListenOptions = ({ address: string; port: number; path?: undefined } | { path: string; mode?: number; address?: undefined; port?: undefined }) & {
  extraHandlers?: Record<string, Handler>;
};

/**
 * Starts the admin server on `address:port` (the bootstrap's `admin.address.socket_address`) or
 * on a Unix socket path (`admin.address.pipe.path`; a stale socket file at the path is removed
 * first, `pipe.mode` is applied with chmod when set).
 * @throws the listen error (e.g. EADDRINUSE), or an Error when `path` exists and is not a socket.
 */
export async function startAdminServer(ctx: AdminContext, opts: AdminListenOptions): Promise<AdminServer> {
  const handlers: Record<string, Handler> = { ...HANDLERS, ...opts.extraHandlers };
  const server = http.createServer((req, res) => {
    void handle(ctx, handlers, req, res);
  });
  server.keepAliveTimeout = 5000;
  const pipe = opts.path;
  if (pipe !== undefined) {
    const st = fs.statSync(pipe, { throwIfNoEntry: false });
    if (st && !st.isSocket()) throw new Error(`admin pipe path ${pipe} exists and is not a socket`);
    if (st) fs.unlinkSync(pipe);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if (pipe !== undefined) server.listen(pipe, done);
    else server.listen(opts.port, opts.address, done);
  });
  if (pipe !== undefined && opts.mode) fs.chmodSync(pipe, opts.mode);
  const a = pipe === undefined ? (server.address() as AddressInfo) : { address: pipe, port: 0 };
  log.info(`admin address: ${pipe ?? `${a.address}:${a.port}`}`);
  return {
    port: a.port,
    address: a.address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** True when the client asks for HTML (a browser); curl's default Accept (any type) gets text. */
function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('text/html');
}

async function handle(ctx: AdminContext, HANDLERS: Record<string, Handler>, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  let path = url.pathname;
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const h = Object.prototype.hasOwnProperty.call(HANDLERS, path) ? HANDLERS[path] : undefined;
  let reply: Reply;
  if (path === '/' && req.method === 'GET' && wantsHtml(req.headers.accept)) {
    reply = { status: 200, body: DASHBOARD_HTML, type: 'text/html; charset=UTF-8' };
  } else if (!h) {
    reply = { status: 404, body: `invalid path. ${helpText()}`, type: TEXT };
  } else if (h.mutates && req.method !== 'POST') {
    log.error(`admin path "${path}" mutates state, method=${req.method} rather than POST`);
    reply = { status: 405, body: `Method ${req.method} not allowed, POST required.`, type: TEXT };
  } else {
    try {
      reply = await h.fn(url.searchParams, ctx);
    } catch (err) {
      log.error(`admin ${path}: ${(err as Error).stack ?? err}`);
      reply = { status: 500, body: `${(err as Error).message}\n`, type: TEXT };
    }
  }
  req.resume();
  res.writeHead(reply.status, {
    'content-type': reply.type ?? TEXT,
    'cache-control': 'no-cache, max-age=0',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(reply.body),
  });
  if (path === '/quitquitquit' && reply.status === 200) res.once('finish', () => ctx.quit());
  res.end(reply.body);
}
