/**
 * `attache` command entry: `attache [envoy flags]` runs the proxy ({@link main});
 * `attache xds-server --dir DIR` runs the bundled file-backed control plane.
 */
import { main } from './main';

const argv = process.argv.slice(2);
const run: Promise<number> =
  argv[0] === 'xds-server'
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require('../xds/xds-server-cli') as { main(a: string[]): Promise<number> }).main(argv.slice(1))
    : main(argv);

run.then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`attache: internal error: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
