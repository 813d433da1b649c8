/**
 * The main thread's xDS client: hands each subscription (a type watch on a resolved ConfigSource)
 * to the right transport. ADS sources share one stream; a per-type gRPC source gets one stream per
 * (control plane, type) on that type's service (StreamClusters, StreamEndpoints, StreamListeners,
 * StreamRoutes); a path source gets a watched file. See ./grpc-stream for the protocol.
 */
import { canonicalResourceType, type ResourceTypeUrl } from '../config/resource';
import { sourceKey, type ResolvedSource } from './config-source';
import { FileSubscription } from './file-subscription';
import { XdsStream, type TypeWatch } from './grpc-stream';
import { xdsMethods } from './protos';

/** A live subscription. */
export interface Subscription {
  /** Tell the transport the watch's `names()` changed (subscribe/unsubscribe). */
  namesChanged(): void;
  /** Ends the subscription (its stream closes when no type is left on it). */
  cancel(): void;
}

/** Options of {@link XdsClient}. */
export interface XdsClientOptions {
  /** envoy.config.core.v3.Node in protobufjs object form (sent on every request, or on each stream's first with `set_node_on_first_message_only`). */
  node: unknown;
  /** Called when the "all gRPC streams connected" state flips (`control_plane.connected_state`). */
  onConnectedState?: (connected: boolean) => void;
  /** Reconnect backoff (ms); defaults 500 / 30000. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

/** See the module comment. */
export class XdsClient {
  private readonly streams = new Map<string, XdsStream>();
  private lastConnected = false;

  constructor(private readonly opts: XdsClientOptions) {}

  /**
   * Starts a subscription.
   * @throws Error when the same type is already subscribed on the same stream.
   */
  subscribe(source: ResolvedSource, watch: TypeWatch): Subscription {
    if (source.kind === 'path') {
      const f = new FileSubscription(source.path, watch);
      f.start();
      return { namesChanged: () => f.reload(), cancel: () => f.stop() };
    }
    const type = canonicalResourceType(watch.typeUrl) as ResourceTypeUrl;
    const key = source.kind === 'ads' ? 'ads' : `${sourceKey(source)}|${type}`;
    let s = this.streams.get(key);
    if (!s) {
      const methods = xdsMethods();
      s = new XdsStream({
        target: source.target,
        method: source.kind === 'ads' ? methods.ads : methods.byType[type],
        node: this.opts.node,
        setNodeOnFirstMessageOnly: source.setNodeOnFirstMessageOnly,
        label: source.kind === 'ads' ? 'ads' : type.slice(type.lastIndexOf('.') + 1),
        onConnectedChange: () => this.checkConnected(),
        backoffBaseMs: this.opts.backoffBaseMs,
        backoffMaxMs: this.opts.backoffMaxMs,
      });
      this.streams.set(key, s);
    }
    const stream = s;
    stream.addType(watch);
    return {
      namesChanged: () => stream.namesChanged(watch.typeUrl),
      cancel: () => {
        stream.removeType(watch.typeUrl);
        if (stream.size === 0) {
          stream.close();
          this.streams.delete(key);
          this.checkConnected();
        }
      },
    };
  }

  /** True when there is at least one gRPC stream and all are connected. */
  connected(): boolean {
    if (this.streams.size === 0) return false;
    for (const s of this.streams.values()) if (!s.isConnected()) return false;
    return true;
  }

  private checkConnected(): void {
    const c = this.connected();
    if (c === this.lastConnected) return;
    this.lastConnected = c;
    this.opts.onConnectedState?.(c);
  }

  /** Closes every stream. */
  stop(): void {
    for (const s of this.streams.values()) s.close();
    this.streams.clear();
  }
}
