/**
 * Access log filters (envoy.config.accesslog.v3.AccessLogFilter; Envoy's
 * source/common/access_log/access_log_impl.cc), compiled once per config into a predicate over an
 * {@link AccessLogRecord}, evaluated per record on the worker before the line is formatted.
 *
 * Supported: `status_code_filter` and `duration_filter` (ComparisonFilter: op EQ|GE|LE|NE against
 * `value.default_value`; runtime overrides are not read), `not_health_check_filter`,
 * `response_flag_filter` (`flags`: any of the listed flags, or any flag at all when empty),
 * `header_filter` (a route HeaderMatcher), `and_filter` / `or_filter` (short-circuit, in order),
 * `traceable_filter` (always false: attache does not trace). Others are a config error.
 */
import { ConfigError } from '../common/errors';
import type { HeaderMatcher } from '../config/model';
import { CompiledHeaderMatcher } from '../router/matchers';
import type { RouteRequest } from '../router';
import type { AccessLogRecord } from './access-log';

/** envoy.config.accesslog.v3.ComparisonFilter (proto3 JSON). */
export interface ComparisonFilterConfig {
  op?: 'EQ' | 'GE' | 'LE' | 'NE';
  value?: { default_value?: number; runtime_key?: string };
}

/** envoy.config.accesslog.v3.AccessLogFilter (proto3 JSON), the filters attache implements. */
export interface AccessLogFilterConfig {
  status_code_filter?: { comparison: ComparisonFilterConfig };
  duration_filter?: { comparison: ComparisonFilterConfig };
  not_health_check_filter?: Record<string, never>;
  traceable_filter?: Record<string, never>;
  response_flag_filter?: { flags?: string[] };
  header_filter?: { header: HeaderMatcher };
  and_filter?: { filters: AccessLogFilterConfig[] };
  or_filter?: { filters: AccessLogFilterConfig[] };
}

/** True when the record is to be logged. */
export type AccessLogPredicate = (r: AccessLogRecord) => boolean;

/** Envoy's short response flag strings (StreamInfo::ResponseFlagUtils), accepted by response_flag_filter. */
export const RESPONSE_FLAGS: ReadonlySet<string> = new Set([
  'LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH',
  'DPE', 'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM', 'DF', 'DO', 'DR',
]);

function comparison(c: ComparisonFilterConfig | undefined, path: string): { op: number; value: number } {
  if (!c) throw new ConfigError('comparison is required', { path });
  const op = c.op ?? 'EQ';
  const ops = ['EQ', 'GE', 'LE', 'NE'];
  if (!ops.includes(op)) throw new ConfigError(`unknown comparison op "${op}" (EQ, GE, LE, NE)`, { path: `${path}.op` });
  const v = Number(c.value?.default_value ?? 0);
  if (!Number.isInteger(v) || v < 0) throw new ConfigError('value.default_value must be a uint32', { path: `${path}.value` });
  return { op: ops.indexOf(op), value: v };
}

function compare(op: number, actual: number, value: number): boolean {
  switch (op) {
    case 0: return actual === value;
    case 1: return actual >= value;
    case 2: return actual <= value;
    default: return actual !== value;
  }
}

function hasFlag(flags: string, wanted: readonly string[]): boolean {
  if (flags === '') return false;
  if (wanted.length === 0) return true;
  const have = flags.split(',');
  for (const w of wanted) if (have.includes(w)) return true;
  return false;
}

/**
 * Compiles one AccessLogFilter.
 * @throws ConfigError on an unknown or unsupported filter, a bad comparison or an unknown response flag.
 */
export function compileAccessLogFilter(f: AccessLogFilterConfig, path: string): AccessLogPredicate {
  if (!f || typeof f !== 'object') throw new ConfigError('access log filter must be an object', { path });
  const keys = Object.keys(f);
  if (keys.length !== 1) throw new ConfigError(`access log filter needs exactly one filter type, got ${keys.length === 0 ? 'none' : keys.join(', ')}`, { path });
  const key = keys[0];
  const p = `${path}.${key}`;
  switch (key) {
    case 'status_code_filter': {
      const { op, value } = comparison(f.status_code_filter!.comparison, `${p}.comparison`);
      return (r) => compare(op, r.status, value);
    }
    case 'duration_filter': {
      const { op, value } = comparison(f.duration_filter!.comparison, `${p}.comparison`);
      return (r) => r.durationMs !== undefined && compare(op, Math.floor(r.durationMs), value);
    }
    case 'not_health_check_filter':
      return (r) => r.healthCheck !== true;
    case 'traceable_filter':
      return () => false;
    case 'response_flag_filter': {
      const flags = f.response_flag_filter!.flags ?? [];
      for (const [i, fl] of flags.entries()) {
        if (!RESPONSE_FLAGS.has(fl)) throw new ConfigError(`unknown response flag "${fl}"`, { path: `${p}.flags[${i}]` });
      }
      const wanted = Object.freeze([...flags]);
      return (r) => hasFlag(r.responseFlags, wanted);
    }
    case 'header_filter': {
      const m = new CompiledHeaderMatcher(f.header_filter!.header, `${p}.header`);
      return (r) => m.match({ method: r.method, path: r.path, authority: r.authority ?? '', headers: r.requestHeaders as string[] } satisfies RouteRequest);
    }
    case 'and_filter':
    case 'or_filter': {
      const list = (key === 'and_filter' ? f.and_filter! : f.or_filter!).filters ?? [];
      if (list.length < 2) throw new ConfigError(`${key} needs at least 2 filters`, { path: `${p}.filters` });
      const subs = list.map((s, i) => compileAccessLogFilter(s, `${p}.filters[${i}]`));
      if (key === 'and_filter') {
        return (r) => {
          for (let i = 0; i < subs.length; i++) if (!subs[i](r)) return false;
          return true;
        };
      }
      return (r) => {
        for (let i = 0; i < subs.length; i++) if (subs[i](r)) return true;
        return false;
      };
    }
    default:
      throw new ConfigError(`access log filter "${key}" is not supported by attache`, {
        path: p,
        hint: 'supported: status_code_filter, duration_filter, not_health_check_filter, response_flag_filter, header_filter, and_filter, or_filter, traceable_filter',
      });
  }
}
