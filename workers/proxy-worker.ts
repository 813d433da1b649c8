/**
 * Piscina task entry for a proxy worker: one long-running task per worker thread. It resolves when
 * the worker has drained (shutdown); it rejects if the worker crashes, and the supervisor then
 * starts a replacement task on the fresh thread piscina creates.
 */
import { runWorker } from '../src/runtime/worker-runtime';
import type { WorkerTask } from '../src/runtime/protocol';

export default async function serve(task: WorkerTask): Promise<string> {
  await runWorker(task);
  return 'drained';
}
