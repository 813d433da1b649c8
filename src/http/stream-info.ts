/**
 * Per-request facts recorded for access logs, stats and headers: Envoy's StreamInfo
 * (envoy/stream_info/stream_info.h), trimmed.
 */

import { eventNow, wallClockMs } from '../common/read-event';

let lastStreamId = 0;

/** Mutable per-stream record. One object per request, reused fields only. */
export class StreamInfo {
  /** Monotonic start (performance.now() ms, as of the read event: common/read-event.ts) for durations. */
  startMono = eventNow();
  /** Wall-clock start (ms since epoch) for %START_TIME%. */
  startTimeMs = wallClockMs(this.startMono);
  /** Monotonic time the first upstream byte was written / response head arrived. */
  upstreamStartMono = 0;
  upstreamHeadersMono = 0;
  /** Monotonic time the last request byte was received (Envoy's lastDownstreamRxByteReceived; %REQUEST_DURATION%); 0 = not yet. */
  lastDownstreamRxByteReceivedMono = 0;
  /** Local IP and port of the upstream connection the request was sent on (%UPSTREAM_LOCAL_ADDRESS%). */
  upstreamLocalAddress: string | undefined = undefined;
  upstreamLocalPort: number | undefined = undefined;
  /** Monotonic time the last response byte went out. */
  endMono = 0;
  /** Response flags (`UH`, `UF,URX`, ...), comma-joined as Envoy prints. */
  responseFlags = '';
  responseCode = 0;
  bytesReceived = 0;
  bytesSent = 0;
  routeName: string | undefined = undefined;
  /** Envoy's %RESPONSE_CODE_DETAILS%: `via_upstream`, `direct_response`, `route_not_found`, ... */
  responseCodeDetails: string | undefined = undefined;
  upstreamCluster: string | undefined = undefined;
  /** `ip:port` of the upstream host used. */
  upstreamHost: string | undefined = undefined;
  /** The request path before any rewrite (x-envoy-original-path). */
  originalPath: string | undefined = undefined;
  /** Set by envoy.filters.http.health_check when the request is a health check (StreamInfo::healthCheck()). */
  healthCheck = false;
  /** This stream's id in log lines (`[C3][S12]`). */
  readonly streamId = ++lastStreamId;
  constructor(
    /** The downstream connection's id in log lines. */
    readonly connectionId: number,
    /**
     * The client address as Envoy reports it (%DOWNSTREAM_REMOTE_ADDRESS%): the peer's, or with
     * use_remote_address false the last x-forwarded-for address (port 0).
     */
    public downstreamRemoteAddress: string,
    public downstreamRemotePort: number,
    readonly downstreamLocalAddress: string,
    readonly downstreamLocalPort: number,
  ) {
    this.downstreamDirectRemoteAddress = downstreamRemoteAddress;
    this.downstreamDirectRemotePort = downstreamRemotePort;
  }
  /** The connection's peer (%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%), whatever x-forwarded-for says. */
  readonly downstreamDirectRemoteAddress: string;
  readonly downstreamDirectRemotePort: number;
  /** `[C<connection>][S<stream>]`, the prefix of this stream's debug lines (as Envoy's ENVOY_STREAM_LOG). */
  logPrefix(): string {
    return `[C${this.connectionId}][S${this.streamId}]`;
  }
  /** Adds a response flag (once). */
  setResponseFlag(flag: string): void {
    if (this.responseFlags === '') this.responseFlags = flag;
    else if (!this.responseFlags.split(',').includes(flag)) this.responseFlags += `,${flag}`;
  }
}
