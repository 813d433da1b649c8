/**
 * `attache` command entry: `attache [envoy flags]` runs the proxy ({@link main});
 * `attache xds-server --dir DIR` runs the bundled file-backed control plane.
 */
import { isAttacheError } from '../common/errors';

const argv = process.argv.slice(2);
let run: Promise<number>;
try {
  // First thing, before any thread of ours exists (config loading, workers): see capMallocArenas.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('./memory-release') as typeof import('./memory-release')).capMallocArenas();
  // Loaded here so that an environment error found at load (e.g. a bad ATTACHE_HASH) is one line.
  run =
    argv[0] === 'xds-server'
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports
        (require('../xds/xds-server-cli') as { main(a: string[]): Promise<number> }).main(argv.slice(1))
      : // eslint-disable-next-line @typescript-eslint/no-require-imports
        (require('./main') as typeof import('./main')).main(argv);
} catch (err) {
  if (!isAttacheError(err)) throw err;
  process.stderr.write(`attache: ${(err as Error).message}\n`);
  run = Promise.resolve(1);
}

run.then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`attache: internal error: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
