/** `attache` command entry: runs {@link main} and sets the exit code. */
import { main } from './main';

main().then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`attache: internal error: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
