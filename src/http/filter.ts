/**
 * The HTTP filter API, shaped after Envoy's (envoy/http/filter.h), trimmed to what HTTP/1.1 needs.
 *
 * Lifecycle: at config time a {@link HttpFilterFactory} validates the filter's `typed_config` and
 * returns a {@link HttpFilterFactoryCb}; for each request (stream) the connection manager calls every
 * callback of the listener's chain once to create the per-stream filter instances, then runs
 * `decode*` in order (router last) and `encode*` in reverse order.
 */
import type { CompiledRoute } from '../router';
import type { RequestHead, ResponseHead } from './headers';
import type { StreamInfo } from './stream-info';

/** Return value of decodeHeaders / encodeHeaders. */
export const enum FilterHeadersStatus {
  /** Go on to the next filter. */
  Continue = 0,
  /** Stop; the filter calls `continueDecoding()` / `continueEncoding()` later (or sends a local reply). */
  StopIteration = 1,
}

/** Return value of decodeData / encodeData. */
export const enum FilterDataStatus {
  Continue = 0,
  /** Stop and let the connection manager buffer this and later data until continue is called. */
  StopIterationAndBuffer = 1,
  /** Stop, do not buffer: the filter took the data. */
  StopIterationNoBuffer = 2,
}

/** What a decoder filter can do to its stream. */
export interface DecoderFilterCallbacks {
  readonly streamInfo: StreamInfo;
  /** The route selected for this request (null: no route); computed lazily once. */
  route(): CompiledRoute | null;
  /** Forget the cached route (after a filter changed headers that routing depends on). */
  clearRouteCache(): void;
  /** Resume decoding after StopIteration. */
  continueDecoding(): void;
  /**
   * Answers the request from the proxy itself, skipping the remaining decoder filters.
   * @param status HTTP status
   * @param body response body (text/plain), as a latin1 string: one char per byte
   * @param responseFlag Envoy response flag recorded in the access log (`UH`, `NR`, ...)
   */
  sendLocalReply(status: number, body: string, responseFlag?: string, extraHeaders?: string[]): void;
  /** The terminal filter delivers the response head here; it runs through encoder filters. */
  encodeHeaders(head: ResponseHead, endStream: boolean): void;
  encodeData(data: Buffer, endStream: boolean): void;
  encodeTrailers(trailers: string[]): void;
  /** Reference-counted read-disable of the downstream connection (watermark backpressure). */
  readDisable(disable: boolean): void;
  /** Ends the stream abnormally (closes the downstream connection). */
  resetStream(reason: string): void;
  /** Replaces the stream's idle timeout (route `idle_timeout`, ms; 0 disables); restarts it from now. */
  setStreamIdleTimeout(ms: number): void;
  /** False while the downstream socket's write buffer is over its high watermark. */
  downstreamWritable(): boolean;
  /** Upgrade requested by the downstream (lowercased `Upgrade` value, e.g. `websocket`), or null. */
  readonly upgradeType: string | null;
  /** True when the HCM's `upgrade_configs` enable this upgrade type. */
  upgradeEnabledByHcm(type: string): boolean;
  /** The request body arrives without content-length (chunked framing). */
  readonly requestChunked: boolean;
  /**
   * After an accepted upgrade, routes the downstream's raw bytes to `handler`.
   * @returns bytes that arrived before the call.
   */
  takeUpgradeBytes(handler: ((data: Buffer) => void) | null): Buffer[];
}

/** What an encoder filter can do. */
export interface EncoderFilterCallbacks {
  readonly streamInfo: StreamInfo;
  route(): CompiledRoute | null;
  continueEncoding(): void;
}

/** A per-stream filter. Every method is optional; a missing method means Continue. */
export interface HttpFilter {
  decodeHeaders?(head: RequestHead, endStream: boolean): FilterHeadersStatus;
  decodeData?(data: Buffer, endStream: boolean): FilterDataStatus;
  decodeTrailers?(trailers: string[]): FilterHeadersStatus;
  encodeHeaders?(head: ResponseHead, endStream: boolean): FilterHeadersStatus;
  encodeData?(data: Buffer, endStream: boolean): FilterDataStatus;
  /** The stream ended (completed or reset). Release timers and upstream resources here. */
  onDestroy?(): void;
  /** Downstream became writable again after the connection manager signalled backpressure. */
  onDownstreamDrain?(): void;
}

/** Creates one stream's filter instance. Called once per request; keep it cheap. */
export type HttpFilterFactoryCb = (decoder: DecoderFilterCallbacks, encoder: EncoderFilterCallbacks) => HttpFilter;

/** Services a filter factory may need at config time (per worker). */
export interface FilterFactoryContext {
  /** Per-worker services, e.g. the cluster manager; typed by the registry consumer. */
  readonly services: WorkerServices;
  /** YAML/proto path of this filter, for error messages. */
  readonly path: string;
  /** The HCM's `stat_prefix` (filters' stats live under `http.<stat_prefix>.`). */
  readonly statPrefix: string;
}

/** Per-worker services handed to factories. Extended by modules as they need. */
export interface WorkerServices {
  readonly clusterManager: import('../upstream/cluster').ClusterManager;
  readonly stats: import('../stats').StatsStore;
  readonly workerId: number;
}

/** A named HTTP filter factory, registered by `@type` URL and names (see src/registry). */
export interface HttpFilterFactory {
  /** Canonical v3 name, e.g. `envoy.filters.http.router`. */
  readonly name: string;
  /** Legacy names accepted too (`envoy.router`). */
  readonly aliases?: readonly string[];
  /** `type.googleapis.com/...` URLs this factory accepts (v3 and v2). */
  readonly typeUrls: readonly string[];
  /** True when this is a terminal filter (must be last). */
  readonly terminal?: boolean;
  /**
   * Validates `config` (the typed_config without `@type`) and returns the per-stream constructor.
   * @throws ConfigError on invalid config.
   */
  create(config: Record<string, unknown>, ctx: FilterFactoryContext): HttpFilterFactoryCb;
}
