/**
 * `attache xds-server --dir DIR [--port N] [--address 127.0.0.1]`: runs {@link XdsServer} over a
 * directory of YAML resources (layout in ./resource-dir) and pushes a new version of a type when a
 * file changes. Prints `xds-server listening on ADDRESS:PORT` once bound.
 *
 * Watching: one non-recursive fs.watch per folder (DIR and each subfolder), which sees writes to a
 * file however it was saved (in place, or replaced by rename as editors and `sed -i` do; a watch
 * on the file itself would stay on the old inode); any event re-scans DIR after 100 ms of quiet,
 * and the folder watchers are re-created when folders appear, disappear or are replaced. A 500 ms
 * poll of the files' inode/size/mtime re-scans too when events are missed (network or container
 * mounts). A file with a syntax error keeps its last good resources (see ./resource-dir).
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { dirFingerprint, loadResourceDir, resourceFolders, type ResourceDirMemory } from './resource-dir';
import { XdsServer } from './xds-server';

const USAGE = `usage: attache xds-server --dir DIR [--port N] [--address 127.0.0.1]

Serves LDS, RDS, CDS and EDS (state of the world; ADS and per-type services) from the YAML files
in DIR: folders clusters/, endpoints/, listeners/, routes/ (or an "@type" in each resource), one
resource or a list per file. A changed file pushes a new version. A file that does not parse is
reported (file:line:column) and keeps serving what it last had; a resource that fails validation is
served as written (clients NACK it) unless protobuf cannot carry it (an unknown enum value or field),
in which case it is refused and its last good version stays served.
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
  const memory: ResourceDirMemory = new Map();
  let lastPrint = '';
  let fingerprint = '';
  const load = (): boolean => {
    try {
      fingerprint = dirFingerprint(o.dir);
      const r = loadResourceDir(o.dir, memory);
      for (const e of r.errors) process.stderr.write(`xds-server: error: ${e}\n`);
      for (const w of r.warnings) process.stderr.write(`xds-server: warning: ${w}\n`);
      for (const [t, list] of Object.entries(r.byType)) {
        const before = server.version(t);
        const v = server.setResources(t, list);
        if (v !== before) process.stdout.write(`xds-server: ${t.slice(t.lastIndexOf('.') + 1)} version ${v} (${list.length} resource(s))\n`);
      }
      lastPrint = '';
      return true;
    } catch (e) {
      const msg = `xds-server: ${(e as Error).message}\n`;
      if (msg !== lastPrint) process.stderr.write(msg); // the poll retries: say it once
      lastPrint = msg;
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
  const watchers = new Map<string, { w: FSWatcher; ino: number }>();
  const rescan = () => {
    timer = null;
    load();
    syncWatchers();
  };
  const changed = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(rescan, 100);
  };
  /** One watcher per folder; a folder that is gone or replaced (new inode) gets a new one. */
  const syncWatchers = () => {
    const want = new Map<string, number>();
    try {
      for (const d of resourceFolders(o.dir)) want.set(d, statSync(d).ino);
    } catch {
      // DIR is gone for now: the poll notices when it is back
    }
    for (const [d, x] of watchers) {
      if (want.get(d) !== x.ino) {
        x.w.close();
        watchers.delete(d);
      }
    }
    for (const [d, ino] of want) {
      if (watchers.has(d)) continue;
      try {
        const w = watch(d, changed);
        w.on('error', () => {
          w.close();
          if (watchers.get(d)?.w === w) watchers.delete(d);
          changed();
        });
        watchers.set(d, { w, ino });
      } catch {
        // unwatchable (removed meanwhile, or no inotify): the poll covers it
      }
    }
  };
  syncWatchers();
  const poll = setInterval(() => {
    let now: string;
    try {
      now = dirFingerprint(o.dir);
    } catch {
      now = '';
    }
    if (now !== fingerprint && !timer) changed();
  }, 500);
  server.on('request', (r) => {
    if (r.errorDetail) process.stderr.write(`xds-server: NACK from ${r.node?.id ?? `stream ${r.stream}`} for ${r.typeUrl} (keeping ${r.versionInfo || 'nothing'}): ${r.errorDetail.message}\n`);
  });
  process.stdout.write(`xds-server listening on ${o.address}:${port}\n`);
  const stop = () => {
    clearInterval(poll);
    if (timer) clearTimeout(timer);
    for (const x of watchers.values()) x.w.close();
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return -1;
}
