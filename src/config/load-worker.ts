/**
 * Worker-thread entry of {@link loadBootstrapIsolated}: loads and validates the bootstrap (YAML parser,
 * Envoy's protos) and posts the plain result back; the thread then exits and its memory goes with it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError } from '../common/errors';
import { loadBootstrap, type LoadOptions } from './index';

try {
  const r = loadBootstrap(workerData as LoadOptions);
  parentPort!.postMessage({ ok: true, bootstrap: r.bootstrap, warnings: r.warnings });
} catch (err) {
  if (err instanceof ConfigError) {
    parentPort!.postMessage({ ok: false, error: { message: err.message, file: err.file, path: err.path, line: err.line, column: err.column, hint: err.hint } });
  } else {
    parentPort!.postMessage({ ok: false, internal: (err as Error)?.stack ?? String(err) });
  }
}
