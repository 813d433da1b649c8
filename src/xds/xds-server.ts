/**
 * A small state-of-the-world xDS control plane (the role of go-control-plane's SotW server): serves
 * LDS, RDS, CDS and EDS over ADS (StreamAggregatedResources) and over the per-type services
 * (StreamListeners, StreamRoutes, StreamClusters, StreamEndpoints), plain-text HTTP/2.
 *
 * Each type has a version (a counter, as a string) bumped when its resources change; every stream
 * subscribed to the type gets the new state. A request is answered when it opens a type on a stream
 * or changes the subscribed names; an ACK or NACK (same names, nonce of the last response) is only
 * recorded. Every request is kept in {@link XdsServer.requests} (tests assert ACK/NACK sequences).
 */
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { canonicalResourceType, resourceNameOf, TYPE_URLS, type ResourceTypeUrl } from '../config/resource';
import { lookupTypeUrl } from '../config/proto-descriptors';
import { toProtoResource } from './proto-json';
import { xdsMethods, type DiscoveryRequest, type DiscoveryResponse } from './protos';

/** One request as the server received it. */
export interface RecordedRequest {
  /** Stream id (1, 2, ... in accept order). */
  stream: number;
  service: 'ads' | 'lds' | 'rds' | 'cds' | 'eds';
  typeUrl: string;
  versionInfo: string;
  nonce: string;
  names: string[];
  /** Set on a NACK. */
  errorDetail?: { code?: number; message?: string };
  node?: { id?: string; cluster?: string };
}

interface StreamTypeState {
  /** Requested names; null = wildcard. */
  names: string[] | null;
  namesKey: string;
  lastNonce: string;
}

interface ActiveStream {
  id: number;
  call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  types: Map<string, StreamTypeState>;
}

/**
 * A resource as an Any with its bytes encoded once (`{type_url, value}`), so that a push re-sending
 * 1,000 unchanged resources does not re-encode them; falls back to the object form (packed by
 * grpc-js on each send) when the type is not in the descriptors.
 */
function encodeResource(t: ResourceTypeUrl, resource: unknown): unknown {
  // A resource whose own `'@type'` names another known message is sent as that type (a control
  // plane bug attache must NACK: "does not match the message-wide type URL").
  const own = (resource as { '@type'?: unknown } | null)?.['@type'];
  const as = typeof own === 'string' && canonicalResourceType(own) !== t && lookupTypeUrl(own) ? own : t;
  const obj = toProtoResource(as, resource) as Record<string, unknown>;
  const type = lookupTypeUrl(as);
  if (!type) return obj;
  const { '@type': _, ...fields } = obj;
  return { type_url: as, value: Buffer.from(type.encode(type.fromObject(fields)).finish()) };
}

/** One resource as served: its JSON (to tell changes) and its encoded form, made once on first send. */
interface ServedResource {
  resource: unknown;
  json: string;
  proto: unknown;
}

const WILDCARD_TYPES = new Set<string>([TYPE_URLS.listener, TYPE_URLS.cluster]);
const SERVICE_OF: Record<ResourceTypeUrl, RecordedRequest['service']> = {
  [TYPE_URLS.listener]: 'lds',
  [TYPE_URLS.route]: 'rds',
  [TYPE_URLS.cluster]: 'cds',
  [TYPE_URLS.endpoint]: 'eds',
};

/**
 * The control plane. Events: `'request'` (RecordedRequest), `'stream'` (stream id opened),
 * `'stream-closed'` (id).
 */
export class XdsServer extends EventEmitter {
  private readonly server = new grpc.Server();
  private readonly streams = new Set<ActiveStream>();
  private readonly resources = new Map<string, { version: string; items: Map<string, ServedResource>; json: string }>();
  private nextStream = 1;
  private nextNonce = 1;
  private versionCounter = 0;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];

  constructor() {
    super();
    const m = xdsMethods();
    const handler = (service: RecordedRequest['service']) => (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.onStream(service, call);
    this.server.addService({ StreamAggregatedResources: m.ads } as unknown as grpc.ServiceDefinition, { StreamAggregatedResources: handler('ads') });
    const per: Array<[ResourceTypeUrl, string]> = [
      [TYPE_URLS.listener, 'StreamListeners'],
      [TYPE_URLS.route, 'StreamRoutes'],
      [TYPE_URLS.cluster, 'StreamClusters'],
      [TYPE_URLS.endpoint, 'StreamEndpoints'],
    ];
    for (const [t, name] of per) {
      this.server.addService({ [name]: m.byType[t] } as unknown as grpc.ServiceDefinition, { [name]: handler(SERVICE_OF[t]) });
    }
    for (const t of Object.values(TYPE_URLS)) this.resources.set(t, { version: '', items: new Map(), json: '[]' });
  }

  /**
   * Binds (plain text) and starts serving. @returns the bound port
   * @throws Error when the address cannot be bound
   */
  listen(port = 0, address = '127.0.0.1'): Promise<number> {
    const host = address.includes(':') ? `[${address}]` : address;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
  }

  /**
   * Binds a Unix domain socket (plain text) and starts serving, as a control plane reached through an
   * Envoy `pipe` address (Istio's pilot-agent serves xDS on `./etc/istio/proxy/XDS`).
   * @throws Error when the socket cannot be bound (e.g. the path exists)
   */
  listenUnix(socketPath: string): Promise<void> {
    const target = socketPath.startsWith('/') ? `unix://${socketPath}` : `unix:${socketPath}`;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Number of open streams. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** The current version_info of a type ('' before any resource was set). */
  version(typeUrl: string): string {
    return this.resources.get(canonicalResourceType(typeUrl) ?? typeUrl)?.version ?? '';
  }

  /**
   * Replaces the resources of one type (proto3 JSON, as in YAML). When they differ from the
   * current ones, bumps the type's version and pushes to every stream watching it.
   * @returns the type's version after the call
   */
  setResources(typeUrl: string, resources: readonly unknown[]): string {
    const t = canonicalResourceType(typeUrl);
    if (!t) throw new Error(`unsupported resource type ${typeUrl}`);
    const cur = this.resources.get(t)!;
    // Unchanged resources keep their converted form: a push of one changed resource among 1,000
    // converts one (the conversion is ~0.3 ms per ClusterLoadAssignment).
    const items = new Map<string, ServedResource>();
    const parts: string[] = [];
    for (const r of resources) {
      const j = JSON.stringify(r);
      parts.push(j);
      const name = resourceNameOf(t, r) ?? `#${items.size}`;
      const old = cur.items.get(name);
      items.set(name, { resource: r, json: j, proto: old !== undefined && old.json === j ? old.proto : undefined });
    }
    const json = `[${parts.join(',')}]`;
    if (cur.json === json && cur.version !== '') return cur.version;
    const next = { version: String(++this.versionCounter), items, json };
    this.resources.set(t, next);
    for (const s of this.streams) if (s.types.has(t)) this.send(s, t);
    return next.version;
  }

  private onStream(service: RecordedRequest['service'], call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>): void {
    const s: ActiveStream = { id: this.nextStream++, call, types: new Map() };
    this.streams.add(s);
    this.emit('stream', s.id);
    const done = () => {
      if (this.streams.delete(s)) this.emit('stream-closed', s.id);
    };
    call.on('data', (req: DiscoveryRequest) => this.onRequest(s, service, req));
    call.on('end', () => {
      done();
      call.end();
    });
    call.on('error', done);
    call.on('cancelled', done);
    call.on('close', done);
  }

  private onRequest(s: ActiveStream, service: RecordedRequest['service'], req: DiscoveryRequest): void {
    const typeUrl = req.type_url || (service === 'ads' ? '' : Object.entries(SERVICE_OF).find(([, v]) => v === service)![0]);
    const rec: RecordedRequest = {
      stream: s.id,
      service,
      typeUrl,
      versionInfo: req.version_info ?? '',
      nonce: req.response_nonce ?? '',
      names: req.resource_names ?? [],
      ...(req.error_detail ? { errorDetail: { code: req.error_detail.code, message: req.error_detail.message } } : {}),
      ...(req.node ? { node: { id: req.node.id, cluster: req.node.cluster } } : {}),
    };
    this.requests.push(rec);
    this.emit('request', rec);
    const t = canonicalResourceType(typeUrl);
    if (!t) return;
    const names = WILDCARD_TYPES.has(t) && rec.names.length === 0 ? null : rec.names;
    const namesKey = names === null ? '*' : [...names].sort().join('\n');
    const st = s.types.get(t);
    if (st && st.namesKey === namesKey && rec.nonce !== '') return; // ACK or NACK
    s.types.set(t, { names, namesKey, lastNonce: st?.lastNonce ?? '' });
    if (names !== null && names.length === 0) return; // unsubscribed everything
    this.send(s, t);
  }

  private send(s: ActiveStream, t: ResourceTypeUrl): void {
    const st = s.types.get(t)!;
    const cur = this.resources.get(t)!;
    const list: ServedResource[] = [];
    if (st.names === null) for (const r of cur.items.values()) list.push(r);
    else for (const n of st.names) if (cur.items.has(n)) list.push(cur.items.get(n)!);
    const resources = list.map((r) => (r.proto === undefined ? (r.proto = encodeResource(t, r.resource)) : r.proto));
    const nonce = String(this.nextNonce++);
    st.lastNonce = nonce;
    s.call.write({ version_info: cur.version, type_url: t, nonce, resources });
  }

  /** Stops serving: open streams are cancelled. */
  close(): Promise<void> {
    for (const s of this.streams) s.call.destroy?.();
    this.server.forceShutdown();
    return Promise.resolve();
  }
}
