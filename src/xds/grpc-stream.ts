/**
 * One state-of-the-world xDS gRPC stream (Envoy's GrpcMuxImpl): either the ADS stream carrying every
 * type, or one per-type service stream (StreamClusters, StreamEndpoints, ...). Per type it holds
 * the last accepted version_info, the last nonce and the watch that validates responses.
 *
 * Protocol (envoy/api/envoy/service/discovery/v3/discovery.proto, "xDS REST and gRPC protocol"):
 * - every request carries the bootstrap `node`, or only the first of each stream when the
 *   ApiConfigSource sets `set_node_on_first_message_only` (envoy/config/core/v3/config_source.proto);
 * - a response is ACKed with its version_info and nonce, or NACKed with the previous version_info,
 *   its nonce and `error_detail` (google.rpc.Status code 13, INTERNAL, as Envoy's
 *   SotwSubscriptionState::handleBadResponse sets it);
 * - responses of any size are read (grpc-js caps received messages at 4 MiB by default; Envoy's
 *   gRPC clients have no cap, and an Istio mesh's RDS or EDS can be larger);
 * - a change of subscribed names sends a request with the held version and the last nonce;
 * - on disconnect, the stream reconnects after a jittered exponential backoff (base 500 ms, cap
 *   30 s, full jitter as Envoy's JitteredExponentialBackOffStrategy) and re-sends one request per
 *   type with the versions held and an empty nonce.
 */
import * as grpc from '@grpc/grpc-js';
import { logger } from '../common/logger';
import type { DiscoveryRequest, DiscoveryResponse, StreamMethod } from './protos';

const log = logger('config');

/** google.rpc.Code INTERNAL: the code Envoy puts in a NACK's error_detail. */
const GRPC_STATUS_INTERNAL = 13;

/** What a subscriber of one type gives the stream. */
export interface TypeWatch {
  readonly typeUrl: string;
  /** Resource names to request; `null` for a wildcard subscription (LDS, CDS). */
  names(): string[] | null;
  /**
   * Validates and applies one response. @returns an error message (the response is NACKed and the
   * previous config kept), or null to ACK.
   */
  onResponse(resources: unknown[], versionInfo: string): string | null;
}

/** Options of an {@link XdsStream}. */
export interface XdsStreamOptions {
  /** grpc-js target of the control plane, `host:port` or `unix:<path>` (plain-text HTTP/2). */
  target: string;
  method: StreamMethod;
  /** envoy.config.core.v3.Node in protobufjs object form. */
  node: unknown;
  /** ApiConfigSource `set_node_on_first_message_only`: send `node` only on a stream's first request (default false: on every request). */
  setNodeOnFirstMessageOnly?: boolean;
  /** For logs: `ads` or the per-type service. */
  label: string;
  /** Called when the stream becomes connected (response headers or a response) or is lost. */
  onConnectedChange?: (connected: boolean) => void;
  /** Backoff base and cap, ms. Defaults 500 and 30000. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

interface TypeState {
  watch: TypeWatch;
  /** Last ACKed version_info ('' before the first). */
  version: string;
  nonce: string;
  /** Names of the last request sent on this stream, joined; undefined when none was sent. */
  sentNames: string | undefined;
}

/** A reconnecting SotW stream. See the module comment. */
export class XdsStream {
  private readonly client: grpc.Client;
  private call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> | null = null;
  private readonly types = new Map<string, TypeState>();
  private nodeSent = false;
  private connected = false;
  private closed = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: XdsStreamOptions) {
    this.client = new grpc.Client(opts.target, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 5000,
      // -1: no limit (grpc-js would refuse a > 4 MiB response and end the stream, then do so again
      // on every reconnect: no update of any type would ever get through).
      'grpc.max_receive_message_length': -1,
    });
    this.open();
  }

  /** True while the stream is up. */
  isConnected(): boolean {
    return this.connected;
  }

  /** Adds a type to this stream and requests it. @throws Error if the type is already watched. */
  addType(watch: TypeWatch): void {
    if (this.types.has(watch.typeUrl)) throw new Error(`${watch.typeUrl} is already watched on ${this.opts.label}`);
    this.types.set(watch.typeUrl, { watch, version: '', nonce: '', sentNames: undefined });
    this.request(watch.typeUrl);
  }

  /** Re-sends the request of a type whose names changed (no-op when they did not). */
  namesChanged(typeUrl: string): void {
    this.request(typeUrl);
  }

  /** Stops watching a type (its names are unsubscribed with an empty request for non-wildcard types). */
  removeType(typeUrl: string): void {
    const st = this.types.get(typeUrl);
    if (!st) return;
    this.types.delete(typeUrl);
    if (st.sentNames !== undefined && st.watch.names() !== null) {
      this.write({ type_url: typeUrl, version_info: st.version, response_nonce: st.nonce, resource_names: [] });
    }
  }

  /** Number of watched types. */
  get size(): number {
    return this.types.size;
  }

  /** Closes the stream and the channel; no reconnect. */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const c = this.call;
    this.call = null;
    c?.cancel();
    this.client.close();
    this.setConnected(false);
  }

  private setConnected(up: boolean): void {
    if (this.connected === up) return;
    this.connected = up;
    this.opts.onConnectedChange?.(up);
  }

  private open(): void {
    if (this.closed) return;
    const m = this.opts.method;
    const call = this.client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    this.call = call;
    this.nodeSent = false;
    call.on('metadata', () => {
      if (this.call === call) this.setConnected(true);
    });
    call.on('data', (r: DiscoveryResponse) => {
      if (this.call !== call) return;
      this.attempt = 0;
      this.setConnected(true);
      this.onResponse(r);
    });
    const lost = (why: string) => {
      if (this.call !== call) return;
      this.call = null;
      this.setConnected(false);
      this.retry(why);
    };
    call.on('error', (e: grpc.ServiceError) => lost(e.details || e.message));
    call.on('end', () => lost('stream ended'));
    for (const st of this.types.values()) {
      st.nonce = '';
      st.sentNames = undefined;
      this.request(st.watch.typeUrl);
    }
  }

  private retry(why: string): void {
    if (this.closed) return;
    const base = this.opts.backoffBaseMs ?? 500;
    const max = this.opts.backoffMaxMs ?? 30_000;
    const ceiling = Math.min(max, base * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    const delay = Math.floor(Math.random() * ceiling);
    log.warn(`xDS stream ${this.opts.label} to ${this.opts.target} closed (${why}); reconnecting in ${delay} ms`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, delay);
  }

  private write(req: DiscoveryRequest): void {
    if (this.call === null) return;
    if (!this.nodeSent || !this.opts.setNodeOnFirstMessageOnly) {
      req.node = this.opts.node as DiscoveryRequest['node'];
      this.nodeSent = true;
    }
    this.call.write(req);
  }

  /** Sends the current request of a type unless the same names were already requested. */
  private request(typeUrl: string): void {
    const st = this.types.get(typeUrl);
    if (!st || this.call === null) return;
    const names = st.watch.names();
    if (names !== null && names.length === 0 && st.sentNames === undefined) return;
    const key = names === null ? '*' : [...names].sort().join('\n');
    if (key === st.sentNames) return;
    st.sentNames = key;
    this.write({ type_url: typeUrl, version_info: st.version, response_nonce: st.nonce, resource_names: names ?? [] });
  }

  private onResponse(r: DiscoveryResponse): void {
    const typeUrl = r.type_url ?? '';
    const st = this.types.get(typeUrl);
    if (!st) {
      log.warn(`xDS ${this.opts.label}: ignoring a response of unwatched type ${typeUrl}`);
      return;
    }
    st.nonce = r.nonce ?? '';
    const version = r.version_info ?? '';
    let err: string | null;
    try {
      err = st.watch.onResponse(r.resources ?? [], version);
    } catch (e) {
      err = (e as Error)?.message ?? String(e);
    }
    const names = st.watch.names();
    st.sentNames = names === null ? '*' : [...names].sort().join('\n');
    if (err === null) {
      st.version = version;
      this.write({ type_url: typeUrl, version_info: version, response_nonce: st.nonce, resource_names: names ?? [] });
    } else {
      log.warn(`xDS ${this.opts.label}: rejected ${typeUrl} version ${version}: ${err}`);
      this.write({ type_url: typeUrl, version_info: st.version, response_nonce: st.nonce, resource_names: names ?? [], error_detail: { code: GRPC_STATUS_INTERNAL, message: err } });
    }
  }
}
