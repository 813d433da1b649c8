/**
 * Per-stream instance of envoy.filters.http.health_check in non-pass-through mode
 * (source/extensions/filters/http/health_check/health_check.cc): a request selected by the
 * configured header matchers is answered by the proxy itself, 200 while the server passes health
 * checks, 503 with response flag `LH` (FailedLocalHealthCheck) after admin `/healthcheck/fail`.
 * The stream is marked as a health check (StreamInfo.healthCheck) for the access-log
 * `not_health_check` filter. While failing, every response through the filter carries
 * `x-envoy-immediate-health-check-fail: true`, as Envoy's encodeHeaders does.
 */
import { FilterDataStatus, FilterHeadersStatus, type DecoderFilterCallbacks, type HttpFilter } from '../../../http/filter';
import type { RequestHead, ResponseHead } from '../../../http/headers';
import type { CompiledHeaderMatcher } from '../../../router/matchers';
import { healthCheckFailed } from './state';

/** Compiled, immutable filter config shared by every stream of one HCM. */
export interface HealthCheckConfig {
  /** All must match for a request to be a health check (Envoy's `headers`). */
  readonly matchers: readonly CompiledHeaderMatcher[];
  /** Envoy's `pass_through_mode`: true forwards health checks upstream (only marked). */
  readonly passThrough: boolean;
}

const IMMEDIATE_FAIL = 'x-envoy-immediate-health-check-fail';

/** One stream's filter. */
export class HealthCheckFilter implements HttpFilter {
  private handling = false;
  constructor(private readonly cfg: HealthCheckConfig, private readonly decoder: DecoderFilterCallbacks) {}

  decodeHeaders(head: RequestHead, endStream: boolean): FilterHeadersStatus {
    const m = this.cfg.matchers;
    for (let i = 0; i < m.length; i++) if (!m[i].match(head)) return FilterHeadersStatus.Continue;
    this.decoder.streamInfo.healthCheck = true;
    if (this.cfg.passThrough) return FilterHeadersStatus.Continue;
    this.handling = true;
    if (endStream) this.respond();
    return FilterHeadersStatus.StopIteration;
  }

  decodeData(_data: Buffer, endStream: boolean): FilterDataStatus {
    if (!this.handling) return FilterDataStatus.Continue;
    if (endStream) this.respond();
    return FilterDataStatus.StopIterationNoBuffer;
  }

  decodeTrailers(): FilterHeadersStatus {
    if (this.handling) {
      this.respond();
      return FilterHeadersStatus.StopIteration;
    }
    return FilterHeadersStatus.Continue;
  }

  encodeHeaders(head: ResponseHead): FilterHeadersStatus {
    if (healthCheckFailed()) head.headers.push(IMMEDIATE_FAIL, 'true');
    return FilterHeadersStatus.Continue;
  }

  private respond(): void {
    this.handling = false;
    if (healthCheckFailed()) this.decoder.sendLocalReply(503, '', 'LH');
    else this.decoder.sendLocalReply(200, '');
  }
}
