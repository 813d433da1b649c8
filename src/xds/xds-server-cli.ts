/**
 * `attache xds-server --dir DIR [--port N] [--address 127.0.0.1]`: runs {@link XdsServer} over a
 * directory of YAML resources (layout in ./resource-dir) and pushes a new version of a type when a
 * file changes (fs.watch on the directory, 100 ms debounce). Prints
 * `xds-server listening on ADDRESS:PORT` once bound.
 */
import { watch, type FSWatcher } from 'node:fs';
import { loadResourceDir } from './resource-dir';
import { XdsServer } from './xds-server';

const USAGE = `usage: attache xds-server --dir DIR [--port N] [--address 127.0.0.1]

Serves LDS, RDS, CDS and EDS (state of the world; ADS and per-type services) from the YAML files
in DIR: folders clusters/, endpoints/, listeners/, routes/ (or an "@type" in each resource), one
resource or a list per file. A changed file pushes a new version.
`;

/** Parsed options. */
interface ServerOptions {
  dir: string;
  port: number;
  address: string;
}

function parse(argv: string[]): ServerOptions | string {
  let dir: string | undefined;
  let port = 0;
  let address = '127.0.0.1';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => inline ?? argv[++i];
    if (flag === '--dir') dir = val();
    else if (flag === '--port') port = Number(val());
    else if (flag === '--address') address = val();
    else if (flag === '-h' || flag === '--help') return '';
    else return `unknown option ${a}`;
  }
  if (!dir) return '--dir is required';
  if (!Number.isInteger(port) || port < 0 || port > 65535) return '--port must be 0..65535';
  return { dir, port, address };
}

/**
 * Runs the control plane. @returns -1 while serving (the process stays up; SIGINT/SIGTERM stop it),
 * 0 for --help, 1 for bad arguments or an unusable directory.
 */
export async function main(argv: string[]): Promise<number> {
  const o = parse(argv);
  if (typeof o === 'string') {
    if (o === '') {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(`attache xds-server: ${o}\n\n${USAGE}`);
    return 1;
  }
  const server = new XdsServer();
  const load = (): boolean => {
    try {
      const r = loadResourceDir(o.dir);
      for (const w of r.warnings) process.stderr.write(`xds-server: warning: ${w}\n`);
      for (const [t, list] of Object.entries(r.byType)) {
        const before = server.version(t);
        const v = server.setResources(t, list);
        if (v !== before) process.stdout.write(`xds-server: ${t.slice(t.lastIndexOf('.') + 1)} version ${v} (${list.length} resource(s))\n`);
      }
      return true;
    } catch (e) {
      process.stderr.write(`xds-server: ${(e as Error).message}\n`);
      return false;
    }
  };
  if (!load()) return 1;
  let port: number;
  try {
    port = await server.listen(o.port, o.address);
  } catch (e) {
    process.stderr.write(`xds-server: cannot listen on ${o.address}:${o.port}: ${(e as Error).message}\n`);
    return 1;
  }
  let timer: NodeJS.Timeout | null = null;
  const changed = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      load();
    }, 100);
  };
  let watcher: FSWatcher;
  try {
    watcher = watch(o.dir, { recursive: true }, changed);
  } catch {
    watcher = watch(o.dir, changed);
  }
  server.on('request', (r) => {
    if (r.errorDetail) process.stderr.write(`xds-server: NACK from ${r.node?.id ?? `stream ${r.stream}`} for ${r.typeUrl} (keeping ${r.versionInfo || 'nothing'}): ${r.errorDetail.message}\n`);
  });
  process.stdout.write(`xds-server listening on ${o.address}:${port}\n`);
  const stop = () => {
    watcher.close();
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return -1;
}
