/**
 * Loads the bootstrap in a short-lived worker thread, so the validator's memory (Envoy's proto
 * descriptors: tens of MiB) is released once the config is known. Same contract as
 * {@link loadBootstrap}.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../common/errors';
import type { Bootstrap } from './model';

/** What {@link loadBootstrapIsolated} resolves to. */
export interface IsolatedLoadResult {
  bootstrap: Bootstrap;
  warnings: string[];
}

type Reply =
  | { ok: true; bootstrap: Bootstrap; warnings: string[] }
  | { ok: false; error?: { message: string; file?: string; path?: string; line?: number; column?: number; hint?: string }; internal?: string };

/**
 * @param opts `path` (`--config-path`) and/or `yaml` (`--config-yaml`)
 * @throws ConfigError exactly as loadBootstrap does; Error for an internal failure
 */
export function loadBootstrapIsolated(opts: { path?: string; yaml?: string; allowUnknownStaticFields?: boolean }): Promise<IsolatedLoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'load-worker.js'), { workerData: opts });
    let settled = false;
    w.once('message', (m: Reply) => {
      settled = true;
      if (m.ok) resolve({ bootstrap: m.bootstrap, warnings: m.warnings });
      else if (m.error) {
        const e = m.error;
        reject(new ConfigError(e.message, { file: e.file, path: e.path, line: e.line, column: e.column, hint: e.hint }));
      } else reject(new Error(m.internal ?? 'config loader failed'));
    });
    w.once('error', (err) => {
      if (!settled) reject(err);
    });
    w.once('exit', (code) => {
      if (!settled) reject(new Error(`config loader exited with code ${code}`));
    });
  });
}
