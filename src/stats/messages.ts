/**
 * The stats message protocol between a worker and main, and helpers for both ends. Counters and
 * gauges never travel in messages (main reads the shared pages); only layouts and, on request,
 * encoded histograms do.
 *
 * worker → main: {@link StatsLayoutMessage} (`type: 'stats-layout'`), {@link HistogramsResponse}.
 * main → worker: {@link HistogramsRequest}.
 */

import type { HistogramExport, StatsLayoutMessage, StatsStore } from './store';
import type { WorkerHistograms, WorkerId } from './aggregator';

/** main → worker: please export histograms. */
export interface HistogramsRequest {
  type: 'stats-histograms-request';
  id: number;
}

/** worker → main: the answer to {@link HistogramsRequest} with the same `id`. */
export interface HistogramsResponse {
  type: 'stats-histograms';
  id: number;
  histograms: HistogramExport[];
}

/** Anything with `postMessage` and `on('message')`: a Worker, a MessagePort, `parentPort`. */
export interface StatsPort {
  postMessage(msg: unknown): void;
  on(event: 'message', fn: (msg: unknown) => void): unknown;
  off?(event: 'message', fn: (msg: unknown) => void): unknown;
}

/** True for a layout message. */
export function isStatsLayoutMessage(m: unknown): m is StatsLayoutMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'stats-layout';
}

/** True for a histograms response. */
export function isHistogramsResponse(m: unknown): m is HistogramsResponse {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'stats-histograms';
}

/**
 * Worker side: posts the store's layouts to `port` and answers histogram requests arriving on it.
 * @returns a function that stops answering.
 */
export function connectWorkerStats(store: StatsStore, port: StatsPort): () => void {
  store.setPostLayout((msg) => port.postMessage(msg));
  const onMessage = (m: unknown): void => {
    if (typeof m === 'object' && m !== null && (m as HistogramsRequest).type === 'stats-histograms-request') {
      const res: HistogramsResponse = { type: 'stats-histograms', id: (m as HistogramsRequest).id, histograms: store.exportHistograms() };
      port.postMessage(res);
    }
  };
  port.on('message', onMessage);
  return () => {
    store.setPostLayout(undefined);
    port.off?.('message', onMessage);
  };
}

/**
 * Main side: a `requestHistograms` callback for {@link StatsAggregator} that asks each worker in
 * `workers()` and collects answers (a worker that does not answer within `timeoutMs` is skipped).
 * The supervisor must pass every message from a worker to `onWorkerMessage` (it returns true when
 * the message was a stats message and has been handled, layouts included).
 */
export function createHistogramRequester(
  workers: () => Iterable<[WorkerId, StatsPort]>,
  applyLayout: (workerId: WorkerId, msg: StatsLayoutMessage) => void,
  timeoutMs = 1000,
): { requestHistograms: () => Promise<WorkerHistograms[]>; onWorkerMessage: (workerId: WorkerId, msg: unknown) => boolean } {
  let nextId = 1;
  const pending = new Map<number, { workerId: WorkerId; resolve: (h: WorkerHistograms | undefined) => void }>();
  const onWorkerMessage = (workerId: WorkerId, msg: unknown): boolean => {
    if (isStatsLayoutMessage(msg)) {
      applyLayout(workerId, msg);
      return true;
    }
    if (isHistogramsResponse(msg)) {
      const p = pending.get(msg.id);
      if (p) {
        pending.delete(msg.id);
        p.resolve({ workerId: p.workerId, histograms: msg.histograms });
      }
      return true;
    }
    return false;
  };
  const requestHistograms = async (): Promise<WorkerHistograms[]> => {
    const waits: Array<Promise<WorkerHistograms | undefined>> = [];
    for (const [workerId, port] of workers()) {
      const id = nextId++;
      waits.push(
        new Promise((resolve) => {
          const timer = setTimeout(() => {
            pending.delete(id);
            resolve(undefined);
          }, timeoutMs);
          pending.set(id, {
            workerId,
            resolve: (h) => {
              clearTimeout(timer);
              resolve(h);
            },
          });
          const req: HistogramsRequest = { type: 'stats-histograms-request', id };
          port.postMessage(req);
        }),
      );
    }
    const answers = await Promise.all(waits);
    return answers.filter((a): a is WorkerHistograms => a !== undefined);
  };
  return { requestHistograms, onWorkerMessage };
}
